"""Identity and time helpers shared by the JSON-storage and the SQLite paths."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

SOURCE = "opencode"

# Unix milliseconds accepted as timestamps: after 1970, before year 10000.
_MAX_MS = 253_402_300_800_000


def sha32(data: bytes) -> str:
    """First 128 bits of sha256, hex: the content hash used in every record."""
    return hashlib.sha256(data).hexdigest()[:32]


def s(value: object) -> str | None:
    """A non-empty string, else ``None``."""
    return value if type(value) is str and value else None


def ms_value(value: object) -> int | None:
    """A Unix-millisecond timestamp as OpenCode writes it (``Date.now()``), else ``None``."""
    if type(value) is float and value == value:
        value = int(value)
    if type(value) is int and 0 < value < _MAX_MS:
        return value
    return None


def ms_to_iso(ms: int) -> str:
    """Unix milliseconds → ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC)."""
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"
