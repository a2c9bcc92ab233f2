"""The usage exporter: tokens and cost per local day, ISO week or month, or per session, model or
project, each row with breakdowns by model, project and source.

One SQL statement, like ``burn summary``: a materialized CTE of the sums per (row key, source,
model, project), then a UNION ALL of the GROUP BYs every row, breakdown and total needs, so Python
converts each output entry once. Distinct sessions, which do not add up, are counted in one pass
over (row key, session, model, project) rows read session by session. Both read the hourly
rollups (``usage_hourly``, ``session_hours``) when they answer exactly, else ``turns`` in small
buckets; local days are computed in SQL, exact across daylight-saving changes
(:mod:`burn.buckets`). By session, rows stream from one ordered grouped query over ``turns``.
Rows are sorted by key ascending (time buckets chronologically).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from burn.exporter import ArchiveView, Facts, Key, Page, Renderer, plain_rows
from burn.query import (
    COMPONENT_NAMES,
    TURN_AGGREGATES,
    Filters,
    Periods,
    component_values,
    day_expr,
    day_number_expr,
    day_of_number,
    iso,
    offset_periods,
    sessions_base,
    time_range,
    turns_where,
    usage_base,
)
from burn.records import TOTAL_FIELDS, USAGE_FIELDS

# Stamp groupings (burn stamp): rows keyed by the sessions' workflow, agent, persona or tier.
STAMP_BY = ("workflow", "agent", "persona", "tier")
BY = ("day", "week", "month", "session", "model", "project", "machine", *STAMP_BY)
_TIME = ("day", "week", "month")
# The aggregates (burn.query.AGGREGATE_NAMES) the report sums.
_COST_COLUMNS = ("cost_usd_micros", "costed_turns", "computed_turns", "reported_turns", "unpriced_turns",
                 "unpriced_tokens", "fallback_turns", *COMPONENT_NAMES)  # fmt: skip
_COLUMNS = ("turns", *(c for f in USAGE_FIELDS for c in (f, f"{f}_n")), *_COST_COLUMNS)
# An entry as SQL shapes it (_shape): turns, the usage fields (null when no turn reported one)
# and their total, the cost (null when no turn was costed), its source, then unpriced turns,
# unpriced tokens and fallback turns.
_TOKENS = (*USAGE_FIELDS, "total")
_NAMES = {1: "model", 3: "source"}
_COST = 1 + len(_TOKENS)


def _shape(agg: str) -> str:
    """SQL for an entry's values from the ``_COLUMNS`` aggregated with ``agg`` (``SUM`` or none).

    A usage field's sum is 0 when no turn reported it (the rollup's COALESCE), so the total of
    the reported fields is the plain sum of the total fields."""

    def a(column: str) -> str:
        return f"{agg}({column})"

    total_known = " OR ".join(a(f"{f}_n") for f in TOTAL_FIELDS)
    comp, rep = a("computed_turns"), a("reported_turns")
    return ", ".join(
        [
            f"COALESCE({a('turns')}, 0)",
            *(f"CASE WHEN {a(f'{f}_n')} THEN {a(f)} END" for f in USAGE_FIELDS),
            f"CASE WHEN {total_known} THEN {' + '.join(a(f) for f in TOTAL_FIELDS)} END",
            f"CASE WHEN {a('costed_turns')} THEN {a('cost_usd_micros')} END",
            f"CASE WHEN {comp} THEN (CASE WHEN {rep} THEN 'mixed' ELSE 'computed' END) "
            f"WHEN {rep} THEN 'reported' ELSE 'none' END",
            a("unpriced_turns"),
            a("unpriced_tokens"),
            a("fallback_turns"),
            a("costed_turns"),
            *(a(c) for c in COMPONENT_NAMES),
        ]
    )


class UsageExporter:
    """Tokens and cost per day, week, month, session, model, project, or stamp (workflow, agent,
    persona, tier) (usage contract v1)."""

    surface = "usage"
    schema_version = 1
    verb = "report"
    commands: Mapping[str, Mapping[str, Any]] = {
        "usage": {},
        "daily": {"by": "day"},
        "weekly": {"by": "week"},
        "monthly": {"by": "month"},
    }
    paged = False
    order = "key"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--by", choices=BY, default="day", help="grouping of the rows (default day)")

    def filters(self, archive: ArchiveView, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"by": options.get("by") or "day"}

    def open(self, archive: ArchiveView, filters: Mapping[str, Any], render: Renderer) -> UsageQuery:
        q = UsageQuery(archive, Filters.from_canonical(filters), str(filters.get("by") or "day"), render)
        q.load()
        return q

    def rows(self, archive: ArchiveView, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every row under the shareable profile (the plain :class:`Exporter` use)."""
        return plain_rows(self, archive, options)


