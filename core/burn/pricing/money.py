"""Exact money: decimal parsing and printing, one half-even rounding, largest-remainder allocation.

No binary float ever carries money. Rates are ``Decimal`` parsed from decimal strings (or from JSON
number text, never through ``float``); token counts are ``int``. A rate in USD per million tokens
times a token count is exactly a number of micro-USD, so costs are computed in micro-USD.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

MICROS_PER_USD = 1_000_000
_ONE = Decimal(1)


def parse_decimal(value: object) -> Decimal:
    """A non-negative finite decimal from a decimal string, an int or a ``Decimal``.

    Floats are refused: a float has already lost the exact value its text spelled. JSON numbers are
    parsed with ``parse_float=Decimal`` wherever they may hold money, so they arrive as ``Decimal``.
    """
    if isinstance(value, bool | float):
        raise ValueError(f"not an exact decimal: {value!r} (write it as a string)")
    if isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, Decimal):
        d = value
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        raise ValueError(f"not a decimal number: {value!r}")
    if not d.is_finite() or d < 0:
        raise ValueError(f"not a finite non-negative number: {value!r}")
    return d


# Bounds of a rate (USD per million tokens, or per request): 10,000 is over 16 times the dearest
# published price, yet keeps a turn's cost, and the sum of millions of them, inside SQLite's 64-bit
# integers of micro-USD; 12 decimal places are far below a micro-USD for any count of tokens. A
# rate outside them is a typo (``1e400``), refused with the field's name rather than failing every
# ingest on the first cost it would take part in.
MAX_RATE = Decimal(10_000)
RATE_PLACES = 12


def parse_rate(value: object) -> Decimal:
    """:func:`parse_decimal`, bounded to what a price can be: at most ``MAX_RATE``, at most
    ``RATE_PLACES`` decimal places."""
    d = parse_decimal(value)
    shown = str(value) if isinstance(value, Decimal) else repr(value)  # a JSON number: its text
    if d > MAX_RATE:
        raise ValueError(f"{shown} is more than {MAX_RATE} (USD per million tokens)")
    exponent = d.normalize().as_tuple().exponent  # an int: parse_decimal refused what is not finite
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        raise ValueError(f"{shown} has more than {RATE_PLACES} decimal places")
    return d


def dec_str(d: Decimal) -> str:
    """The one spelling of a decimal in burn's tables: no exponent, no trailing zeros (``3.75``,
    ``0.3``, ``15``, ``0``), so equal values always serialize to equal bytes."""
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text


def to_micros(exact: Decimal) -> int:
    """Round an exact micro-USD amount once, half to even, to an integer."""
    return int(exact.quantize(_ONE, rounding=ROUND_HALF_EVEN))


def div_half_even(n: int, d: int) -> int:
    """``n / d`` (``d > 0``) rounded once, half to even, in integers: what
    ``round(Fraction(n, d))`` gives, without building the fraction (a turn's price calls it once)."""
    q, r = divmod(n, d)  # floor division: 0 <= r < d whatever the sign of n
    twice = 2 * r
    if twice > d or (twice == d and q & 1):
        return q + 1
    return q


def usd_to_micros(usd: Decimal) -> int:
    """A USD amount (such as a source-reported cost) as integer micro-USD, rounded half to even."""
    return to_micros(usd * MICROS_PER_USD)


def allocate(parts: Sequence[Decimal]) -> tuple[int, list[int]]:
    """Round the exact sum of ``parts`` once (half even) and split that integer over the parts.

    Largest remainder: every part gets its floor, then the units the rounded total still needs go
    to the parts with the largest fractional remainders (ties: the earlier part). So each integer
    part is within 1 of its exact value and the integer parts always sum to the rounded total.
    """
    total = to_micros(sum(parts, Decimal(0)))
    # int() truncates toward zero, which is the floor for the (usual) non-negative parts.
    floors = [int(p) if p >= 0 else int(p.to_integral_value(rounding=ROUND_FLOOR)) for p in parts]
    missing = total - sum(floors)
    if missing:
        # 0 < missing <= number of parts with a fractional remainder (round(x) <= ceil(x)).
        order = sorted(range(len(parts)), key=lambda i: (floors[i] - parts[i], i))
        for i in order[:missing]:
            floors[i] += 1
    return total, floors
