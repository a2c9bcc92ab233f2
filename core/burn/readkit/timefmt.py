"""Timestamps in the one form every record uses: UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ``.

Strings of this one shape order correctly as strings, so readers may compare them without parsing
(Codex's replay gate does).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def normalize_ts(value: object) -> str | None:
    """The ISO-8601 ``value`` as UTC with millisecond precision, or ``None`` if it is not one.

    Strings already in the target shape (``2026-02-11T21:24:22.960Z``, as Claude Code and Codex
    write them) are returned as they are once the date is checked: the hot path, no formatting.
    Instants before 1970 (placeholders such as ``0001-01-01``) and offsets of a day or more are not
    times: ``None``. Offsets are converted to UTC,
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
        # Already normalised: checked (``2026-13-45T99:99:99.000Z`` has the shape), not reformatted.
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return None
        return value if value >= "1970" else None
    try:
        dt = datetime.fromisoformat(value)
        dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or an offset of ±24 h or more (``+99:00``)
        return None
    return format_utc(dt) if dt.year >= MIN_YEAR else None


MIN_YEAR = 1970
"""Earlier instants are placeholders (``0001-01-01T00:00:00Z``), not times: no agent ran then."""


def valid_ts(value: object) -> bool:
    """Whether ``value`` is a timestamp a record may carry: ISO-8601 with a zone (``Z`` or an
    offset), within the years 1970–9999 — what the archive can place in time. Readers normalise
    with :func:`normalize_ts`; the core checks every record with this before the ledger."""
    if type(value) is not str:
        return False
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return False
    return dt.tzinfo is not None and (dt.year >= MIN_YEAR if dt.utcoffset() == timedelta(0) else _utc_ok(dt))


def _utc_ok(dt: datetime) -> bool:
    try:
        return dt.astimezone(UTC).year >= MIN_YEAR
    except OverflowError:
        return False


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
