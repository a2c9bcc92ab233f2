"""What one ``burn ingest`` added, in the units a person reads: turns, sessions, cost.

The archive writes a turn with ``INSERT OR REPLACE``, so every turn an ingest writes (a new one,
or a revision of one it had) gets a rowid above the largest before the run. :func:`mark` notes
that rowid and the archive's id before the run; :func:`since_mark` counts the turns above it, the
sessions they belong to and their exact cost. An archive rebuilt during the run (another id)
counts from zero: every turn in it was written by this run.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs

from burn import sqlite


@attrs.frozen
class Mark:
    """Where the archive's turns stood before an ingest."""

    archive_id: str | None = None
    rowid: int = 0


@attrs.frozen
class Ingested:
    """Turns written by one ingest (new or revised), the sessions they belong to, their cost
    (integer micro-USD over the priced turns; ``unpriced`` turns have no cost)."""

    turns: int = 0
    sessions: int = 0
    cost_usd_micros: int = 0
    unpriced: int = 0

    def as_json(self) -> dict[str, int]:
        return attrs.asdict(self)


def _open(path: Path) -> sqlite3.Connection | None:
    if not path.is_file():
        return None
    # Without a -wal beside it every committed page is in the file: open it immutable, so this
    # reader creates no -wal/-shm that it could not remove again (a read-only connection cannot).
    immutable = not Path(f"{path}-wal").exists()
    try:
        return sqlite.connect(path, readonly=True, immutable=immutable)
    except sqlite3.Error:
        return None


def _archive_id(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM archive_state WHERE key = 'archive_id'").fetchone()
    return None if row is None else str(row[0])


def mark(path: Path) -> Mark:
    """The archive at ``path`` before an ingest (an empty mark when there is none yet)."""
    db = _open(path)
    if db is None:
        return Mark()
    try:
        return Mark(
            _archive_id(db), int(db.execute("SELECT COALESCE(MAX(rowid), 0) FROM turns").fetchone()[0])
        )
    except sqlite3.Error:
        return Mark()
    finally:
        db.close()


def since_mark(path: Path, before: Mark) -> Ingested:
    """The turns written to the archive at ``path`` since ``before`` (one indexed range on rowid)."""
    db = _open(path)
    if db is None:
        return Ingested()
    try:
        start = before.rowid if _archive_id(db) == before.archive_id else 0
        turns, sessions, cost, unpriced = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT source || char(0) || session_id), "
            "COALESCE(SUM(cost_usd_micros), 0), COALESCE(SUM(cost_usd_micros IS NULL), 0) "
            "FROM turns WHERE rowid > ?",
            (start,),
        ).fetchone()
    except sqlite3.Error:
        return Ingested()
    finally:
        db.close()
    return Ingested(int(turns), int(sessions), int(cost), int(unpriced))
