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
from burn.timeutil import parse_bound, resolve_timezone, to_ms


def iso(dt: datetime) -> str:
    ms = to_ms(dt)
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def bound_ms(filters: Mapping[str, Any], name: str) -> int | None:
    value = filters.get(name)
    return None if value is None else to_ms(datetime.fromisoformat(str(value)))


def split(values: Iterable[str] | None) -> list[str]:
    """Repeated and comma-separated values, trimmed, unique, sorted."""
    return sorted({v.strip() for value in values or () for v in value.split(",") if v.strip()})


def common(
    db: sqlite3.Connection, options: Mapping[str, Any], now: datetime, secret: bytes
) -> dict[str, Any]:
    tz, tz_name = resolve_timezone(options.get("timezone"))
    since, until = options.get("since"), options.get("until")
    return {
        "timezone": tz_name,
        "since": iso(parse_bound(since, tz, end=False, now=now)) if since else None,
        "until": iso(parse_bound(until, tz, end=True, now=now)) if until else None,
        "sources": split(options.get("source")),
        "projects": resolve_projects(db, split(options.get("project")), secret),
        "models": split(options.get("model")),
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
