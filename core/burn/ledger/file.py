"""The ``file`` store: ``$RELAYBURN_HOME/ledger.jsonl``, append-only, with a rebuildable index.

* ``ledger.jsonl`` is the source of truth; history is never rewritten.
* ``ledger.index.sqlite`` maps event ids to their current state so appends are idempotent and can
  merge revisions (DESIGN §5). It is a cache: it records how many ledger bytes it covers and is
  caught up from the ledger (or rebuilt from scratch) whenever it lags or disagrees. It holds no
  record bodies: a mergeable event maps to the byte offset and length of its current revision's
  ledger line, which is read back (``pread``) when the event is seen again. Ids are stored as
  16-byte blobs (canonical 32-char hex ids; any other id stays text). An index whose ``format``
  differs from :data:`_INDEX_FORMAT`, or whose offsets do not point at the line of the id they
  claim, is discarded and rebuilt from the ledger. Its writes stay in one transaction for the
  whole run (:func:`burn.sqlite.held`), committed when the lock is released: a crash before that
  leaves it lagging, and the next run catches it up.
* ``ledger.lock`` carries an exclusive ``flock``; ``burn ingest`` holds it for its whole run, so
  two ingests started at once serialise and the second finds nothing new. The holder writes its pid
  into the file, and a writer that has waited ``LOCK_NOTICE_SECONDS`` says on stderr whom it
  waits for. A forked child (ingest's reading workers) closes the lock's descriptor at once: an
  ``flock`` belongs to the open file, so a child that kept it would hold the lock after its parent
  was killed, and every later ingest would wait forever (issue 11). The lock is
  :class:`burn.ledger.batch.RunLock`, which every store shares.
* A torn last line left by a crash is terminated with a newline before the next append, so it is
  never merged with the next line; readers skip it as invalid.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from burn import hookimpl, sqlite
from burn.errors import LedgerError, writing
from burn.gcpause import gc_paused
from burn.ledger.batch import RunLock, fold, plan
from burn.ledger.merge import MERGEABLE
from burn.records import RECORD_TYPES, Record
from burn.store import (
    LEDGER_VERSION,
    AppendResult,
    Encoded,
    LedgerEntry,
    ReadStats,
    Sink,
    StoreConfig,
    StoreFactory,
    encode,
)

# Only the kinds of burn.ledger.merge.MERGEABLE keep a ledger offset in the index.
_SQL_CHUNK = 4000  # ids per ``IN (…)`` query, capped by SQLite's variable limit
_WRITE_LINES = 2000  # ledger lines per write
# Bump when the index schema changes: an index of another format is rebuilt. Format 2 keeps its
# tables and byte count under names format 1 never used, so an older burn writing to the same file
# cannot corrupt it.
# Format 3 no longer keeps the /btw rule's table (ingest does, see burn.ingest.dedupe): a format-2 burn
# opening it rebuilds its own rather than trusting a table format 3 stopped updating.
_INDEX_FORMAT = "3"
_INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- id: 16-byte blob (text for a non-hex id); pos/len: the current revision's ledger line (mergeable
-- kinds only; len excludes the newline).
CREATE TABLE IF NOT EXISTS event_lines (id BLOB PRIMARY KEY, pos INTEGER, len INTEGER) WITHOUT ROWID;
"""


# An item to index: the item, its index key, and the offset and length of its ledger line.
_Placed = tuple[Encoded, bytes | str, int, int]


