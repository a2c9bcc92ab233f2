"""The ``sqlite`` store: the whole ledger in one durable SQLite file (DESIGN §6).

For a host whose burn home is not kept but which has one persistent volume: the ledger is one
file to keep and back up — ``$RELAYBURN_HOME/burn.sqlite``, or the path of a ``sqlite:///path``
URL in ``RELAYBURN_DATABASE_URL``.

* ``ledger`` holds one row per entry in append order; ``pos`` is the entry's position. A batch is
  appended in one ``BEGIN IMMEDIATE`` transaction that numbers its rows after the largest ``pos``
  committed: writers are serialized by SQLite, history is never deleted, so positions only grow and
  a reader never sees a position commit after a larger one (it can never skip a row).
* An event is keyed by its id: ``ledger_by_id`` finds its current revision (the row with the
  largest ``pos``), which a new sighting merges with (:mod:`burn.ledger.batch`); a revision is a new
  row, so the change feed carries it. There is no separate index to keep in step: it is the table's.
* The writer lock is a ``flock`` on ``<file>.lock`` beside it, like the file store's: ``burn ingest``
  holds it for its whole run (a transaction held that long would make each batch's durability wait
  for the end of the run), and the kernel drops it when a process dies (a lock row would outlive a
  crash). Each append is still its own ``BEGIN IMMEDIATE`` transaction, so a writer that does not
  hold the flock (a file system without working ``flock``) cannot interleave rows either.
* ``synchronous=FULL`` in WAL mode: the ledger is the source of truth, a committed append survives
  a power cut. Rows of a kind this burn does not know are stored and skipped by readers.
* ``meta`` holds the file's ``format`` (another format is refused, never rewritten: the file is
  the only copy) and a random ``ledger_id``, the store's :meth:`SqliteStore.identity`.

The archive stays a separate file in the burn home (docs/stores.md: it is a disposable read model,
rebuilt by swapping files; the ledger file alone is what to back up).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from burn import hookimpl, sqlite
from burn.errors import BurnError, LedgerError, writing
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

FILENAME = "burn.sqlite"
_FORMAT = "1"
_PAGE = 5000  # rows per read query: no statement stays open between pages
_SQL_CHUNK = 500  # ids per ``IN (…)`` lookup
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
  pos INTEGER PRIMARY KEY, v INTEGER NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, record BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_by_id ON ledger (id, pos);
"""


