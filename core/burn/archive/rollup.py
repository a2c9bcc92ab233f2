"""The hourly rollups: ``usage_hourly`` and ``session_hours`` in the archive, what reports read
instead of ``turns``.

``usage_hourly``: one row per (source, model, project key, UTC hour) with additive aggregates only
— turn count, per token field its sum and the number of turns that reported it, and the cost
aggregates of :mod:`burn.pricing.totals` — so any coarser grouping (a local day in a whole-hour
time zone, a source, a model, a project) is an exact sum of rollup rows.

``session_hours``: one row per (UTC hour, source, session id, model) that has turns, with the
session's project key, stored session by session. Distinct session counts are not additive;
counted over these rows (a few per session instead of one per turn) they are exact for any
grouping by hours, source, model and project.

Maintenance (by :class:`burn.archive.database.Archive`): a batch that changes turns, sessions or projects
recomputes the hours it touched inside the batch's own transaction; a cold build, a rebuild and a
re-pricing mark the rollup ``stale`` and recompute it once at the end. ``archive_state.rollup``
says whether the rollups can be trusted; reports fall back to scanning ``turns`` when they cannot.
``archive_state.session_hours`` is ``ok`` once ``session_hours`` is maintained with
``usage_hourly`` (an archive from an older burn gets it filled by its next build).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from burn.pricing.totals import COST_AGGREGATES
from burn.records import USAGE_FIELDS

HOUR_MS = 3_600_000

# (name, stored column, aggregate over ``turns t``), in table order. Readers use the names; the
# cost aggregates are stored as cost_0…cost_9 (the archive's schema: renaming them would rebuild
# every archive for no change in what it holds), and :data:`HOURLY` maps them back to names.
AGGREGATES: tuple[tuple[str, str, str], ...] = (
    ("turns", "turns", "COUNT(*)"),
    *((n, n, e) for f in USAGE_FIELDS for n, e in ((f, f"SUM(t.{f})"), (f"{f}_n", f"COUNT(t.{f})"))),
    *((name, f"cost_{i}", expr) for i, (name, expr) in enumerate(COST_AGGREGATES)),
)
COLUMNS = tuple(column for _, column, _ in AGGREGATES)  # as stored
NAMES = tuple(name for name, _, _ in AGGREGATES)  # as read
# The aggregates as a select list over ``turns t``, by name (0, never NULL, for a field no turn
# reported). Inserted into usage_hourly by position.
SELECT_AGGS = ", ".join(f"COALESCE({expr}, 0) AS {name}" for name, _, expr in AGGREGATES)
# usage_hourly's columns, by name.
HOURLY = "source, model, project_key, machine, hour, " + ", ".join(
    column if column == name else f"{column} AS {name}" for name, column, _ in AGGREGATES
)
_FROM = "FROM turns t LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id"

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS usage_hourly (
  source TEXT NOT NULL, model TEXT NOT NULL, project_key TEXT, machine TEXT NOT NULL, hour INTEGER NOT NULL,
  {", ".join(f"{c} INTEGER NOT NULL" for c in COLUMNS)});
CREATE INDEX IF NOT EXISTS usage_hourly_by_hour ON usage_hourly (hour);
CREATE TABLE IF NOT EXISTS session_hours (
  hour INTEGER NOT NULL, source TEXT NOT NULL, session_id TEXT NOT NULL, model TEXT NOT NULL,
  project_key TEXT, machine TEXT NOT NULL,
  PRIMARY KEY (source, session_id, hour, model, machine)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS session_hours_by_hour ON session_hours (hour);
"""


def hourly_sql(where: str = "") -> str:
    """``usage_hourly``'s rows with the aggregates by name (:data:`NAMES`)."""
    return f"SELECT {HOURLY} FROM usage_hourly {where}"


def grouped_turns_sql(bucket_ms: int, where: str = "", group: str | None = None) -> str:
    """The rollup's shape, aggregates by name, computed from ``turns`` at ``bucket_ms``
    granularity (column ``hour`` holds the bucket number); reports use it directly when the
    rollup cannot serve them. ``group``: one more column (of ``sessions s``) to group by, as ``grp``."""
    extra, by = ("", "") if group is None else (f", {group} AS grp", f", {group}")
    return f"""
        SELECT t.source AS source, t.model AS model, s.project_key AS project_key, t.machine AS machine,
               t.ts_ms / {bucket_ms} AS hour, {SELECT_AGGS}{extra}
        {_FROM} {where}
        GROUP BY t.source, t.model, s.project_key, t.machine, hour{by}
    """


