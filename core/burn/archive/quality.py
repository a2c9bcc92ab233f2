"""Ingest quality counters, kept in the archive so that contract documents can report them.

Every ``burn ingest`` adds its per-source counts (lines read, records kept, duplicates dropped by
rule, invalid input skipped by reason) to ``ingest_quality``: readers read incrementally, so the
sums over all ingests describe everything ever read. The ledger does not carry these counts, so
``burn archive rebuild`` copies the table from the archive it replaces.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from burn import sqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS ingest_quality (
  source TEXT NOT NULL, counter TEXT NOT NULL, reason TEXT NOT NULL, value INTEGER NOT NULL,
  PRIMARY KEY (source, counter, reason));
"""

# counter -> whether it is broken down by reason
COUNTERS = {"lines_read": False, "records_kept": False, "duplicates_dropped": True, "invalid_skipped": True}

Row = tuple[str, str, str, int]


def rows_of(sources: Mapping[str, Mapping[str, Any]]) -> list[Row]:
    """Rows for per-source counters shaped like ``{"lines_read": 3, "duplicates_dropped": {...}}``."""
    out: list[Row] = []
    for source, counts in sources.items():
        for counter, by_reason in COUNTERS.items():
            value = counts.get(counter)
            if by_reason:
                out.extend((source, counter, str(r), int(n)) for r, n in (value or {}).items() if n)
            elif value:
                out.append((source, counter, "", int(value)))
    return out


def add(db: sqlite3.Connection, rows: Iterable[Row]) -> None:
    """Add counts (call inside a transaction, or alone: one statement per row is atomic enough
    for counters that only describe)."""
    db.executemany(
        """INSERT INTO ingest_quality VALUES (?, ?, ?, ?)
        ON CONFLICT (source, counter, reason) DO UPDATE SET value = value + excluded.value""",
        list(rows),
    )


def read(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Per source: ``lines_read``, ``records_kept``, ``duplicates_dropped`` and
    ``invalid_skipped`` (by reason, sorted)."""
    out: dict[str, dict[str, Any]] = {}
    try:
        rows = db.execute("SELECT source, counter, reason, value FROM ingest_quality ORDER BY 1, 2, 3")
        for source, counter, reason, value in rows:
            entry = out.setdefault(source, _empty())
            if COUNTERS.get(counter):
                entry[counter][reason] = value
            elif counter in COUNTERS:
                entry[counter] = value
    except sqlite3.OperationalError:
        pass  # an archive without the table reports no counters
    return out


def _empty() -> dict[str, Any]:
    return {"lines_read": 0, "records_kept": 0, "duplicates_dropped": {}, "invalid_skipped": {}}


def read_file(path: Path) -> list[Row]:
    """The rows of an archive file (any schema version); none when it has no such table."""
    try:
        db = sqlite.connect(path, readonly=True)
    except sqlite3.Error:
        return []
    try:
        rows = db.execute("SELECT source, counter, reason, value FROM ingest_quality")
        return [(str(s), str(c), str(r), int(v)) for s, c, r, v in rows]
    except sqlite3.Error:
        return []
    finally:
        db.close()
