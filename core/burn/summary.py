"""``burn summary``: token totals and costs from the archive by source, model, day and project.

Reports read the hourly rollup (:mod:`burn.rollup`) when it can answer exactly: the rollup is
current, the time zone's offsets are whole hours, and the window starts and ends on hours.
Otherwise the same aggregation runs over ``turns`` in 15-minute buckets (every UTC offset in use
is a multiple of 15 minutes). Either way one SQL statement computes every breakdown.

Local days are computed in SQL from the UTC time plus the zone's offset, which only changes at
the zone's transitions: :func:`offset_periods` finds those inside the data's time range and
:func:`day_sql` emits a ``CASE`` over them, so days are exact across daylight-saving changes.

Unknown is never zero: a field no turn reported sums to ``null``, and ``unknown`` counts the turns
whose value for a field was not reported. Costs are exact sums of the archive's per-turn micro-USD
values (``cost_usd_micros``), with the token volume of ``unpriced`` models beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from burn import rollup
from burn.archive import Archive
from burn.pricing.totals import CostAcc
from burn.records import USAGE_FIELDS

TOKEN_FIELDS = USAGE_FIELDS
_DAY_MS = 86_400_000
_QUARTER_MS = 900_000
_DIMENSIONS = ("source", "model", "project", "day")


def summarize(
    archive: Archive,
    tz: tzinfo,
    tz_name: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> dict[str, Any]:
    lo, hi = _time_range(archive, since_ms, until_ms)
    periods = offset_periods(tz, lo, hi)
    hour_aligned = all(b is None or b % rollup.HOUR_MS == 0 for b in (since_ms, until_ms)) and all(
        start % rollup.HOUR_MS == 0 and off % rollup.HOUR_MS == 0 for start, off in periods[1:]
    )
    if archive.state().get("rollup") == "ok" and hour_aligned and periods[0][1] % rollup.HOUR_MS == 0:
        bucket_ms = rollup.HOUR_MS
        where = _window("hour", since_ms, until_ms, bucket_ms)
        base = f"SELECT * FROM usage_hourly {where}"
    else:
        bucket_ms = _QUARTER_MS
        base = rollup.grouped_turns_sql(bucket_ms, _window("t.ts_ms", since_ms, until_ms, 1))
    sums = ", ".join(f"SUM(r.{c})" for c in rollup.COLUMNS)
    day = _day_expr(periods, f"(r.hour * {bucket_ms})")
    sql = f"""
        WITH r AS MATERIALIZED ({base})
        SELECT 'total', NULL, {sums} FROM r
        UNION ALL SELECT 'source', r.source, {sums} FROM r GROUP BY r.source
        UNION ALL SELECT 'model', r.model, {sums} FROM r GROUP BY r.model
        UNION ALL SELECT 'project', r.project_key, {sums} FROM r GROUP BY r.project_key
        UNION ALL SELECT 'day', {day}, {sums} FROM r GROUP BY 2
    """
    groups: dict[str, list[dict[str, Any]]] = {d: [] for d in _DIMENSIONS}
    totals = _group([])
    for dimension, key, *values in archive.db.execute(sql):
        if dimension == "total":
            totals = _group(values)
        else:
            groups[dimension].append(
                {("project_key" if dimension == "project" else dimension): key, **_group(values)}
            )
    totals["sessions"] = _sessions(archive, since_ms, until_ms)
    by_model = _sorted(groups["model"], "model")
    return {
        "timezone": tz_name,
        "since": _iso(since_ms),
        "until": _iso(until_ms),
        "pricing": _pricing(archive, totals["cost_source"], by_model),
        "totals": totals,
        "by_source": _sorted(groups["source"], "source"),
        "by_model": by_model,
        "by_day": sorted(groups["day"], key=lambda r: r["day"]),
        "by_project": _project_rows(archive, groups["project"]),
    }


def _group(values: Sequence[int | None]) -> dict[str, Any]:
    """One breakdown row from the summed rollup columns (turns, sum/count per field, costs)."""
    v = [x or 0 for x in values] or [0] * len(rollup.COLUMNS)
    turns = v[0]
    out: dict[str, Any] = {}
    unknown: dict[str, int] = {}
    for i, name in enumerate(TOKEN_FIELDS):
        total, known = v[1 + 2 * i], v[2 + 2 * i]
        out[name] = total if known else None
        if known < turns:
            unknown[name] = turns - known
    cache_write = [out["cache_write_5m"], out["cache_write_1h"]]
    out["cache_write"] = None if all(x is None for x in cache_write) else sum(x or 0 for x in cache_write)
    out["total"] = sum(out[f] or 0 for f in ("input", "output", "cache_read")) + (out["cache_write"] or 0)
    out["turns"] = turns
    out["unknown"] = unknown
    cost = CostAcc()
    cost.add(v[1 + 2 * len(TOKEN_FIELDS) :])
    out.update(cost.as_dict())
    return out


def _time_range(archive: Archive, since_ms: int | None, until_ms: int | None) -> tuple[int, int]:
    where = _window("ts_ms", since_ms, until_ms, 1)
    lo, hi = archive.db.execute(f"SELECT MIN(ts_ms), MAX(ts_ms) FROM turns {where}").fetchone()
    return (lo or 0, hi or 0)


def _window(column: str, since_ms: int | None, until_ms: int | None, unit_ms: int) -> str:
    """A WHERE clause for [since, until) on ``column`` measured in ``unit_ms`` (ints only: no SQL
    parameters needed inside the WITH clause)."""
    parts = []
    if since_ms is not None:
        parts.append(f"{column} >= {int(since_ms) // unit_ms}")
    if until_ms is not None:
        parts.append(f"{column} < {-(-int(until_ms) // unit_ms)}")
    return ("WHERE " + " AND ".join(parts)) if parts else ""


def _sessions(archive: Archive, since_ms: int | None, until_ms: int | None) -> int:
    where = _window("ts_ms", since_ms, until_ms, 1)
    sql = f"SELECT COUNT(*) FROM (SELECT DISTINCT source, session_id FROM turns {where})"
    return int(archive.db.execute(sql).fetchone()[0])


def _project_rows(archive: Archive, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Project rows carry the stable key and a label (the repository, or the directory's name)."""
    labels = {
        key: (label, kind)
        for key, label, kind in archive.db.execute("SELECT DISTINCT key, label, kind FROM projects")
    }
    out = []
    for row in rows:
        label, kind = labels.get(row["project_key"], (None, None))
        out.append({"project": label, "kind": kind, **row})
    return _sorted(out, "project")


