"""The ``file`` store: ``$RELAYBURN_HOME/ledger.jsonl``, append-only, with a rebuildable index.

* ``ledger.jsonl`` is the source of truth; history is never rewritten.
* ``ledger.index.sqlite`` maps event ids to their current state so appends are idempotent and can
  merge revisions (DESIGN §5). It is a cache: it records how many ledger bytes it covers and is
  caught up from the ledger (or rebuilt from scratch) whenever it lags or disagrees.
* ``ledger.lock`` carries an exclusive ``flock``; ``burn ingest`` holds it for its whole run, so
  two ingests started at once serialise and the second finds nothing new.
* A torn last line left by a crash is terminated with a newline before the next append, so it is
  never merged with the next line; readers skip it as invalid.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from burn.errors import LedgerError
from burn.hookspecs import hookimpl
from burn.merge import merge
from burn.records import RECORD_TYPES, Record, Turn
from burn.store import LEDGER_VERSION, AppendResult, LedgerEntry, ReadStats, StoreFactory

# Kinds whose later sightings can supersede the stored state; only these keep a body in the index.
MERGEABLE = frozenset({"turn", "session", "user_turn", "project"})
_SQL_CHUNK = 500
_INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, kind TEXT NOT NULL, body BLOB) WITHOUT ROWID;
-- request id of every non-sidechain turn by message id: recognises /btw sidechain replays.
CREATE TABLE IF NOT EXISTS main_messages (message_id TEXT PRIMARY KEY, request_id TEXT) WITHOUT ROWID;
"""


