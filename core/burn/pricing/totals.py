"""Cost sums for grouped reports: the SQL aggregates one grouped scan adds, and their accumulator.

Totals are exact integer sums of the per-turn micro-USD values stored in the archive, so any
grouping of the same turns adds up to the same total. A group with no costed turn has cost
``None`` (unknown), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from burn.records import TOTAL_FIELDS

GroupCostSource = Literal["computed", "reported", "mixed", "none"]

_TOKENS = "+".join(f"COALESCE(t.{f},0)" for f in TOTAL_FIELDS)

# The cost components of a group (contracts' ``cost.components``): the computed turns' per-component
# costs, the part of output spent reasoning (inside ``output``, with the number of turns that
# reported it), and the reported costs of turns burn could not compute (no breakdown). Every turn's
# components sum exactly to its cost (largest remainder, burn.pricing.money.allocate), so
# input + output + cache_read + cache_write_5m + cache_write_1h + web_search + reported is exactly
# the group's ``cost_usd_micros``.
COMPONENT_AGGREGATES: tuple[tuple[str, str], ...] = (
    ("c_input", "SUM(t.cost_input_micros)"),
    ("c_output", "SUM(t.cost_output_micros)"),
    ("c_reasoning", "SUM(t.cost_reasoning_micros)"),
    ("c_reasoning_n", "COUNT(t.cost_reasoning_micros)"),
    ("c_cache_read", "SUM(t.cost_cache_read_micros)"),
    ("c_cache_write_5m", "SUM(t.cost_cache_write_5m_micros)"),
    ("c_cache_write_1h", "SUM(t.cost_cache_write_1h_micros)"),
    ("c_web_search", "SUM(t.cost_web_search_micros)"),
    ("c_reported", "SUM(CASE WHEN t.cost_source = 'reported' THEN t.cost_usd_micros ELSE 0 END)"),
)
COMPONENT_NAMES = tuple(name for name, _ in COMPONENT_AGGREGATES)


def components(values: Mapping[str, int | None], costed_turns: int | None) -> dict[str, int | None] | None:
    """The ``cost.components`` object of a group from its named :data:`COMPONENT_AGGREGATES`:
    ``None`` when no turn was costed; ``reasoning`` ``None`` when no computed turn reported
    reasoning tokens."""
    return component_values([values.get(k) for k in COMPONENT_NAMES], costed_turns)


# (name in ``cost.components``, position among COMPONENT_NAMES), in the object's order.
_COMPONENT_PLAN = tuple((k[2:], i) for i, k in enumerate(COMPONENT_NAMES) if k != "c_reasoning_n")
_REASONING_N = COMPONENT_NAMES.index("c_reasoning_n")


def component_values(values: Sequence[int | None], costed_turns: int | None) -> dict[str, int | None] | None:
    """:func:`components` from the aggregates' values in :data:`COMPONENT_NAMES` order (a report's
    rows carry them so: no mapping built per entry)."""
    if not costed_turns:
        return None
    out: dict[str, int | None] = {name: values[i] or 0 for name, i in _COMPONENT_PLAN}
    if not values[_REASONING_N]:
        out["reasoning"] = None
    return out


# Aggregates over ``turns t``, by name, in the order the hourly rollup and the session rollup
# store them. Every one is additive (sums and counts), so the rollups can store them and sum
# them again.
COST_AGGREGATES: tuple[tuple[str, str], ...] = (
    ("cost_usd_micros", "SUM(t.cost_usd_micros)"),
    ("costed_turns", "COUNT(t.cost_usd_micros)"),
    ("computed_usd_micros", "SUM(t.computed_cost_micros)"),
    ("reported_usd_micros", "SUM(t.reported_cost_micros)"),
    ("reported_costed_turns", "COUNT(t.reported_cost_micros)"),
    ("computed_turns", "SUM(t.cost_source = 'computed')"),
    ("reported_turns", "SUM(t.cost_source = 'reported')"),
    ("unpriced_turns", "SUM(t.price_match = 'unpriced')"),
    ("unpriced_tokens", f"SUM(CASE WHEN t.price_match = 'unpriced' THEN {_TOKENS} ELSE 0 END)"),
    ("fallback_turns", "SUM(t.price_match = 'fallback')"),
    *COMPONENT_AGGREGATES,
)
COST_NAMES = tuple(name for name, _ in COST_AGGREGATES)


def group_cost_source(computed_turns: int, reported_turns: int) -> GroupCostSource:
    """``computed`` / ``reported`` when every costed turn used one kind, ``mixed`` when both."""
    if computed_turns and reported_turns:
        return "mixed"
    if computed_turns:
        return "computed"
    return "reported" if reported_turns else "none"


@attrs.frozen
class CostSums:
    """The :data:`COST_AGGREGATES` of a group of turns, by name."""

    cost_usd_micros: int = 0
    costed_turns: int = 0
    computed_usd_micros: int = 0
    reported_usd_micros: int = 0
    reported_costed_turns: int = 0
    computed_turns: int = 0
    reported_turns: int = 0
    unpriced_turns: int = 0
    unpriced_tokens: int = 0
    fallback_turns: int = 0

    @classmethod
    def of(cls, values: Mapping[str, int | None]) -> CostSums:
        """From named sums (``None``, no turn in the group, is 0)."""
        return cls(**{f.name: values.get(f.name) or 0 for f in attrs.fields(cls)})

    def as_dict(self) -> dict[str, Any]:
        """The cost block of ``burn summary`` rows (unknown cost is ``None``, never 0)."""
        return {
            "cost_usd_micros": self.cost_usd_micros if self.costed_turns else None,
            "cost_source": group_cost_source(self.computed_turns, self.reported_turns),
            "computed_usd_micros": self.computed_usd_micros if self.computed_turns else None,
            "reported_usd_micros": self.reported_usd_micros if self.reported_costed_turns else None,
            "unpriced": {"turns": self.unpriced_turns, "tokens": self.unpriced_tokens},
            "fallback_turns": self.fallback_turns,
        }
