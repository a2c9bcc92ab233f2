"""The dashboard's panels as queries over the analytics copy (:mod:`burn.analytics.engine`).

Every panel takes the same :class:`~burn.query.Filters` the reports take, applied to the same
columns (turn time, source, the session's project key, the turn's model: :func:`burn.query.base.turns_where`),
so a panel's spend and tokens equal ``burn report usage``'s for the same filters. Money is integer
micro-USD (a sum of the archive's per-turn costs; ``None`` when no turn in the group was costed);
ratios and rates are decimal strings, as everywhere in the contracts (no floats in a document).

Time buckets are local to ``filters.tz``: the zone's UTC offsets over the data come from
:func:`burn.query.buckets.offset_periods` (the reports' local-day logic) and are applied in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from burn.analytics.engine import TOKEN_FIELDS, Engine
from burn.query import Filters
from burn.query.buckets import DAY_MS, Periods, offset_periods
from burn.records import TOTAL_FIELDS, USAGE_FIELDS

Bucket = Literal["hour", "day", "week"]
BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week")
HOUR_MS = 3_600_000
# Histogram edges of turn duration and latency, in ms (the last bin is open).
EDGES_MS = (0, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 60_000, 120_000, 300_000)
TPS_EDGES = (0, 10, 20, 50, 100, 200, 500)
TOP_MODELS = 8  # over-time series: the costliest models, the rest summed as "other"


def where(filters: Filters, extra: Sequence[str] = ()) -> tuple[str, list[Any]]:
    """The filters as a DuckDB ``WHERE`` (positional parameters), plus ``extra`` conditions."""
    terms: list[str] = list(extra)
    params: list[Any] = []
    if filters.since_ms is not None:
        terms.append(f"ts_ms >= {int(filters.since_ms)}")
    if filters.until_ms is not None:
        terms.append(f"ts_ms < {int(filters.until_ms)}")
    for column, values in (("source", filters.sources), ("project_key", filters.projects),
                           ("model", filters.models)):  # fmt: skip
        if values:
            terms.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    return ("WHERE " + " AND ".join(terms)) if terms else "", params


_SUMS = ", ".join(
    [
        "count(*)",
        *(f"sum({f}), count({f})" for f in USAGE_FIELDS),
        "sum(cost_usd_micros)",
        "count(cost_usd_micros)",
    ]
)


def _usage(values: Sequence[Any]) -> dict[str, Any]:
    """turns, tokens (unknown stays null) and cost from a row of :data:`_SUMS`."""
    turns = int(values[0] or 0)
    tokens: dict[str, int | None] = {}
    for i, f in enumerate(USAGE_FIELDS):
        s, n = values[1 + 2 * i], values[2 + 2 * i]
        tokens[f] = int(s) if n else None
    # As the reports: null when no turn reported any of the fields the total adds up.
    known = [tokens[f] for f in TOTAL_FIELDS if tokens[f] is not None]
    tokens["total"] = sum(known) if known else None  # type: ignore[arg-type]
    cost, costed = values[1 + 2 * len(USAGE_FIELDS)], values[2 + 2 * len(USAGE_FIELDS)]
    return {"turns": turns, "tokens": tokens, "cost_usd_micros": int(cost) if costed else None}


def _periods(engine: Engine, filters: Filters) -> Periods:
    w, p = where(filters)
    lo, hi = engine.query(f"SELECT min(ts_ms), max(ts_ms) FROM facts {w}", p)[0]
    return offset_periods(filters.tz, lo or 0, hi or 0)


def offset_sql(periods: Periods, column: str = "ts_ms") -> str:
    """SQL for the zone's UTC offset (ms) at ``column`` under ``periods``."""
    if len(periods) == 1:
        return str(periods[0][1])
    cases = " ".join(
        f"WHEN {column} < {start} THEN {prev}"
        for (start, _), (_, prev) in zip(periods[1:], periods[:-1], strict=True)
    )
    return f"(CASE {cases} ELSE {periods[-1][1]} END)"


def _local_day_sql(periods: Periods) -> str:
    return f"floor((ts_ms + {offset_sql(periods)}) / {DAY_MS})::BIGINT"


def _day_label(n: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=n)).isoformat()


def ratio(num: int, den: int, places: int = 4) -> str | None:
    """``num / den`` as a decimal string rounded half-even to ``places`` (None when ``den`` is 0)."""
    if not den:
        return None
    q = Decimal(1).scaleb(-places)
    return str((Decimal(num) / Decimal(den)).quantize(q, rounding=ROUND_HALF_EVEN))


# -- panels -------------------------------------------------------------------------------------------