def _parts(v: Sequence[Any], sessions: int) -> dict[str, Any]:
    """An entry's measures from its shaped values (:func:`_shape`)."""
    return {
        "turns": v[0],
        "sessions": sessions,
        "tokens": dict(zip(_TOKENS, v[1:_COST], strict=True)),
        "cost": {
            "total_usd_micros": v[_COST],
            "cost_source": v[_COST + 1],
            "components": component_values(v[_COST + 6 :], v[_COST + 5]),
        },
    }


def _count_sessions(rows: Iterable[Sequence[Any]], totals_only: bool) -> dict[tuple[int, int, Any, Any], int]:
    """Distinct sessions per (level, breakdown, key, breakdown key) — level 1 a row's, 0 the
    totals'; breakdown 0 none, 1 model, 2 project, 3 source — from ``(key, source, session id,
    model, project)`` rows ordered by session (memory: one session's keys at a time)."""
    counts: dict[tuple[int, int, Any, Any], int] = {}
    get = counts.get
    session: tuple[str, str] | None = None
    models: set[str] = set()
    keys: set[Any] = set()
    key_models: set[tuple[Any, str]] = set()
    for k, source, sid, model, project in rows:
        if session is None or session[0] != source or session[1] != sid:
            session = (source, sid)
            models.clear()
            keys.clear()
            key_models.clear()
            for c in ((0, 0, None, None), (0, 2, None, project), (0, 3, None, source)):
                counts[c] = get(c, 0) + 1
        if model not in models:
            models.add(model)
            c = (0, 1, None, model)
            counts[c] = get(c, 0) + 1
        if totals_only:
            continue
        if k not in keys:
            keys.add(k)
            for c in ((1, 0, k, None), (1, 2, k, project), (1, 3, k, source)):
                counts[c] = get(c, 0) + 1
        if (k, model) not in key_models:
            key_models.add((k, model))
            c = (1, 1, k, model)
            counts[c] = get(c, 0) + 1
    return counts


def _sort_key(k: str | None) -> tuple[bool, str]:
    return (k is None, k if k is not None else "")


@attrs.define
class _Row:
    """One output row's (or the totals') measures and breakdown entries, keyed by raw sub-key."""

    parts: dict[str, Any] | None = None
    by: dict[int, dict[Any, dict[str, Any]]] = attrs.field(factory=lambda: {1: {}, 2: {}, 3: {}})