class FileStore:
    """Ledger in ``home/ledger.jsonl``. See the module docstring."""

    name = "file"

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "ledger.jsonl"
        self.index_path = home / "ledger.index.sqlite"
        self.lock_path = home / "ledger.lock"
        self._lock_depth = 0
        self._lock_fd: int | None = None
        self._index: sqlite3.Connection | None = None
        self._indexed = 0  # ledger bytes the index covers

    # -- locking ---------------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        if self._lock_depth == 0:
            try:
                self.home.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise LedgerError(f"cannot open the ledger lock {self.lock_path}: {exc.strerror}") from exc
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self._close_index()
                assert self._lock_fd is not None
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None

    # -- index -----------------------------------------------------------------------------------

    def _open_index(self) -> sqlite3.Connection:
        if self._index is None:
            db = sqlite3.connect(self.index_path, isolation_level=None)
            # The index is a cache rebuilt from the ledger when it lags, so durability is not needed.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.executescript(_INDEX_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key='ledger_bytes'").fetchone()
            self._indexed = int(row[0]) if row else 0
            self._index = db
        return self._index

    def _close_index(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def _catch_up(self) -> sqlite3.Connection:
        """Bring the index up to the ledger's end (entries appended by a crashed or older writer)."""
        db = self._open_index()
        size = self.path.stat().st_size if self.path.exists() else 0
        if self._indexed > size:  # the ledger was replaced or truncated behind our back
            db.execute("BEGIN")
            db.execute("DELETE FROM events")
            db.execute("DELETE FROM main_messages")
            db.execute("COMMIT")
            self._indexed = 0
        if self._indexed < size:
            db.execute("BEGIN")
            batch: list[LedgerEntry] = []
            end = self._indexed
            for entry in self.read(self._indexed):
                batch.append(entry)
                end = entry.position
                if len(batch) >= 10_000:
                    self._index_entries(db, batch)
                    batch.clear()
            self._index_entries(db, batch)
            self._indexed = max(end, self._complete_end(size))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('ledger_bytes', ?)", (str(self._indexed),))
            db.execute("COMMIT")
        return db

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

    def _index_entries(self, db: sqlite3.Connection, entries: Sequence[LedgerEntry]) -> None:
        db.executemany(
            "INSERT OR REPLACE INTO events VALUES (?, ?, ?)",
            [(e.id, e.kind, orjson.dumps(e.record) if e.kind in MERGEABLE else None) for e in entries],
        )
        db.executemany(
            "INSERT OR IGNORE INTO main_messages VALUES (?, ?)",
            [
                (e.record["message_id"], e.record.get("request_id"))
                for e in entries
                if e.kind == "turn" and e.record.get("message_id") and not e.record.get("is_sidechain")
            ],
        )

    # -- append ----------------------------------------------------------------------------------

    def append(self, records: Sequence[Record]) -> AppendResult:
        if self._lock_depth == 0:
            raise LedgerError("internal error: ledger append without the writer lock")
        from burn import convert  # cattrs is only needed when something is appended

        result = AppendResult()
        if not records:
            return result
        db = self._catch_up()

        pending: dict[str, Record] = {}
        for rec in records:
            rid = rec.event_id()
            old = pending.get(rid)
            if old is None:
                pending[rid] = rec
            else:
                merged = merge(old, rec)
                if merged is None:
                    result.dropped["duplicate"] += 1
                else:
                    pending[rid] = merged
        known = self._lookup(db, list(pending))
        main_requests = self._main_requests(db, pending.values())

        lines: list[bytes] = []
        entries: list[LedgerEntry] = []
        for rid, rec in pending.items():
            kind = rec.KIND
            if _is_btw_replay(rec, main_requests):
                result.dropped["btw_replay"] += 1
                continue
            if rid in known:
                old_body = known[rid]
                if old_body is None:
                    result.dropped["duplicate"] += 1
                    continue
                merged = merge(convert.from_dict(kind, orjson.loads(old_body)), rec)
                if merged is None:
                    result.dropped["duplicate"] += 1
                    continue
                rec = merged
                result.revised[kind] += 1
            else:
                result.appended[kind] += 1
            data = convert.to_dict(rec)
            lines.append(orjson.dumps({"v": LEDGER_VERSION, "kind": kind, "id": rid, "record": data}))
            entries.append(LedgerEntry(0, kind, rid, data))
        if lines:
            self._write(lines)
            db.execute("BEGIN")
            self._index_entries(db, entries)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('ledger_bytes', ?)", (str(self._indexed),))
            db.execute("COMMIT")
        return result

    def _lookup(self, db: sqlite3.Connection, ids: list[str]) -> dict[str, bytes | None]:
        found: dict[str, bytes | None] = {}
        for i in range(0, len(ids), _SQL_CHUNK):
            chunk = ids[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            for rid, body in db.execute(f"SELECT id, body FROM events WHERE id IN ({marks})", chunk):
                found[rid] = body
        return found

    def _main_requests(self, db: sqlite3.Connection, records: Any) -> dict[str, str | None]:
        """Request ids of non-sidechain turns for the message ids of this batch's sidechain turns."""
        batch_main: dict[str, str | None] = {}
        wanted: list[str] = []
        for rec in records:
            if isinstance(rec, Turn) and rec.message_id:
                if rec.is_sidechain:
                    wanted.append(rec.message_id)
                else:
                    batch_main.setdefault(rec.message_id, rec.request_id)
        found: dict[str, str | None] = {}
        for i in range(0, len(wanted), _SQL_CHUNK):
            chunk = wanted[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT message_id, request_id FROM main_messages WHERE message_id IN ({marks})"
            found.update(db.execute(sql, chunk))
        for mid in wanted:
            if mid in batch_main and mid not in found:
                found[mid] = batch_main[mid]
        return found

    def _write(self, lines: list[bytes]) -> None:
        payload = b"\n".join(lines) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and self._complete_end(size) != size:
                payload = b"\n" + payload  # terminate a torn line left by a crash
            os.write(fd, payload)
        finally:
            os.close(fd)
        self._indexed = self._complete_end(self.path.stat().st_size)

    # -- read ------------------------------------------------------------------------------------

    def read(self, since: int = 0, stats: ReadStats | None = None) -> Iterator[LedgerEntry]:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(since)
            pos = since
            for line in f:
                if not line.endswith(b"\n"):
                    return  # torn or still being written: not an entry yet
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
                yield LedgerEntry(pos, kind, rid, record)

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


def _is_btw_replay(rec: Record, main_requests: dict[str, str | None]) -> bool:
    """A sidechain turn replaying a main-chain message under a new request id (Claude ``/btw``)."""
    return (
        isinstance(rec, Turn)
        and rec.is_sidechain
        and rec.message_id in main_requests
        and main_requests[rec.message_id] != rec.request_id
    )


@hookimpl
def register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    register("file", FileStore)
