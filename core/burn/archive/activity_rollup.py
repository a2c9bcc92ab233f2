"""The activity rollup: ``activity_hours`` in the archive, what ``burn compare`` reads instead of
``turns``.

One row per (source, session id, UTC hour, model, activity category, machine) that has turns, with
the session's project key and additive measures only: turns; for input, output, cache reads and
cache writes (5m + 1h) the sum and the number of turns that reported it; the cost aggregates a
comparison shows (:data:`burn.pricing.totals.COST_AGGREGATES` by name); the turns with a known
duration; and the tool results of the turns' tool calls with how many had error status. So any
grouping by model and category over whole hours is an exact sum of rows, and distinct sessions
are counted over them (a few rows per session instead of one per turn). The median duration is
not additive: it is read from ``turns`` through the ``turns_by_activity`` index (burn.query.compare).

Maintenance (by :class:`burn.archive.database.Archive`, like :mod:`burn.archive.session_rollup`):
rows are stored session by session, so each incremental batch recomputes the rows of the sessions
it touched, after :mod:`burn.archive.enrich` (a turn's category and its calls' ``turn_id`` are
derived there); a cold build, a rebuild and a re-pricing recompute every row once at the end.
``archive_state.rollup`` covers it with the hourly rollups.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from burn.archive.rollup import HOUR_MS
from burn.pricing.totals import COST_AGGREGATES

# Claude's two cache-write fields as one, unknown when a turn reported neither.
_CACHE_WRITE = ("CASE WHEN t.cache_write_5m IS NULL AND t.cache_write_1h IS NULL THEN NULL "
                "ELSE COALESCE(t.cache_write_5m, 0) + COALESCE(t.cache_write_1h, 0) END")  # fmt: skip
TOKENS = {"input": "t.input", "output": "t.output", "cache_read": "t.cache_read", "cache_write": _CACHE_WRITE}
# A turn's tool results — those answering its tool calls (``tool_calls.turn_id``, per session) —
# and how many had error status, from one lookup per turn: results × 2³² + errors. The sums of a
# row stay exact (a row would need 2³¹ results to overflow) and are split again per row.
_PACKED = """(SELECT COUNT(*) * 4294967296 + COALESCE(SUM(r.status = 'error'), 0) FROM tool_calls c
  JOIN tool_result_events r ON r.source = c.source AND r.session_id = c.session_id
  AND r.tool_use_id = c.tool_use_id WHERE c.turn_id = t.id)"""
_COST = dict(COST_AGGREGATES)
_COST_NAMES = ("cost_usd_micros", "costed_turns", "computed_turns", "reported_turns", "unpriced_turns",
               "fallback_turns")  # fmt: skip

# (name, aggregate over ``turns t``), in table order; then tool_results and tool_errors.
MEASURES: tuple[tuple[str, str], ...] = (
    ("turns", "COUNT(*)"),
    *((n, e) for f, col in TOKENS.items() for n, e in ((f, f"SUM({col})"), (f"{f}_n", f"COUNT({col})"))),
    *((name, _COST[name]) for name in _COST_NAMES),
    ("timed_turns", "COUNT(t.duration_ms)"),
)
NAMES = (*(name for name, _ in MEASURES), "tool_results", "tool_errors")
KEYS = ("source", "session_id", "hour", "model", "category", "machine", "project_key")
COLUMNS = ", ".join((*KEYS, *NAMES))

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS activity_hours (
  source TEXT NOT NULL, session_id TEXT NOT NULL, hour INTEGER NOT NULL, model TEXT NOT NULL,
  category TEXT, machine TEXT NOT NULL, project_key TEXT,
  {", ".join(f"{n} INTEGER NOT NULL" for n in NAMES)});
CREATE INDEX IF NOT EXISTS activity_hours_by_session ON activity_hours (source, session_id);
CREATE INDEX IF NOT EXISTS activity_hours_by_hour ON activity_hours (hour);
"""
_DIRTY = "temp.activity_sessions"


def rows_sql(where: str = "", dirty: str | None = None) -> str:
    """``activity_hours``'s rows (columns :data:`COLUMNS`) computed from ``turns t`` joined with
    ``sessions s``: the turns ``where`` selects, or those of the sessions in the table ``dirty``
    (columns ``source``, ``session_id``). Reports use it for what the rollup cannot answer."""
    turns = (f"{dirty} d CROSS JOIN turns t ON t.source = d.source AND t.session_id = d.session_id"
             if dirty else "turns t")  # fmt: skip
    aggs = ", ".join(f"COALESCE({e}, 0) AS {n}" for n, e in MEASURES)
    plain = ", ".join((*KEYS, *(n for n, _ in MEASURES)))
    return f"""SELECT {plain}, packed >> 32 AS tool_results, packed & 4294967295 AS tool_errors FROM (
        SELECT t.source AS source, t.session_id AS session_id, t.ts_ms / {HOUR_MS} AS hour,
        t.model AS model, t.activity AS category, t.machine AS machine, s.project_key AS project_key, {aggs},
        SUM({_PACKED}) AS packed
        FROM {turns} LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id {where}
        GROUP BY t.source, t.session_id, hour, t.model, t.activity, t.machine, s.project_key)"""


def refresh(db: sqlite3.Connection, sessions: Iterable[tuple[str, str]] | None) -> None:
    """Recompute the rows of ``sessions`` (``None``: every row), inside the caller's transaction.
    Run it after :func:`burn.archive.enrich.refresh`, which derives the categories it groups by."""
    if sessions is None:
        db.execute("DELETE FROM activity_hours")
        db.execute(f"INSERT INTO activity_hours ({COLUMNS}) {rows_sql()}")
        return
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_DIRTY.split('.')[1]} (source TEXT, session_id TEXT, "
               "PRIMARY KEY (source, session_id))")  # fmt: skip
    db.execute(f"DELETE FROM {_DIRTY}")
    db.executemany(f"INSERT OR IGNORE INTO {_DIRTY} VALUES (?, ?)", sessions)
    # By key, from the dirty sessions (CROSS JOIN keeps them in the outer loop: the planner knows
    # nothing of the temp table's size).
    db.execute(
        f"""DELETE FROM activity_hours WHERE rowid IN (SELECT a.rowid FROM {_DIRTY} d
        CROSS JOIN activity_hours a ON a.source = d.source AND a.session_id = d.session_id)"""
    )
    db.execute(f"INSERT INTO activity_hours ({COLUMNS}) {rows_sql(dirty=_DIRTY)}")
