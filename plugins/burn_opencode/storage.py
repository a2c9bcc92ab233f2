"""Reading the JSON storage units: one message file (plus its part files), or one session file.

A message unit is always read whole (the files are small, pretty-printed JSON documents rewritten
in place); its cursor only records the file's identity. ``diag.lines_read`` counts JSON documents
parsed, ``files_read`` files opened.

A file that cannot be opened returns no cursor: the core keeps the stored one (with its old
fingerprint), so the next ingest tries again. A file that is
not valid JSON (half-written, or corrupt) is counted and gets a cursor: when OpenCode finishes
writing it, its size or mtime changes and the unit is read again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from burn.reader import Diagnostics, FileCursor, ReadResult, SourceUnit
from burn.readkit.tail import BOM
from burn_opencode.discover import LEGACY
from burn_opencode.parse import has_step_usage, message_records, session_info
from burn_opencode.prompts import Prompts

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # never block on a FIFO that took a file's name
_INVALID = object()


def _read_all(fd: int, size: int) -> bytes:
    """The whole file behind ``fd`` in (usually) one ``read`` call: ``size`` is from ``fstat``; a
    file that grew since is read to its end."""
    data = os.read(fd, size + 1)
    if len(data) <= size:
        return data
    chunks = [data]
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def load(path: Path, diag: Diagnostics) -> tuple[Any, os.stat_result] | None:
    """``(document, stat)`` of a JSON file, ``(_INVALID, stat)`` if it is not JSON, ``None`` if it
    cannot be read (counted in ``diag`` either way)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK)
    except FileNotFoundError:
        diag.skip("vanished", str(path))
        return None
    except OSError as exc:
        diag.skip("unreadable", f"{path}: {exc.strerror or exc}")
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            diag.skip("not_a_file", str(path))
            return None
        raw = _read_all(fd, st.st_size)
    except OSError as exc:
        diag.skip("unreadable", f"{path}: {exc.strerror or exc}")
        return None
    finally:
        os.close(fd)
    diag.files_read += 1
    diag.bytes_read += len(raw)
    diag.lines_read += 1
    try:
        return orjson.loads(raw.removeprefix(BOM)), st  # a byte order mark is not JSON, nor data
    except orjson.JSONDecodeError:
        diag.skip("invalid_json", str(path))
        return _INVALID, st


def _cursor(st: os.stat_result) -> FileCursor:
    return FileCursor(inode=st.st_ino, size=st.st_size, mtime_ns=st.st_mtime_ns, offset=st.st_size, head="")


def _load_parts(paths: Sequence[str | Path], diag: Diagnostics) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for raw in paths:
        path = Path(raw)
        got = load(path, diag)
        if got is None or got[0] is _INVALID:
            continue
        doc = got[0]
        if type(doc) is not dict:
            diag.skip("wrong_type", str(path))
            continue
        if type(doc.get("id")) is not str:
            doc["id"] = path.name[: -len(".json")]  # the legacy layout's parts carry no id
        parts.append(doc)
    return parts


def _part_files(directory: Path) -> list[Path]:
    try:
        with os.scandir(directory) as it:
            return sorted(Path(e.path) for e in it if e.name.endswith(".json") and e.is_file())
    except OSError:
        return []


def _is_legacy(unit: SourceUnit) -> bool:
    layout = unit.hints.get("layout")
    if layout is not None:
        return layout == LEGACY
    return unit.path.parent.parent.parent.name == "session"  # session/message/<ses>/<msg>.json


def _is_name(message_id: str) -> bool:
    """Whether a message id from a document can name a file here (no path, no hidden name)."""
    return (
        bool(message_id)
        and "/" not in message_id
        and "\\" not in message_id
        and not message_id.startswith(".")
    )


def read_message(unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
    diag = Diagnostics()
    path = unit.path
    got = load(path, diag)
    if got is None:
        return ReadResult((), None, diag)
    doc, st = got
    if doc is _INVALID:
        return ReadResult((), _cursor(st), diag)
    if type(doc) is not dict:
        diag.skip("wrong_type", str(path))
        return ReadResult((), _cursor(st), diag)
    parts = _load_parts(unit.companions, diag)
    parts_root = unit.hints.get("parts_root")
    if parts_root is not None and not has_step_usage(parts):
        # The companions were listed at discovery, before this read: a step-finish part written
        # since would be missed, and the message-level turn emitted in its place (parse.py).
        fresh = _part_files(Path(parts_root) / path.name[: -len(".json")])
        if [str(f) for f in fresh] != [str(c) for c in unit.companions]:
            parts = _load_parts(fresh, diag)

    def parent_parts(message_id: str) -> list[dict[str, Any]]:
        if parts_root is None or not _is_name(message_id):
            return []
        return _load_parts(_part_files(Path(parts_root) / message_id), diag)

    def fetch(message_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """Another message of the session (the prompt a reply answers): its file beside this one."""
        if not _is_name(message_id):
            return None
        own = Diagnostics()  # its own read counts its problems; here only what was read
        got = load(path.with_name(f"{message_id}.json"), own)
        diag.files_read += own.files_read
        diag.bytes_read += own.bytes_read
        diag.lines_read += own.lines_read
        if got is None or type(got[0]) is not dict:
            return None
        return got[0], parent_parts(message_id)

    message_id = doc.get("id")
    if type(message_id) is not str or not message_id:
        message_id = path.name[: -len(".json")]
    session_id = doc.get("sessionID")
    if type(session_id) is not str or not session_id:
        session_id = unit.hints.get("session") or path.parent.name
    records = message_records(
        doc,
        parts,
        message_id=message_id,
        session_id=session_id,
        diag=diag,
        fallback_ms=st.st_mtime_ns // 1_000_000,
        parent_parts=parent_parts,
        session_cwd=_is_legacy(unit),
        prompts=Prompts(fetch),
    )
    diag.records = len(records)
    return ReadResult(records, _cursor(st), diag)


def read_session(unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
    diag = Diagnostics()
    got = load(unit.path, diag)
    if got is None:
        return ReadResult((), None, diag)
    doc, st = got
    if doc is _INVALID:
        return ReadResult((), _cursor(st), diag)
    if type(doc) is not dict:
        diag.skip("wrong_type", str(unit.path))
        return ReadResult((), _cursor(st), diag)
    info = session_info(doc, unit.path.name[: -len(".json")])
    records = [info] if info is not None else []
    diag.records = len(records)
    return ReadResult(records, _cursor(st), diag)
