"""Activity intervals from message timestamps, and the buckets they fall in.

All times are whole seconds (timestamps are truncated), so every quantity is an exact integer and
buckets, rollups and totals add up.

* **Intervals.** Per session, the messages (assistant turns and user messages) sorted by time;
  each consecutive pair (a, b) contributes the interval [a, min(b, a + GAP_CAP)): a pause longer
  than the cap counts as the cap. The last message contributes nothing.
* **Attribution.** An interval belongs to the model of the first assistant turn at or after its
  end (the model the session was waiting for), else the session's last assistant model.
* **Buckets.** Boundaries are local wall-clock times: local midnights for ``1d``, and every 15
  minutes or hour from each local midnight for ``15m``/``1h`` (a daylight-saving day has 23 or 25
  hourly buckets). The range is widened to whole buckets.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, tzinfo

GAP_CAP = 300
SIZES = {"15m": 900, "1h": 3600, "1d": 86400}


def _midnight(day: date, tz: tzinfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


def boundaries(start: int, end: int, size: str, tz: tzinfo) -> list[int]:
    """Bucket boundaries (epoch seconds) covering [start, end), widened to whole buckets."""
    step = SIZES[size]
    day = datetime.fromtimestamp(start, tz).date() - timedelta(days=1)
    out: list[int] = []
    while True:
        lo, hi = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
        out.extend([lo] if size == "1d" else range(lo, hi, step))
        if lo > end:  # out now ends past the range
            break
        day += timedelta(days=1)
    first = bisect.bisect_right(out, start) - 1
    last = bisect.bisect_left(out, end)
    return out[first : last + 1]


def intervals(times: Sequence[int], models: Sequence[str | None]) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, model) of one session's sorted message times; ``models[i]`` is the model of
    message i when it is an assistant turn, else None."""
    nxt: str | None = None
    after: list[str | None] = [None] * len(times)
    for i in range(len(times) - 1, -1, -1):
        if models[i] is not None:
            nxt = models[i]
        after[i] = nxt
    last_model = next((m for m in reversed(models) if m is not None), None)
    for i in range(len(times) - 1):
        a, b = times[i], times[i + 1]
        e = min(b, a + GAP_CAP)
        if e > a:
            yield a, e, after[i + 1] or last_model


def split(start: int, end: int, bounds: Sequence[int]) -> Iterator[tuple[int, int, int]]:
    """(bucket index, start, end) pieces of [start, end) clipped to the buckets."""
    i = max(bisect.bisect_right(bounds, start) - 1, 0)
    while i < len(bounds) - 1 and bounds[i] < end:
        lo, hi = max(start, bounds[i]), min(end, bounds[i + 1])
        if hi > lo:
            yield i, lo, hi
        i += 1


def peak(pieces: Sequence[tuple[int, int]]) -> tuple[int, int | None]:
    """Most intervals active at one instant and the first such instant (half-open intervals)."""
    events = sorted([(s, 1) for s, _ in pieces] + [(e, -1) for _, e in pieces])
    best, at, cur = 0, None, 0
    for t, d in events:  # ends sort before starts at the same instant: (t, -1) < (t, 1)
        cur += d
        if cur > best:
            best, at = cur, t
    return best, at
