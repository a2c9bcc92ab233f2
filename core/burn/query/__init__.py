"""The read path: one way from an archive to numbers, for ``burn summary``, ``burn report``,
``burn export`` (every exporter plugin) and whatever reads next (a server, a dashboard).

* :class:`Filters` — what a read selects (window, time zone, sources, projects, models), built in
  one place from options or from a document's canonical filters;
* :mod:`~burn.query.where` — filters as SQL conditions (:func:`matching`, :func:`window`,
  :func:`overlap`);
* :mod:`~burn.query.base` — the one choice between the hourly rollups and ``turns``
  (:func:`usage_base`, :func:`sessions_base`), with local days from :mod:`~burn.query.buckets`;
* named aggregates (:data:`AGGREGATE_NAMES`, :data:`MODEL_ENTRY`) instead of stored positions,
  and typed rows (:class:`UsageSums`, :class:`CostSums`);
* :mod:`~burn.query.timing` — a session's timing summary (:func:`session_timing`);
* :class:`ArchiveView` — what a read needs of an archive.

This package and :mod:`burn.exporter`, :mod:`burn.records`, :mod:`burn.reader`,
:mod:`burn.readkit` and :mod:`burn.store` are the public plugin API (docs/plugin-hooks.md).
"""

from __future__ import annotations

from burn.archive.activity import CATEGORIES as ACTIVITY_CATEGORIES
from burn.archive.activity import RULES_VERSION as ACTIVITY_RULES_VERSION
from burn.archive.rollup import AGGREGATES as _AGGREGATES
from burn.archive.rollup import HOUR_MS, hourly_sql
from burn.archive.rollup import NAMES as AGGREGATE_NAMES
from burn.archive.session_rollup import MODEL_ENTRY
from burn.archive.session_rollup import seq as session_seq
from burn.pricing.totals import COMPONENT_NAMES, COST_NAMES, CostSums, component_values, group_cost_source
from burn.pricing.totals import components as cost_components
from burn.query.base import Base, sessions_base, turns_where, usage_base
from burn.query.buckets import Periods, day_expr, day_number_expr, day_of_number, offset_periods, time_range
from burn.query.filters import Filters, iso, iso_ms
from burn.query.sums import UsageSums
from burn.query.timing import SESSION_TIMING_SQL, TIMING_WIDTH, per_second, session_timing
from burn.query.view import ArchiveView
from burn.query.where import Where, matching, overlap, window

# Each named aggregate as SQL over ``turns t`` (the rollup's definition, for reads that group
# turns themselves).
TURN_AGGREGATES: dict[str, str] = {name: expr for name, _, expr in _AGGREGATES}

__all__ = [
    "ACTIVITY_CATEGORIES",
    "ACTIVITY_RULES_VERSION",
    "AGGREGATE_NAMES",
    "COMPONENT_NAMES",
    "COST_NAMES",
    "HOUR_MS",
    "MODEL_ENTRY",
    "SESSION_TIMING_SQL",
    "TIMING_WIDTH",
    "TURN_AGGREGATES",
    "ArchiveView",
    "Base",
    "CostSums",
    "Filters",
    "Periods",
    "UsageSums",
    "Where",
    "component_values",
    "cost_components",
    "day_expr",
    "day_number_expr",
    "day_of_number",
    "group_cost_source",
    "hourly_sql",
    "iso",
    "iso_ms",
    "matching",
    "offset_periods",
    "overlap",
    "per_second",
    "session_seq",
    "session_timing",
    "sessions_base",
    "time_range",
    "turns_where",
    "usage_base",
    "window",
]
