"""Timestamps normalised to UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the form Codex writes).

Normalised strings of this one shape compare correctly as strings, which the replay gate relies
on (:mod:`burn_codex.replay`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def normalize_ts(value: object) -> str | None:
    """The ISO-8601 ``value`` as UTC with millisecond precision, or ``None`` if it is not one.

    Strings already in the target shape are returned as they are (the hot path: no parsing).
    Offsets are converted to UTC, naive times taken as UTC, sub-milliseconds truncated.
    """
    if type(value) is not str:
        return None
    if (
        len(value) == 24
        and value[23] == "Z"
        and value[10] == "T"
        and value[19] == "."
        and value[4] == "-"
        and value[7] == "-"
        and value[13] == ":"
        and value[16] == ":"
        and value[20:23].isdigit()
    ):
        return value
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return _fmt(dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC))


def _fmt(dt: datetime) -> str:
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


def from_ms(ms: int) -> str | None:
    """Normalised timestamp of a Unix time in milliseconds (``None`` when out of range)."""
    try:
        return _fmt(datetime.fromtimestamp(ms / 1000, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def plus_ms(ts: str, ms: int) -> str:
    """A normalised timestamp ``ms`` milliseconds after the normalised ``ts``."""
    dt = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return _fmt(dt + timedelta(milliseconds=ms))


def uuid7_ts(value: object) -> str | None:
    """The creation instant embedded in a UUIDv7 (its first 48 bits, Unix ms), else ``None``."""
    if type(value) is not str or len(value) != 36:
        return None
    hexpart = value.replace("-", "")
    if len(hexpart) != 32 or hexpart[12] != "7":
        return None
    try:
        ms = int(hexpart[:12], 16)
    except ValueError:
        return None
    return from_ms(ms)