class FileStore:
    """Ledger in ``home/ledger.jsonl``. See the module docstring."""

    name = "file"

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "ledger.jsonl"
        self.index_path = home / "ledger.index.sqlite"
        self.lock_path = home / "ledger.lock"
        self._index: sqlite3.Connection | None = None
        self._indexed = 0  # ledger bytes the index covers
        self._chunk = _SQL_CHUNK
        self._lock = RunLock(self.lock_path, self._close_index)

    # -- locking ---------------------------------------------------------------------------------

    def lock(self) -> AbstractContextManager[None]:
        return self._lock()

    # -- index -----------------------------------------------------------------------------------

    def _open_index(self) -> sqlite3.Connection:
        if self._index is None:
            db = self._connect()
            fmt = db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
            if fmt is None or fmt[0] != _INDEX_FORMAT:
                # An index of another format (or none yet): start afresh, in a file of our own.
                db.close()
                self._delete_index()
                db = self._connect()
                db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (_INDEX_FORMAT,))
            if db.execute("SELECT 1 FROM sqlite_master WHERE name='events'").fetchone():
                # An older burn indexed into this file with its own table and byte count (which
                # this format never reads): drop both, so that burn rebuilds its table if run again.
                db.execute("DROP TABLE events")
                db.execute("DELETE FROM meta WHERE key='ledger_bytes'")
            row = db.execute("SELECT value FROM meta WHERE key='indexed_bytes'").fetchone()
            self._indexed = int(row[0]) if row else 0
            self._chunk = min(_SQL_CHUNK, db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
            self._index = db
        return self._index

    def _connect(self) -> sqlite3.Connection:
        db = sqlite.connect(self.index_path, pragmas=sqlite.LEDGER_INDEX)
        db.executescript(_INDEX_SCHEMA)
        return db

    def drop_index(self) -> None:
        """Discard the index; the next append rebuilds it from the readable lines of the ledger
        (``burn ledger verify --repair``: ids of unreadable lines become unknown again)."""
        self._close_index()
        self._delete_index()
        self._indexed = 0

    def _delete_index(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.index_path}{suffix}").unlink(missing_ok=True)

    def _close_index(self) -> None:
        """Commit what the appends wrote to the index (see :meth:`_append_encoded`) and close it. A
        commit that fails loses nothing: the index then lags the ledger and is caught up from it."""
        if self._index is not None:
            db, self._index = self._index, None
            try:
                sqlite.commit(db)
            except sqlite3.Error:
                pass
            finally:
                db.close()

    def _rebuild(self) -> sqlite3.Connection:
        """Discard the index and rebuild it from the whole ledger."""
        self._close_index()
        self._delete_index()
        return self._catch_up()

    def _catch_up(self) -> sqlite3.Connection:
        """Bring the index up to the ledger's end (entries appended by a crashed or older writer)."""
        db = self._open_index()
        size = self.path.stat().st_size if self.path.exists() else 0
        if self._indexed > size:  # the ledger was replaced or truncated behind our back
            with self._held(db):
                db.execute("DELETE FROM event_lines")
            self._indexed = 0
        if self._indexed < size:
            indexed = self._indexed
            with self._held(db):
                batch: list[_Placed] = []
                end = indexed
                for start, end, kind, rid, _ in self._scan(indexed):
                    batch.append((Encoded(kind, rid, b""), _key(rid), start, end - start - 1))
                    if len(batch) >= 10_000:
                        self._index_items(db, batch)
                        batch.clear()
                self._index_items(db, batch)
                indexed = max(end, self._complete_end(size))
                db.execute("INSERT OR REPLACE INTO meta VALUES ('indexed_bytes', ?)", (str(indexed),))
            self._indexed = indexed  # only once written: a rolled-back catch-up closes the index
        return db

    @contextlib.contextmanager
    def _held(self, db: sqlite3.Connection) -> Iterator[None]:
        """The index's writes, in one transaction for the whole run (:func:`burn.sqlite.held`;
        committed by :meth:`_close_index` when the lock is released). On an error it is rolled
        back and the index closed: reopened, it reads the byte count it committed and catches up
        from the ledger what this run appended."""
        try:
            with sqlite.held(db):
                yield
        except BaseException:
            if self._index is db:
                self._index = None
                db.close()
            raise

    def _complete_end(self, size: int) -> int:
        """Position after the last newline in the ledger (a torn tail is not covered)."""
        if size == 0:
            return 0
        with open(self.path, "rb") as f:
            back = min(size, 1 << 16)
            while True:
                f.seek(size - back)
                chunk = f.read(back)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    return size - back + cut + 1
                if back == size:
                    return 0
                back = min(size, back * 4)

    def _index_items(self, db: sqlite3.Connection, items: Sequence[_Placed]) -> None:
        """Index items with their keys and the ``(offset, length)`` of their ledger lines."""
        db.executemany(
            "INSERT OR REPLACE INTO event_lines VALUES (?, ?, ?)",
            [(key, pos, n) if i.kind in MERGEABLE else (key, None, None) for i, key, pos, n in items],
        )

    # -- append ----------------------------------------------------------------------------------

    def append(self, records: Sequence[Record]) -> AppendResult:
        return self.append_encoded([encode(r) for r in records])

    def append_encoded(self, items: Sequence[Encoded], sink: Sink | None = None) -> AppendResult:
        if self._lock.depth == 0:
            raise LedgerError("internal error: ledger append without the writer lock")
        if not items:
            return AppendResult()
        # The ledger and its index: a full disk is named (the archive fed by ``sink`` names itself).
        with gc_paused(), writing(self.path):  # the batch, its lookups and the sink's rows: no cycles
            return self._append_encoded(items, sink)

    def _append_encoded(self, items: Sequence[Encoded], sink: Sink | None) -> AppendResult:
        result = AppendResult()
        db = self._catch_up()

        pending = fold(items, result)
        keys = {rid: _key(rid) for rid in pending}
        try:
            known = self._lookup(db, pending, keys)
        except _StaleIndexError:  # the ledger changed under the index: rebuild it, then look again
            db = self._rebuild()
            known = self._lookup(db, pending, keys)

        written = plan(pending, known, result)
        heads = [_head(item.kind, item.id) for item in written]
        if written:
            start = self._write(heads, written)
            placed: list[_Placed] = []
            for head, item in zip(heads, written, strict=True):
                n = len(head) + len(item.data) + 1  # its line, without the newline
                placed.append((item, keys[item.id], start, n))
                start += n + 1
            del heads, written  # written; the sink below decodes entries in their place
            with self._held(db):
                self._index_items(db, placed)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('indexed_bytes', ?)", (str(self._indexed),))
            if sink is not None:
                # What read() would give from ``placed[0]``'s offset: every line written is an entry.
                sink(
                    placed[0][2],
                    (LedgerEntry(p + n + 1, i.kind, i.id, orjson.loads(i.data)) for i, _, p, n in placed),
                )
        return result

    def _lookup(
        self, db: sqlite3.Connection, pending: dict[str, Encoded], keys: dict[str, bytes | str]
    ) -> dict[str, bytes | None]:
        """The stored record JSON of every known id in ``pending`` (``None``: not mergeable)."""
        wanted = list(keys.values())
        found: dict[str, bytes | None] = {}
        where: list[tuple[int, int, str]] = []
        for i in range(0, len(wanted), self._chunk):
            chunk = wanted[i : i + self._chunk]
            marks = ",".join("?" * len(chunk))
            for key, pos, n in db.execute(
                f"SELECT id, pos, len FROM event_lines WHERE id IN ({marks})", chunk
            ):
                rid = key.hex() if isinstance(key, bytes) else key  # the inverse of _key
                found[rid] = None
                if pos is not None:
                    where.append((pos, n, rid))
        if where:
            where.sort()
            fd = os.open(self.path, os.O_RDONLY)
            try:
                for pos, n, rid in where:
                    found[rid] = _record_json(os.pread(fd, n, pos), pending[rid].kind, rid)
            finally:
                os.close(fd)
        return found

    def _write(self, heads: list[bytes], items: list[Encoded]) -> int:
        """Append the ledger lines of ``items``, ``head + data + b"}"`` (the record's JSON spliced in
        as encoded, never re-serialized); returns the ledger offset of the first. Built and written
        in slices, so that a large append never holds a copy of all its lines (the lock is held)."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and self._complete_end(size) != size:
                os.write(fd, b"\n")  # terminate a torn line left by a crash
            start = os.lseek(fd, 0, os.SEEK_END)
            for i in range(0, len(items), _WRITE_LINES):
                chunk = zip(heads[i : i + _WRITE_LINES], items[i : i + _WRITE_LINES], strict=True)
                data = b"".join(part for head, item in chunk for part in (head, item.data, b"}\n"))
                if os.write(fd, data) != len(data):  # a full disk first takes part of a write
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
        finally:
            os.close(fd)
        self._indexed = self._complete_end(self.path.stat().st_size)
        return start

    # -- read ------------------------------------------------------------------------------------

    def read(self, since: int = 0, stats: ReadStats | None = None) -> Iterator[LedgerEntry]:
        for _, end, kind, rid, record in self._scan(since, stats):
            yield LedgerEntry(end, kind, rid, record)

    def _scan(
        self, since: int = 0, stats: ReadStats | None = None
    ) -> Iterator[tuple[int, int, str, str, dict[str, Any]]]:
        """:meth:`read`, yielding each entry's ``(start, end, kind, id, record)``."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(since)
            pos = since
            for line in f:
                if not line.endswith(b"\n"):
                    return  # torn or still being written: not an entry yet
                start = pos
                pos += len(line)
                if stats is not None:
                    stats.lines += 1
                try:
                    obj = orjson.loads(line)
                    kind, rid, record, version = obj["kind"], obj["id"], obj["record"], obj["v"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    if stats is not None:
                        stats.invalid += 1
                    continue
                if version != LEDGER_VERSION or kind not in RECORD_TYPES:
                    if stats is not None:
                        stats.unknown_kinds[f"{kind}@v{version}"] += 1
                    continue
                yield start, pos, kind, rid, record

    def position(self) -> int:
        if not self.path.exists():
            return 0
        return self._complete_end(self.path.stat().st_size)

    def describe(self) -> dict[str, Any]:
        size = self.path.stat().st_size if self.path.exists() else 0
        return {
            "store": self.name,
            "ledger": str(self.path),
            "ledger_bytes": size,
            "index": str(self.index_path),
            "index_bytes": self.index_path.stat().st_size if self.index_path.exists() else 0,
        }


class _StaleIndexError(Exception):
    """The index points at a ledger line that is not the id's: the ledger changed behind it."""


def _key(rid: str) -> bytes | str:
    """The index key of an event id: 16 bytes for a canonical (lowercase, 32-char) hex id."""
    if len(rid) == 32:
        try:
            raw = bytes.fromhex(rid)
        except ValueError:
            return rid
        if raw.hex() == rid:
            return raw
    return rid


def _record_json(line: bytes, kind: str, rid: str) -> bytes:
    """The record JSON of the ledger line of ``rid`` (as :meth:`FileStore._write` writes it, or
    equivalent)."""
    head = _head(kind, rid)
    if line.startswith(head) and line.endswith(b"}"):
        return line[len(head) : -1]
    try:  # a line in another spelling (key order, spacing): re-serialize its record
        obj = orjson.loads(line)
        if obj["id"] == rid and obj["v"] == LEDGER_VERSION and isinstance(obj["record"], dict):
            return orjson.dumps(obj["record"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        pass
    raise _StaleIndexError(rid)


def _head(kind: str, rid: str) -> bytes:
    """``{"v":1,"kind":…,"id":…,"record":`` as orjson writes it. An id of ASCII letters and digits
    (every id burn makes) needs no escaping: it is spliced after its kind's prefix."""
    prefix = _HEADS.get(kind)
    if prefix is None or not (rid.isascii() and rid.isalnum()):
        return orjson.dumps({"v": LEDGER_VERSION, "kind": kind, "id": rid})[:-1] + b',"record":'
    return prefix + rid.encode() + b'","record":'


# '{"v":1,"kind":"turn","id":"' for each kind: its head up to the id's characters.
_HEADS = {kind: orjson.dumps({"v": LEDGER_VERSION, "kind": kind, "id": ""})[:-2] for kind in RECORD_TYPES}


def open_file_store(config: StoreConfig) -> FileStore:
    """The ``file`` store's factory: the ledger in the burn home, or in the directory a
    ``file:///dir`` URL names. A URL of another store (``RELAYBURN_DATABASE_URL`` left set for
    postgres) does not concern it."""
    url = config.url
    if url is not None and url.startswith("file://"):
        return FileStore(Path(unquote(urlsplit(url).path)))
    return FileStore(config.home)


@hookimpl
def register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    register("file", open_file_store)
