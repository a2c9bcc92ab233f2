"""What one read of a transcript learns about each session it meets: the envelope fields of its
lines (cwd, branch, version …), its title and how it relates to a parent session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burn.readkit import nonempty_str as _s
from burn.records import SessionInfo
from burn_claude.ids import SOURCE


class SessionFacts:
    """What one read learned about one session from the envelope of its lines (becomes a
    :class:`~burn.records.SessionInfo`)."""

    __slots__ = (
        "agent_id",
        "agent_type",
        "cwd",
        "entrypoint",
        "first_ts",
        "git_branch",
        "missing",
        "parent",
        "parent_tool_use_id",
        "slug",
        "title",
        "title_rank",
        "version",
    )

    def __init__(self, parent: str | None, agent_id: str | None) -> None:
        self.parent = parent
        self.agent_id = agent_id
        self.agent_type: str | None = None
        self.parent_tool_use_id: str | None = None
        self.cwd: str | None = None
        self.git_branch: str | None = None
        self.version: str | None = None
        self.slug: str | None = None
        self.entrypoint: str | None = None
        self.first_ts: str | None = None
        self.title: str | None = None
        self.title_rank = 0
        self.missing = True

    def fill(self, d: Mapping[str, Any]) -> None:
        """Take the envelope fields not known yet from a line."""
        if self.cwd is None:
            self.cwd = _s(d.get("cwd"))
        if self.git_branch is None:
            self.git_branch = _s(d.get("gitBranch"))
        if self.version is None:
            self.version = _s(d.get("version"))
        if self.slug is None:
            self.slug = _s(d.get("slug"))
        if self.entrypoint is None:
            self.entrypoint = _s(d.get("entrypoint"))
        self.missing = (
            self.cwd is None
            or self.git_branch is None
            or self.version is None
            or self.slug is None
            or self.entrypoint is None
        )

    def info(self, session_id: str) -> SessionInfo:
        ep = self.entrypoint
        return SessionInfo(
            source=SOURCE,
            session_id=session_id,
            cwd=self.cwd,
            git_branch=self.git_branch,
            harness_version=self.version,
            slug=self.slug,
            title=self.title,
            parent_session_id=self.parent,
            relationship="subagent" if self.agent_id else "root",
            agent_id=self.agent_id,
            agent_type=self.agent_type,
            parent_tool_use_id=self.parent_tool_use_id,
            originator=ep,
            classification=None if ep is None else ("automated" if ep.startswith("sdk") else "interactive"),
            first_seen_ts=self.first_ts,
        )
