"""``burn compare``: models side by side per observed activity category.

Per (model, category): turns, distinct sessions, token sums and per-turn means (over the turns
that reported the field: unknown is never zero), exact cost, cost per turn and per session, cache
hit ratio, tool-error rate (tool results with error status) and, where turns are timed, the
median turn duration.

Reads the archive's activity rollup (:mod:`burn.archive.activity_rollup`): its rows for the whole
UTC hours of the window, and the same rows computed from ``turns`` for the partial hours at its
edges (a window such as ``--since 30d`` starts mid-hour), grouped in one statement. A stamp
filter, or a rollup that is not current, reads every row from ``turns`` instead; both give the same
numbers by construction. The median (not additive) is one index seek per group in
``turns_by_activity``: the group's timed turns in duration order, ``LIMIT 1 OFFSET`` half its count.

Groups with fewer than ``min_turns`` turns are kept and marked ``small_sample``: a ratio over
seven turns is shown, but not as if it were as solid as one over seven thousand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from burn.archive import activity_rollup as act
from burn.archive.rollup import HOUR_MS
from burn.pricing.totals import group_cost_source
from burn.query.base import hour_split, turns_where
from burn.query.filters import Filters
from burn.query.view import ArchiveView
from burn.query.where import matching, window

DEFAULT_MIN_TURNS = 20
UNCATEGORIZED = "uncategorized"  # turns the archive has not derived a category for (yet)
_TOKENS = tuple(act.TOKENS)


def _ratio(num: int | None, den: int | None, places: int = 4) -> float | None:
    return None if num is None or not den else round(num / den, places)


def _per(total: int | None, n: int) -> int | None:
    """Integer mean (half away from zero) of an exact sum over ``n``; None when unknown or n = 0."""
    if total is None or n <= 0:
        return None
    q, r = divmod(total, n)
    return q + (2 * r >= n)


@attrs.frozen
class Group:
    """One (model, category) group's measures (integers exact; ratios rounded to 4 places)."""

    model: str
    category: str
    turns: int
    sessions: int
    tokens: Mapping[str, int | None]
    reported: Mapping[str, int]  # turns that reported each token field
    cost_micros: int | None
    computed: int
    reported_cost: int
    tool_results: int
    tool_errors: int
    median_duration_ms: int | None
    timed_turns: int
    unpriced_turns: int = 0
    fallback_turns: int = 0

    def as_json(self, min_turns: int) -> dict[str, Any]:
        """The ``burn.compare`` row."""
        t = self.tokens
        read, inp = t["cache_read"], t["input"]
        den = None if read is None and inp is None else (read or 0) + (inp or 0) + (t["cache_write"] or 0)
        return {
            "type": "compare",
            "model": self.model,
            "category": self.category,
            "turns": self.turns,
            "sessions": self.sessions,
            "small_sample": self.turns < min_turns,
            "tokens": dict(t),
            "per_turn": {f: _per(t[f], self.reported[f]) for f in _TOKENS},
            "cost": {
                "total_usd_micros": self.cost_micros,
                "cost_source": group_cost_source(self.computed, self.reported_cost),
                "per_turn_usd_micros": _per(self.cost_micros, self.turns),
                "per_session_usd_micros": _per(self.cost_micros, self.sessions),
            },
            "cache_hit_ratio": _ratio(read, den),
            "tool_results": self.tool_results,
            "tool_errors": self.tool_errors,
            "tool_error_rate": _ratio(self.tool_errors, self.tool_results),
            "timed_turns": self.timed_turns,
            "median_duration_ms": self.median_duration_ms,
        }


def activity_rows(archive: ArchiveView, filters: Filters) -> tuple[str, dict[str, Any]]:
    """SQL for the activity rollup's rows (:data:`burn.archive.activity_rollup.COLUMNS`) of the
    turns ``filters`` select, and its parameters: stored rows for the window's whole hours, rows
    computed from ``turns`` for its partial ones (or for everything, when the rollup cannot answer)."""
    where = turns_where(filters)
    params = dict(where.params)
    split = hour_split(filters.since_ms, filters.until_ms)
    if filters.stamps or archive.state().get("rollup") != "ok" or split is None:
        return act.rows_sql(where.sql()), params  # the rollup carries no stamps
    (first, end), edges = split
    stored = window("hour", first, end, HOUR_MS) + matching(
        filters, source="source", project="project_key", model="model", machine="machine"
    )
    parts = [f"SELECT {act.COLUMNS} FROM activity_hours {stored.sql()}"]
    rest = matching(filters, source="t.source", project="s.project_key", model="t.model", machine="t.machine")
    parts += [act.rows_sql((window("t.ts_ms", lo, hi) + rest).sql()) for lo, hi in edges]
    return " UNION ALL ".join(parts), params


