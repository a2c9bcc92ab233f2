"""Property tests (hypothesis): exact money survives any grouping, components always add up, the
long-context rule bills the whole request, decimals have one spelling."""

from __future__ import annotations

import random
import tempfile
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from burn.archive.database import Archive
from burn.ledger.file import FileStore
from burn.pricing.cost import price_turn
from burn.pricing.load import Pricing, load_pricing
from burn.pricing.money import allocate, dec_str, div_half_even
from burn.query import Filters
from burn.query.summary import summarize
from burn.query.timewindow import resolve_timezone
from burn.records import Turn, Usage

PRICING: Pricing = load_pricing(Path("/nonexistent-burn-home"))
MODELS = [
    "claude-sonnet-4-5-20250929",  # long-context tier
    "claude-opus-4-6",  # fast rates
    "gpt-5",
    "claude-3-haiku-20240307",
    "aide-gpt-5",  # fallback
    "big-pickle",  # unpriced
]

counts = st.one_of(st.none(), st.integers(0, 400_000))
usages = st.builds(
    Usage,
    input=counts,
    output=st.one_of(st.none(), st.integers(0, 64_000)),
    cache_read=counts,
    cache_write_5m=counts,
    cache_write_1h=counts,
    web_search_requests=st.one_of(st.none(), st.integers(0, 5)),
)
turn_specs = st.tuples(
    st.sampled_from(MODELS),
    usages,
    st.sampled_from([None, "standard", "fast"]),
    st.one_of(st.none(), st.decimals(0, 100, places=7).map(str)),
)


def _exact(model: str, usage: Usage, speed: str | None) -> Decimal | None:
    """The unrounded cost, written out independently of cost.py's code path."""
    m = PRICING.match(model)
    row = PRICING.row_for(m)
    if row is None or all(v is None for v in (usage.input, usage.output, usage.cache_read,
                                               usage.cache_write_5m, usage.cache_write_1h,
                                               usage.web_search_requests)):  # fmt: skip
        return None
    card = row.fast if (speed == "fast" and row.fast is not None) else row.standard
    prompt = sum(v or 0 for v in (usage.input, usage.cache_read, usage.cache_write_5m, usage.cache_write_1h))
    r = card.rates
    for tier in card.tiers:
        if prompt > tier.threshold:
            r = tier.rates
    web = (usage.web_search_requests or 0) * (row.web_search_per_request or 0) * 1_000_000
    return (
        (usage.input or 0) * r.input
        + (usage.output or 0) * r.output
        + (usage.cache_read or 0) * r.cache_read
        + (usage.cache_write_5m or 0) * r.cache_write_5m
        + (usage.cache_write_1h or 0) * r.cache_write_1h
        + web
    )


@given(st.lists(turn_specs, max_size=40), st.randoms(use_true_random=False), st.integers(1, 6))
def test_any_grouping_or_order_of_turns_sums_to_the_same_total(
    specs: list[tuple[str, Usage, str | None, str | None]], rnd: random.Random, groups: int
) -> None:
    costs = []
    for model, usage, speed, reported in specs:
        m = PRICING.match(model)
        tc = price_turn(PRICING.row_for(m), m, usage, speed=speed, reported_cost_usd=reported)
        exact = _exact(model, usage, speed)
        if exact is None:
            assert tc.computed is None
        else:
            assert tc.computed == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))  # rounded once
            assert tc.components is not None and sum(tc.components) == tc.computed
        costs.append(tc.cost)
    total = sum(c or 0 for c in costs)
    shuffled = list(costs)
    rnd.shuffle(shuffled)
    buckets: list[int] = [0] * groups
    for c in shuffled:
        buckets[rnd.randrange(groups)] += c or 0
    assert sum(buckets) == total


@given(st.lists(st.decimals(0, 10**9, places=6, allow_nan=False, allow_infinity=False), max_size=8))
def test_components_are_within_one_unit_and_add_up_to_the_rounded_total(parts: list[Decimal]) -> None:
    total, comps = allocate(parts)
    assert total == int(sum(parts, Decimal(0)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    assert sum(comps) == total
    assert all(abs(c - p) < 1 for c, p in zip(comps, parts, strict=True))


@given(st.integers(-(10**18), 10**18), st.integers(1, 10**12))
def test_integer_half_even_division_is_the_rounded_fraction(n: int, d: int) -> None:
    """reasoning_share's rounding (no Fraction built per turn) against the fraction it replaces,
    ties included: every n/d with d even and n an odd multiple of d/2 is one."""
    assert div_half_even(n, d) == round(Fraction(n, d))
    assert div_half_even(2 * n + 1, 2) == round(Fraction(2 * n + 1, 2))  # a tie, odd or even


@given(st.integers(0, 400_000), st.integers(0, 400_000), st.integers(0, 50_000))
def test_long_context_bills_every_token_of_the_request_at_one_rate(inp: int, cached: int, out: int) -> None:
    m = PRICING.match("claude-sonnet-4-5-20250929")
    tc = price_turn(PRICING.row_for(m), m, Usage(input=inp, cache_read=cached, output=out))
    rates = ("6", "0.6", "22.5") if inp + cached > 200_000 else ("3", "0.3", "15")
    exact = inp * Decimal(rates[0]) + cached * Decimal(rates[1]) + out * Decimal(rates[2])
    assert tc.computed == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    assert tc.tier == (200_000 if inp + cached > 200_000 else None)


@given(st.decimals(0, 10**6, places=10, allow_nan=False, allow_infinity=False))
def test_decimal_strings_round_trip_with_one_spelling(d: Decimal) -> None:
    text = dec_str(d)
    assert Decimal(text) == d and "E" not in text and "e" not in text
    assert text == "0" or not (("." in text and text.endswith("0")) or text.startswith("00"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(turn_specs, min_size=1, max_size=25))
def test_summary_groupings_all_sum_to_the_archive_total(
    specs: list[tuple[str, Usage, str | None, str | None]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = FileStore(home)
        turns = [
            Turn(source="test", session_id=f"s{i % 3}", message_id=f"m{i}", request_id=f"r{i}",
                 ts=f"2026-03-0{1 + i % 4}T1{i % 10}:00:00.000Z", model=model, usage=usage, speed=speed,
                 reported_cost_usd=reported)
            for i, (model, usage, speed, reported) in enumerate(specs)
        ]  # fmt: skip
        with store.lock():
            store.append(turns)
        archive = Archive.in_home(home)
        try:
            archive.build(store, PRICING)
            expected = sum(
                price_turn(PRICING.row_for(PRICING.match(t.model)), PRICING.match(t.model), t.usage,
                           speed=t.speed, reported_cost_usd=t.reported_cost_usd).cost or 0
                for t in turns
            )  # fmt: skip
            tz, name = resolve_timezone("UTC")
            data = summarize(archive, Filters(tz=tz, timezone=name))
        finally:
            archive.close()
    assert (data["totals"]["cost_usd_micros"] or 0) == expected
    for group in ("by_source", "by_model", "by_day", "by_project"):
        assert sum(r["cost_usd_micros"] or 0 for r in data[group]) == expected
