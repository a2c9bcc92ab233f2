"""Where Claude Code keeps transcripts, and which files under there are source units (FORMATS §1.1).

Layouts under ``<config>/projects/``::

    <enc-cwd>/<session>.jsonl                                   main transcript
    <enc-cwd>/agent-<id>.jsonl                                  subagent, 2.0.x (flat)
    <enc-cwd>/<session>/subagents/agent-<id>.jsonl              subagent, 2.1.x (+ agent-<id>.meta.json)
    <enc-cwd>/<session>/subagents/agent-acompact-<hex>.jsonl    the compaction summarizer call
    <enc-cwd>/<session>/subagents/workflows/<wf>/agent-<id>.jsonl
    <p>/<session>/<file>.jsonl                                  nested (ccusage fixture): main
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

from burn.reader import Diagnostics, SourceUnit, split_env_paths
from burn.readkit import walk_files

ENV_VAR = "CLAUDE_CONFIG_DIR"
ORDER_MAIN = 0
ORDER_SUBAGENT = 1


def locations(env: Mapping[str, str], home: Path) -> list[Path]:
    """Candidate ``projects`` directories, existing or not.

    Every entry of ``CLAUDE_CONFIG_DIR`` (comma-separated; an entry is a config dir or its
    ``projects`` dir), otherwise ``$XDG_CONFIG_HOME/claude`` (default ``~/.config/claude``) and
    ``~/.claude`` — both, as Claude Code has used both.
    """
    out: list[Path] = []
    entries = split_env_paths(env.get(ENV_VAR))
    if entries:
        for entry in entries:
            if (entry / "projects").is_dir():
                out.append(entry / "projects")
            elif entry.name == "projects":
                out.append(entry)
            else:
                out.append(entry / "projects")
    else:
        xdg = env.get("XDG_CONFIG_HOME", "").strip()
        config = Path(xdg).expanduser() if xdg else home / ".config"
        out = [config / "claude" / "projects", home / ".claude" / "projects"]
    unique: list[Path] = []
    for path in out:
        if path not in unique:
            unique.append(path)
    return unique


def unit_for(path: Path, sibling_names: AbstractSet[str] | None = None) -> SourceUnit:
    """The source unit of one transcript file, with what its place in the layout says.

    Hints: ``agent_id`` (from ``agent-<id>.jsonl``), ``parent_session_id`` (the directory above
    ``subagents/``), ``workflow`` (``subagents/workflows/<wf>/``), ``agent_type`` (``compaction``
    for ``agent-acompact-*``) and ``meta_path`` (the ``agent-<id>.meta.json`` sidecar, if present).
    ``sibling_names`` (the file names of the directory, when the caller has them) avoids a stat.
    A subagent file lists its sidecar path (existing or not) as a companion, so that the core's
    stat fingerprint notices when the sidecar appears or changes.
    """
    return _unit(str(path), sibling_names)


def _unit(path_str: str, sibling_names: AbstractSet[str] | None) -> SourceUnit:
    # String operations only: discovery builds one unit per transcript on every ingest, no-op or not.
    directory, _, name = path_str.rpartition(os.sep)
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name.rsplit(".", 1)[0]
    parts = directory.split(os.sep)
    hints: dict[str, str] = {}
    companions: tuple[str, ...] = ()
    sub = len(parts) - 1
    while sub >= 0 and parts[sub] != "subagents":
        sub -= 1
    in_subagents = sub >= 1
    if in_subagents:
        hints["parent_session_id"] = parts[sub - 1]
        if sub + 2 < len(parts) and parts[sub + 1] == "workflows":
            hints["workflow"] = parts[sub + 2]
    if stem.startswith("agent-") and len(stem) > len("agent-"):
        agent_id = stem[len("agent-") :]
        hints["agent_id"] = agent_id
        if agent_id.startswith("acompact"):
            hints["agent_type"] = "compaction"
        meta = stem + ".meta.json"
        meta_path = directory + os.sep + meta
        companions = (meta_path,)  # a sidecar written or changed later means "re-read"
        has_meta = meta in sibling_names if sibling_names is not None else os.path.isfile(meta_path)
        if has_meta:
            hints["meta_path"] = meta_path
    else:
        hints["session_id"] = stem
    subagent = in_subagents or "agent_id" in hints
    return SourceUnit(
        path=path_str,
        order=ORDER_SUBAGENT if subagent else ORDER_MAIN,
        hints=hints,
        companions=companions,
    )


def discover(roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
    """Every ``*.jsonl`` regular file under ``roots``, recursively, each directory once
    (:func:`burn.readkit.walk_files`: symlinks followed, loops and nested roots walked once, a
    ``*.jsonl`` that is not a regular file counted as ``not_a_file``). Never raises.
    """
    visited: set[tuple[int, int]] = set()
    for root in roots:
        for path, names in walk_files(root, ".jsonl", diagnostics, visited=visited):
            yield _unit(path, names)  # ingest orders units itself
