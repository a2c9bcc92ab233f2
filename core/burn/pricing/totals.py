"""Cost sums for grouped reports: the SQL aggregates one grouped scan adds, and their accumulator.

Totals are exact integer sums of the per-turn micro-USD values stored in the archive, so any
grouping of the same turns adds up to the same total. A group with no costed turn has cost
``None`` (unknown), never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

GroupCostSource = Literal["computed", "reported", "mixed", "none"]

_TOKENS = "COALESCE(t.input,0)+COALESCE(t.output,0)+COALESCE(t.cache_read,0)" \
    "+COALESCE(t.cache_write_5m,0)+COALESCE(t.cache_write_1h,0)"  # fmt: skip

# Aggregates over ``turns t``; COST_WIDTH values per group row, in this order. Every one is
# additive (sums and counts), so the hourly rollup can store them and sum them again.
COST_AGGREGATES = (
    "SUM(t.cost_usd_micros)",
    "COUNT(t.cost_usd_micros)",
    "SUM(t.computed_cost_micros)",
    "SUM(t.reported_cost_micros)",
    "COUNT(t.reported_cost_micros)",
    "SUM(t.cost_source = 'computed')",
    "SUM(t.cost_source = 'reported')",
    "SUM(t.price_match = 'unpriced')",
    f"SUM(CASE WHEN t.price_match = 'unpriced' THEN {_TOKENS} ELSE 0 END)",
    "SUM(t.price_match = 'fallback')",
)
COST_SQL = ", ".join(COST_AGGREGATES)
COST_WIDTH = len(COST_AGGREGATES)


def group_cost_source(computed_turns: int, reported_turns: int) -> GroupCostSource:
    """``computed`` / ``reported`` when every costed turn used one kind, ``mixed`` when both."""
    if computed_turns and reported_turns:
        return "mixed"
    if computed_turns:
        return "computed"
    return "reported" if reported_turns else "none"


class CostAcc:
    """Sums of the COST_SQL aggregates over any number of group rows."""

    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v = [0] * COST_WIDTH

    def add(self, values: Sequence[int | None]) -> None:
        for i, x in enumerate(values):
            self.v[i] += x or 0

    def as_dict(self) -> dict[str, Any]:
        cost, costed, computed, reported, reported_n, n_comp, n_rep, unpriced, unpriced_tok, fallback = self.v
        return {
            "cost_usd_micros": cost if costed else None,
            "cost_source": group_cost_source(n_comp, n_rep),
            "computed_usd_micros": computed if n_comp else None,
            "reported_usd_micros": reported if reported_n else None,
            "unpriced": {"turns": unpriced, "tokens": unpriced_tok},
            "fallback_turns": fallback,
        }
