"""Where usage sums come from, chosen in one place: the hourly rollups or ``turns``.

:func:`usage_base` and :func:`sessions_base` return SQL for bucketed rows — the hourly rollups
(``usage_hourly``, ``session_hours``) when they answer exactly (:func:`~.buckets.rollup_answers`),
else the same shape grouped from ``turns`` in buckets of :func:`~.buckets.turns_bucket_ms` — with
the filters applied. Every report that sums usage (``burn summary``, the usage surface) reads
through them, so both paths give the same numbers by construction.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from burn.archive import rollup
from burn.query.buckets import Periods, rollup_answers, turns_bucket_ms
from burn.query.filters import Filters
from burn.query.where import STAMP_COLUMN, Where, matching, window


@attrs.frozen
class Base:
    """A subquery of bucketed rows (column ``hour`` holds the bucket number, ``bucket_ms`` long)
    and the named parameters it needs. ``rollup``: whether it reads the hourly rollup."""

    sql: str
    bucket_ms: int
    rollup: bool
    params: Mapping[str, object] = attrs.field(factory=dict)


def turns_where(filters: Filters) -> Where:
    """The filters on ``turns t`` joined with ``sessions s`` (the join every grouped read of
    turns makes, :func:`burn.archive.rollup.grouped_turns_sql`)."""
    return window("t.ts_ms", filters.since_ms, filters.until_ms) + matching(
        filters, source="t.source", project="s.project_key", model="t.model", machine="t.machine", stamps="s"
    )


def _where(filters: Filters, rolled: bool) -> Where:
    if rolled:
        return window("hour", filters.since_ms, filters.until_ms, rollup.HOUR_MS) + matching(
            filters, source="source", project="project_key", model="model", machine="machine"
        )
    return turns_where(filters)


def _rolled(filters: Filters, group: str | None) -> bool:
    # The rollups carry no stamps: a stamp filter or grouping reads turns joined with sessions.
    return group is None and not filters.stamps


def usage_base(
    state: Mapping[str, str], filters: Filters, periods: Periods, group: str | None = None
) -> Base:
    """Rows of (source, model, project_key, machine, hour, the :data:`burn.archive.rollup.NAMES` aggregates).
    ``periods``: the zone's offsets over the data when local time matters (days, weeks,
    months), else none. ``group``: a stamp field (``workflow`` …) whose value each row also
    carries as ``grp`` (then the rows come from ``turns``)."""
    if _rolled(filters, group) and rollup_answers(state, periods, filters.since_ms, filters.until_ms):
        where = _where(filters, True)
        return Base(rollup.hourly_sql(where.sql()), rollup.HOUR_MS, True, where.params)
    bucket_ms = turns_bucket_ms(periods)
    where = _where(filters, False)
    sql = rollup.grouped_turns_sql(bucket_ms, where.sql(), _group_sql(group))
    return Base(sql, bucket_ms, False, where.params)


def sessions_base(
    state: Mapping[str, str], filters: Filters, periods: Periods, group: str | None = None
) -> Base:
    """Rows of (hour, source, session_id, model, project_key, machine): ``session_hours``'s shape (and
    ``grp`` as in :func:`usage_base`)."""
    if _rolled(filters, group) and rollup_answers(
        state, periods, filters.since_ms, filters.until_ms, sessions=True
    ):
        where = _where(filters, True)
        return Base(f"SELECT * FROM session_hours {where.sql()}", rollup.HOUR_MS, True, where.params)
    bucket_ms = turns_bucket_ms(periods)
    where = _where(filters, False)
    sql = rollup.session_hours_sql(bucket_ms, where.sql(), _group_sql(group))
    return Base(sql, bucket_ms, False, where.params)


def hour_split(
    since_ms: int | None, until_ms: int | None
) -> tuple[tuple[int | None, int | None], list[tuple[int, int]]] | None:
    """[since, until) as the whole UTC hours inside it — ``(first, end)`` in ms, ``None`` where
    unbounded: what a rollup answers — and the partial hours at its edges as ``[lo, hi)`` ranges
    (what only ``turns`` can answer); ``None`` when not one whole hour lies inside."""
    first = None if since_ms is None else -(-since_ms // rollup.HOUR_MS) * rollup.HOUR_MS
    end = None if until_ms is None else until_ms // rollup.HOUR_MS * rollup.HOUR_MS
    if first is not None and end is not None and first >= end:
        return None
    edges = []
    if since_ms is not None and first is not None and since_ms < first:
        edges.append((since_ms, first))
    if until_ms is not None and end is not None and until_ms > end:
        edges.append((end, until_ms))
    return (first, end), edges


def _group_sql(group: str | None) -> str | None:
    return None if group is None else f"s.{STAMP_COLUMN[group]}"