def summary(engine: Engine, filters: Filters, now: datetime | None = None) -> dict[str, Any]:
    """The cards: total spend, today (local), average per active day, cache hit ratio, sessions,
    turns, and the usage totals they come from."""
    now = now or datetime.now(UTC)
    w, p = where(filters)
    periods = _periods(engine, filters)
    day = _local_day_sql(periods)
    row = engine.query(
        f"SELECT {_SUMS}, count(DISTINCT (source, session_id)), count(DISTINCT {day}) FROM facts {w}", p
    )[0]
    usage = _usage(row)
    local_now = now.astimezone(filters.tz)
    today_start = datetime(local_now.year, local_now.month, local_now.day, tzinfo=filters.tz)
    t0 = int(today_start.timestamp() * 1000)
    t1 = int((today_start + timedelta(days=1)).timestamp() * 1000)
    tw, tp = where(filters, (f"ts_ms >= {t0}", f"ts_ms < {t1}"))
    today = engine.query(f"SELECT sum(cost_usd_micros), count(cost_usd_micros) FROM facts {tw}", tp)[0]
    active_days = int(row[-1] or 0)
    total = usage["cost_usd_micros"]
    tok = usage["tokens"]
    cache_read = tok["cache_read"] or 0
    prompt = cache_read + sum(tok[f] or 0 for f in ("input", "cache_write_5m", "cache_write_1h"))
    return {
        "total_usd_micros": total,
        "today_usd_micros": int(today[0]) if today[1] else None,
        "today": local_now.date().isoformat(),
        # Floor of the exact mean: an integer, like every other amount.
        "per_active_day_usd_micros": None if total is None or not active_days else total // active_days,
        "active_days": active_days,
        "cache_hit_ratio": ratio(cache_read, prompt),
        "sessions": int(row[-2] or 0),
        "turns": usage["turns"],
        "tokens": tok,
    }


def over_time(engine: Engine, filters: Filters, bucket: Bucket = "day") -> dict[str, Any]:
    """Spend per local bucket stacked by model: ``labels`` (bucket starts, local) and one series
    per model (the :data:`TOP_MODELS` costliest; the rest as ``other``)."""
    w, p = where(filters)
    periods = _periods(engine, filters)
    off = offset_sql(periods)
    if bucket == "hour":
        key = f"floor((ts_ms + {off}) / {HOUR_MS})::BIGINT"
    elif bucket == "week":  # weeks start on Monday; day 0 (1970-01-01) was a Thursday
        key = f"(floor((ts_ms + {off}) / {DAY_MS})::BIGINT + 3) // 7"
    else:
        key = f"floor((ts_ms + {off}) / {DAY_MS})::BIGINT"
    rows = engine.query(
        f"SELECT {key} AS b, model, sum(cost_usd_micros), count(cost_usd_micros), sum(coalesce(output, 0)) "
        f"FROM facts {w} GROUP BY b, model ORDER BY b, model",
        p,
    )
    totals: dict[str, int] = {}
    for _, model, cost, _, _ in rows:
        totals[model] = totals.get(model, 0) + int(cost or 0)
    ranked = sorted(totals, key=lambda m: (-totals[m], m))
    top = set(ranked[:TOP_MODELS])
    buckets = sorted({int(r[0]) for r in rows})
    if buckets:  # every bucket in the range, empty ones included, so the axis is time
        buckets = list(range(buckets[0], buckets[-1] + 1))
    index = {b: i for i, b in enumerate(buckets)}
    names = [m for m in ranked if m in top] + (["other"] if len(ranked) > TOP_MODELS else [])
    series: dict[str, list[int]] = {m: [0] * len(buckets) for m in names}
    for b, model, cost, _, _ in rows:
        series[model if model in top else "other"][index[int(b)]] += int(cost or 0)
    return {
        "bucket": bucket,
        "labels": [_bucket_label(bucket, b) for b in buckets],
        "series": [{"model": m, "usd_micros": series[m]} for m in names],
    }


def _bucket_label(bucket: Bucket, n: int) -> str:
    if bucket == "hour":
        return f"{_day_label(n // 24)}T{n % 24:02d}:00"
    if bucket == "week":
        return _day_label(n * 7 - 3)
    return _day_label(n)


def by_model(engine: Engine, filters: Filters) -> list[dict[str, Any]]:
    """Spend and tokens per model, costliest first."""
    w, p = where(filters)
    rows = engine.query(f"SELECT model, {_SUMS} FROM facts {w} GROUP BY model", p)
    out = [{"model": r[0], **_usage(r[1:])} for r in rows]
    return sorted(out, key=lambda r: (-(r["cost_usd_micros"] or 0), r["model"]))


