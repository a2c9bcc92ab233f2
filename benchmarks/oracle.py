"""The expected totals the corpus generators write: tokens in burn's meaning and exact costs.

Every generator tallies each billed model response **once, when it generates it** — never by
parsing its own output — so ``expected.json`` is an oracle independent of burn's readers. Costs
are computed per response with burn's pricing library and its bundled table (the same rates,
tiers and half-even rounding to integer micro-USD that ``burn ingest`` applies, docs/pricing.md),
then summed as integers. So a burn whose readers deduplicate correctly at scale reproduces the
expected cost to the micro-dollar, and any difference points at the reading, not the pricing.

Field names are burn's (``burn summary --json``): ``input`` excludes cache reads and writes,
``output`` includes reasoning, ``reasoning`` is the part of output spent reasoning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The token fields of burn's Usage, then the counts the oracle adds.
TOKEN_FIELDS = (
    "input",
    "output",
    "reasoning",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "web_search_requests",
)
FIELDS = (*TOKEN_FIELDS, "turns", "cost_usd_micros")

Totals = dict[str, int]


def density_field(density: float) -> dict[str, float]:
    """expected.json's ``density`` entry: absent at the default, so default corpora are unchanged."""
    return {} if density == 1 else {"density": density}


def zero_totals(fields: Iterable[str] = FIELDS) -> Totals:
    return dict.fromkeys(fields, 0)


def add_into(target: Totals, values: Mapping[str, int]) -> None:
    for name, value in values.items():
        target[name] = target.get(name, 0) + value


class Pricer:
    """Prices one response with burn's bundled table, exactly as the archive does.

    burn is imported lazily so that generating without burn installed fails with a clear message
    only when costs are asked for. Matches are memoized per model id (a corpus uses a handful).
    """

    def __init__(self) -> None:
        try:
            from burn.pricing.cost import price_turn
            from burn.pricing.load import Pricing, bundled_table
            from burn.records import Usage
        except ImportError as exc:  # pragma: no cover - burn is a dev install in this repo
            raise SystemExit(f"the generators price responses with burn's library: {exc}") from exc
        self._price_turn = price_turn
        self._usage = Usage
        # The bundled table only: a user's $RELAYBURN_HOME/pricing.json must not leak in.
        self._pricing = Pricing.from_table(bundled_table())
        self._rows: dict[str, tuple[Any, Any]] = {}

    def _row(self, model: str) -> tuple[Any, Any]:
        hit = self._rows.get(model)
        if hit is None:
            match = self._pricing.match(model)
            hit = self._rows[model] = (self._pricing.row_for(match), match)
        return hit

    def priced(self, model: str) -> bool:
        return self._row(model)[0] is not None

    def cost(self, model: str, usage: Mapping[str, int], ts: str, reported_micros: int | None = None) -> int:
        """Micro-USD burn charges for one response: computed when the model is priced, else the
        source's reported cost, else nothing (an unpriced turn adds 0 to every total)."""
        row, match = self._row(model)
        u = self._usage(**{k: usage[k] for k in TOKEN_FIELDS if k in usage})
        computed = self._price_turn(row, match, u, ts=ts).cost
        if computed is not None:
            return int(computed)
        return reported_micros or 0


@dataclass
class Tally:
    """Totals overall and per UTC day, fed one response at a time."""

    fields: tuple[str, ...] = FIELDS
    totals: Totals = field(default_factory=dict)
    by_day: dict[str, Totals] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.totals = zero_totals(self.fields)

    def add(self, day: str, values: Mapping[str, int]) -> None:
        bucket = self.by_day.get(day)
        if bucket is None:
            bucket = self.by_day[day] = zero_totals(self.fields)
        for name, value in values.items():
            self.totals[name] += value
            bucket[name] += value

    def as_json(self) -> dict[str, Any]:
        return {"totals": dict(self.totals), "by_day": dict(sorted(self.by_day.items()))}
