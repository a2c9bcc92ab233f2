"""Timestamps normalised to UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the form Claude Code writes)."""

from __future__ import annotations

from datetime import UTC, datetime


def normalize_ts(value: object) -> str | None:
    """The ISO-8601 ``value`` as UTC with millisecond precision, or ``None`` if it is not one.

    Claude Code writes ``2026-02-11T21:24:22.960Z``; strings already in that shape are returned as
    they are (the hot path: no parsing). Offsets are converted to UTC, naive times taken as UTC,
    microseconds truncated to milliseconds.
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
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"
