"""Codex's timestamp arithmetic on normalised UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` strings (the form
Codex writes; normalising is the reader kit's :func:`burn.readkit.normalize_ts`).

Normalised strings of this one shape compare correctly as strings, which the replay gate relies
on (:mod:`burn_codex.replay`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from burn.readkit import format_utc, ms_to_iso

__all__ = ["plus_ms", "uuid7_ts"]


def plus_ms(ts: str, ms: int) -> str:
    """A normalised timestamp ``ms`` milliseconds after the normalised ``ts``."""
    dt = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return format_utc(dt + timedelta(milliseconds=ms))


def uuid7_ts(value: object) -> str | None:
    """The creation instant embedded in a UUIDv7 (its first 48 bits, Unix ms), else ``None``."""
    if type(value) is not str or len(value) != 36:
        return None
    hexpart = value.replace("-", "")
    if len(hexpart) != 32 or hexpart[12] != "7":
        return None
    try:
        return ms_to_iso(int(hexpart[:12], 16))
    except ValueError:  # not hexadecimal, or after the year 9999
        return None
