"""``burn summary``: token totals and costs from the archive by source, model, day and project.

Reports read the hourly rollup (:mod:`burn.archive.rollup`) when it can answer exactly: the rollup is
current, the time zone's offsets are whole hours, and the window starts and ends on hours.
Otherwise the same aggregation runs over ``turns`` in 15-minute buckets (every UTC offset in use
is a multiple of 15 minutes). Either way one SQL statement computes every breakdown. Local days
are computed in SQL, exact across daylight-saving changes (:mod:`burn.query.buckets`).

Unknown is never zero: a field no turn reported sums to ``null``, and ``unknown`` counts the turns
whose value for a field was not reported. Costs are exact sums of the archive's per-turn micro-USD
values (``cost_usd_micros``), with the token volume of ``unpriced`` models beside them.
"""

from __future__ import annotations

from typing import Any

from burn.archive.rollup import NAMES
from burn.query import ArchiveView, Filters
from burn.query.base import usage_base
from burn.query.buckets import Periods, day_expr, day_sql, offset_periods, time_range
from burn.query.sums import UsageSums
from burn.query.where import window
from burn.records import iso_seconds

__all__ = ["day_sql", "offset_periods", "summarize"]

_DIMENSIONS = ("source", "model", "project", "day")


def summarize(
    archive: ArchiveView, filters: Filters, dimensions: tuple[str, ...] = _DIMENSIONS, pricing: bool = True
) -> dict[str, Any]:
    """``burn summary``'s document: totals and the breakdowns by source, model, local day (in
    ``filters.tz``) and project of the turns the filters select, with the pricing block.
    ``dimensions``: the breakdowns to compute (``by_<dimension>``; a caller that shows one, such as
    ``burn mcp``, asks for one); ``pricing``: whether to add the pricing block.

    Reads only, through the query layer: the hourly rollup when the window and the time zone's
    offsets allow it, otherwise ``turns`` (:func:`burn.query.base.usage_base`, the same choice
    ``burn report usage`` makes). Costs unknown for some turns are reported as such, never as
    zero; ``since``/``until`` echo the filters' window.
    """
    since_ms, until_ms = filters.since_ms, filters.until_ms
    # Local time matters to days only: without them, any zone's window on whole hours is the rollup's.
    periods: Periods = []
    if "day" in dimensions:
        periods = offset_periods(filters.tz, *time_range(archive.db, since_ms, until_ms))
    base = usage_base(archive.state(), filters, periods)
    sums = ", ".join(f"SUM(r.{c})" for c in NAMES)
    keys = {"source": "r.source", "model": "r.model", "project": "r.project_key"}
    if periods:
        keys["day"] = day_expr(periods, f"(r.hour * {base.bucket_ms})")
    # Rows grouped from turns are computed once; the rollup's rows are read where they lie (once per
    # breakdown: faster than copying them first, docs/performance.md).
    how = "NOT MATERIALIZED" if base.rollup else "MATERIALIZED"
    sql = f"WITH r AS {how} ({base.sql}) SELECT 'total', NULL, {sums} FROM r" + "".join(
        f" UNION ALL SELECT '{d}', {keys[d]}, {sums} FROM r GROUP BY 2" for d in dimensions
    )
    groups: dict[str, list[dict[str, Any]]] = {d: [] for d in dimensions}
    totals = _group(UsageSums.of({}))
    for dimension, key, *values in archive.db.execute(sql, base.params):
        if dimension == "total":
            totals = _group(UsageSums.of_row(values))
        else:
            groups[dimension].append(
                {
                    ("project_key" if dimension == "project" else dimension): key,
                    **_group(UsageSums.of_row(values)),
                }
            )
    totals["sessions"] = _sessions(archive, since_ms, until_ms)
    out: dict[str, Any] = {"timezone": filters.timezone, "since": _iso(since_ms), "until": _iso(until_ms)}
    by_model = _sorted(groups.get("model", []), "model")
    if pricing:
        out["pricing"] = _pricing(archive, totals["cost_source"], by_model)
    out["totals"] = totals
    if "source" in groups:
        out["by_source"] = _sorted(groups["source"], "source")
    if "model" in groups:
        out["by_model"] = by_model
    if "day" in groups:
        out["by_day"] = sorted(groups["day"], key=lambda r: r["day"])
    if "project" in groups:
        out["by_project"] = _project_rows(archive, groups["project"])
    return out


def _group(sums: UsageSums) -> dict[str, Any]:
    """One breakdown row: the usage fields, cache writes together, the total, turns, unknown
    fields and the cost block."""
    out: dict[str, Any] = dict(sums.tokens)
    cache_write = [out["cache_write_5m"], out["cache_write_1h"]]
    out["cache_write"] = None if all(x is None for x in cache_write) else sum(x or 0 for x in cache_write)
    out["total"] = sums.total
    out["turns"] = sums.turns
    out["unknown"] = dict(sums.unknown)
    out.update(sums.cost.as_dict())
    return out


def _sessions(archive: ArchiveView, since_ms: int | None, until_ms: int | None) -> int:
    where = window("ts_ms", since_ms, until_ms).sql()
    sql = f"SELECT COUNT(*) FROM (SELECT DISTINCT source, session_id FROM turns {where})"
    return int(archive.db.execute(sql).fetchone()[0])


def _project_rows(archive: ArchiveView, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def _pricing(archive: ArchiveView, cost_source: str, by_model: list[dict[str, Any]]) -> dict[str, Any]:
    """Which pricing table produced the archive's costs, and the rates of the models shown."""
    from burn.pricing.load import load_pricing
    from burn.pricing.meta import pricing_meta

    state = archive.state()
    return pricing_meta(load_pricing(archive.path.parent, state), state, cost_source, by_model)


def _sorted(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (-r["total"], str(r[key])))
    return rows


def _iso(ms: int | None) -> str | None:
    return None if ms is None else iso_seconds(ms)