def by_project(engine: Engine, filters: Filters, shown: dict[str, dict[str, Any]],
               key: Any) -> list[dict[str, Any]]:  # fmt: skip
    """Spend per project key, costliest first. ``key`` renders a raw key under the identity
    profile; ``shown`` (rendered key → identity) gives its label."""
    w, p = where(filters)
    rows = engine.query(f"SELECT project_key, {_SUMS} FROM facts {w} GROUP BY project_key", p)
    out = []
    for r in rows:
        k = key(r[0]) if r[0] is not None else None
        identity = shown.get(k) if k is not None else None
        label = identity.get("label") if identity else None
        out.append({"project_key": k, "label": label or k or "(no project)", **_usage(r[1:])})
    return sorted(out, key=lambda r: (-(r["cost_usd_micros"] or 0), str(r["project_key"])))


def by_agent(engine: Engine, filters: Filters) -> dict[str, Any]:
    """Spend per agent type (``main`` for sessions without one) and root vs subagent sessions: one
    query grouped by both, each grouping summed from its rows (a scan instead of two)."""
    w, p = where(filters)
    rows = engine.query(
        f"SELECT coalesce(agent_type, CASE WHEN is_root THEN 'main' ELSE 'subagent' END) AS a, is_root, "
        f"{_SUMS} FROM facts {w} GROUP BY a, is_root",
        p,
    )
    types: dict[str, list[Any]] = {}
    roles: dict[str, list[Any]] = {}
    for a, is_root, *values in rows:
        _add(types, a, values)
        _add(roles, "root" if is_root else "subagent", values)
    by_type = sorted(({"agent_type": a, **_usage(v)} for a, v in types.items()),
                     key=lambda r: (-(r["cost_usd_micros"] or 0), r["agent_type"]))  # fmt: skip
    by_role = {role: _usage(v) for role, v in roles.items()}
    return {"by_agent_type": by_type, "root": by_role.get("root"), "subagent": by_role.get("subagent")}


def _add(groups: dict[str, list[Any]], key: str, values: Sequence[Any]) -> None:
    """Add a row of :data:`_SUMS` values (sums and counts; a NULL sum counts nothing) into
    ``groups[key]``."""
    into = groups.setdefault(key, [0] * len(values))
    for i, v in enumerate(values):
        if v is not None:
            into[i] += v


# The timing measures: (name, SQL over ``facts``, histogram edges).
_TPS_SQL = "CASE WHEN duration_ms > 0 AND output IS NOT NULL THEN output * 1000.0 / duration_ms END"
_MEASURES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("duration_ms", "duration_ms", EDGES_MS),
    ("latency_ms", "latency_ms", EDGES_MS),
    ("output_tokens_per_s", _TPS_SQL, TPS_EDGES),
)


def _timing_sql(w: str) -> str:
    """One scan for every measure: its count, its p50/p90/p99 (one list: one sort) and its
    histogram (one ``histogram`` aggregate of the bin numbers: a filtered count per bin made the
    query four times slower)."""
    cols: list[str] = []
    for i, (_, _, edges) in enumerate(_MEASURES):
        v = f"v{i}"
        # Bin k is [edges[k], edges[k + 1]); the first also holds values below its edge, the last
        # everything from its edge up.
        bins = " ".join(f"WHEN {v} < {hi} THEN {k}" for k, hi in enumerate(edges[1:]))
        cols += [
            f"count({v})",
            f"quantile_disc({v}, [0.5, 0.9, 0.99])",
            f"histogram(CASE {bins} ELSE {len(edges) - 1} END) FILTER (WHERE {v} IS NOT NULL)",
        ]
    values = ", ".join(f"{expr} AS v{i}" for i, (_, expr, _) in enumerate(_MEASURES))
    return f"SELECT {', '.join(cols)} FROM (SELECT {values} FROM facts {w})"


def timing(engine: Engine, filters: Filters) -> dict[str, Any]:
    """Turn duration, latency and output tokens per second: count, p50/p90/p99 and a histogram
    (``available`` false while no turn carries timing), from one query."""
    w, p = where(filters)
    row = engine.query(_timing_sql(w), p)[0]
    metrics: dict[str, Any] = {}
    for i, (name, _, edges) in enumerate(_MEASURES):
        n, quantiles, hist = row[3 * i : 3 * i + 3]
        p50, p90, p99 = quantiles if quantiles is not None else (None, None, None)
        counts = hist or {}
        fmt = _tps if name == "output_tokens_per_s" else (lambda v: None if v is None else int(v))
        metrics[name] = {
            "count": int(n or 0),
            "p50": fmt(p50),
            "p90": fmt(p90),
            "p99": fmt(p99),
            "histogram": [
                {
                    "from": lo,
                    "to": edges[k + 1] if k + 1 < len(edges) else None,
                    "count": int(counts.get(k, 0)),
                }
                for k, lo in enumerate(edges)
            ],
        }
    available = any(m["count"] for m in metrics.values())
    return {"available": available, **metrics}


def _tps(v: Any) -> str | None:
    return None if v is None else str(Decimal(str(v)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


__all__ = ["BUCKETS", "TOKEN_FIELDS", "by_agent", "by_model", "by_project", "over_time", "summary", "timing"]