def session_hours_sql(bucket_ms: int, where: str = "", group: str | None = None) -> str:
    """``session_hours``'s shape computed from ``turns`` at ``bucket_ms`` granularity (and ``grp``
    as in :func:`grouped_turns_sql`)."""
    extra, by = ("", "") if group is None else (f", {group} AS grp", f", {group}")
    return f"""
        SELECT t.ts_ms / {bucket_ms} AS hour, t.source AS source, t.session_id AS session_id,
               t.model AS model, s.project_key AS project_key, t.machine AS machine{extra}
        {_FROM} {where}
        GROUP BY hour, t.source, t.session_id, t.model, s.project_key, t.machine{by}
    """


def refresh_all(db: sqlite3.Connection) -> None:
    """Recompute the whole rollup (call inside a transaction)."""
    db.execute("DELETE FROM usage_hourly")
    db.execute(f"INSERT INTO usage_hourly {grouped_turns_sql(HOUR_MS)}")
    refresh_session_hours(db)


def refresh_session_hours(db: sqlite3.Connection) -> None:
    """Recompute all of ``session_hours`` (call inside a transaction)."""
    db.execute("DELETE FROM session_hours")
    db.execute(f"INSERT INTO session_hours {session_hours_sql(HOUR_MS)}")


def refresh_hours(db: sqlite3.Connection, hours: Iterable[int]) -> None:
    """Recompute the rollup rows of ``hours`` (call inside a transaction)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS dirty_hours (hour INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM temp.dirty_hours")
    db.executemany("INSERT OR IGNORE INTO temp.dirty_hours VALUES (?)", ((h,) for h in hours))
    db.execute("DELETE FROM usage_hourly WHERE hour IN (SELECT hour FROM temp.dirty_hours)")
    # Each dirty hour is an index range scan of turns_by_time, not a scan of every turn.
    db.execute(
        f"""INSERT INTO usage_hourly
        SELECT t.source, t.model, s.project_key, t.machine, d.hour, {SELECT_AGGS}
        FROM temp.dirty_hours d
        JOIN turns t ON t.ts_ms >= d.hour * {HOUR_MS} AND t.ts_ms < (d.hour + 1) * {HOUR_MS}
        LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id
        GROUP BY t.source, t.model, s.project_key, t.machine, d.hour"""
    )
    db.execute("DELETE FROM session_hours WHERE hour IN (SELECT hour FROM temp.dirty_hours)")
    db.execute(
        f"""INSERT INTO session_hours
        SELECT d.hour, t.source, t.session_id, t.model, s.project_key, t.machine
        FROM temp.dirty_hours d
        JOIN turns t ON t.ts_ms >= d.hour * {HOUR_MS} AND t.ts_ms < (d.hour + 1) * {HOUR_MS}
        LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id
        GROUP BY d.hour, t.source, t.session_id, t.model, s.project_key, t.machine"""
    )


def hours_of_turn_ids(db: sqlite3.Connection, ids: list[str]) -> set[int]:
    """Hours of turns already in the archive (before a revision replaces them)."""
    hours: set[int] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        hours.update(
            h for (h,) in db.execute(f"SELECT ts_ms / {HOUR_MS} FROM turns WHERE id IN ({marks})", chunk)
        )
    return hours


def hours_of_sessions(db: sqlite3.Connection, sessions: Iterable[tuple[str, str]]) -> set[int]:
    """Hours holding turns of these (source, session id) pairs (their project may have changed)."""
    hours: set[int] = set()
    for source, session_id in sessions:
        rows = db.execute(
            f"SELECT DISTINCT ts_ms / {HOUR_MS} FROM turns WHERE source = ? AND session_id = ?",
            (source, session_id),
        )
        hours.update(h for (h,) in rows)
    return hours


def hours_of_cwds(db: sqlite3.Connection, cwds: Iterable[str]) -> set[int]:
    """Hours holding turns of sessions in these working directories (a project was observed)."""
    hours: set[int] = set()
    for cwd in cwds:
        rows = db.execute(
            f"""SELECT DISTINCT t.ts_ms / {HOUR_MS} FROM sessions s
            JOIN turns t ON t.source = s.source AND t.session_id = s.session_id WHERE s.cwd = ?""",
            (cwd,),
        )
        hours.update(h for (h,) in rows)
    return hours
