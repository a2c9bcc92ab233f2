"""burn's pricing table format: rows of per-MTok decimal strings, their defaults, and the digest.

A table is one JSON object (see docs/pricing.md)::

    {"name": "burn-pricing", "version": "2026-11-22", "currency": "USD", "unit": "1000000 tokens",
     "source": "bundled", "custom_rows": 0, "sources": [...],
     "models": {"claude-sonnet-4-5-20250929": {"provider": "anthropic", "input": "3", "output": "15",
                "cache_read": "0.3", "cache_write_5m": "3.75", "cache_write_1h": "6",
                "tiers": [{"threshold": 200000, "input": "6", ...}], "web_search_per_request": "0.01",
                "sources": ["litellm-1.109.1"], "derived": []}, ...}}

Every money value is a decimal string and every other number an integer, so the RFC 8785 canonical
form of a table never involves floating point. :func:`normalize_row` is the single place where a row
is validated and its absent rates are filled by the documented rules; the build script and the
override loader both go through it, so the bundled table and user rows obey the same schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import rfc8785

from burn.pricing.money import dec_str, parse_rate

RATE_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
ROW_FIELDS = frozenset(
    {*RATE_FIELDS, "provider", "tiers", "fast", "web_search_per_request", "valid_from", "sources", "derived"}
)
TIER_FIELDS = frozenset({*RATE_FIELDS, "threshold"})
FAST_FIELDS = frozenset({*RATE_FIELDS, "tiers"})

# Anthropic's published multipliers of the input price (prompt caching docs): 5-minute cache write
# 1.25x, 1-hour cache write 2x, cache read 0.1x. Used only when a row does not state the rate.
ANTHROPIC_DEFAULTS = {
    "cache_read": Decimal("0.1"),
    "cache_write_5m": Decimal("1.25"),
    "cache_write_1h": Decimal(2),
}


@attrs.frozen
class Rates:
    """USD per million tokens for each kind of token."""

    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal


@attrs.frozen
class Tier:
    """Rates that apply to a whole request once its prompt exceeds ``threshold`` tokens."""

    threshold: int
    rates: Rates


@attrs.frozen
class RateCard:
    """Base rates plus long-context tiers (ascending thresholds)."""

    rates: Rates
    tiers: tuple[Tier, ...] = ()

    def for_prompt(self, prompt_tokens: int) -> tuple[Rates, int | None]:
        """The rates of a request with this many prompt tokens, and the tier threshold applied."""
        chosen, threshold = self.rates, None
        for tier in self.tiers:
            if prompt_tokens > tier.threshold:
                chosen, threshold = tier.rates, tier.threshold
        return chosen, threshold


@attrs.frozen
class PriceRow:
    """One model's prices, parsed from a normalized table row."""

    model: str
    provider: str
    standard: RateCard
    fast: RateCard | None = None
    web_search_per_request: Decimal | None = None  # USD per request
    valid_from: str | None = None  # YYYY-MM-DD (UTC): the row prices no turn before this day


# -- normalizing rows -------------------------------------------------------------------------------


def _fill(
    given: Mapping[str, Decimal], reference: Rates | None, provider: str, derived: list[str], prefix: str
) -> Rates:
    """Complete a rate set. ``reference`` is the standard rate set when filling a tier or fast rates.

    * base rates: Anthropic's multipliers of input for absent cache rates; other providers bill
      cache reads and writes at the input rate when no discount is published, and a 1-hour write at
      the 5-minute write rate;
    * tiers and fast rates: an absent rate is the reference rate scaled by the ratio of the two
      input rates (this reproduces every published long-context and fast-mode cache rate).
    """
    out = dict(given)
    for name in RATE_FIELDS[2:]:
        if name in out:
            continue
        if reference is not None:
            ref = getattr(reference, name)
            out[name] = ref if reference.input == 0 else ref * out["input"] / reference.input
        elif provider == "anthropic":
            out[name] = out["input"] * ANTHROPIC_DEFAULTS[name]
        elif name == "cache_write_1h":
            out[name] = out["cache_write_5m"]
        else:
            out[name] = out["input"]
        derived.append(prefix + name)
    return Rates(**{n: Decimal(dec_str(out[n])) for n in RATE_FIELDS})


def _rates_in(raw: Mapping[str, Any], where: str, required: tuple[str, ...]) -> dict[str, Decimal]:
    given: dict[str, Decimal] = {}
    for name in RATE_FIELDS:
        if name in raw and raw[name] is not None:
            try:
                given[name] = parse_rate(raw[name])
            except ValueError as exc:
                raise ValueError(f"{where}.{name}: {exc}") from None
    for name in required:
        if name not in given:
            raise ValueError(f"{where}: missing {name!r}")
    return given


