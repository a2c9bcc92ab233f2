"""Accumulators of grouped turn aggregates (tokens, costs, turns) plus a distinct session count.

Sums are additive and accumulate row by row; distinct sessions are not, so they are counted in SQL
(``COUNT(DISTINCT …)`` per bucket and breakdown) and assigned afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from burn.contract.profile import Renderer
from burn.pricing.totals import COST_WIDTH, CostAcc
from burn.records import USAGE_FIELDS
from burn_export_sessions.rows import tokens

# Per group row: turns, then (sum, count) per usage field, then the COST_AGGREGATES.
WIDTH = 1 + 2 * len(USAGE_FIELDS) + COST_WIDTH


class Acc:
    __slots__ = ("cost", "sessions", "turns", "usage")

    def __init__(self) -> None:
        self.turns = 0
        self.usage = [0] * (2 * len(USAGE_FIELDS))
        self.cost = CostAcc()
        self.sessions = 0

    def add(self, values: Sequence[int | None]) -> None:
        self.turns += values[0] or 0
        for i in range(2 * len(USAGE_FIELDS)):
            self.usage[i] += values[1 + i] or 0
        self.cost.add(values[1 + 2 * len(USAGE_FIELDS) :])

    def parts(self) -> dict[str, Any]:
        c = self.cost.as_dict()
        return {
            "turns": self.turns,
            "sessions": self.sessions,
            "tokens": tokens(self.usage[0::2], self.usage[1::2]),
            "cost": {"total_usd_micros": c["cost_usd_micros"], "cost_source": c["cost_source"]},
        }


class Bucket:
    """A usage row's accumulators: its total and its breakdowns by model, project and source."""

    __slots__ = ("by_model", "by_project", "by_source", "total")

    def __init__(self) -> None:
        self.total = Acc()
        self.by_model: dict[str, Acc] = {}
        self.by_project: dict[str | None, Acc] = {}
        self.by_source: dict[str, Acc] = {}

    def add(self, source: str, model: str, project: str | None, values: Sequence[int | None]) -> None:
        self.total.add(values)
        tables: tuple[tuple[dict[Any, Acc], str | None], ...] = (
            (self.by_model, model),
            (self.by_project, project),
            (self.by_source, source),
        )
        for table, k in tables:
            acc = table.get(k)
            if acc is None:
                acc = table[k] = Acc()
            acc.add(values)

    def set_sessions(self, breakdown: int, key: Any, n: int) -> None:
        """Distinct sessions: of the bucket (breakdown 0), or of one model, project or source."""
        if breakdown == 0:
            self.total.sessions = n
            return
        table: dict[Any, Acc] = (self.by_model, self.by_project, self.by_source)[breakdown - 1]
        if key in table:
            table[key].sessions = n

    def parts(self, render: Renderer) -> dict[str, Any]:
        def rows(table: dict[Any, Acc], name: str, show: Any = None) -> list[dict[str, Any]]:
            keyed = [((show(k) if show else k), acc) for k, acc in table.items()]
            keyed.sort(key=lambda ka: (ka[0] is None, ka[0] or ""))
            return [{name: k, **acc.parts()} for k, acc in keyed]

        return {
            **self.total.parts(),
            "models": sorted(self.by_model),
            "by_model": rows(self.by_model, "model"),
            "by_project": rows(self.by_project, "project_key", render.key),
            "by_source": rows(self.by_source, "source"),
        }
