"""Filters as SQL, in one place: the conditions every read adds for a window and for sources,
projects and models.

Values are named parameters (``:sources0`` …), so conditions built for different tables of one
statement share one parameter mapping. Window bounds are integers written into the SQL (no
parameters are needed inside a ``WITH`` clause that is reused).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from burn.query.filters import Filters

# A stamp field → its column in ``sessions`` and ``session_rollup`` (burn.archive.enrich.STAMPED).
STAMP_COLUMN = {"workflow": "workflow_id", "agent": "stamp_agent", "persona": "stamp_persona",
                "tier": "stamp_tier"}  # fmt: skip


@attrs.frozen
class Where:
    """Conditions (joined with AND) and the named parameters they use."""

    terms: tuple[str, ...] = ()
    params: Mapping[str, Any] = attrs.field(factory=dict)

    def sql(self) -> str:
        """``WHERE …``, or nothing without conditions."""
        return ("WHERE " + " AND ".join(self.terms)) if self.terms else ""

    def __add__(self, other: Where) -> Where:
        return Where((*self.terms, *other.terms), {**self.params, **other.params})


def window(column: str, since_ms: int | None, until_ms: int | None, unit_ms: int = 1) -> Where:
    """[since, until) on ``column`` measured in units of ``unit_ms`` (bounds rounded outwards)."""
    terms = []
    if since_ms is not None:
        terms.append(f"{column} >= {int(since_ms) // unit_ms}")
    if until_ms is not None:
        terms.append(f"{column} < {-(-int(until_ms) // unit_ms)}")
    return Where(tuple(terms))


def overlap(start: str, end: str, filters: Filters) -> Where:
    """Rows whose [start, end] span overlaps the window (sessions active in it)."""
    terms = []
    if filters.since_ms is not None:
        terms.append(f"{end} >= {int(filters.since_ms)}")
    if filters.until_ms is not None:
        terms.append(f"{start} < {int(filters.until_ms)}")
    return Where(tuple(terms))


def _within(column: str, name: str, values: tuple[str, ...]) -> Where:
    params = {f"{name}{i}": v for i, v in enumerate(values)}
    return Where((f"{column} IN ({','.join(':' + p for p in params)})",), params)


def matching(
    filters: Filters,
    *,
    source: str | None = None,
    project: str | None = None,
    model: str | None = None,
    session_model: tuple[str, str] | None = None,
    machine: str | None = None,
    stamps: str | None = None,
) -> Where:
    """The source, project, model and machine filters on the given columns. ``model``: the row's own model
    is one of them; ``session_model`` (the row's source and session id columns): its session used
    one of them (``session_models``); ``stamps``: the alias of a table with the sessions' stamp
    columns (``sessions``, ``session_rollup``). A filter whose column is not given is not applied."""
    where = Where()
    if filters.stamps and stamps is not None:
        for field, values in filters.stamps:
            where += _within(f"{stamps}.{STAMP_COLUMN[field]}", f"stamp_{field}", values)
    if filters.sources and source is not None:
        where += _within(source, "sources", filters.sources)
    if filters.projects and project is not None:
        where += _within(project, "projects", filters.projects)
    if filters.models and session_model is not None:
        src, sid = session_model
        inner = _within("m.model", "models", filters.models)
        where += Where(
            (
                f"EXISTS (SELECT 1 FROM session_models m WHERE m.source = {src} AND "
                f"m.session_id = {sid} AND {inner.terms[0]})",
            ),
            inner.params,
        )
    if filters.models and model is not None:
        where += _within(model, "models", filters.models)
    if filters.machines and machine is not None:
        where += _within(machine, "machines", filters.machines)
    return where
