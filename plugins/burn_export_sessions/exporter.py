"""The sessions exporter: one row per session from the archive's ``session_rollup``.

Order (total, documented): ``started_at`` ascending (sessions without any timestamp first), then
``source``, then the source's ``session_id`` (bytewise). Keyset pages continue strictly after the
last ``(sort_ms, source, session_id)`` emitted, among rows created at or before the watermark.
"""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from burn.exporter import ArchiveView, BurnError, Facts, Key, Page, Renderer, plain_rows
from burn.query import MODEL_ENTRY, Filters, Where, group_cost_source, matching, overlap, session_seq
from burn_export_sessions.rows import COLUMNS, FULL_COLUMNS, row_builder

ORDER = "started_at,source,session_id"
_KEY = "r.sort_ms, r.source, r.session_id"


class SessionsExporter:
    """One row per session (sessions contract v1); see docs/contracts.md."""

    surface = "sessions"
    schema_version = 1
    verb = "export"
    commands: Mapping[str, Mapping[str, Any]] = {"sessions": {}}
    paged = True
    order = ORDER

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        g = parser.add_mutually_exclusive_group()
        g.add_argument("--roots-only", dest="roots_only", action="store_const", const=True, default=None,
                       help="leave out subagent sessions (their cost is in their parent's "
                       "including_children_usd_micros)")  # fmt: skip
        g.add_argument("--include-children", dest="roots_only", action="store_const", const=False,
                       help="include subagent sessions as rows of their own (default)")  # fmt: skip
        parser.add_argument("--exclude-automated", action="store_const", const=True, default=None,
                            help="leave out sessions classified automated")  # fmt: skip

    def filters(self, archive: ArchiveView, options: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "roots_only": bool(options.get("roots_only")),
            "exclude_automated": bool(options.get("exclude_automated")),
        }

    def open(self, archive: ArchiveView, filters: Mapping[str, Any], render: Renderer) -> SessionsQuery:
        if archive.state().get("rollup") != "ok":
            # Mid cold build or re-pricing the session rollup is not current yet: better no answer
            # than rows that silently miss sessions. A build that failed (a full disk) leaves the
            # same state with nothing running, so the message claims neither.
            raise BurnError(
                "the archive is not complete (its session rollup is not current: a build is running "
                "or was interrupted): run `burn ingest` or `burn archive build`"
            )
        return SessionsQuery(
            archive.db, Filters.from_canonical(filters), dict(filters), render, render.machine
        )

    def rows(self, archive: ArchiveView, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every row under the shareable profile (the plain :class:`Exporter` use)."""
        return plain_rows(self, archive, options)


@attrs.define
class SessionsQuery:
    db: sqlite3.Connection
    filters: Filters
    own: dict[str, Any]  # the surface's own filters (roots_only, exclude_automated)
    render: Renderer
    machine: str
    _labels: dict[str, str | None] = attrs.field(factory=dict, init=False)
    _page_keys: frozenset[str] = attrs.field(factory=frozenset, init=False)  # from facts()

    def _where(self, page: Page | None) -> tuple[str, dict[str, Any]]:
        terms: list[str] = []
        params: dict[str, Any] = {}
        if page is not None:
            terms.append("r.created_seq <= :watermark")
            params["watermark"] = page.watermark
            if page.after is not None:
                terms.append(f"({_KEY}) > (:after0, :after1, :after2)")
                params.update({f"after{i}": v for i, v in enumerate(page.after)})
        # Sessions active in the window: they overlap it.
        where = Where(tuple(terms), params) + overlap("r.started_ms", "r.ended_ms", self.filters)
        where += matching(self.filters, source="r.source", project="r.project_key",
                          session_model=("r.source", "r.session_id"), stamps="r")  # fmt: skip
        extra = []
        if self.own.get("roots_only"):
            extra.append("r.relationship != 'subagent'")
        if self.own.get("exclude_automated"):
            extra.append("COALESCE(r.classification, '') != 'automated'")
        where += Where(tuple(extra))
        return where.sql(), dict(where.params)

    def _page_sql(self, page: Page | None, columns: str) -> tuple[str, dict[str, Any]]:
        where, args = self._where(page)
        limit = f"LIMIT {int(page.limit)}" if page is not None and page.limit is not None else ""
        return f"SELECT {columns} FROM session_rollup r {where} ORDER BY {_KEY} {limit}", args

    def watermark(self) -> int:
        return session_seq(self.db)

    def snapshot(self, watermark: int) -> tuple[int, int]:
        where, args = self._where(Page(watermark))
        n, changed = self.db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(r.revision > :changed_after), 0) FROM session_rollup r {where}",
            {**args, "changed_after": watermark},
        ).fetchone()
        return int(n), int(changed)

    def facts(self, page: Page | None = None) -> Facts:
        # One pass over the page's rows, grouped by project and list of models (a few groups);
        # without a limit the order does not matter (a plain scan, not the order index). The
        # per-model arrays are read only when some session has unpriced or fallback turns.
        def page_sql(columns: str) -> tuple[str, dict[str, Any]]:
            if page is None or page.limit is None:
                where, args = self._where(page)
                return f"SELECT {columns} FROM session_rollup r {where}", args
            return self._page_sql(page, columns)

        sql, args = page_sql("r.project_key, r.models, r.computed_turns, r.reported_turns, r.unpriced_turns, "
                             "r.fallback_turns")  # fmt: skip
        comp = rep = priced = 0
        keys: list[str] = []
        models: dict[str, tuple[int, int]] = {}
        for kind, name, a, b, c in self.db.execute(
            f"""WITH g AS MATERIALIZED (
              SELECT project_key, models, SUM(computed_turns) AS comp, SUM(reported_turns) AS rep,
                     MAX(unpriced_turns OR fallback_turns) AS priced
              FROM ({sql}) GROUP BY project_key, models)
            SELECT 0, NULL, COALESCE(SUM(comp), 0), COALESCE(SUM(rep), 0), COALESCE(MAX(priced), 0) FROM g
            UNION ALL SELECT 1, project_key, 0, 0, 0 FROM g WHERE project_key IS NOT NULL GROUP BY project_key
            UNION ALL SELECT 2, j.value, 0, 0, 0 FROM g, json_each(g.models) j GROUP BY j.value""",
            args,
        ):
            if kind == 0:
                comp, rep, priced = a, b, c
            elif kind == 1:
                keys.append(name)
            else:
                models[name] = (0, 0)
        if priced:
            sql, args = page_sql("r.unpriced_turns, r.fallback_turns, r.by_model")
            models.update(
                (name, (unpriced, fallback))
                for name, unpriced, fallback in self.db.execute(
                    f"""WITH p AS ({sql}) SELECT json_extract(j.value, '$[0]'),
                      SUM(json_extract(j.value, '$[{MODEL_ENTRY["unpriced_turns"]}]')),
                      SUM(json_extract(j.value, '$[{MODEL_ENTRY["fallback_turns"]}]'))
                    FROM p, json_each(p.by_model) j WHERE p.unpriced_turns OR p.fallback_turns GROUP BY 1""",
                    args,
                )
            )
        per_model = []
        for m in sorted(models):
            unpriced, fallback = models[m]
            per_model.append({"model": m, "unpriced": {"turns": unpriced}, "fallback_turns": fallback})
        self._page_keys = frozenset(keys)
        return Facts(models=per_model, project_keys=keys, cost_source=group_cost_source(comp, rep))

    def rows(self, page: Page | None = None) -> Iterator[tuple[Key, Mapping[str, Any]]]:
        columns = COLUMNS + (FULL_COLUMNS if self.render.full else "")
        sql, args = self._page_sql(page, columns)
        yield from map(row_builder(self.render, self.machine, self._label), self.db.execute(sql, args))

    def _label(self, key: str | None) -> str | None:
        """The label of a project key under the profile (``project_label``). The first key of the
        page brings every key of the page (``facts()`` found them) in one lookup: one lookup per
        key cost more than the rest of an export together."""
        if key is None:
            return None
        if key not in self._labels:
            keys = self._page_keys if key in self._page_keys else [key]
            self._labels.update(self.render.labels(self.db, keys))
        return self._labels[key]

    def summary(self) -> Mapping[str, Any] | None:
        return None
