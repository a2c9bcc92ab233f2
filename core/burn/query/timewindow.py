"""Time zones and time-window arguments (``--timezone``, ``--since``, ``--until``)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from burn.errors import UsageError

_DURATION = re.compile(r"^(\d+)([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def resolve_timezone(name: str | None, env: Mapping[str, str] | None = None) -> tuple[tzinfo, str]:
    """The zone to bucket days in and its IANA name: ``name``, else ``TZ``, else the system's."""
    env = os.environ if env is None else env
    if name is not None:  # given, even empty: an empty --timezone is a mistake, not "local"
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            what = "empty value" if not name.strip() else f"unknown time zone {name!r}"
            raise UsageError(f"--timezone: {what} (use an IANA name such as Europe/Berlin)") from exc
    tz_env = env.get("TZ", "").lstrip(":")
    if tz_env:
        try:
            return ZoneInfo(tz_env), tz_env
        except (ZoneInfoNotFoundError, ValueError):
            pass
    localtime = Path("/etc/localtime")
    try:
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            key = target.split("zoneinfo/", 1)[1]
            return ZoneInfo(key), key
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return UTC, "UTC"


# The instants a bound may name: agent sessions postdate 1970, and years past 9998 do not survive
# a time zone or the canonical ISO spelling the contracts use.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
_FORMS = "YYYY-MM-DD (or YYYYMMDD), an ISO date-time, or a duration back from now such as 7d, 12h or 2w"


def parse_bound(
    value: str, tz: tzinfo, *, end: bool, now: datetime | None = None, option: str | None = None
) -> datetime:
    """``--since``/``--until``: ``YYYY-MM-DD`` or ``YYYYMMDD`` (a whole local day: ``--until``
    includes it), an ISO
    date-time (local unless it has an offset), or a duration back from now (``12h``, ``7d``, ``2w``).

    Raises :class:`UsageError` naming the option (default ``--since``/``--until``) for an empty,
    unreadable or out-of-range value.
    """
    option = option or ("--until" if end else "--since")
    now = now or datetime.now(UTC)
    text = value.strip()
    if not text:
        raise UsageError(f"{option}: empty value (give {_FORMS})")
    try:
        m = _DURATION.match(text)
        if len(text) == 8 and text.isdigit():  # ccusage's compact YYYYMMDD
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        if m:
            dt = now - int(m.group(1)) * _UNITS[m.group(2)]
        elif len(text) == 10:
            day = date.fromisoformat(text)
            dt = datetime(day.year, day.month, day.day, tzinfo=tz)
            dt = dt + timedelta(days=1) if end else dt
        else:
            dt = datetime.fromisoformat(text)
            dt = dt if dt.tzinfo else dt.replace(tzinfo=tz)
    except ValueError as exc:
        raise UsageError(f"{option}: cannot read {value!r} (give {_FORMS})") from exc
    except OverflowError as exc:  # 99999999999d: beyond what a date can hold
        raise UsageError(f"{option}: {value!r} is out of range ({_range()})") from exc
    try:
        in_range = EARLIEST <= dt.astimezone(UTC) < LATEST
    except (ValueError, OverflowError):  # year 1 at +14:00 is year 0
        in_range = False
    if not in_range:
        raise UsageError(f"{option}: {value!r} is out of range ({_range()})")
    return dt


def window(
    since: str | None, until: str | None, tz: tzinfo, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """``--since`` and ``--until`` read together (``None`` where not given, even empty strings are
    read): an empty window (``--until`` not after ``--since``) is a :class:`UsageError`, not an
    empty report."""
    start = None if since is None else parse_bound(since, tz, end=False, now=now)
    stop = None if until is None else parse_bound(until, tz, end=True, now=now)
    if start is not None and stop is not None and stop <= start:
        raise UsageError(f"--until {until!r} is not after --since {since!r}: the window is empty")
    return start, stop


def _range() -> str:
    return f"give a time from {EARLIEST:%Y-%m-%d} to {LATEST - timedelta(days=1):%Y-%m-%d}"


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)
