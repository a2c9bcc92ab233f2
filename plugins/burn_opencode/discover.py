"""Where OpenCode keeps its data, and which files are source units (FORMATS §3.1).

Under a data directory (``$OPENCODE_DATA_DIR`` entries, else ``$XDG_DATA_HOME/opencode``, else
``~/.local/share/opencode``)::

    opencode.db, opencode-<channel>.db                    SQLite (1.x): ONE unit each, -wal companion
    storage/session/<projectID>/<sessionID>.json          session object: one unit each
    storage/message/<sessionID>/<messageID>.json          message: one unit each
    storage/part/<messageID>/<partID>.json                its parts: companions of the message unit
    project/<dir>/storage/session/info/<sessionID>.json   legacy per-project layout (≈ mid-2025)
    project/<dir>/storage/session/message/<sessionID>/<messageID>.json
    project/<dir>/storage/session/part/<sessionID>/<messageID>/<partID>.json

A data directory's own ``storage/session/{info,message,part}`` (the legacy layout without the
``project/<dir>`` prefix) is read too, and a root that is itself a ``storage`` directory.

Why one unit per message file: the core takes a stat fingerprint of each unit (its path and its
companions) and skips an unchanged unit without calling the reader, so a no-op ingest opens no
file at all and a change re-reads one message and its few parts. The part files are companions, so
a new or rewritten part (a ``step-finish`` written after the message, a tool finishing) makes the
message's fingerprint change. Session objects are separate units: they change on their own (title,
time) and are small.

Why the part files, and not their directory, are the companions: OpenCode writes storage files in
place (``Bun.write``), and rewriting a file in place does not change its directory's mtime, size or
inode. With the part directory as the only companion, a tool part that goes from ``running`` to
``completed`` after the message was ingested would be missed until something else in the message
changed (``test_tool_part_finishing_later_is_picked_up``). The directory would be cheaper — on 20,000
messages with 80,000 parts, discovery plus fingerprints take 0.29 s instead of 1.3 s, most of which is
building 100,000 ``Path`` objects (``benchmarks/bench_opencode_noop.py``) — but a no-op ingest that
misses data is not a no-op ingest.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from burn.reader import Diagnostics, SourceUnit, split_env_paths

ENV_VAR = "OPENCODE_DATA_DIR"
ORDER_DB = 0  # databases first: their copy of a message is the one the ledger keeps
ORDER_SESSION = 1
ORDER_MESSAGE = 2
KIND_DB = "db"
KIND_SESSION = "session"
KIND_MESSAGE = "message"
LEGACY = "legacy"  # storage/session/message/<session>/…, storage/session/part/<session>/…


def locations(env: Mapping[str, str], home: Path) -> list[Path]:
    """Every ``OPENCODE_DATA_DIR`` entry (comma-separated), else the XDG data dir's ``opencode``.

    Relative entries are made absolute, so that unit keys (and the cursors stored under them) do
    not depend on the directory ``burn`` runs from.
    """
    entries = split_env_paths(env.get(ENV_VAR))
    if entries:
        out: list[Path] = []
        for entry in entries:
            entry = entry.absolute()
            if entry not in out:
                out.append(entry)
        return out
    xdg = env.get("XDG_DATA_HOME", "").strip()
    data = Path(xdg).expanduser() if xdg else home / ".local" / "share"
    return [data / "opencode"]


def is_database_name(name: str) -> bool:
    return name == "opencode.db" or (name.startswith("opencode-") and name.endswith(".db"))


def discover(roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
    """Database units, then session and message units, of every root. Never raises."""
    visited: set[tuple[int, int]] = set()
    storages: list[Path] = []
    for root in roots:
        try:
            st = os.stat(root)
        except OSError:
            continue  # a candidate location that does not exist
        if not stat.S_ISDIR(st.st_mode) or (st.st_dev, st.st_ino) in visited:
            continue
        visited.add((st.st_dev, st.st_ino))
        entries = _scan(root, diagnostics)
        names = {e.name for e in entries}
        for entry in entries:
            if is_database_name(entry.name):
                if _is_file(entry, diagnostics):
                    path = Path(entry.path)
                    yield SourceUnit(
                        path=path,
                        order=ORDER_DB,
                        hints={"kind": KIND_DB},
                        companions=(path.with_name(path.name + "-wal"),),
                    )
            elif entry.name == "storage" and _is_dir(entry):
                storages.append(Path(entry.path))
            elif entry.name == "project" and _is_dir(entry):
                for project in _scan(Path(entry.path), diagnostics):
                    if _is_dir(project):
                        storages.append(Path(project.path) / "storage")
        if root.name == "storage" and "storage" not in names:
            storages.append(root)
    for storage in storages:
        yield from _storage_units(storage, diagnostics)


def _scan(directory: Path, diagnostics: Diagnostics) -> list[os.DirEntry[str]]:
    """The entries of ``directory`` by name; a missing directory has none."""
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        diagnostics.skip("not_a_directory", str(directory))
        return []
    except OSError as exc:
        diagnostics.skip("unreadable", f"{directory}: {exc.strerror or exc}")
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str], diagnostics: Diagnostics) -> bool:
    try:
        if entry.is_file():
            return True
    except OSError as exc:
        diagnostics.skip("unreadable", f"{entry.path}: {exc.strerror or exc}")
        return False
    diagnostics.skip("not_a_file", entry.path)
    return False


def _json_files(directory: Path, diagnostics: Diagnostics) -> list[os.DirEntry[str]]:
    return [e for e in _scan(directory, diagnostics) if e.name.endswith(".json") and _is_file(e, diagnostics)]


def _storage_units(storage: Path, diagnostics: Diagnostics) -> Iterator[SourceUnit]:
    session_dir = storage / "session"
    legacy_parts = session_dir / "part"
    for group in _scan(session_dir, diagnostics):
        if not _is_dir(group):
            continue
        if group.name == "message":  # legacy: session/message/<sessionID>/<messageID>.json
            for ses in _scan(Path(group.path), diagnostics):
                if _is_dir(ses):
                    parts = legacy_parts / ses.name
                    with_parts = _subdirs(parts, diagnostics)
                    yield from _message_units(
                        Path(ses.path), ses.name, parts, with_parts, diagnostics, LEGACY
                    )
        elif group.name != "part":  # session/<projectID>/<sessionID>.json (legacy: session/info/…)
            for f in _json_files(Path(group.path), diagnostics):
                yield SourceUnit(path=f.path, order=ORDER_SESSION, hints={"kind": KIND_SESSION})
    sessions = [e for e in _scan(storage / "message", diagnostics) if _is_dir(e)]
    if sessions:
        parts_root = storage / "part"
        with_parts = _subdirs(parts_root, diagnostics)  # one listing for the whole tree, not one per session
        for ses in sessions:
            yield from _message_units(Path(ses.path), ses.name, parts_root, with_parts, diagnostics)


def _subdirs(directory: Path, diagnostics: Diagnostics) -> frozenset[str]:
    """Names of the subdirectories of ``directory`` (none when it is missing)."""
    return frozenset(e.name for e in _scan(directory, diagnostics) if _is_dir(e))


def _message_units(
    directory: Path,
    session: str,
    parts_root: Path,
    with_parts: frozenset[str],
    diagnostics: Diagnostics,
    layout: str = "current",
) -> Iterator[SourceUnit]:
    """One unit per message file of a session directory, its part files as companions.

    This is the hot path of a no-op ingest (one call per session, one part listing per message):
    part directories are listed with :func:`os.listdir` (names only; a ``*.json`` there that is not
    a regular file is stat'ed harmlessly and counted by the read), paths are built by joining a
    name to a parent, and the units of one session share one hints mapping.
    """
    parts_root_str = str(parts_root)
    hints = {"kind": KIND_MESSAGE, "session": session, "parts_root": parts_root_str, "layout": layout}
    for f in _json_files(directory, diagnostics):
        stem = f.name[: -len(".json")]
        companions: tuple[str, ...] = ()
        if stem in with_parts:
            part_dir = f"{parts_root_str}{os.sep}{stem}"
            try:
                names = sorted(n for n in os.listdir(part_dir) if n.endswith(".json"))
            except OSError as exc:
                diagnostics.skip("unreadable", f"{part_dir}: {exc.strerror or exc}")
                names = []
            prefix = f"{part_dir}{os.sep}"
            companions = tuple([prefix + n for n in names])  # strings: no Path per part on a no-op
        yield SourceUnit(path=f.path, order=ORDER_MESSAGE, hints=hints, companions=companions)