def compare(archive: ArchiveView, filters: Filters) -> list[Group]:
    """The (model, category) groups of the turns ``filters`` select, sorted by model then
    category. Reads only, inside the caller's transaction: one grouped statement over the
    activity rows (:func:`activity_rows`), then one index seek per timed group for its median."""
    rows, params = activity_rows(archive, filters)
    sums = ", ".join(f"SUM({n})" for n in act.NAMES)
    sql = f"""SELECT model, COALESCE(category, '{UNCATEGORIZED}') AS cat,
        COUNT(DISTINCT source || x'1f' || session_id), {sums}
        FROM ({rows}) GROUP BY model, cat ORDER BY model, cat"""
    out = []
    for model, category, sessions, *values in archive.db.execute(sql, params).fetchall():
        v = dict(zip(act.NAMES, values, strict=True))
        timed = v["timed_turns"]
        out.append(
            Group(
                model=model,
                category=category,
                turns=v["turns"],
                sessions=sessions,
                tokens={f: v[f] if v[f"{f}_n"] else None for f in _TOKENS},
                reported={f: v[f"{f}_n"] for f in _TOKENS},
                cost_micros=v["cost_usd_micros"] if v["costed_turns"] else None,
                computed=v["computed_turns"],
                reported_cost=v["reported_turns"],
                tool_results=v["tool_results"],
                tool_errors=v["tool_errors"],
                median_duration_ms=_median(archive, filters, model, category, timed) if timed else None,
                timed_turns=timed,
                unpriced_turns=v["unpriced_turns"],
                fallback_turns=v["fallback_turns"],
            )
        )
    return out


def _median(archive: ArchiveView, filters: Filters, model: str, category: str, timed: int) -> int | None:
    """The median of a group's known turn durations: the lower middle of an even count, so it is
    a duration some turn had. ``timed``: how many the filters select (the rollup's count)."""
    where = turns_where(filters)
    cat = "t.activity IS NULL" if category == UNCATEGORIZED else "t.activity = :cmp_category"
    terms = ("t.model = :cmp_model", cat, "t.duration_ms IS NOT NULL", *where.terms)
    params = {**where.params, "cmp_model": model, "cmp_category": category, "cmp_offset": (timed - 1) // 2}
    row = archive.db.execute(
        f"""SELECT t.duration_ms FROM turns t INDEXED BY turns_by_activity
        LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id
        WHERE {" AND ".join(terms)} ORDER BY t.duration_ms LIMIT 1 OFFSET :cmp_offset""",
        params,
    ).fetchone()
    return None if row is None else int(row[0])


def rows(groups: list[Group], min_turns: int) -> Iterator[dict[str, Any]]:
    """The ``burn.compare`` rows (:meth:`Group.as_json`)."""
    for group in groups:
        yield group.as_json(min_turns)


def model_facts(
    archive: ArchiveView, filters: Filters, groups: list[Group]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The meta block's facts of a comparison: per model its unpriced and fallback-priced turns
    (from its groups), and the project keys of the selected turns."""
    per: dict[str, list[int]] = {}
    for g in groups:
        n = per.setdefault(g.model, [0, 0])
        n[0] += g.unpriced_turns
        n[1] += g.fallback_turns
    models = [
        {"model": m, "unpriced": {"turns": unpriced}, "fallback_turns": fallback}
        for m, (unpriced, fallback) in sorted(per.items())
    ]
    sql, params = activity_rows(archive, filters)
    keys = f"SELECT DISTINCT project_key FROM ({sql}) WHERE project_key IS NOT NULL ORDER BY 1"
    return models, [k for (k,) in archive.db.execute(keys, params)]
