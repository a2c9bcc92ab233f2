"""Pricing: hand-computed cost vectors, the cost rules, exact money and model matching.

Every expected value below is derived by hand from the bundled rates (USD per million tokens, so
``tokens x rate`` is micro-USD) and written out in the comment next to it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from burn.pricing.cost import COMPONENTS, TurnCost, price_turn
from burn.pricing.load import Pricing, load_pricing
from burn.pricing.match import Matcher
from burn.pricing.money import allocate, dec_str, parse_decimal, to_micros, usd_to_micros
from burn.records import Usage


@pytest.fixture(scope="module")
def pricing() -> Pricing:
    return load_pricing(Path("/nonexistent-burn-home"))  # bundled table, no override


def cost(
    pricing: Pricing, model: str, usage: Usage, *, speed: str | None = None, reported: str | None = None
) -> TurnCost:
    m = pricing.match(model)
    return price_turn(pricing.row_for(m), m, usage, speed=speed, reported_cost_usd=reported)


SONNET = "claude-sonnet-4-5-20250929"

# -- acceptance vectors (issue 4) ----------------------------------------------------------------------


def test_sonnet_45_with_5m_cache_writes_costs_21000_micros(pricing: Pricing) -> None:
    # 1,000 x 3 + 500 x 15 + 2,000 x 3.75 + 10,000 x 0.3 = 3,000 + 7,500 + 7,500 + 3,000
    tc = cost(pricing, SONNET, Usage(input=1_000, output=500, cache_write_5m=2_000, cache_read=10_000))
    assert tc.computed == 21_000
    assert tc.components == (3_000, 7_500, 3_000, 7_500, 0, 0)
    assert (tc.source, tc.kind, tc.tier) == ("computed", "exact", None)


def test_sonnet_45_with_1h_cache_writes_costs_25500_micros(pricing: Pricing) -> None:
    # the 2,000 writes at the 1-hour rate, 2 x 3 = 6: 12,000 instead of 7,500
    tc = cost(pricing, SONNET, Usage(input=1_000, output=500, cache_write_1h=2_000, cache_read=10_000))
    assert tc.computed == 25_500
    assert tc.components == (3_000, 7_500, 3_000, 0, 12_000, 0)


def test_sonnet_45_above_200k_bills_every_token_at_the_tier(pricing: Pricing) -> None:
    # prompt = 50,000 + 180,000 = 230,000 > 200,000: tier rates 6 / 22.5 / 0.6 for ALL tokens:
    # 50,000 x 6 + 1,000 x 22.5 + 180,000 x 0.6 = 300,000 + 22,500 + 108,000
    tc = cost(pricing, SONNET, Usage(input=50_000, output=1_000, cache_read=180_000))
    assert tc.computed == 430_500
    assert tc.tier == 200_000
    # Not the marginal rule (200k at base + 30k at tier, output at base) that ccusage applies.
    marginal = 50_000 * 3 + 150_000 * Decimal("0.3") + 30_000 * Decimal("0.6") + 1_000 * 15
    assert tc.computed != to_micros(marginal)


def test_prompt_exactly_at_the_threshold_is_not_above_it(pricing: Pricing) -> None:
    # 200,000 prompt tokens do not exceed 200,000: base rates, 200,000 x 3 + 100 x 15
    tc = cost(pricing, SONNET, Usage(input=200_000, output=100))
    assert (tc.computed, tc.tier) == (601_500, None)


def test_cache_writes_count_towards_the_long_context_prompt(pricing: Pricing) -> None:
    # 150,000 + 40,000 (5m) + 20,000 (1h) = 210,000 > 200k: 150,000 x 6 + 40,000 x 7.5 + 20,000 x 12
    tc = cost(pricing, SONNET, Usage(input=150_000, cache_write_5m=40_000, cache_write_1h=20_000))
    assert tc.computed == 900_000 + 300_000 + 240_000


def test_codex_gpt5_turn_with_cached_input(pricing: Pricing) -> None:
    # Codex wrote input 1,000 incl. 500 cached, output 200 incl. 100 reasoning; burn's Turn holds
    # input 500 (non-cached), cache_read 500, output 200 (reasoning inside, never added):
    # 500 x 1.25 + 500 x 0.125 + 200 x 10 = 625 + 62.5 + 2,000 = 2,687.5 -> 2,688 (half even)
    tc = cost(pricing, "gpt-5", Usage(input=500, cache_read=500, output=200, reasoning=100))
    assert tc.computed == 2_688
    assert tc.components == (625, 2_000, 63, 0, 0, 0)  # 62.5 took the rounding unit


def test_a_web_search_request_is_priced_per_request(pricing: Pricing) -> None:
    # 1 search x $0.01 = 10,000 micro-USD on top of 100 x 3 + 10 x 15 = 450
    tc = cost(pricing, SONNET, Usage(input=100, output=10, web_search_requests=1))
    assert tc.computed == 10_450
    assert tc.components is not None and tc.components[COMPONENTS.index("web_search")] == 10_000


def test_unpriced_model_keeps_its_tokens_and_never_costs_zero(pricing: Pricing) -> None:
    tc = cost(pricing, "big-pickle", Usage(input=1_000, output=100))
    assert (tc.computed, tc.cost, tc.components) == (None, None, None)
    assert (tc.source, tc.kind) == ("none", "unpriced")


def test_unpriced_model_with_a_reported_cost_uses_the_report(pricing: Pricing) -> None:
    tc = cost(pricing, "big-pickle", Usage(input=1_000, output=100), reported="0.0123455")
    # 0.0123455 USD = 12,345.5 micro-USD -> 12,346 (half even)
    assert (tc.computed, tc.reported, tc.cost, tc.source) == (None, 12_346, 12_346, "reported")


def test_priced_model_keeps_the_reported_cost_beside_the_computed_one(pricing: Pricing) -> None:
    # early Claude Code costUSD: kept as reported; totals use the computed 500 x 15 + 200 x 75
    tc = cost(pricing, "claude-opus-4-20250514", Usage(input=500, output=200), reported="0.025")
    assert (tc.computed, tc.reported, tc.cost, tc.source) == (22_500, 25_000, 22_500, "computed")


def test_turn_without_any_usage_has_no_computed_cost(pricing: Pricing) -> None:
    tc = cost(pricing, SONNET, Usage())
    assert (tc.computed, tc.source, tc.kind) == (None, "none", "exact")


# -- fast mode -----------------------------------------------------------------------------------------


def test_fast_mode_uses_the_published_fast_rates(pricing: Pricing) -> None:
    # Opus 4.6 fast mode (models.dev): 30 / 150 / 3 / 37.5, 1h write 2 x 30 = 60
    usage = Usage(input=1_000, output=1_000, cache_read=10_000, cache_write_1h=1_000)
    standard = cost(pricing, "claude-opus-4-6", usage)
    fast = cost(pricing, "claude-opus-4-6", usage, speed="fast")
    assert standard.computed == 5_000 + 25_000 + 5_000 + 10_000
    assert fast.computed == 30_000 + 150_000 + 30_000 + 60_000
    assert (fast.fast, fast.kind) == (True, "exact")


def test_fast_suffix_in_the_model_id_selects_fast_rates(pricing: Pricing) -> None:
    tc = cost(pricing, "claude-opus-4-6-fast", Usage(input=1_000))
    assert (tc.computed, tc.fast, tc.kind, tc.match.steps) == (30_000, True, "normalized", ("fast_suffix",))


def test_fast_mode_without_fast_rates_is_a_flagged_fallback(pricing: Pricing) -> None:
    tc = cost(pricing, "claude-opus-4-20250514", Usage(input=1_000), speed="fast")
    assert tc.computed == 15_000  # standard rates …
    assert (tc.kind, tc.notes) == ("fallback", ("fast_rates_unknown",))  # … and said so


def test_codex_fast_mode_is_priority_processing(pricing: Pricing) -> None:
    # gpt-5 priority (LiteLLM *_priority): 2.5 / 20 / 0.25
    tc = cost(pricing, "gpt-5", Usage(input=1_000, output=100, cache_read=1_000), speed="fast")
    assert tc.computed == 2_500 + 2_000 + 250


# -- exact money ---------------------------------------------------------------------------------------


def test_rounding_is_half_even_once_per_turn() -> None:
    assert [to_micros(Decimal(x)) for x in ("2.5", "3.5", "-2.5", "2.5000001", "7.49999")] == [2, 4, -2, 3, 7]
    assert usd_to_micros(Decimal("0.0000005")) == 0 and usd_to_micros(Decimal("0.0000015")) == 2


def test_allocation_components_sum_to_the_rounded_total() -> None:
    parts = [Decimal("0.5"), Decimal("0.5"), Decimal("0.5"), Decimal("0")]
    total, comps = allocate(parts)
    assert total == 2 and sum(comps) == 2 and comps == [1, 1, 0, 0]  # ties go to the earlier part
    total, comps = allocate([Decimal("62.5"), Decimal("625"), Decimal("2000")])
    assert (total, comps) == (2_688, [63, 625, 2_000])


def test_decimal_strings_have_one_spelling() -> None:
    assert [dec_str(Decimal(x)) for x in ("3.750", "15", "1.5E+1", "0.00000", "3E-7", "0.1250")] == [
        "3.75",
        "15",
        "15",
        "0",
        "0.0000003",
        "0.125",
    ]


@pytest.mark.parametrize("bad", [0.1, True, "abc", "-1", "NaN", "Infinity", None, [1]])
def test_money_never_comes_from_floats_or_junk(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(bad)


# -- matching ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kind", "matched", "steps"),
    [
        ("claude-sonnet-4-5-20250929", "exact", "claude-sonnet-4-5-20250929", ()),
        ("Claude-Sonnet-4-5", "normalized", "claude-sonnet-4-5", ("case",)),
        ("anthropic/claude-sonnet-4-5", "normalized", "claude-sonnet-4-5", ("provider_prefix",)),
        ("openai/gpt-5-codex", "normalized", "gpt-5-codex", ("provider_prefix",)),
        ("google/gemini-2.5-pro", "normalized", "gemini-2.5-pro", ("provider_prefix",)),
        ("openrouter/anthropic/claude-opus-4.1", "normalized", "claude-opus-4-1", ("provider_prefix", "dotted")),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "normalized", "claude-sonnet-4-5-20250929", ("bedrock",)),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "normalized", "claude-3-5-haiku-20241022", ("bedrock",)),
        ("global.anthropic.claude-opus-4-6-v1", "normalized", "claude-opus-4-6", ("bedrock",)),
        ("claude-sonnet-4-5@20250929", "normalized", "claude-sonnet-4-5-20250929", ("vertex",)),
        ("claude-sonnet-4.5", "normalized", "claude-sonnet-4-5", ("dotted",)),
        ("anthropic/claude-3.7-sonnet:thinking", "normalized", "claude-3-7-sonnet-20250219",
         ("provider_prefix", "variant_suffix", "dotted", "dated_alias")),
        ("claude-opus-4-6-fast", "normalized", "claude-opus-4-6", ("fast_suffix",)),
        ("claude-opus-4-6-20991231", "normalized", "claude-opus-4-6", ("date_suffix",)),
        ("gpt-5-codex-2025-09-15", "normalized", "gpt-5-codex", ("date_suffix",)),
        ("claude-opus-4", "normalized", "claude-opus-4-20250514", ("dated_alias",)),
        ("aide-gpt-5", "fallback", "gpt-5", ("custom_prefix",)),
        ("claude-opus-4-6-thinking", "fallback", "claude-opus-4-6", ("extra_suffix",)),
        ("claude-3-5-sonnet", "fallback", "claude-3-5-sonnet-20241022", ("newest_dated",)),
        ("big-pickle", "unpriced", None, ()),
        ("claude-opus-5-1", "unpriced", None, ()),  # a newer version is not priced as an older one
        ("", "unpriced", None, ()),
    ],
)  # fmt: skip
def test_matching_normalizations(
    pricing: Pricing, model: str, kind: str, matched: str | None, steps: tuple[str, ...]
) -> None:
    m = pricing.match(model)
    assert (m.kind, m.matched, m.steps) == (kind, matched, steps)


def test_fallback_matches_are_flagged_in_the_turn_cost(pricing: Pricing) -> None:
    tc = cost(pricing, "aide-gpt-5", Usage(input=1_000))
    assert (tc.computed, tc.kind) == (1_250, "fallback")


def test_matcher_prefers_the_longest_known_id() -> None:
    m = Matcher(["gpt-5", "gpt-5-codex"])
    assert m.match("acme-gpt-5-codex").matched == "gpt-5-codex"
    assert m.match("gpt-5-codex-high").matched == "gpt-5-codex"


def test_an_absurd_reported_cost_is_ignored_not_fatal() -> None:
    """A source-reported cost of "1e400" USD does not fit a micro-USD count: it is ignored like any
    unreadable report, where it used to stop every ingest with decimal.InvalidOperation."""
    from burn.pricing.cost import reported_micros

    assert reported_micros("1e400") is None
    assert reported_micros("0.25") == 250_000
