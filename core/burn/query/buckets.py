"""Time buckets for reports: local days in SQL, and whether the hourly rollups answer exactly.

Local days are computed in SQL from the UTC time plus the zone's offset, which only changes at
the zone's transitions: :func:`offset_periods` finds those inside the data's time range and
:func:`day_sql` emits a ``CASE`` over them, so days are exact across daylight-saving changes.

Reports group time in buckets before they compute days (:mod:`burn.query.base` chooses): the
hourly rollups (:mod:`burn.archive.rollup`) when :func:`rollup_answers` says they can answer exactly —
the rollup is current, the window starts and ends on hours, and the zone's offsets and
transitions are whole hours — otherwise ``turns`` grouped in buckets of :func:`turns_bucket_ms`
(15 minutes: every UTC offset in use is a multiple of 15 minutes). A bucket never straddles a
window bound or an offset change, so the day of a bucket's start is the day of every turn in it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TypeAlias

from burn.archive.rollup import HOUR_MS
from burn.query.where import window

DAY_MS = 86_400_000
QUARTER_MS = 900_000
_EPOCH_DAY = date(1970, 1, 1)

Periods: TypeAlias = list[tuple[int, int]]  # (start_ms, utc_offset_ms), as offset_periods returns them


def time_range(db: sqlite3.Connection, since_ms: int | None, until_ms: int | None) -> tuple[int, int]:
    """First and last turn time (UTC ms) inside [since, until); ``(0, 0)`` without turns."""
    where = window("ts_ms", since_ms, until_ms).sql()
    # Two subqueries: SQLite answers a lone MIN or MAX from the index's ends, both in one SELECT
    # by scanning it.
    lo, hi = db.execute(
        f"SELECT (SELECT MIN(ts_ms) FROM turns {where}), (SELECT MAX(ts_ms) FROM turns {where})"
    ).fetchone()
    return (lo or 0, hi or 0)


def aligned(periods: Periods, since_ms: int | None, until_ms: int | None, unit_ms: int) -> bool:
    """Whether buckets of ``unit_ms`` never straddle a window bound or an offset change of
    ``periods`` (pass no periods when local time does not matter)."""
    return (
        all(b is None or b % unit_ms == 0 for b in (since_ms, until_ms))
        and all(start % unit_ms == 0 for start, _ in periods[1:])
        and all(off % unit_ms == 0 for _, off in periods)
    )


def rollup_answers(
    state: Mapping[str, str],
    periods: Periods,
    since_ms: int | None,
    until_ms: int | None,
    *,
    sessions: bool = False,
) -> bool:
    """Whether the hourly rollup (with ``sessions``: also ``session_hours``) answers exactly."""
    if state.get("rollup") != "ok" or (sessions and state.get("session_hours") != "ok"):
        return False
    return aligned(periods, since_ms, until_ms, HOUR_MS)


def turns_bucket_ms(periods: Periods) -> int:
    """Bucket size for grouping ``turns`` before local days are computed: 15 minutes, or single
    milliseconds for a zone whose offsets are not multiples of 15 minutes (historic local times)."""
    return QUARTER_MS if aligned(periods, None, None, QUARTER_MS) else 1


def offset_periods(tz: tzinfo, lo_ms: int, hi_ms: int) -> Periods:
    """``(start_ms, utc_offset_ms)`` of each offset period of ``tz`` that overlaps [lo, hi].

    Found by stepping a day at a time and bisecting to the second where the offset changes.
    """
    offset = _offset_ms(tz, lo_ms)
    periods = [(lo_ms, offset)]
    t = lo_ms
    while t < hi_ms:
        nxt = min(t + DAY_MS, hi_ms)
        if _offset_ms(tz, nxt) != offset:
            a, b = t, nxt  # offset(a) == offset, offset(b) != offset
            while b - a > 1000:
                mid = (a + b) // 2
                a, b = (mid, b) if _offset_ms(tz, mid) == offset else (a, mid)
            # Zones change offset on a whole second: the one in (a, b]. Without this snap the
            # change sat up to a second late, off the hour, and reports over a daylight-saving
            # change never used the hourly rollup (nor 15-minute buckets of turns).
            second = (a // 1000 + 1) * 1000
            if _offset_ms(tz, second) != offset:
                b = second
            offset = _offset_ms(tz, b)
            periods.append((b, offset))
        t = nxt
    return periods


def day_sql(tz: tzinfo, lo_ms: int, hi_ms: int, column: str = "t.ts_ms") -> str:
    """SQL for the local calendar day (``YYYY-MM-DD``) of ``column`` (UTC milliseconds) in ``tz``."""
    return day_expr(offset_periods(tz, lo_ms, hi_ms), column)


def day_expr(periods: Periods, column: str) -> str:
    """SQL for the local day of ``column`` (UTC milliseconds) under ``periods``."""

    def day(off: int) -> str:
        return f"date(({column} + ({off})) / 1000, 'unixepoch')"

    return _by_period(periods, column, day)


def day_number_expr(periods: Periods, column: str) -> str:
    """SQL for the local day of ``column`` (UTC milliseconds, not before 1970) under ``periods`` as
    an integer, days since 1970-01-01 (:func:`day_of_number` names it): grouping by it spares
    SQLite a ``date()`` call per row."""
    return _by_period(periods, column, lambda off: f"(({column} + ({off})) / {DAY_MS})")


def day_of_number(n: int) -> date:
    """The date of a :func:`day_number_expr` value."""
    return _EPOCH_DAY + timedelta(days=n)


def _by_period(periods: Periods, column: str, day: Callable[[int], str]) -> str:
    """``day(offset)`` for the offset period ``column`` falls in."""
    if len(periods) == 1:
        return day(periods[0][1])
    pairs = zip(periods[1:], periods[:-1], strict=True)
    cases = " ".join(f"WHEN {column} < {start} THEN {day(prev_off)}" for (start, _), (_, prev_off) in pairs)
    return f"(CASE {cases} ELSE {day(periods[-1][1])} END)"


def _offset_ms(tz: tzinfo, ms: int) -> int:
    off = datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).utcoffset()
    return int(off.total_seconds() * 1000) if off is not None else 0
