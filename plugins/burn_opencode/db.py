"""Reading ``opencode.db`` (OpenCode 1.x) incrementally, read-only (FORMATS §3.1–3.2).

**Opening.** Always through a ``file:…?mode=ro`` URI with a short busy timeout: burn never writes
the agent's database. A WAL-mode database whose ``-wal``/``-shm`` files are absent (OpenCode closed
cleanly and checkpointed) is opened with ``immutable=1`` as well, because even a read-only
connection would otherwise create those files next to the agent's database; with no WAL file all
committed data is in the main file. (If OpenCode starts writing meanwhile, its writes go to a new
``-wal`` file, whose appearance changes the unit's fingerprint: the next ingest reads them. Such an
unlocked read is kept only if the file is still the same and still has no ``-wal`` afterwards —
otherwise it is discarded, counted in ``rereads["database_changed_during_read"]``, and retried.)
A locked or busy database (``database is locked``: a rollback-journal writer holds it) is counted
as ``database_locked`` and keeps the old cursor, so the next ingest retries; nothing is lost.

**A ``-wal`` without its ``-shm``** (OpenCode was killed and the ``-shm`` removed, or the data dir
was copied without it) holds committed transactions that are not in the main file, and a read-only
connection can neither recover it nor create the ``-shm``. The database and its WAL are then copied
into a temporary directory and the copy is opened normally (SQLite replays the WAL into it); the
read is kept if neither file changed while being copied (otherwise it is discarded and retried like
an unlocked read that saw a change). Counted in ``repaired["wal_without_shm"]``; a copy that fails
(no space in the temporary directory) is counted as ``database_unreadable`` and retried next time.

**Schema.** Columns are taken from ``PRAGMA table_info`` and queries are built from what exists:
older 1.x schemas lack ``session.directory`` (then ``project.worktree`` is the cwd) and the newer
``workspace_id``/``path``/``agent``/``model``/cost/``tokens_*`` columns. The session aggregate
columns are never used for accounting.

**High-water mark.** The cursor's ``state`` keeps, per table (``session``, ``message``, ``part``),
the largest ``time_updated`` read (``hw``) and the ids of the rows at exactly that millisecond
(``ids``). A read asks only for rows with ``time_updated > hw`` or ``= hw`` and an id not in
``ids`` — so a read after a WAL checkpoint (fingerprint changed, data not) reads zero rows. When
more than :data:`IDS_CAP` rows share the mark (a bulk import), ``ids`` is dropped and the rows at
the mark are read again with ``>=`` (their event ids make them duplicates). A table without
``time_updated`` is read whole whenever the file changed. A database replaced by another file
(new inode) is read from the start.

**What is read.** A message is affected when its row or any of its parts changed; each affected
message is read whole — its row and *all* its parts (a new ``step-finish`` part is a new turn) —
in batches of :data:`BATCH` ids through the primary key and the ``part(message_id)`` index, and
fed to the same parser as the JSON files. ``diag.lines_read`` counts the database rows whose data
was read (session, message and part rows); ``bytes_read`` the JSON text of those rows.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from burn.reader import Diagnostics, FileCursor, ReadResult, SourceUnit
from burn.records import Record
from burn_opencode.parse import PartsLookup, message_records, session_info
from burn_opencode.prompts import MessageFetch, Prompts

TIMEOUT_S = 0.25
BATCH = 400
IDS_CAP = 500
LOCKED = "database_locked"
_WAL_HEADER = b"SQLite format 3\x00"


def _is_wal(path: Path) -> bool:
    """Whether the database file's header says WAL journal mode (bytes 18 and 19 are 2)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return len(head) == 20 and head.startswith(_WAL_HEADER) and head[18] == 2 and head[19] == 2


