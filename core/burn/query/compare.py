"""``burn compare``: models side by side per observed activity category.

One grouped read of ``turns`` (the activity category is a per-turn column, which the hourly rollup
does not carry) joined with ``sessions`` for the project filter, plus one grouped read of the tool
results of those turns for the error rate. Per (model, category): turns, distinct sessions, token
sums and per-turn means (over the turns that reported the field: unknown is never zero), exact
cost, cost per turn and per session, cache hit ratio, tool-error rate and, where the archive knows
turn durations (a ``turns.duration_ms`` column), their median — null otherwise.

Groups with fewer than ``min_turns`` turns are kept and marked ``small_sample``: a ratio over
seven turns is shown, but not as if it were as solid as one over seven thousand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from burn.pricing.totals import group_cost_source
from burn.query.base import turns_where
from burn.query.filters import Filters
from burn.query.view import ArchiveView

DEFAULT_MIN_TURNS = 20
UNCATEGORIZED = "uncategorized"  # turns the archive has not derived a category for (yet)
_TOKENS = ("input", "output", "cache_read", "cache_write")
_FROM = "FROM turns t LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id"


def has_duration(db: sqlite3.Connection) -> bool:
    """Whether the archive records turn durations (``turns.duration_ms``)."""
    return any(row[1] == "duration_ms" for row in db.execute("PRAGMA table_info(turns)"))


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


def compare(archive: ArchiveView, filters: Filters) -> list[Group]:
    """The (model, category) groups of the turns ``filters`` select, sorted by model then
    category. Reads only; three grouped statements inside the caller's transaction."""
    db = archive.db
    where = turns_where(filters)
    w, params = where.sql(), dict(where.params)
    cat = f"COALESCE(t.activity, '{UNCATEGORIZED}')"
    cw = "CASE WHEN t.cache_write_5m IS NULL AND t.cache_write_1h IS NULL THEN NULL ELSE " \
         "COALESCE(t.cache_write_5m, 0) + COALESCE(t.cache_write_1h, 0) END"  # fmt: skip
    cols = {"input": "t.input", "output": "t.output", "cache_read": "t.cache_read", "cache_write": cw}
    sums = ", ".join(f"SUM({c}), COUNT({c})" for c in cols.values())
    sql = f"""SELECT t.model, {cat}, COUNT(*), COUNT(DISTINCT t.source || x'1f' || t.session_id), {sums},
        SUM(t.cost_usd_micros), COUNT(t.cost_usd_micros),
        SUM(t.cost_source = 'computed'), SUM(t.cost_source = 'reported')
        {_FROM} {w} GROUP BY 1, 2"""
    rows = db.execute(sql, params).fetchall()
    errors = _tool_results(db, w, params, cat)
    timed = _durations(db, w, params, cat) if has_duration(db) else {}
    out = []
    for model, category, turns, sessions, *v in rows:
        tok = {f: (v[2 * i] if v[2 * i + 1] else None) for i, f in enumerate(_TOKENS)}
        rep = {f: v[2 * i + 1] for i, f in enumerate(_TOKENS)}
        cost, costed, comp, repc = v[8:12]
        n_results, n_errors = errors.get((model, category), (0, 0))
        median, n_timed = timed.get((model, category), (None, 0))
        out.append(
            Group(
                model,
                category,
                turns,
                sessions,
                tok,
                rep,
                cost if costed else None,
                comp or 0,
                repc or 0,
                n_results,
                n_errors,
                median,
                n_timed,
            )
        )
    out.sort(key=lambda g: (g.model, g.category))
    return out


def _tool_results(
    db: sqlite3.Connection, w: str, params: Mapping[str, Any], cat: str
) -> dict[tuple[str, str], tuple[int, int]]:
    """Per group: tool results of its turns' tool calls, and how many had error status."""
    sql = f"""SELECT t.model, {cat}, COUNT(r.id), COALESCE(SUM(r.status = 'error'), 0)
        {_FROM} JOIN tool_calls c ON c.turn_id = t.id
        JOIN tool_result_events r ON r.source = c.source AND r.session_id = c.session_id
             AND r.tool_use_id = c.tool_use_id
        {w} GROUP BY 1, 2"""
    return {(m, c): (n, e) for m, c, n, e in db.execute(sql, params)}


def _durations(
    db: sqlite3.Connection, w: str, params: Mapping[str, Any], cat: str
) -> dict[tuple[str, str], tuple[int | None, int]]:
    """Per group: the median of known turn durations (the lower middle of an even count, so it
    is a duration some turn had) and how many turns had one."""
    known = "t.duration_ms IS NOT NULL"
    cond = f"{w} AND {known}" if w else f"WHERE {known}"
    sql = f"""SELECT model, category, duration_ms, n FROM (
        SELECT t.model AS model, {cat} AS category, t.duration_ms AS duration_ms,
               ROW_NUMBER() OVER (PARTITION BY t.model, {cat} ORDER BY t.duration_ms) AS i,
               COUNT(*) OVER (PARTITION BY t.model, {cat}) AS n
        {_FROM} {cond}) WHERE i = (n + 1) / 2"""
    return {(m, c): (d, n) for m, c, d, n in db.execute(sql, params)}


def rows(archive: ArchiveView, filters: Filters, min_turns: int) -> Iterator[dict[str, Any]]:
    """The ``burn.compare`` rows (:meth:`Group.as_json` of :func:`compare`)."""
    for group in compare(archive, filters):
        yield group.as_json(min_turns)


def model_facts(archive: ArchiveView, filters: Filters) -> tuple[list[dict[str, Any]], list[str]]:
    """The meta block's facts of a comparison: per model its unpriced and fallback-priced turns,
    and the project keys of the selected turns."""
    where = turns_where(filters)
    w, params = where.sql(), dict(where.params)
    models = [
        {"model": m, "unpriced": {"turns": u or 0}, "fallback_turns": f or 0}
        for m, u, f in archive.db.execute(
            f"""SELECT t.model, SUM(t.price_match = 'unpriced'), SUM(t.price_match = 'fallback')
            {_FROM} {w} GROUP BY 1 ORDER BY 1""",
            params,
        )
    ]
    keys = [
        k
        for (k,) in archive.db.execute(
            f"SELECT DISTINCT s.project_key {_FROM} {w} AND s.project_key IS NOT NULL ORDER BY 1"
            if w
            else f"SELECT DISTINCT s.project_key {_FROM} WHERE s.project_key IS NOT NULL ORDER BY 1",
            params,
        )
    ]
    return models, keys
