"""Where Codex CLI keeps rollouts, and which files under there are source units (FORMATS §2.1).

Layout under each Codex home (``$CODEX_HOME``, a comma-separated list, default ``~/.codex``)::

    sessions/YYYY/MM/DD/rollout-<local time>-<thread uuid>.jsonl   current builds
    sessions/rollout-<date>-<uuid>.jsonl                           legacy builds (flat)
    archived_sessions/rollout-….jsonl                              archived threads (flat)

Every ``*.jsonl`` under ``sessions/`` (recursively, as ccusage reads them) and ``archived_sessions/``
is a unit. Active units sort before archived ones (``order``); an archived copy of an active
rollout yields the same record ids (they derive from the content, see :mod:`burn_codex.usage`), so
the ledger keeps its events once whichever copy is read first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from burn.reader import Diagnostics, SourceUnit, split_env_paths
from burn.readkit import walk_files
from burn_codex.ids import file_session_id

ENV_VAR = "CODEX_HOME"
SESSIONS = "sessions"
ARCHIVED = "archived_sessions"
ORDER_ACTIVE = 0
ORDER_ARCHIVED = 1


def locations(env: Mapping[str, str], home: Path) -> list[Path]:
    """Codex homes, existing or not: every ``CODEX_HOME`` entry, else ``~/.codex``. An entry that
    names a ``sessions`` or ``archived_sessions`` directory stands for the home above it."""
    entries = split_env_paths(env.get(ENV_VAR)) or [home / ".codex"]
    out: list[Path] = []
    for entry in entries:
        if entry.name in (SESSIONS, ARCHIVED) and not (entry / SESSIONS).is_dir():
            entry = entry.parent
        if entry not in out:
            out.append(entry)
    return out


def unit_for(path: str | Path, archived: bool = False) -> SourceUnit:
    """The source unit of one rollout file; ``hints["session_id"]`` is the thread id its name
    carries (the fallback when the file has no ``session_meta``)."""
    hints = {"session_id": file_session_id(os.path.basename(path))}
    if archived:
        hints["archived"] = "1"
    return SourceUnit(path=path, order=ORDER_ARCHIVED if archived else ORDER_ACTIVE, hints=hints)


def discover(roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
    """Every ``*.jsonl`` regular file under ``<root>/sessions`` and ``<root>/archived_sessions``,
    in name order (:func:`burn.readkit.walk_files`: each directory once, so symlink loops and
    roots listed twice are walked once; a ``*.jsonl`` that is not a regular file is counted as
    ``not_a_file``, a directory that cannot be listed as ``unreadable``). Never raises.
    """
    visited: set[tuple[int, int]] = set()
    for archived, sub in ((False, SESSIONS), (True, ARCHIVED)):
        for root in roots:
            for path, _names in walk_files(root / sub, ".jsonl", diagnostics, visited=visited, sort=True):
                yield unit_for(path, archived)
