"""Per-unit read cursors, kept in ``$RELAYBURN_HOME/cursors.sqlite`` (host-local state).

A no-op ingest reads only the stored stat fingerprints (one query per reader) and writes nothing;
an ingest that read a few units writes only those units' rows, in one transaction. Decision: SQLite
rather than one JSON file, because a JSON file must be parsed and rewritten whole, which costs tens
of milliseconds per ingest once there are tens of thousands of units (OpenCode keeps one file per
message). A missing or corrupt database means "read everything again": the ledger's ids make that
safe.

``readonly=True`` (``burn doctor``) opens the database with ``mode=ro`` and never creates, repairs
or writes it: a missing or unreadable database reads as empty, and :meth:`CursorFile.save` refuses.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Set
from pathlib import Path

import attrs
import orjson

from burn import sqlite
from burn.errors import writing
from burn.reader import FileCursor

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursors (
  reader TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT, cursor BLOB NOT NULL,
  PRIMARY KEY (reader, key)) WITHOUT ROWID;
"""


def _db_key(key: str) -> str | bytes:
    """``key`` as stored: text, or — for a path that is not valid UTF-8 (``copy\\xff.jsonl``,
    decoded by Python with surrogate escapes, which SQLite cannot encode) — its raw bytes, so
    that every file keeps a cursor and the key reads back exactly (:func:`_str_key`)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(key)
    return key


def _str_key(stored: str | bytes) -> str:
    return stored if isinstance(stored, str) else os.fsdecode(stored)


def _dump(cursor: FileCursor) -> bytes:
    try:
        return orjson.dumps(attrs.asdict(cursor))
    except TypeError:
        # Reader state with surrogates (a session id taken from a non-UTF-8 file name): the
        # standard library writes them as ``\\udcff`` escapes and reads them back exactly.
        return json.dumps(attrs.asdict(cursor)).encode("ascii")


def _load(stored: bytes) -> FileCursor | None:
    try:
        try:
            value = orjson.loads(stored)
        except orjson.JSONDecodeError:
            value = json.loads(stored)  # written by the fallback of :func:`_dump`
        return FileCursor(**value)
    except (ValueError, TypeError):  # corrupt: read from the start
        return None


class CursorFile:
    """Cursors of every reader; changes are buffered and written by :meth:`save`."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._db: sqlite3.Connection | None = None
        self._fingerprints: dict[str, dict[str, str | None]] = {}
        self._changed: dict[tuple[str, str], FileCursor] = {}
        self._deleted: set[tuple[str, str]] = set()

    @classmethod
    def load(cls, home: Path, *, readonly: bool = False) -> CursorFile:
        return cls(home / "cursors.sqlite", readonly=readonly)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None and self.readonly:
            self._db = self._open_readonly()
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError:  # corrupt: start over, the ledger drops what is re-read
                self.path.unlink(missing_ok=True)
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite.connect(self.path, pragmas=sqlite.CURSORS)
        db.executescript(_SCHEMA)
        return db

    def _open_readonly(self) -> sqlite3.Connection:
        # The rollback journal (sqlite.CURSORS) is what makes mode=ro create no file beside it.
        if self.path.is_file():
            try:
                db = sqlite.connect(self.path, readonly=True)
                db.execute("SELECT reader, key, fingerprint, cursor FROM cursors LIMIT 0")
                return db
            except sqlite3.DatabaseError:
                pass  # corrupt, foreign or being recovered: as good as none, like ingest treats it
        empty = sqlite.connect(":memory:")
        empty.executescript(_SCHEMA)
        return empty

    def _known(self, reader: str) -> dict[str, str | None]:
        if reader not in self._fingerprints:
            rows = self._conn().execute("SELECT key, fingerprint FROM cursors WHERE reader = ?", (reader,))
            self._fingerprints[reader] = {_str_key(k): fp for k, fp in rows}
        return self._fingerprints[reader]

    def fingerprints(self, reader: str) -> Mapping[str, str | None]:
        """Every stored unit key of ``reader`` with its stat fingerprint."""
        return self._known(reader)

    def get(self, reader: str, key: str) -> FileCursor | None:
        if (reader, key) in self._changed:
            return self._changed[reader, key]
        row = (
            self._conn()
            .execute("SELECT cursor FROM cursors WHERE reader = ? AND key = ?", (reader, _db_key(key)))
            .fetchone()
        )
        return None if row is None else _load(row[0])

    def set(self, reader: str, key: str, cursor: FileCursor) -> None:
        self._changed[reader, key] = cursor
        self._deleted.discard((reader, key))
        self._known(reader)[key] = cursor.fingerprint

    def prune(self, reader: str, keep: Set[str]) -> None:
        """Forget cursors of units that no longer exist (agents delete old transcripts)."""
        known = self._known(reader)
        for key in [k for k in known if k not in keep]:
            del known[key]
            self._changed.pop((reader, key), None)
            self._deleted.add((reader, key))

    def save(self) -> None:
        if not self._changed and not self._deleted:
            return
        if self.readonly:
            raise RuntimeError(f"{self.path} was opened read-only")
        with writing(self.path):
            db = self._conn()
            with sqlite.transaction(db):
                db.executemany(
                    "DELETE FROM cursors WHERE reader = ? AND key = ?",
                    [(r, _db_key(k)) for r, k in sorted(self._deleted)],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO cursors VALUES (?, ?, ?, ?)",
                    [(r, _db_key(k), c.fingerprint, _dump(c)) for (r, k), c in self._changed.items()],
                )
        self._changed.clear()
        self._deleted.clear()

    def forget(self) -> None:
        """Forget every cursor now: the next ingest reads every unit from the start (``burn ledger
        verify --repair``; the ledger drops by event id what it already holds)."""
        if self.readonly:
            raise RuntimeError(f"{self.path} was opened read-only")
        self._conn().execute("DELETE FROM cursors")
        self._fingerprints.clear()
        self._changed.clear()
        self._deleted.clear()
        self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
