"""OpenCode ``tokens`` objects → :class:`~burn.records.Usage`, and reported costs (FORMATS §3.4–3.5).

OpenCode writes the same ``tokens`` shape on assistant messages and on ``step-finish`` parts::

    {"total"?: n, "input": n, "output": n, "reasoning": n, "cache": {"read": n, "write": n}}

* ``input`` is already non-cached (OpenCode subtracts cache reads and writes) → ``Usage.input``.
* ``cache.read`` → ``cache_read``; ``cache.write`` → ``cache_write_5m`` (OpenCode does not record
  the TTL: noted ``cache_write_ttl_unknown``); ``cache_write_1h`` is 0.
* **Reasoning.** burn's ``output`` *includes* reasoning (DESIGN §5). Which OpenCode builds include
  it in ``tokens.output`` differs: builds on AI SDK ≤ v5 store the SDK's ``outputTokens`` (which
  contains reasoning) and write no ``total``; builds on AI SDK v6 store
  ``output = outputTokens − reasoning`` and ``total = usage.totalTokens``. So:

  - with ``total``: if ``total == input + cache.read + cache.write + output + reasoning`` (and that
    differs from the sum without reasoning), the reasoning was taken out of ``output``: it is put
    back (``output += reasoning``, noted ``output_excludes_reasoning``); if ``total`` matches the
    sum without reasoning, ``output`` already contains it; otherwise nothing can be proved
    (noted ``reasoning_inclusion_unverified``);
  - without ``total``: ``output`` is taken to include ``reasoning`` as written — never added on top
    (this is what ccusage and the FORMATS §3.7 numbers assume) — unless ``reasoning > output``,
    which proves it cannot be included (then ``output += reasoning``, noted
    ``output_excludes_reasoning``). A positive ``reasoning`` taken as included is noted
    ``reasoning_inclusion_unverified``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from burn.records import Usage, UsageFidelity

TTL_UNKNOWN = "cache_write_ttl_unknown"
EXCLUDES_REASONING = "output_excludes_reasoning"
REASONING_UNVERIFIED = "reasoning_inclusion_unverified"


def _count(value: object) -> tuple[int | None, bool]:
    """A token count and whether it was present but wrongly typed.

    JSON integers may arrive as floats with an integral value (``1000.0``); those are accepted.
    Booleans, strings, negative and fractional numbers are wrong types.
    """
    if type(value) is int:
        return (value, False) if value >= 0 else (None, True)
    if type(value) is float and math.isfinite(value) and value >= 0 and value.is_integer():
        return int(value), False
    return None, value is not None


@attrs.frozen
class Counts:
    """One ``tokens`` object, normalized; ``None`` = not reported."""

    input: int | None
    output: int | None
    reasoning: int | None
    cache_read: int | None
    cache_write: int | None
    notes: frozenset[str] = frozenset()
    wrong_type: bool = False

    def is_zero(self) -> bool:
        return not any((self.input, self.output, self.reasoning, self.cache_read, self.cache_write))


def parse_tokens(tokens: dict[str, Any]) -> Counts:
    inp, w1 = _count(tokens.get("input"))
    out, w2 = _count(tokens.get("output"))
    rea, w3 = _count(tokens.get("reasoning"))
    total, w4 = _count(tokens.get("total"))
    cache = tokens.get("cache")
    read: int | None = None
    write: int | None = None
    w5 = w6 = False
    if type(cache) is dict:
        read, w5 = _count(cache.get("read"))
        write, w6 = _count(cache.get("write"))
    elif cache is not None:
        w5 = True
    notes: set[str] = set()
    if rea and out is not None:
        without = (inp or 0) + out + (read or 0) + (write or 0)
        if total is not None and total == without + rea:
            out += rea
            notes.add(EXCLUDES_REASONING)
        elif total is not None and total == without:
            pass  # output already contains the reasoning tokens
        elif total is None and rea > out:
            out += rea
            notes.add(EXCLUDES_REASONING)
        else:
            notes.add(REASONING_UNVERIFIED)
    if write:
        notes.add(TTL_UNKNOWN)
    return Counts(inp, out, rea, read, write, frozenset(notes), w1 or w2 or w3 or w4 or w5 or w6)


def _sum(values: Iterable[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def combine(steps: list[Counts]) -> Counts:
    """The sum of several ``step-finish`` token objects (a field no step reported stays ``None``)."""
    if len(steps) == 1:
        return steps[0]
    notes: set[str] = set()
    for c in steps:
        notes.update(c.notes)
    return Counts(
        _sum(c.input for c in steps),
        _sum(c.output for c in steps),
        _sum(c.reasoning for c in steps),
        _sum(c.cache_read for c in steps),
        _sum(c.cache_write for c in steps),
        frozenset(notes),
        any(c.wrong_type for c in steps),
    )


def to_usage(c: Counts) -> tuple[Usage, UsageFidelity]:
    usage = Usage(
        input=c.input,
        output=c.output,
        reasoning=c.reasoning,
        cache_read=c.cache_read,
        cache_write_5m=c.cache_write,
        cache_write_1h=None if c.cache_write is None else 0,
        web_search_requests=None,
    )
    fields = (c.input, c.output, c.reasoning, c.cache_read, c.cache_write)
    if all(v is None for v in fields):
        return usage, "none"
    return usage, "full" if all(v is not None for v in fields) else "partial"


def cost_decimal(value: object) -> Decimal | None:
    """A JSON number as an exact decimal: ``repr`` of a float is the text a JSON encoder wrote."""
    if type(value) is int:
        return Decimal(value)
    if type(value) is float and math.isfinite(value):
        try:
            return Decimal(repr(value))
        except InvalidOperation:  # pragma: no cover - repr of a finite float always parses
            return None
    return None


def cost_string(value: Decimal | None) -> str | None:
    """A positive cost as a plain decimal string (``Decimal("1E-7")`` → ``"0.0000001"``).

    OpenCode writes ``cost: 0`` when it did not price a call (subscriptions, OAuth, free models):
    zero is therefore not reported as a cost, it stays unknown.
    """
    if value is None or value <= 0:
        return None
    return format(value, "f")
