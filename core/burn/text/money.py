"""The one money formatter for people: exact dollars from integer micro-dollars.

Every table prints cost with the same fixed number of decimals (cents by default), rounded half
to even from the exact integer — never through a float — so a column lines up and a total is the
rounding of the exact sum, not a sum of roundings. Amounts that round to zero but are not zero
show as ``<$0.01`` so a priced row never looks free.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

MICROS = 1_000_000


def usd(micros: int | None, decimals: int = 2) -> str:
    """``$1,234.57`` from integer micro-USD with ``decimals`` fixed decimals; ``-`` for unknown."""
    if micros is None:
        return "-"
    step = Decimal(1).scaleb(-decimals)
    amount = (Decimal(micros) / MICROS).quantize(step, rounding=ROUND_HALF_EVEN)
    if amount == 0 and micros != 0:
        return f"{'-' if micros < 0 else ''}<${step}"
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{decimals}f}"
