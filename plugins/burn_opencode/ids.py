"""Identity and time helpers shared by the JSON-storage and the SQLite paths."""

from __future__ import annotations

from typing import Any

from burn.readkit import ms_to_iso

__all__ = ["SOURCE", "ms_to_iso", "ms_value", "times"]

SOURCE = "opencode"

# Unix milliseconds accepted as timestamps: after 1970, before year 10000.
_MAX_MS = 253_402_300_800_000


def ms_value(value: object) -> int | None:
    """A Unix-millisecond timestamp as OpenCode writes it (``Date.now()``), else ``None``; one
    that :func:`ms_to_iso` (the reader kit's) can write."""
    if type(value) is float and value == value:
        value = int(value)
    if type(value) is int and 0 < value < _MAX_MS:
        return value
    return None


def times(d: dict[str, Any]) -> dict[str, Any]:
    """The ``time`` object of a message, session or part (``{}`` when absent or not an object)."""
    t = d.get("time")
    return t if type(t) is dict else {}
