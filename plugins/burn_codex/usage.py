"""``token_count`` events → per-response usage deltas (FORMATS §2.3–2.4), and their identity.

Codex writes, after each model response, a ``token_count`` event whose ``info`` holds the
thread's **cumulative** ``total_token_usage`` and the response's ``last_token_usage``; it also
re-emits the same event without a new response, sometimes writes only one of the two, and its
totals can go down (resume, context-window fill). :class:`Accountant` implements the recommended
per-file rule, one event at a time, with its whole state JSON-able so that reading a file in
pieces gives exactly the deltas of one read:

* totals equal to the previous totals: a re-emit, skipped;
* the first event: its ``last_token_usage`` (its totals when it has none);
* totals lower than the baseline in any field (*backwards*), by what Codex itself can write:

  - a **fresh counter** (a resumed session restarts from zero, so its first totals equal that
    response's ``last_token_usage`` in input, cached, output and reasoning): a reset — the event's
    ``last_token_usage`` counts and a new *epoch* begins with these totals as the baseline;
  - **all four counts zero** (Codex's context-window fill snapshot, or a reset to nothing): nothing
    to count (``zero_delta``) and the baseline stays, so the next event is measured as usual;
  - anything else — a stale or replayed event (an earlier snapshot written again, lines out of
    order, a rollout concatenated with itself), or totals-only with no ``last`` to check, or a fresh
    counter whose totals equal the start of an earlier epoch (a replay of that epoch from its
    start): **skipped**, counted ``token_count_backwards``, and the baseline stays, so the next
    event's difference is taken from the highest totals and nothing is counted twice;
  - after a reset, an event whose ``last_token_usage`` is exactly its totals minus the previous
    epoch's high-water mark continues the old counter (the reset was a stale insert): that is the
    baseline it is measured from, so the old counter's usage is not counted again;

* otherwise the difference of the totals;
* ``last_token_usage`` only: that, unless it repeats the previous last-only event exactly; the
  running totals advance by it, so a later totals event does not count it again;
* an all-zero delta is dropped; ``info: null`` (rate limits only) never gets here.

Counts Codex did not write are 0: Codex's ``TokenUsage`` fields are plain integers that default to
0, and ``total_tokens`` missing or 0 is recomputed as ``input + output``.

**Identity.** A delta's id is a hash of the session id and the cumulative vector after the event:
``("tot", epoch, totals)`` for events with totals, ``("last", ordinal, last)`` for last-only events
(the ordinal counts the file's events with ``info``). Both depend only on the file's content, so
the active and archived copies of a rollout, a re-read after a rewrite, or a read in several
pieces produce the same ids, and the ledger keeps one. Within a session, totals only grow inside
an epoch, so two different responses never share a vector; the epoch separates the vectors seen
again after a reset.
"""

from __future__ import annotations

from typing import Any

from burn.readkit import WrongType
from burn.records import Usage
from burn_codex.ids import hash_fields

# input (incl. cached), cached, output (incl. reasoning), reasoning, total
Vector = tuple[int, int, int, int, int]

MAX_COUNT = 10**15  # a larger "count" is garbage (and would overflow SQLite's 64-bit integers)
BACKWARDS = "token_count_backwards"  # the skip reason of a stale or replayed event
MAX_STARTS = 16  # epoch starts kept to recognise a replayed epoch (resets are rare)
_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")


def vector(u: dict[str, Any]) -> Vector:
    """The usage vector of a ``TokenUsage`` object. Raises :class:`WrongType` for a count that is
    not an integer in ``0..MAX_COUNT``."""
    out = []
    for key in _FIELDS:
        v = u.get(key)
        if v is None:
            out.append(0)
        elif type(v) is int and 0 <= v <= MAX_COUNT:
            out.append(v)
        else:
            raise WrongType
    total = u.get("total_tokens")
    if total is not None and (type(total) is not int or not 0 <= total <= MAX_COUNT):
        raise WrongType
    return (out[0], out[1], out[2], out[3], total or out[0] + out[2])


def to_usage(delta: Vector) -> Usage:
    """burn's meaning: ``input`` without cached tokens, cache reads = cached, no cache writes (OpenAI
    has none: 0 is a known value here), reasoning as the part of output it is."""
    inp, cached, out, reasoning, _ = delta
    cached = min(cached, inp)
    return Usage(
        input=inp - cached,
        output=out,
        reasoning=reasoning,
        cache_read=cached,
        cache_write_5m=0,
        cache_write_1h=0,
    )


