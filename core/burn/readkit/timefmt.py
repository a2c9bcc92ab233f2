"""Timestamps in the one form every record uses: UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

Strings of this one shape order correctly as strings, so readers may compare them without parsing
(Codex's replay gate does).
"""

from __future__ import annotations

from datetime import UTC, datetime


def normalize_ts(value: object) -> str | None:
    """The ISO-8601 ``value`` as UTC with millisecond precision, or ``None`` if it is not one.

    Strings already in the target shape (``2026-02-11T21:24:22.960Z``, as Claude Code and Codex
    write them) are returned as they are: the hot path, no parsing. Offsets are converted to UTC,
    naive times taken as UTC, sub-milliseconds truncated.
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
    return format_utc(dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC))


def format_utc(dt: datetime) -> str:
    """A UTC ``datetime`` in the normalised form (sub-milliseconds truncated). Years before 1000
    come out with fewer than four digits (``strftime``); no agent writes those."""
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


def ms_to_iso(ms: int) -> str:
    """Unix milliseconds (JavaScript's ``Date.now()``) → the normalised form, exactly.

    Raises :class:`ValueError` for an instant outside the years 1–9999.
    """
    try:
        dt = datetime.fromtimestamp(ms // 1000, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"Unix time out of range: {ms} ms") from exc
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"
