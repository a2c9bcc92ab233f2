"""Typed rows of summed usage: what the rollup aggregates (:data:`burn.archive.rollup.NAMES`) of a group
of turns say, with unknown kept unknown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from burn.archive import rollup
from burn.pricing.totals import CostSums
from burn.records import TOTAL_FIELDS, USAGE_FIELDS


@attrs.frozen
class UsageSums:
    """``tokens``: per usage field its sum, ``None`` when no turn reported it; ``unknown``: per
    field the turns that did not report it (only fields some turn left out); ``cost``: the cost
    aggregates."""

    turns: int
    tokens: Mapping[str, int | None]
    unknown: Mapping[str, int]
    cost: CostSums

    @classmethod
    def of(cls, values: Mapping[str, int | None]) -> UsageSums:
        """From the named aggregates (a missing or ``None`` sum is 0: no turn in the group)."""
        v = {name: values.get(name) or 0 for name in rollup.NAMES}
        turns = v["turns"]
        return cls(
            turns=turns,
            tokens={f: v[f] if v[f"{f}_n"] else None for f in USAGE_FIELDS},
            unknown={f: turns - v[f"{f}_n"] for f in USAGE_FIELDS if v[f"{f}_n"] < turns},
            cost=CostSums.of(v),
        )

    @classmethod
    def of_row(cls, values: Sequence[int | None]) -> UsageSums:
        """From the aggregates in :data:`burn.archive.rollup.NAMES` order (an empty row: no turns)."""
        return cls.of(dict(zip(rollup.NAMES, values, strict=False)))

    @property
    def total(self) -> int:
        """Total tokens: the reported :data:`~burn.records.TOTAL_FIELDS` added up."""
        return sum(self.tokens[f] or 0 for f in TOTAL_FIELDS)