def _unknown(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    extra = sorted(set(raw) - allowed)
    if extra:
        raise ValueError(
            f"{where}: unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}"
        )


def _card(
    raw: Mapping[str, Any],
    reference: Rates | None,
    provider: str,
    where: str,
    derived: list[str],
    prefix: str,
) -> tuple[Rates, list[Tier]]:
    rates = _fill(_rates_in(raw, where, ("input", "output")), reference, provider, derived, prefix)
    tiers_raw = raw.get("tiers") or []
    if not isinstance(tiers_raw, list):
        raise ValueError(f"{where}.tiers: must be a list")
    tiers: list[Tier] = []
    for i, t in enumerate(tiers_raw):
        tw = f"{where}.tiers[{i}]"
        if not isinstance(t, Mapping):
            raise ValueError(f"{tw}: must be an object")
        _unknown(t, TIER_FIELDS, tw)
        threshold = t.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold <= 0:
            raise ValueError(f"{tw}.threshold: must be a positive integer number of prompt tokens")
        # Tier rates are filled from the base rates of the same card (standard or fast).
        tier_rates = _fill(_rates_in(t, tw, ("input", "output")), rates, provider, derived, prefix + "tiers.")
        tiers.append(Tier(threshold, tier_rates))
    thresholds = [t.threshold for t in tiers]
    if len(set(thresholds)) != len(thresholds):
        raise ValueError(f"{where}.tiers: duplicate threshold")
    tiers.sort(key=lambda t: t.threshold)
    return rates, tiers


def _rates_json(r: Rates) -> dict[str, str]:
    return {n: dec_str(getattr(r, n)) for n in RATE_FIELDS}


def _tiers_json(tiers: list[Tier]) -> list[dict[str, Any]]:
    return [{"threshold": t.threshold, **_rates_json(t.rates)} for t in tiers]


def normalize_row(model: str, raw: Mapping[str, Any], *, where: str | None = None) -> dict[str, Any]:
    """Validate a row and return its canonical JSON form, with absent rates filled (and listed in
    ``derived``). Raises ``ValueError`` naming the offending field."""
    where = where or f"models.{model}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be an object")
    _unknown(raw, ROW_FIELDS, where)
    provider = raw.get("provider", "custom")
    if not isinstance(provider, str) or not provider:
        raise ValueError(f"{where}.provider: must be a non-empty string")
    derived: list[str] = [d for d in raw.get("derived") or () if isinstance(d, str)]
    rates, tiers = _card(raw, None, provider, where, derived, "")
    row: dict[str, Any] = {"provider": provider, **_rates_json(rates)}
    if tiers:
        row["tiers"] = _tiers_json(tiers)
    fast = raw.get("fast")
    if fast is not None:
        if not isinstance(fast, Mapping):
            raise ValueError(f"{where}.fast: must be an object")
        _unknown(fast, FAST_FIELDS, f"{where}.fast")
        fast_rates, fast_tiers = _card(fast, rates, provider, f"{where}.fast", derived, "fast.")
        row["fast"] = _rates_json(fast_rates)
        if fast_tiers:
            row["fast"]["tiers"] = _tiers_json(fast_tiers)
    web = raw.get("web_search_per_request")
    if web is not None:
        try:
            row["web_search_per_request"] = dec_str(parse_rate(web))
        except ValueError as exc:
            raise ValueError(f"{where}.web_search_per_request: {exc}") from None
    valid_from = raw.get("valid_from")
    if valid_from is not None:
        if not (isinstance(valid_from, str) and _is_date(valid_from)):
            raise ValueError(f"{where}.valid_from: must be a date YYYY-MM-DD")
        row["valid_from"] = valid_from
    sources = raw.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ValueError(f"{where}.sources: must be a list of strings")
    row["sources"] = list(sources)
    row["derived"] = sorted(set(derived))
    return row


def _is_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


# -- parsing and digest -----------------------------------------------------------------------------


def _rates(d: Mapping[str, Any]) -> Rates:
    return Rates(**{n: Decimal(d[n]) for n in RATE_FIELDS})


def _parse_card(d: Mapping[str, Any]) -> RateCard:
    tiers = tuple(Tier(int(t["threshold"]), _rates(t)) for t in d.get("tiers") or ())
    return RateCard(_rates(d), tiers)


def parse_row(model: str, row: Mapping[str, Any]) -> PriceRow:
    """The typed form of a normalized row."""
    fast = row.get("fast")
    web = row.get("web_search_per_request")
    return PriceRow(
        model=model,
        provider=row["provider"],
        standard=_parse_card(row),
        fast=_parse_card(fast) if fast is not None else None,
        web_search_per_request=Decimal(web) if web is not None else None,
        valid_from=row.get("valid_from"),
    )


def canonical_bytes(table: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a table: what the digest covers."""
    data: bytes = rfc8785.dumps(table)
    return data


def digest(table: Mapping[str, Any]) -> str:
    """``sha256:`` + hex sha256 of the canonical bytes."""
    return "sha256:" + hashlib.sha256(canonical_bytes(table)).hexdigest()