def _pricing(archive: Archive, cost_source: str, by_model: list[dict[str, Any]]) -> dict[str, Any]:
    """Which pricing table produced the archive's costs, and the rates of the models shown."""
    from burn.pricing.load import load_pricing
    from burn.pricing.meta import pricing_meta

    return pricing_meta(load_pricing(archive.path.parent), archive.state(), cost_source, by_model)


def _sorted(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (-r["total"], str(r[key])))
    return rows


def offset_periods(tz: tzinfo, lo_ms: int, hi_ms: int) -> list[tuple[int, int]]:
    """``(start_ms, utc_offset_ms)`` of each offset period of ``tz`` that overlaps [lo, hi].

    Found by stepping a day at a time and bisecting to the second where the offset changes.
    """
    offset = _offset_ms(tz, lo_ms)
    periods = [(lo_ms, offset)]
    t = lo_ms
    while t < hi_ms:
        nxt = min(t + _DAY_MS, hi_ms)
        if _offset_ms(tz, nxt) != offset:
            a, b = t, nxt  # offset(a) == offset, offset(b) != offset
            while b - a > 1000:
                mid = (a + b) // 2
                a, b = (mid, b) if _offset_ms(tz, mid) == offset else (a, mid)
            offset = _offset_ms(tz, b)
            periods.append((b, offset))
        t = nxt
    return periods


def day_sql(tz: tzinfo, lo_ms: int, hi_ms: int, column: str = "t.ts_ms") -> str:
    """SQL for the local calendar day (``YYYY-MM-DD``) of ``column`` (UTC milliseconds) in ``tz``."""
    return _day_expr(offset_periods(tz, lo_ms, hi_ms), column)


def _day_expr(periods: list[tuple[int, int]], column: str) -> str:
    def day(off: int) -> str:
        return f"date(({column} + ({off})) / 1000, 'unixepoch')"

    if len(periods) == 1:
        return day(periods[0][1])
    pairs = zip(periods[1:], periods[:-1], strict=True)
    cases = " ".join(f"WHEN {column} < {start} THEN {day(prev_off)}" for (start, _), (_, prev_off) in pairs)
    return f"(CASE {cases} ELSE {day(periods[-1][1])} END)"


def _offset_ms(tz: tzinfo, ms: int) -> int:
    off = datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).utcoffset()
    return int(off.total_seconds() * 1000) if off is not None else 0


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
