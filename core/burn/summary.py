"""``burn summary``: token totals from the archive by source, model, day and project.

One scan of ``turns`` grouped by (source, model, project key, local day) feeds every breakdown. The
local day is computed in SQL from the UTC timestamp plus the zone's offset, which changes only at
the zone's transitions: :func:`day_sql` finds those inside the data's time range and emits a
``CASE`` over them, so days are exact across daylight-saving changes.

Unknown is never zero: a field no turn reported sums to ``null``, and ``unknown`` counts the turns
whose value for a field was not reported. Costs ride the same scan: every row and the totals carry
``cost_usd_micros`` (exact sums of the archive's per-turn costs, see ``burn.pricing.totals``) and
the token volume of ``unpriced`` models.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from burn.archive import Archive
from burn.pricing.totals import COST_SQL, COST_WIDTH, CostAcc
from burn.records import USAGE_FIELDS

TOKEN_FIELDS = USAGE_FIELDS
_DAY_MS = 86_400_000


class _Acc:
    """Group rows of one breakdown value; summed column-wise (in C, via ``zip``) when rendered."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[Sequence[int | None]] = []

    def add(self, row: Sequence[int | None]) -> None:
        """``row``: turns, then SUM and COUNT per token field, then the COST_SQL aggregates."""
        self.rows.append(row)

    def as_dict(self) -> dict[str, Any]:
        n = len(TOKEN_FIELDS)
        columns = [sum(v or 0 for v in col) for col in zip(*self.rows, strict=True)] if self.rows else None
        if columns is None:
            columns = [0] * (1 + 2 * n + COST_WIDTH)
        turns, sums, known, cost = (
            columns[0],
            columns[1 : 1 + 2 * n : 2],
            columns[2 : 2 + 2 * n : 2],
            columns[1 + 2 * n :],
        )
        out: dict[str, Any] = {}
        for name, s, k in zip(TOKEN_FIELDS, sums, known, strict=True):
            out[name] = s if k else None
        cache_write = [out["cache_write_5m"], out["cache_write_1h"]]
        out["cache_write"] = None if all(v is None for v in cache_write) else sum(v or 0 for v in cache_write)
        out["total"] = sum(out[f] or 0 for f in ("input", "output", "cache_read")) + (out["cache_write"] or 0)
        out["turns"] = turns
        out["unknown"] = {f: turns - k for f, k in zip(TOKEN_FIELDS, known, strict=True) if k < turns}
        acc = CostAcc()
        acc.add(cost)
        out.update(acc.as_dict())
        return out


def summarize(
    archive: Archive,
    tz: tzinfo,
    tz_name: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> dict[str, Any]:
    where, params = [], []
    if since_ms is not None:
        where.append("t.ts_ms >= ?")
        params.append(since_ms)
    if until_ms is not None:
        where.append("t.ts_ms < ?")
        params.append(until_ms)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    sums = ", ".join(f"SUM(t.{f}), COUNT(t.{f})" for f in TOKEN_FIELDS)
    lo, hi = archive.db.execute(f"SELECT MIN(t.ts_ms), MAX(t.ts_ms) FROM turns t {clause}", params).fetchone()
    sql = f"""
        SELECT t.source, t.model, s.project_key, {day_sql(tz, lo or 0, hi or 0)} AS day, COUNT(*), {sums},
               {COST_SQL}
        FROM turns t LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id
        {clause}
        GROUP BY t.source, t.model, s.project_key, day
    """
    totals = _Acc()
    by: dict[str, dict[Any, _Acc]] = {"source": {}, "model": {}, "day": {}, "project": {}}
    n = len(TOKEN_FIELDS)
    for row in archive.db.execute(sql, params):
        source, model, project, day = row[:4]
        values = row[4:]
        assert len(values) == 1 + 2 * n + COST_WIDTH
        for acc in (
            totals,
            by["source"].setdefault(source, _Acc()),
            by["model"].setdefault(model, _Acc()),
            by["day"].setdefault(day, _Acc()),
            by["project"].setdefault(project, _Acc()),
        ):
            acc.add(values)
    session_sql = f"SELECT COUNT(DISTINCT t.source || char(31) || t.session_id) FROM turns t {clause}"
    sessions = int(archive.db.execute(session_sql, params).fetchone()[0])
    out_totals = totals.as_dict()
    out_totals["sessions"] = sessions
    by_model = _rows("model", by["model"])
    return {
        "timezone": tz_name,
        "since": _iso(since_ms),
        "until": _iso(until_ms),
        "pricing": _pricing(archive, out_totals["cost_source"], by_model),
        "totals": out_totals,
        "by_source": _rows("source", by["source"]),
        "by_model": by_model,
        "by_day": sorted(_rows("day", by["day"]), key=lambda r: r["day"]),
        "by_project": _project_rows(archive, by["project"]),
    }


def _project_rows(archive: Archive, groups: dict[Any, _Acc]) -> list[dict[str, Any]]:
    """Project rows carry the stable key and a label (the repository, or the directory's name)."""
    labels = {
        key: (label, kind)
        for key, label, kind in archive.db.execute("SELECT DISTINCT key, label, kind FROM projects")
    }
    rows = []
    for key, acc in groups.items():
        label, kind = labels.get(key, (None, None))
        rows.append({"project": label, "project_key": key, "kind": kind, **acc.as_dict()})
    rows.sort(key=lambda r: (-r["total"], str(r["project"])))
    return rows


def _pricing(archive: Archive, cost_source: str, by_model: list[dict[str, Any]]) -> dict[str, Any]:
    """Which pricing table produced the archive's costs, and the rates of the models shown."""
    from burn.pricing.load import load_pricing
    from burn.pricing.meta import pricing_meta

    return pricing_meta(load_pricing(archive.path.parent), archive.state(), cost_source, by_model)


def _rows(key: str, groups: dict[Any, _Acc]) -> list[dict[str, Any]]:
    rows = [{key: k, **acc.as_dict()} for k, acc in groups.items()]
    rows.sort(key=lambda r: (-r["total"], str(r[key])))
    return rows


def day_sql(tz: tzinfo, lo_ms: int, hi_ms: int, column: str = "t.ts_ms") -> str:
    """SQL for the local calendar day (``YYYY-MM-DD``) of ``column`` (UTC milliseconds) in ``tz``.

    The zone's UTC offset is constant between transitions; the transitions inside
    ``[lo_ms, hi_ms]`` are found by stepping a day at a time and bisecting to the second where
    the offset changes, so the result is one ``date()`` per offset period.
    """
    periods: list[tuple[int, int]] = []  # (start_ms, offset_ms)
    offset = _offset_ms(tz, lo_ms)
    periods.append((lo_ms, offset))
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
