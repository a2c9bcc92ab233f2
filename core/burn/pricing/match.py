"""Which table row prices a model id as a source wrote it.

Order (docs/pricing.md, "Matching"): the exact id; then documented normalizations, applied one
after the other and each followed by a lookup, so the result names every step it needed; then, only
if nothing matched, flagged fallbacks. A model that still matches nothing is *unpriced* — never $0.

Normalizations (``steps`` spells them):

* ``case``: surrounding space and upper case (``Claude-Sonnet-4-5`` → ``claude-sonnet-4-5``);
* ``provider_prefix``: path prefixes (``anthropic/``, ``openai/``, ``google/``, ``models/``,
  OpenRouter's ``openrouter/anthropic/`` …) — the last path segment is the model;
* ``bedrock``: ``us.anthropic.claude-…-v1:0``, ``anthropic.claude-…-v2`` → ``claude-…``;
* ``variant_suffix``: OpenRouter variants such as ``:thinking``, ``:beta``, ``:free``;
* ``vertex``: ``claude-…@20250929`` → ``claude-…-20250929`` (``@latest``/``@default`` dropped);
* ``dotted``: dotted Claude versions ``claude-sonnet-4.5`` → ``claude-sonnet-4-5``;
* ``fast_suffix``: ``…-fast`` names fast mode of the model (the match carries ``fast=True``);
* ``date_suffix``: a release date ``-20250929`` or ``-2025-08-07`` the table does not list;
* ``dated_alias``: an undated id whose only dated row is ``<id>-YYYYMMDD``.

Fallbacks (kind ``fallback``, always reported): ``custom_prefix`` — a custom provider's prefix in
front of a known id (Codex ``aide-gpt-5`` → ``gpt-5``); ``extra_suffix`` — a non-numeric suffix
after a known id (``claude-opus-4-6-thinking``); ``newest_dated`` — an undated id with several dated
rows takes the newest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Literal

import attrs

MatchKind = Literal["exact", "normalized", "fallback", "unpriced"]


@attrs.frozen
class Match:
    model: str  # as the source wrote it
    kind: MatchKind
    matched: str | None = None  # the table id, None when unpriced
    steps: tuple[str, ...] = ()
    fast: bool = False  # the id itself names fast mode (``-fast``)


_BEDROCK = re.compile(r"^(?:[a-z]{2,6}(?:-[a-z]+)?\.)?anthropic\.(claude-.+?)(?:-v\d+(?::\d+)?)?$")
_BEDROCK_VERSION = re.compile(r"^(claude-.+?)-v\d+(?::\d+)?$")
_VARIANT = re.compile(r"^(.+?):[a-z][a-z0-9-]*$")
_VERTEX = re.compile(r"^(.+)@(\d{8}|latest|default)$")
_DOTTED = re.compile(r"(?<=\d)\.(?=\d)")
_DATE = re.compile(r"^(.+?)-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_DATED_ROW = re.compile(r"^(.+)-(\d{8})$")


def _case(m: str) -> str:
    return m.strip().lower()


def _provider_prefix(m: str) -> str:
    return m.rsplit("/", 1)[-1]


def _bedrock(m: str) -> str:
    hit = _BEDROCK.match(m) or _BEDROCK_VERSION.match(m)
    return hit.group(1) if hit else m


def _variant(m: str) -> str:
    hit = _VARIANT.match(m)
    return hit.group(1) if hit else m


def _vertex(m: str) -> str:
    hit = _VERTEX.match(m)
    if not hit:
        return m
    return hit.group(1) if not hit.group(2).isdigit() else f"{hit.group(1)}-{hit.group(2)}"


def _dotted(m: str) -> str:
    return _DOTTED.sub("-", m) if m.startswith("claude") else m


def _fast(m: str) -> str:
    return m[: -len("-fast")] if m.endswith("-fast") else m


def _date(m: str) -> str:
    hit = _DATE.match(m)
    return hit.group(1) if hit else m


_STEPS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("case", _case),
    ("provider_prefix", _provider_prefix),
    ("bedrock", _bedrock),
    ("variant_suffix", _variant),
    ("vertex", _vertex),
    ("dotted", _dotted),
    ("fast_suffix", _fast),
    ("date_suffix", _date),
)


class Matcher:
    """Matches model ids against a fixed set of table ids; results are memoized per id."""

    def __init__(self, ids: Collection[str]) -> None:
        self.ids = frozenset(ids)
        self._dated: dict[str, list[str]] = {}
        for i in sorted(self.ids):
            hit = _DATED_ROW.match(i)
            if hit:
                self._dated.setdefault(hit.group(1), []).append(i)
        # Longest first, so ``gpt-5-codex`` wins over ``gpt-5`` in the fallbacks.
        self._by_length = sorted(self.ids, key=lambda i: (-len(i), i))
        self._memo: dict[str, Match] = {}

    def match(self, model: str) -> Match:
        hit = self._memo.get(model)
        if hit is None:
            hit = self._memo[model] = self._match(model)
        return hit

    def _match(self, model: str) -> Match:
        if model in self.ids:
            return Match(model, "exact", model)
        current, steps, fast = model, [], False
        for name, step in _STEPS:
            nxt = step(current)
            if nxt == current or not nxt:
                continue
            current = nxt
            steps.append(name)
            fast = fast or name == "fast_suffix"
            if current in self.ids:
                return Match(model, "normalized", current, tuple(steps), fast)
        dated = self._dated.get(current, [])
        if len(dated) == 1:
            return Match(model, "normalized", dated[0], (*steps, "dated_alias"), fast)
        if dated:
            return Match(model, "fallback", dated[-1], (*steps, "newest_dated"), fast)
        for known in self._by_length:
            if current.endswith(known) and current[-len(known) - 1 : -len(known)] in ("-", ".", "_"):
                return Match(model, "fallback", known, (*steps, "custom_prefix"), fast)
        for known in self._by_length:
            rest = current[len(known) + 1 :]
            if current.startswith(known + "-") and rest and not rest[0].isdigit():
                return Match(model, "fallback", known, (*steps, "extra_suffix"), fast)
        return Match(model, "unpriced", None, tuple(steps), fast)
