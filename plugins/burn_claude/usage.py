"""``message.usage`` → :class:`~burn.records.Usage`, and the reported cost (FORMATS §1.4, §1.7)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from burn.records import Fidelity, Usage, UsageFidelity

SPLIT_ASSUMED_5M = "cache_write_split_assumed_5m"


def _count(value: object) -> tuple[int | None, bool]:
    """A token count and whether it was present but wrongly typed (bool and numeric strings are)."""
    if type(value) is int and value >= 0:
        return value, False
    return None, value is not None


def parse_usage(u: dict[str, Any]) -> tuple[Usage, UsageFidelity, tuple[str, ...], bool]:
    """``(usage, fidelity, notes, wrong_type)`` for one usage object.

    * ``input``/``output``/``cache_read`` map one to one; ``reasoning`` is ``None`` because Claude
      reports thinking inside ``output_tokens``.
    * Cache writes use the ``cache_creation`` TTL split when there is one. A split that names only
      one TTL is completed from ``cache_creation_input_tokens``: the missing TTL is 0 when the named
      one equals the total, otherwise the remainder goes to 5m (noted as assumed). Without any
      split, all writes are 5-minute writes (Claude Code before mid-2025), noted as assumed.
    * A count that is missing, ``null`` or not a non-negative int is ``None`` (never 0) and the
      fidelity is ``partial``; ``wrong_type`` says a field was present with a wrong type, so the
      caller counts the line once. An empty usage object has fidelity ``none``.
    """
    inp, w1 = _count(u.get("input_tokens"))
    out, w2 = _count(u.get("output_tokens"))
    read, w3 = _count(u.get("cache_read_input_tokens"))
    total_w, w4 = _count(u.get("cache_creation_input_tokens"))
    wrong = w1 or w2 or w3 or w4
    notes: tuple[str, ...] = ()
    w5m: int | None = None
    w1h: int | None = None
    cc = u.get("cache_creation")
    e5: int | None = None
    e1: int | None = None
    if type(cc) is dict:
        e5, w5 = _count(cc.get("ephemeral_5m_input_tokens"))
        e1, w6 = _count(cc.get("ephemeral_1h_input_tokens"))
        wrong = wrong or w5 or w6
    if e5 is not None and e1 is not None:
        w5m, w1h = e5, e1
    elif e1 is not None:  # only the 1h count: the rest of the total is 5m
        w1h = e1
        if total_w is not None and total_w >= e1:
            w5m = total_w - e1
            if w5m:
                notes = (SPLIT_ASSUMED_5M,)
    elif e5 is not None:  # only the 5m count
        if total_w is None:
            w5m = e5
        elif total_w == e5:
            w5m, w1h = e5, 0
        elif total_w > e5:
            w5m, w1h = total_w, 0
            notes = (SPLIT_ASSUMED_5M,)
        else:
            w5m = e5
    elif total_w is not None:  # no split at all
        w5m, w1h = total_w, 0
        if total_w:
            notes = (SPLIT_ASSUMED_5M,)
    web: int | None = None
    stu = u.get("server_tool_use")
    if type(stu) is dict:
        web, w7 = _count(stu.get("web_search_requests"))
        wrong = wrong or w7
    usage = Usage(
        input=inp,
        output=out,
        reasoning=None,
        cache_read=read,
        cache_write_5m=w5m,
        cache_write_1h=w1h,
        web_search_requests=web,
    )
    fidelity: UsageFidelity
    if inp is None or out is None or read is None or w5m is None or w1h is None:
        fidelity = "none" if (inp is None and out is None and read is None and total_w is None) else "partial"
    else:
        fidelity = "full"
    return usage, fidelity, notes, wrong


def cost_string(value: object) -> str | None:
    """A JSON number as an exact decimal string (``0.025`` → ``"0.025"``), else ``None``.

    ``repr`` of a float is the shortest string that round-trips, which is the JSON text for any
    number written by a JSON encoder; exponent forms are spelled out (``1e-05`` → ``"0.00001"``).
    """
    if type(value) is int:
        return str(value)
    if type(value) is float and math.isfinite(value):
        text = repr(value)
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        return text
    return None


_FIDELITIES: dict[tuple[UsageFidelity, tuple[str, ...]], Fidelity] = {}


def fidelity(usage: UsageFidelity, notes: tuple[str, ...]) -> Fidelity:
    """The :class:`Fidelity` of a turn, shared: a read makes few distinct ones and many turns."""
    f = _FIDELITIES.get((usage, notes))
    if f is None:
        f = _FIDELITIES[(usage, notes)] = Fidelity(usage=usage, notes=notes)
    return f
