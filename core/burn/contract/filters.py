"""The canonical filters every surface shares, from command-line options.

Canonical form (what the meta block shows and cursors bind): ``timezone`` (IANA name), ``since``
and ``until`` (UTC instants, ``YYYY-MM-DDTHH:MM:SS.sssZ``, or null; ``until`` exclusive),
``sources`` and ``models`` (sorted, unique), ``projects`` (sorted raw project keys: labels are
resolved once, when the export starts), then the surface's own filters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from burn.errors import UsageError
from burn.identity import anonymous_key
from burn.timeutil import resolve_timezone, to_ms, window


def iso(dt: datetime) -> str:
    ms = to_ms(dt)
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def bound_ms(filters: Mapping[str, Any], name: str) -> int | None:
    value = filters.get(name)
    return None if value is None else to_ms(datetime.fromisoformat(str(value)))


def split(values: Iterable[str] | None, option: str = "") -> list[str]:
    """Repeated and comma-separated values, trimmed, unique, sorted. A given value that names
    nothing (``--source ""``) is a :class:`UsageError` for ``option``, not "no filter"."""
    out: set[str] = set()
    for value in values or ():
        names = {v.strip() for v in value.split(",") if v.strip()}
        if not names and option:
            raise UsageError(f"{option}: empty value")
        out |= names
    return sorted(out)


def common(
    db: sqlite3.Connection, options: Mapping[str, Any], now: datetime, secret: bytes
) -> dict[str, Any]:
    tz, tz_name = resolve_timezone(options.get("timezone"))
    since, until = window(options.get("since"), options.get("until"), tz, now)
    return {
        "timezone": tz_name,
        "since": None if since is None else iso(since),
        "until": None if until is None else iso(until),
        "sources": split(options.get("source"), "--source"),
        "projects": resolve_projects(db, split(options.get("project"), "--project"), secret),
        "models": split(options.get("model"), "--model"),
    }


def resolve_projects(db: sqlite3.Connection, wanted: list[str], secret: bytes) -> list[str]:
    """Project keys for ``--project`` values: a key, an anonymous key, or a label."""
    if not wanted:
        return []
    keys: set[str] = set()
    rows = db.execute("SELECT DISTINCT key, label FROM projects").fetchall()
    for value in wanted:
        found = {k for k, label in rows if value in (k, label) or value == anonymous_key(k, secret)}
        if not found:
            raise UsageError(f"no project matches {value!r} (use a key or label from `burn summary`)")
        keys |= found
    return sorted(keys)