class SqliteStore:
    """Ledger in one SQLite file. See the module docstring."""

    name = "sqlite"
    connects = True  # opening it costs a connection: a no-op ingest does not (burn.ingest.run)
    connections = 0  # connections opened by this process (a work count, for tests)

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._db: sqlite3.Connection | None = None
        self._lock = RunLock(self.lock_path, self.close)

    def lock(self) -> AbstractContextManager[None]:
        return self._lock()

    # -- connection ------------------------------------------------------------------------------

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """The connection; ``None`` when the file does not exist and ``create`` is false (reading
        a ledger nothing was written to yet creates nothing)."""
        if self._db is not None:
            return self._db
        if not create and not self.path.exists():
            return None
        with writing(self.path):
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                db = sqlite3.connect(self.path, isolation_level=None, timeout=600)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("BEGIN IMMEDIATE")  # one creator of the schema and the ledger id
                for statement in _SCHEMA.split(";")[:-1]:  # not executescript: it would COMMIT
                    db.execute(statement)
            except sqlite3.DatabaseError as exc:
                raise LedgerError(f"cannot open the sqlite ledger {self.path}: {exc}") from exc
            try:
                fmt = db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
                if fmt is None:
                    db.execute(
                        "INSERT INTO meta VALUES ('format', ?), ('ledger_id', ?)", (_FORMAT, uuid.uuid4().hex)
                    )
                elif fmt[0] != _FORMAT:
                    raise LedgerError(
                        f"the sqlite ledger {self.path} has format {fmt[0]}, this burn reads format {_FORMAT}"
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                db.close()
                raise
        self._db = db
        SqliteStore.connections += 1
        return db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- append ----------------------------------------------------------------------------------

    def append(self, records: Sequence[Record]) -> AppendResult:
        return self.append_encoded([encode(r) for r in records])

    def append_encoded(self, items: Sequence[Encoded], sink: Sink | None = None) -> AppendResult:
        if self._lock.depth == 0:
            raise LedgerError("internal error: ledger append without the writer lock")
        if not items:
            return AppendResult()
        with gc_paused(), writing(self.path):
            db = self._connect(create=True)
            assert db is not None
            result = AppendResult()
            pending = fold(items, result)
            with sqlite.transaction(db):
                written = plan(pending, self._lookup(db, pending), result)
                (base,) = db.execute("SELECT COALESCE(MAX(pos), 0) FROM ledger").fetchone()
                db.executemany(
                    "INSERT INTO ledger VALUES (?, ?, ?, ?, ?)",
                    [(base + n, LEDGER_VERSION, i.kind, i.id, i.data) for n, i in enumerate(written, 1)],
                )
        if sink is not None and written:
            sink(
                base,
                (LedgerEntry(base + n, i.kind, i.id, orjson.loads(i.data)) for n, i in enumerate(written, 1)),
            )
        return result

    def _lookup(self, db: sqlite3.Connection, pending: dict[str, Encoded]) -> dict[str, bytes | None]:
        """The current revision's record JSON of every known id (``None``: a kind never revised)."""
        ids = list(pending)
        found: dict[str, bytes | None] = {}
        for i in range(0, len(ids), _SQL_CHUNK):
            chunk = ids[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                "SELECT id, kind, record FROM ledger WHERE pos IN "
                f"(SELECT MAX(pos) FROM ledger WHERE id IN ({marks}) GROUP BY id)",
                chunk,
            )
            for rid, kind, record in rows:
                found[rid] = bytes(record) if kind in MERGEABLE else None
        return found

    # -- read ------------------------------------------------------------------------------------

    def read(self, since: int = 0, stats: ReadStats | None = None) -> Iterator[LedgerEntry]:
        db = self._connect(create=False)
        if db is None:
            return
        pos = since
        while True:
            rows = db.execute(
                "SELECT pos, v, kind, id, record FROM ledger WHERE pos > ? ORDER BY pos LIMIT ?", (pos, _PAGE)
            ).fetchall()
            for pos, version, kind, rid, record in rows:
                if stats is not None:
                    stats.lines += 1
                if version != LEDGER_VERSION or kind not in RECORD_TYPES:
                    if stats is not None:
                        stats.unknown_kinds[f"{kind}@v{version}"] += 1
                    continue
                try:
                    body = orjson.loads(record)
                except orjson.JSONDecodeError:
                    body = None
                if not isinstance(body, dict):
                    if stats is not None:
                        stats.invalid += 1
                    continue
                yield LedgerEntry(pos, kind, rid, body)
            if len(rows) < _PAGE:
                return

    def position(self) -> int:
        db = self._connect(create=False)
        if db is None:
            return 0
        (end,) = db.execute("SELECT COALESCE(MAX(pos), 0) FROM ledger").fetchone()
        return int(end)

    # -- optional members ------------------------------------------------------------------------

    def identity(self) -> str:
        db = self._connect(create=False)
        row = None if db is None else db.execute("SELECT value FROM meta WHERE key='ledger_id'").fetchone()
        return f"sqlite:{row[0] if row else 'empty'}"

    def ping(self) -> None:
        """Open the file (when it exists) and read it; a missing file is an empty ledger."""
        try:
            self.position()
        except sqlite3.DatabaseError as exc:
            raise BurnError(f"cannot read the sqlite ledger {self.path}: {exc}") from exc

    def migrate(self) -> list[str]:
        existed = self.path.exists()
        self._connect(create=True)
        return [] if existed else [f"created {self.path} (format {_FORMAT})"]

    def count(self) -> int:
        """Entries in the ledger (revisions included)."""
        db = self._connect(create=False)
        return 0 if db is None else int(db.execute("SELECT COUNT(*) FROM ledger").fetchone()[0])

    def describe(self) -> dict[str, Any]:
        return {
            "store": self.name,
            "ledger": str(self.path),
            "ledger_bytes": sum(
                p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists()
            ),
        }


def open_sqlite_store(config: StoreConfig) -> SqliteStore:
    """The ``sqlite`` store's factory: ``sqlite:///abs/path`` (or ``sqlite:relative``) in the URL,
    else ``burn.sqlite`` in the burn home. A URL of another store does not concern it."""
    url = config.url
    if url is not None and url.lower().startswith("sqlite:"):
        parts = urlsplit(url)
        path = (
            unquote(parts.netloc + parts.path)
            if parts.netloc not in ("", "localhost")
            else unquote(parts.path)
        )
        if not path:
            raise BurnError(f"no path in the sqlite URL {url!r}: use sqlite:///path/to/burn.sqlite")
        return SqliteStore(Path(path).expanduser())
    return SqliteStore(config.home / FILENAME)


@hookimpl
def register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    register("sqlite", open_sqlite_store)
