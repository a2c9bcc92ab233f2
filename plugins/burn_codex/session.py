"""``session_meta`` (and the legacy untyped first line) → :class:`~burn.records.SessionInfo`
(FORMATS §2.2, §2.5, §2.7)."""

from __future__ import annotations

from typing import Any

from burn.readkit import nonempty_str as _s
from burn.readkit import normalize_remote, normalize_ts
from burn.records import Classification, SessionInfo
from burn_codex.ids import SOURCE
from burn_codex.replay import lineage

AUTOMATED_SOURCES = frozenset({"exec", "mcp"})


def classify(originator: str | None, source: object) -> Classification | None:
    """``automated`` when no person drives the session, ``interactive`` when one does, ``None``
    when the file does not say (legacy rollouts).

    Automated: ``originator == "codex_exec"`` or a ``codex_sdk*`` originator (scripts, CI, the
    SDKs), or ``source`` ``"exec"`` or ``"mcp"`` — Codex run as an MCP server is driven by another
    program's tool calls, not by a person typing. Everything else (``cli``, ``vscode``, app-server
    front ends) is interactive. Subagents are classified like the session that spawned them (they
    carry its originator); their ``relationship`` already says they are subagents.
    """
    if originator is not None and (originator == "codex_exec" or originator.startswith("codex_sdk")):
        return "automated"
    if type(source) is str and source in AUTOMATED_SOURCES:
        return "automated"
    if originator is None and source is None:
        return None
    return "interactive"


def session_info(payload: dict[str, Any], session_id: str, line_ts: str | None) -> SessionInfo:
    """What a ``session_meta`` payload (or a legacy first line) says about its session.

    The git remote is stored only in normalised form (``host/owner/repo``, never credentials).
    """
    git = payload.get("git")
    if type(git) is not dict:
        git = {}
    originator = _s(payload.get("originator"))
    source = payload.get("source")
    relationship, parent, agent_type = lineage(payload)
    return SessionInfo(
        source=SOURCE,
        session_id=session_id,
        cwd=_s(payload.get("cwd")),
        git_branch=_s(git.get("branch")),
        git_remote=normalize_remote(_s(git.get("repository_url"))),
        git_commit=_s(git.get("commit_hash")),
        harness_version=_s(payload.get("cli_version")),
        title=_s(payload.get("title")) or _s(payload.get("thread_name")),
        parent_session_id=parent,
        relationship=relationship or "root",
        agent_type=agent_type,
        originator=originator,
        classification=classify(originator, source),
        first_seen_ts=normalize_ts(payload.get("timestamp")) or line_ts,
    )


def minimal_info(session_id: str, first_ts: str | None) -> SessionInfo:
    """A session whose rollout has no ``session_meta`` (third-party fixtures, truncated files)."""
    return SessionInfo(source=SOURCE, session_id=session_id, first_seen_ts=first_ts)
