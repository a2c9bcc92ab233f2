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
    if name:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise UsageError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from exc
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


def parse_bound(value: str, tz: tzinfo, *, end: bool, now: datetime | None = None) -> datetime:
    """``--since``/``--until``: ``YYYY-MM-DD`` (a whole local day: ``--until`` includes it), an ISO
    date-time (local unless it has an offset), or a duration back from now (``12h``, ``7d``, ``2w``).
    """
    now = now or datetime.now(UTC)
    m = _DURATION.match(value.strip())
    if m:
        return now - int(m.group(1)) * _UNITS[m.group(2)]
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=tz)
            return start + timedelta(days=1) if end else start
        dt = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"cannot read {value!r} as a date (YYYY-MM-DD), date-time or duration (7d)") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)