class Accountant:
    """Deltas of one rollout file, event by event; :meth:`state` carries it across reads."""

    __slots__ = ("epoch", "high", "last_only", "ordinal", "prev", "starts")

    def __init__(self, state: dict[str, Any]) -> None:
        prev = state.get("prev")
        self.prev: Vector | None = _vec_or_none(prev)
        self.last_only: Vector | None = _vec_or_none(state.get("last_only"))
        epoch = state.get("epoch")
        self.epoch: int = epoch if type(epoch) is int else 0
        ordinal = state.get("ordinal")
        self.ordinal: int = ordinal if type(ordinal) is int else 0
        # the previous epoch's high-water mark, and the first totals of recent epochs
        self.high: Vector | None = _vec_or_none(state.get("high"))
        starts = state.get("starts")
        self.starts: list[Vector] = [
            v for v in (_vec_or_none(x) for x in (starts if type(starts) is list else ())) if v
        ]

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.prev is not None:
            out["prev"] = list(self.prev)
        if self.last_only is not None:
            out["last_only"] = list(self.last_only)
        if self.epoch:
            out["epoch"] = self.epoch
        if self.ordinal:
            out["ordinal"] = self.ordinal
        if self.high is not None:
            out["high"] = list(self.high)
        if self.starts:
            out["starts"] = [list(v) for v in self.starts]
        return out

    def account(self, info: dict[str, Any], session_id: str) -> tuple[Vector | None, str]:
        """``(delta, line_hash)`` of one event's ``info``; ``(None, reason)`` when it adds nothing
        (``reemit``, ``zero_delta``, ``no_usage``, ``token_count_backwards``). Raises
        :class:`WrongType`, leaving the state unchanged."""
        tot = info.get("total_token_usage")
        last = info.get("last_token_usage")
        if (tot is not None and type(tot) is not dict) or (last is not None and type(last) is not dict):
            raise WrongType
        cur = vector(tot) if tot is not None else None
        lastv = vector(last) if last else None
        if cur is None and lastv is None:
            return None, "no_usage"
        self.ordinal += 1
        prev = self.prev
        if cur is not None:
            self.last_only = None
            if cur == prev:
                return None, "reemit"
            if prev is None:
                delta = lastv if lastv is not None else cur
                self._start(cur)
            elif any(c < p for c, p in zip(cur, prev, strict=True)):
                if not (cur[0] or cur[1] or cur[2] or cur[3]):
                    return None, "zero_delta"  # the fill snapshot: the next event is a fresh counter
                if lastv is None or cur[:4] != lastv[:4] or cur in self.starts:
                    return None, BACKWARDS  # stale or replayed: the baseline stays
                self.epoch += 1
                self.high = prev
                self._start(cur)
                delta = lastv
            else:
                high = self.high
                delta = _minus(cur, prev)
                if lastv is not None and high is not None and delta != lastv and _minus(cur, high) == lastv:
                    delta = lastv  # the old counter went on: the reset was a stale insert
                self.high = None
            self.prev = cur
            key = hash_fields("tot", session_id, self.epoch, *cur)
        else:
            assert lastv is not None
            if lastv == self.last_only:
                return None, "reemit"
            self.last_only = delta = lastv
            if prev is not None:
                self.prev = (
                    prev[0] + lastv[0],
                    prev[1] + lastv[1],
                    prev[2] + lastv[2],
                    prev[3] + lastv[3],
                    prev[4] + lastv[4],
                )
            key = hash_fields("last", session_id, self.ordinal, *lastv)
        if not (delta[0] or delta[1] or delta[2] or delta[3]):
            return None, "zero_delta"
        return delta, key

    def _start(self, cur: Vector) -> None:
        """Remember an epoch's first totals (the recent ones: a bounded cursor state)."""
        self.starts = [*self.starts[-(MAX_STARTS - 1) :], cur]


def _minus(a: Vector, b: Vector) -> Vector:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3], a[4] - b[4])


def _vec_or_none(value: object) -> Vector | None:
    if type(value) is list and len(value) == 5 and all(type(v) is int for v in value):
        return (value[0], value[1], value[2], value[3], value[4])
    return None
