"""The cost of one turn: exact per-component amounts, rounded once, with the reported cost beside.

With burn's one meaning of usage (``input`` excludes cache reads and writes, ``reasoning`` is inside
``output``) one formula serves every provider; rates are USD per million tokens, so
``tokens x rate`` is exactly micro-USD::

    input*in + output*out + cache_read*cr + cache_write_5m*cw5m + cache_write_1h*cw1h
    + web_search_requests * web_search_per_request * 1e6

* Long context: the prompt of the request is ``input + cache_read + cache_write_5m +
  cache_write_1h``; when it exceeds a tier's threshold, every token of the request — output
  included — is billed at that tier's rates (the highest tier exceeded), not only the excess.
* Fast mode (``speed == "fast"`` or a ``-fast`` id) uses the row's ``fast`` rates; a row without
  them prices at standard rates and the match is flagged ``fallback`` (``fast_rates_unknown``).
* Reasoning tokens are never added: they are already in ``output``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import attrs

from burn.pricing.match import Match, MatchKind
from burn.pricing.money import MICROS_PER_USD, allocate, div_half_even, parse_decimal, usd_to_micros
from burn.pricing.table import PriceRow
from burn.records import Usage

CostSource = Literal["computed", "reported", "none"]
COMPONENTS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "web_search")


@attrs.frozen
class TurnCost:
    """What one turn costs, in integer micro-USD.

    ``cost`` is what totals use: the computed cost when the model is priced, else the cost the
    source reported, else ``None`` (``cost_source`` ``none``: unpriced, never $0).
    """

    match: Match
    components: tuple[int, ...] | None  # micro-USD per COMPONENTS entry; they sum to ``computed``
    computed: int | None
    reported: int | None
    tier: int | None = None  # the long-context threshold applied
    fast: bool = False
    notes: tuple[str, ...] = ()  # approximations made: fast_rates_unknown, web_search_unpriced …
    # The part of the output component spent reasoning (inside it, never added): ``None`` when the
    # turn did not report reasoning tokens or was not computed.
    reasoning: int | None = None

    @property
    def cost(self) -> int | None:
        return self.computed if self.computed is not None else self.reported

    @property
    def source(self) -> CostSource:
        if self.computed is not None:
            return "computed"
        return "reported" if self.reported is not None else "none"

    @property
    def kind(self) -> MatchKind:
        """The match kind, downgraded to ``fallback`` when pricing needed an approximation, and
        ``unpriced`` when no row applies (a turn without any usage keeps its match kind)."""
        if self.match.matched is None or "before_valid_from" in self.notes:
            return "unpriced"
        return "fallback" if self.notes else self.match.kind


def reported_micros(reported_cost_usd: str | None) -> int | None:
    """A source-reported USD cost (decimal string) as micro-USD; unreadable reports are ignored."""
    if reported_cost_usd is None:
        return None
    try:
        return usd_to_micros(parse_decimal(reported_cost_usd))
    except (ValueError, ArithmeticError):  # ArithmeticError: "1e400" does not fit a micro-USD count
        return None


def _known(usage: Usage) -> bool:
    return (
        usage.input is not None
        or usage.output is not None
        or usage.cache_read is not None
        or usage.cache_write_5m is not None
        or usage.cache_write_1h is not None
        or usage.web_search_requests is not None
    )


def price_turn(
    row: PriceRow | None,
    match: Match,
    usage: Usage,
    *,
    speed: str | None = None,
    ts: str | None = None,
    reported_cost_usd: str | None = None,
) -> TurnCost:
    """Price one turn with the row its model matched (``None`` when unpriced)."""
    reported = reported_micros(reported_cost_usd)
    fast = speed == "fast" or match.fast
    if row is None or not _known(usage):
        return TurnCost(match, None, None, reported, fast=fast)
    notes: list[str] = []
    if row.valid_from is not None and ts is not None and ts[:10] < row.valid_from:
        return TurnCost(match, None, None, reported, fast=fast, notes=("before_valid_from",))
    card = row.standard
    if fast:
        if row.fast is not None:
            card = row.fast
        else:
            notes.append("fast_rates_unknown")
    inp, out = usage.input or 0, usage.output or 0
    cr, cw5, cw1 = usage.cache_read or 0, usage.cache_write_5m or 0, usage.cache_write_1h or 0
    rates, tier = card.for_prompt(inp + cr + cw5 + cw1)
    searches = usage.web_search_requests or 0
    web = Decimal(0)
    if searches:
        if row.web_search_per_request is None:
            notes.append("web_search_unpriced")
        else:
            web = searches * row.web_search_per_request * MICROS_PER_USD
    parts = (
        inp * rates.input,
        out * rates.output,
        cr * rates.cache_read,
        cw5 * rates.cache_write_5m,
        cw1 * rates.cache_write_1h,
        web,
    )
    total, components = allocate(parts)
    reasoning = reasoning_share(components[1], out, usage.reasoning)
    return TurnCost(
        match,
        tuple(components),
        total,
        reported,
        tier=tier,
        fast=fast,
        notes=tuple(notes),
        reasoning=reasoning,
    )


def reasoning_share(output_micros: int, output: int, reasoning: int | None) -> int | None:
    """The part of an output cost spent reasoning: ``output_micros × reasoning / output`` rounded
    once, half to even (exact: integers only), so it never exceeds the output cost it is part of.
    ``None`` when reasoning is unknown."""
    if reasoning is None:
        return None
    if output <= 0:
        return 0
    return div_half_even(output_micros * min(max(reasoning, 0), output), output)