def connect(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection that creates no file next to ``path`` (see the module docstring),
    and whether it is ``immutable`` (no locking: the caller must check the file did not change)."""
    uri = path.absolute().as_uri() + "?mode=ro"
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    immutable = _is_wal(path) and not (wal.exists() and shm.exists())
    if immutable:
        uri += "&immutable=1"
    conn = sqlite3.connect(uri, uri=True, timeout=TIMEOUT_S, isolation_level=None, check_same_thread=False)
    return conn, immutable


def _orphan_wal(path: Path) -> bool:
    """Whether ``path`` is a WAL-mode database with a ``-wal`` file but no ``-shm``."""
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    return _is_wal(path) and wal.exists() and not shm.exists()


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _copy_with_wal(path: Path, into: str) -> Path | None:
    """Copy the database and its ``-wal`` into the directory ``into``; the copy's path, or ``None``
    when either file changed while it was copied. Raises :class:`OSError` when it cannot copy."""
    wal = path.with_name(path.name + "-wal")
    before = (_stamp(path), _stamp(wal))
    copy = Path(into) / "opencode.db"
    shutil.copyfile(path, copy)
    shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    return copy if (_stamp(path), _stamp(wal)) == before else None


def _read_orphan_wal(path: Path, state: Mapping[str, Any], diag: Diagnostics) -> _Read | None:
    """Read a copy of a database whose ``-wal`` has no ``-shm`` (module docstring); ``None`` when
    the files changed during the copy. Raises :class:`OSError` or :class:`sqlite3.Error`."""
    with tempfile.TemporaryDirectory(prefix="burn-opencode-") as tmp:
        copy = _copy_with_wal(path, tmp)
        if copy is None:
            return None
        # Our own copy: opened read-write, so that SQLite can build the -shm and replay the WAL.
        conn = sqlite3.connect(copy, timeout=TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            reader = _Read(conn, state, diag)
            reader.run()
        finally:
            conn.close()
    diag.repaired["wal_without_shm"] += 1
    return reader


def _unchanged(path: Path, st: os.stat_result) -> bool:
    """Whether an immutable read saw a stable file: same identity, size and mtime, still no WAL.

    An immutable connection takes no lock, so a checkpoint by an OpenCode that started meanwhile
    could change pages under it; such a read is discarded and retried.
    """
    try:
        now = os.stat(path)
    except OSError:
        return False
    same = (now.st_ino, now.st_size, now.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
    return same and not path.with_name(path.name + "-wal").exists()


def _is_lock_error(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _columns(conn: sqlite3.Connection, table: str) -> frozenset[str]:
    return frozenset(row[1] for row in conn.execute(f'PRAGMA table_info("{table}")'))


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class _Mark:
    """The high-water mark of one table (see the module docstring)."""

    def __init__(self, raw: object) -> None:
        self.hw: int | None = None
        self.ids: set[str] | None = set()
        if isinstance(raw, Mapping):
            hw = raw.get("hw")
            ids = raw.get("ids")
            if type(hw) is int:
                self.hw = hw
                if ids is None:
                    self.ids = None
                elif isinstance(ids, list):
                    self.ids = {i for i in ids if type(i) is str}

    def where(self, has_time: bool, alias: str = "") -> tuple[str, list[Any]]:
        """The ``WHERE`` clause selecting rows not read yet, and its parameters."""
        if not has_time or self.hw is None:
            return "", []
        tu, rid = f"{alias}time_updated", f"{alias}id"
        if self.ids is None:
            return f"WHERE {tu} >= ?", [self.hw]
        if not self.ids:
            return f"WHERE {tu} > ?", [self.hw]
        marks = ",".join("?" * len(self.ids))
        return f"WHERE {tu} > ? OR ({tu} = ? AND {rid} NOT IN ({marks}))", [
            self.hw,
            self.hw,
            *sorted(self.ids),
        ]

    def advance(self, rows: Iterable[tuple[str, object]]) -> None:
        hw = self.hw
        ids: set[str] = set(self.ids or ())
        for rid, tu in rows:
            if type(tu) is not int:
                continue
            if hw is None or tu > hw:
                hw, ids = tu, {rid}
            elif tu == hw:
                ids.add(rid)
        self.hw = hw
        self.ids = ids if len(ids) <= IDS_CAP else None

    def dump(self) -> dict[str, Any] | None:
        if self.hw is None:
            return None
        return {"hw": self.hw, "ids": None if self.ids is None else sorted(self.ids)}


class _Read:
    """One read of one database, inside one read transaction (one consistent snapshot)."""

    def __init__(self, conn: sqlite3.Connection, state: Mapping[str, Any], diag: Diagnostics) -> None:
        self.conn = conn
        self.diag = diag
        self.marks = {t: _Mark(state.get(t)) for t in ("session", "message", "part")}
        self.records: list[Record] = []

    def _json(self, data: object, where: str) -> dict[str, Any] | None:
        if isinstance(data, str | bytes):
            self.diag.bytes_read += len(data)
            try:
                doc = orjson.loads(data)
            except orjson.JSONDecodeError:
                self.diag.skip("invalid_json", where)
                return None
            if type(doc) is dict:
                return doc
        self.diag.skip("wrong_type", where)
        return None

    def run(self) -> dict[str, Any]:
        conn = self.conn
        conn.execute("BEGIN")
        try:
            cols = {t: _columns(conn, t) for t in ("session", "message", "part", "project")}
            if not {"id", "session_id", "data"} <= cols["message"]:
                self.diag.skip(
                    "unknown_schema", "opencode database without a message(id, session_id, data) table"
                )
                return self.state()
            if "id" in cols["session"]:
                self._sessions(cols["session"], cols["project"])
            affected = self._changed_messages(cols["message"], cols["part"])
            self._messages(sorted(affected), cols["message"], cols["part"])
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        return self.state()

    def state(self) -> dict[str, Any]:
        out = {}
        for table, mark in self.marks.items():
            dumped = mark.dump()
            if dumped is not None:
                out[table] = dumped
        return out

    # -- sessions -------------------------------------------------------------------------------

    def _sessions(self, scols: frozenset[str], pcols: frozenset[str]) -> None:
        wanted = ("id", "parent_id", "directory", "title", "version", "slug", "agent", "time_created")
        select = [f"s.{c}" if c in scols else "NULL" for c in wanted]
        join = ""
        if "directory" not in scols and "project_id" in scols and {"id", "worktree"} <= pcols:
            select.append("p.worktree")
            join = "LEFT JOIN project p ON p.id = s.project_id"
        else:
            select.append("NULL")
        has_time = "time_updated" in scols
        select.append("s.time_updated" if has_time else "NULL")
        mark = self.marks["session"]
        where, params = mark.where(has_time, "s.")
        sql = f"SELECT {', '.join(select)} FROM session s {join} {where}"
        seen: list[tuple[str, object]] = []
        for row in self.conn.execute(sql, params):
            sid, parent, directory, title, version, slug, agent, created, worktree, updated = row
            self.diag.lines_read += 1
            if type(sid) is not str:
                continue
            seen.append((sid, updated))
            info = session_info(
                {
                    "id": sid,
                    "parentID": parent,
                    "directory": directory or worktree,
                    "title": title,
                    "version": version,
                    "slug": slug,
                    "agent": agent,
                    "time": {"created": created},
                }
            )
            if info is not None:
                self.records.append(info)
        mark.advance(seen)

    # -- messages and parts ---------------------------------------------------------------------

    def _changed_messages(self, mcols: frozenset[str], pcols: frozenset[str]) -> set[str]:
        affected: set[str] = set()
        has_time = "time_updated" in mcols
        mark = self.marks["message"]
        where, params = mark.where(has_time)
        seen: list[tuple[str, object]] = []
        time_col = "time_updated" if has_time else "NULL"
        for mid, tu in self.conn.execute(f"SELECT id, {time_col} FROM message {where}", params):
            if type(mid) is str:
                affected.add(mid)
                seen.append((mid, tu))
        mark.advance(seen)
        if {"id", "message_id", "data"} <= pcols:
            has_time = "time_updated" in pcols
            mark = self.marks["part"]
            where, params = mark.where(has_time)
            seen = []
            time_col = "time_updated" if has_time else "NULL"
            sql = f"SELECT id, message_id, {time_col} FROM part {where}"
            for pid, mid, tu in self.conn.execute(sql, params):
                if type(mid) is str:
                    affected.add(mid)
                if type(pid) is str:
                    seen.append((pid, tu))
            mark.advance(seen)
        return affected

    def _parts_of(self, ids: Sequence[str], pcols: frozenset[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if not ids or not {"id", "message_id", "data"} <= pcols:
            return out
        sid = "session_id" if "session_id" in pcols else "NULL"
        marks = ",".join("?" * len(ids))
        sql = (
            f"SELECT id, message_id, {sid}, data FROM part WHERE message_id IN ({marks})"
            " ORDER BY message_id, id"
        )
        for pid, mid, session_id, data in self.conn.execute(sql, list(ids)):
            self.diag.lines_read += 1
            part = self._json(data, f"part {pid}")
            if part is None or type(mid) is not str:
                continue
            part["id"], part["messageID"] = pid, mid
            if session_id is not None:
                part["sessionID"] = session_id
            out.setdefault(mid, []).append(part)
        return out

    def _parent_parts(self, pcols: frozenset[str]) -> PartsLookup:
        def lookup(message_id: str) -> list[dict[str, Any]]:
            return self._parts_of([message_id], pcols).get(message_id, [])

        return lookup

    def _fetch_message(self, pcols: frozenset[str]) -> MessageFetch:
        """One message and its parts by id (a prompt whose reply this read met; usually the read
        saw the prompt itself first, being in id order). An unreadable one is ``None``, counted by
        its own read, not again here."""

        def fetch(message_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
            row = self.conn.execute("SELECT data FROM message WHERE id = ?", (message_id,)).fetchone()
            if row is None or not isinstance(row[0], str | bytes):
                return None
            self.diag.lines_read += 1
            self.diag.bytes_read += len(row[0])
            try:
                msg = orjson.loads(row[0])
            except orjson.JSONDecodeError:
                return None
            if type(msg) is not dict:
                return None
            return msg, self._parts_of([message_id], pcols).get(message_id, [])

        return fetch

    def _messages(self, affected: Sequence[str], mcols: frozenset[str], pcols: frozenset[str]) -> None:
        created_col = "time_created" if "time_created" in mcols else "NULL"
        lookup = self._parent_parts(pcols)
        prompts = Prompts(self._fetch_message(pcols))
        for batch in _chunks(affected, BATCH):
            marks = ",".join("?" * len(batch))
            sql = f"SELECT id, session_id, {created_col}, data FROM message WHERE id IN ({marks}) ORDER BY id"
            rows = self.conn.execute(sql, list(batch)).fetchall()
            parts = self._parts_of(batch, pcols)
            found = set()
            for mid, session_id, created, data in rows:
                self.diag.lines_read += 1
                found.add(mid)
                msg = self._json(data, f"message {mid}")
                if msg is None or type(mid) is not str or type(session_id) is not str:
                    continue
                self.records.extend(
                    message_records(
                        msg,
                        parts.get(mid, ()),
                        message_id=mid,
                        session_id=session_id,
                        diag=self.diag,
                        fallback_ms=created if type(created) is int else None,
                        parent_parts=lookup,
                        prompts=prompts,
                    )
                )
            orphans = sum(len(v) for k, v in parts.items() if k not in found)
            if orphans:
                self.diag.dropped["part_without_message"] += orphans


def read_db(unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
    """Read what changed in one database since ``cursor``. Never raises for bad input.

    Failures return no records, and:

    * a *retryable* one (``sqlite3.OperationalError``: locked, busy, cannot open, I/O) returns no
      cursor — the core then keeps the stored cursor with its old fingerprint, so the next ingest
      tries again even if the file did not change (a lock released without a write);
    * a file that is not a usable database (``sqlite3.DatabaseError``: not a database, malformed)
      returns a cursor with the previous high-water marks, so it is tried again once it changes.
    """
    diag = Diagnostics()
    path = unit.path
    try:
        st = os.stat(path)
    except OSError as exc:
        diag.skip("unreadable", f"{path}: {exc.strerror or exc}")
        return ReadResult((), None, diag)
    if not stat.S_ISREG(st.st_mode):
        diag.skip("not_a_file", str(path))
        return ReadResult((), None, diag)
    state: Mapping[str, Any] = {}
    if cursor is not None:
        if cursor.inode == st.st_ino:
            state = cursor.state
        else:
            diag.rereads["database_replaced"] += 1

    def identity(new_state: Mapping[str, Any]) -> FileCursor:
        return FileCursor(
            inode=st.st_ino,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            offset=0,
            head="",
            state=dict(new_state),
        )

    reader: _Read | None = None
    try:
        if _orphan_wal(path):
            reader = _read_orphan_wal(path, state, diag)
            stable = reader is not None
        else:
            conn, immutable = connect(path)
            try:
                reader = _Read(conn, state, diag)
                reader.run()
            finally:
                conn.close()
            stable = not immutable or _unchanged(path, st)
        if reader is None or not stable:
            changed = Diagnostics()  # discarded: read again next time, under SQLite's locks
            changed.rereads["database_changed_during_read"] += 1
            return ReadResult((), None, changed)
        new_state = reader.state()
    except OSError as exc:  # the copy of a -wal without -shm failed (a full temporary directory)
        failed = Diagnostics()
        failed.skip("database_unreadable", f"{path}: cannot copy it to read its -wal: {exc.strerror or exc}")
        return ReadResult((), None, failed)
    except sqlite3.Error as exc:
        failed = Diagnostics()  # nothing of this read counts: it is all read again
        failed.rereads.update(diag.rereads)
        retry = isinstance(exc, sqlite3.OperationalError)
        failed.skip(LOCKED if _is_lock_error(exc) else "database_unreadable", f"{path}: {exc}")
        return ReadResult((), None if retry else identity(state), failed)
    diag.files_read = 1
    diag.records = len(reader.records)
    return ReadResult(reader.records, identity(new_state), diag)
