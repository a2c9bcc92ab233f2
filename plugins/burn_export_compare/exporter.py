"""The compare exporter: models side by side per activity category (:mod:`burn.query.compare`).

Rows are (model, category) groups in that order; the summary repeats the sample-size threshold so
a consumer knows what ``small_sample`` meant.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from burn.exporter import ArchiveView, Facts, Key, Page, Renderer, plain_rows, positive
from burn.query import Filters, group_cost_source
from burn.query.compare import DEFAULT_MIN_TURNS, Group, compare, model_facts, rows


class CompareExporter:
    """Models side by side per activity category (compare contract v1)."""

    surface = "compare"
    schema_version = 1
    verb = "report"
    commands: Mapping[str, Mapping[str, Any]] = {"compare": {}}
    paged = False
    order = "model,category"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        # --models a,b is --model a --model b: the shared model filter, spelt as issue 18 asks.
        parser.add_argument("--models", dest="model", action="append", metavar="A,B",
                            help="only these models (comma-separated; = --model)")  # fmt: skip
        parser.add_argument(
            "--min-turns",
            type=positive,
            default=None,
            metavar="N",
            help=f"groups with fewer turns are marked small_sample (default {DEFAULT_MIN_TURNS})",
        )

    def filters(self, archive: ArchiveView, options: Mapping[str, Any]) -> dict[str, Any]:
        n = options.get("min_turns")
        return {"min_turns": DEFAULT_MIN_TURNS if n is None else int(n)}

    def open(self, archive: ArchiveView, filters: Mapping[str, Any], render: Renderer) -> CompareQuery:
        n = filters.get("min_turns")
        return CompareQuery(archive, Filters.from_canonical(filters),
                            DEFAULT_MIN_TURNS if n is None else int(n))  # fmt: skip

    def rows(self, archive: ArchiveView, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every row under the shareable profile (the plain :class:`Exporter` use)."""
        return plain_rows(self, archive, options)


@attrs.define
class CompareQuery:
    archive: ArchiveView
    filters: Filters
    min_turns: int
    _groups: list[Group] | None = None
    _rows: list[dict[str, Any]] | None = None

    def _all(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = list(rows(self._compared(), self.min_turns))
        return self._rows

    def _compared(self) -> list[Group]:
        if self._groups is None:
            self._groups = compare(self.archive, self.filters)
        return self._groups

    def facts(self, page: Page | None = None) -> Facts:
        models, keys = model_facts(self.archive, self.filters, self._compared())
        comp = sum(1 for r in self._all() if r["cost"]["cost_source"] in ("computed", "mixed"))
        rep = sum(1 for r in self._all() if r["cost"]["cost_source"] in ("reported", "mixed"))
        return Facts(models=models, project_keys=keys, cost_source=group_cost_source(comp, rep))

    def rows(self, page: Page | None = None) -> Iterator[tuple[Key, Mapping[str, Any]]]:
        for row in self._all():
            yield (row["model"], row["category"]), row

    def summary(self) -> Mapping[str, Any] | None:
        all_rows = self._all()
        return {
            "min_turns": self.min_turns,
            "small_samples": sum(1 for r in all_rows if r["small_sample"]),
            "models": sorted({r["model"] for r in all_rows}),
        }

    def watermark(self) -> int:
        return 0

    def snapshot(self, watermark: int) -> tuple[int, int]:
        return 0, 0