@attrs.define
class UsageQuery:
    archive: ArchiveView
    filters: Filters
    by: str
    render: Renderer
    by_key: dict[Any, _Row] = attrs.field(factory=dict)
    total: _Row = attrs.field(factory=_Row)
    total_models: dict[str, Sequence[Any]] = attrs.field(factory=dict)  # totals by model (facts)
    stream: bool = False
    shown: dict[str | None, str | None] = attrs.field(factory=dict)  # project key → as rendered

    @property
    def tz(self) -> ZoneInfo:
        return self.filters.tz

    def _key_sql(self, periods: Periods, bucket_ms: int) -> str:
        """SQL for a row key over a bucketed base ``b``: a local day, the Monday of a local ISO
        week (labelled after the query), a month, a model or a project."""
        by = self.by
        if by not in _TIME:
            if by in STAMP_BY:
                return "b.grp"
            return {"model": "b.model", "project": "b.project_key", "machine": "b.machine"}.get(by, "NULL")
        column = f"(b.hour * {bucket_ms})"
        if by == "month":
            return f"substr({day_expr(periods, column)}, 1, 7)"
        # Days and weeks group by day numbers (named after the query): 1970-01-01 was a Thursday,
        # so a day's Monday is ``(day + 3) % 7`` days before it.
        day = day_number_expr(periods, column)
        return day if by == "day" else f"({day} - ({day} + 3) % 7)"

    def load(self) -> None:
        f, by = self.filters, self.by
        self.stream = by == "session"
        db = self.archive.db
        lo, hi = time_range(db, f.since_ms, f.until_ms)
        # Local time matters only to time buckets: other keys take the rollup whatever the zone.
        periods = offset_periods(f.tz, lo, hi) if by in _TIME else []
        state = self.archive.state()
        group = by if by in STAMP_BY else None
        sums_b, sessions_b = usage_base(state, f, periods, group), sessions_base(state, f, periods, group)
        sums_ms, sums_base = sums_b.bucket_ms, sums_b.sql
        sessions_ms, sessions_base_sql = sessions_b.bucket_ms, sessions_b.sql
        params = {**sums_b.params, **sessions_b.params}
        sums_key = self._key_sql(periods, sums_ms)
        sessions_key = self._key_sql(periods, sessions_ms)
        sums = ", ".join(f"SUM(b.{c}) AS {c}" for c in _COLUMNS)
        resum = ", ".join(f"SUM({c}) AS {c}" for c in _COLUMNS)
        # r: sums per (key, source, model, project), then per key and model, project or source;
        # everything else adds those up. Tags: 1 a row's entries, 0 the totals'; then the
        # breakdown (0 none, 1 model, 2 project, 3 source), the row key and the breakdown key.
        rows_sql = f"""
            SELECT 1, 0, k, NULL, {_shape("SUM")} FROM ks GROUP BY k
            UNION ALL SELECT 1, 1, k, model, {_shape("")} FROM km
            UNION ALL SELECT 1, 2, k, project_key, {_shape("")} FROM kp
            UNION ALL SELECT 1, 3, k, source, {_shape("")} FROM ks
            UNION ALL"""
        sql = f"""WITH
            r AS MATERIALIZED (
              SELECT {sums_key} AS k, b.source AS source, b.model AS model, b.project_key AS project_key,
                     {sums}
              FROM ({sums_base}) b GROUP BY 1, 2, 3, 4),
            km AS MATERIALIZED (SELECT k, model, {resum} FROM r GROUP BY k, model),
            kp AS MATERIALIZED (SELECT k, project_key, {resum} FROM r GROUP BY k, project_key),
            ks AS MATERIALIZED (SELECT k, source, {resum} FROM r GROUP BY k, source)
            {"" if self.stream else rows_sql}
            SELECT 0, 0, NULL, NULL, {_shape("SUM")} FROM ks
            UNION ALL SELECT 0, 1, NULL, model, {_shape("SUM")} FROM km GROUP BY model
            UNION ALL SELECT 0, 2, NULL, project_key, {_shape("SUM")} FROM kp GROUP BY project_key
            UNION ALL SELECT 0, 3, NULL, source, {_shape("SUM")} FROM ks GROUP BY source"""
        values = db.execute(sql, params).fetchall()
        # Sessions are not additive: counted from (key, session, model, project) rows, one session
        # after the other (a session has one source and one project).
        counts = _count_sessions(
            db.execute(
                f"""SELECT {sessions_key}, b.source, b.session_id, b.model, b.project_key
                FROM ({sessions_base_sql}) b ORDER BY b.source, b.session_id""",
                params,
            ),
            self.stream,
        )
        for level, part, k, sub, *v in values:
            if level:
                target = self.by_key.get(k)
                if target is None:
                    target = self.by_key[k] = _Row()
            else:
                target = self.total
                if part == 1:
                    self.total_models[sub] = v
            n = counts.get((level, part, k, sub), 0)
            if part == 0:
                target.parts = _parts(v, n)
            elif part == 2:
                target.by[2][sub] = {"project_key": self._project(sub), **_parts(v, n)}
            else:
                target.by[part][sub] = {_NAMES[part]: sub, **_parts(v, n)}
        if by == "week":  # Monday's day number → ISO week label (the same order)
            self.by_key = {_iso_week(day_of_number(k)): row for k, row in self.by_key.items()}
        elif by == "day":
            self.by_key = {day_of_number(k).isoformat(): row for k, row in self.by_key.items()}

    def _project(self, key: str | None) -> str | None:
        if key not in self.shown:
            self.shown[key] = self.render.key(key)
        return self.shown[key]

    def _row_parts(self, row: _Row) -> dict[str, Any]:
        """The measures and breakdown arrays of a row (or of the totals)."""
        assert row.parts is not None
        models, projects, sources = row.by[1], row.by[2], row.by[3]
        names = sorted(models)
        return {
            **row.parts,
            "models": names,
            "by_model": [models[m] for m in names],
            "by_project": sorted(projects.values(), key=lambda e: _sort_key(e["project_key"])),
            "by_source": [sources[s] for s in sorted(sources)],
        }

    def _session_rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """By session: one row per session from one ordered query (flat memory): the session's
        total, then its models. A session has one source and one project, so those breakdowns
        have one entry: the session's total."""
        turns = turns_where(self.filters)
        where, params = turns.sql(), turns.params
        columns = ", ".join(f"COALESCE({TURN_AGGREGATES[c]}, 0) AS {c}" for c in _COLUMNS)
        sql = f"""WITH g AS MATERIALIZED (
              SELECT t.source || x'{_SEP.hex()}' || t.session_id AS k, t.source AS source, t.model AS model,
                     s.project_key AS project_key, {columns}
              FROM turns t {_FROM_S} {where} GROUP BY k, t.source, t.model, s.project_key)
            SELECT k, 0, source, project_key, NULL, {_shape("SUM")} FROM g GROUP BY k
            UNION ALL SELECT k, 1, source, project_key, model, {_shape("")} FROM g
            ORDER BY 1, 2, 5"""
        row: dict[str, Any] | None = None
        current = ""
        for k, part, source, project, model, *v in self.archive.db.execute(sql, params):
            if part:
                assert row is not None
                row["models"].append(model)
                row["by_model"].append({"model": model, **_parts(v, 1)})
                continue
            if row is not None:
                yield current, row
            parts = _parts(v, 1)
            current = k
            shown = self._project(project)
            row = {**parts, "models": [], "by_model": [], "by_project": [{"project_key": shown, **parts}],
                   "by_source": [{"source": source, **parts}]}  # fmt: skip
        if row is not None:
            yield current, row

    def facts(self, page: Page | None = None) -> Facts:
        models = []
        for model in sorted(self.total_models):
            v = self.total_models[model]
            models.append({"model": model, "unpriced": {"turns": v[_COST + 2], "tokens": v[_COST + 3]},
                           "fallback_turns": v[_COST + 4]})  # fmt: skip
        assert self.total.parts is not None
        return Facts(
            models=models,
            project_keys=sorted(k for k in self.total.by[2] if k is not None),
            cost_source=self.total.parts["cost"]["cost_source"],
        )

    def rows(self, page: Page | None = None) -> Iterator[tuple[Key, Mapping[str, Any]]]:
        by = self.by
        if self.stream:
            for key, parts in self._session_rows():
                source, sid = key.split(_SEP.decode(), 1)
                row = {"type": "usage", "by": by, "key": self.render.session(source, sid), "source": source,
                       "start": None, "end": None, **parts}  # fmt: skip
                yield (key,), row
            return
        for key in sorted(self.by_key, key=_sort_key):
            start = end = None
            shown = key
            if by in _TIME:
                start, end = _bounds(key, by, self.tz)
            elif by == "project":
                shown = self._project(key)
            elif by == "machine":
                shown = self.render.key(key)  # the machine key (an HMAC of it under anonymous)
            row = {"type": "usage", "by": by, "key": shown, "source": None, "start": start, "end": end,
                   **self._row_parts(self.by_key[key])}  # fmt: skip
            yield (key,), row

    def summary(self) -> Mapping[str, Any] | None:
        return {"totals": self._row_parts(self.total)}

    def watermark(self) -> int:
        return 0

    def snapshot(self, watermark: int) -> tuple[int, int]:
        return 0, 0


_FROM_S = "LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id"
_SEP = b"\x1f"  # joins source and session id into one SQL key (neither contains it)


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _first_day(key: str, by: str) -> date:
    if by == "day":
        return date.fromisoformat(key)
    if by == "month":
        return date.fromisoformat(key + "-01")
    y, w = key.split("-W")
    return date.fromisocalendar(int(y), int(w), 1)


def _next_first(day: date, by: str) -> date:
    if by == "day":
        return day + timedelta(days=1)
    if by == "week":
        return day + timedelta(days=7)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _bounds(key: str, by: str, tz: ZoneInfo) -> tuple[str, str]:
    first = _first_day(key, by)
    nxt = _next_first(first, by)
    return iso(datetime(first.year, first.month, first.day, tzinfo=tz)), iso(
        datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    )
