"""The filters every read shares: a time window, a time zone and source/project/model choices.

:class:`Filters` is built in one place from command-line options (:meth:`Filters.from_options`)
and, for contract documents and their cursors, from the canonical form the meta block shows
(:meth:`Filters.from_canonical`, :meth:`Filters.canonical`). It carries the resolved
:class:`~zoneinfo.ZoneInfo` itself, so no reader rebuilds it from a name.

The default time zone is the user's local one (``TZ``, else ``/etc/localtime``, else UTC) for
every command: ``burn summary``, ``burn report`` and ``burn export``. Only a canonical mapping
without a ``timezone`` (an exporter called as a library, :func:`burn.exporter.plain_rows`) means
UTC: documents must not depend on the machine that wrote them unless asked (docs/contracts.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from burn.errors import UsageError
from burn.privacy.identity import anonymous_key
from burn.query.timewindow import resolve_timezone, to_ms, window
from burn.records import STAMP_FIELDS

_UTC = ZoneInfo("UTC")


def _zone(tz: tzinfo) -> ZoneInfo:
    # resolve_timezone falls back to datetime.UTC: the same offsets as ZoneInfo("UTC").
    return tz if isinstance(tz, ZoneInfo) else _UTC


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def _check_window(instance: Filters, _attribute: Any, until_ms: int | None) -> None:
    since_ms = instance.since_ms
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise UsageError(
            f"--until ({iso_ms(until_ms)}) must be after --since ({iso_ms(since_ms)}): the window is empty"
        )


def _stamp_filters(values: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    given = dict(values.items() if isinstance(values, Mapping) else values)
    return tuple((f, _names(given[f])) for f in STAMP_FIELDS if given.get(f))


@attrs.frozen
class Filters:
    """What a read selects. ``since_ms``/``until_ms``: UTC milliseconds, ``until`` exclusive, None
    for open; ``tz``: the zone days and buckets are local to (``timezone``: its name, as output
    shows it); ``sources``, ``projects`` (raw project keys), ``models``, ``machines`` (machine
    keys: the host that first saw a turn): sorted, unique, empty for all. An ``until`` at or
    before ``since`` is a :class:`UsageError`."""

    tz: ZoneInfo = attrs.field(default=_UTC, converter=_zone)
    timezone: str = "UTC"
    since_ms: int | None = None
    until_ms: int | None = attrs.field(default=None, validator=_check_window)
    sources: tuple[str, ...] = attrs.field(default=(), converter=_names)
    projects: tuple[str, ...] = attrs.field(default=(), converter=_names)
    models: tuple[str, ...] = attrs.field(default=(), converter=_names)
    machines: tuple[str, ...] = attrs.field(default=(), converter=_names)
    # Stamp filters (``burn stamp``): (field, sorted values) for the fields given, in STAMP_FIELDS order.
    stamps: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(default=(), converter=_stamp_filters)

    @classmethod
    def for_zone(cls, name: str | None, since_ms: int | None = None, until_ms: int | None = None) -> Filters:
        """A window in a zone by name (``None``: the local zone), nothing else filtered."""
        tz, tz_name = resolve_timezone(name)
        return cls(tz=tz, timezone=tz_name, since_ms=since_ms, until_ms=until_ms)

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        *,
        now: datetime | None = None,
        db: sqlite3.Connection | None = None,
        secret: bytes = b"",
    ) -> Filters:
        """From parsed options: ``timezone``, ``since``, ``until`` (see
        :func:`burn.query.timewindow.parse_bound`), and repeated or comma-separated ``source``, ``project``
        (a key, an anonymous key or a label: resolved to keys in ``db``), ``model`` and ``machine``
        (a key, a prefix of one or this host's label: resolved to keys in ``db``)."""
        tz, tz_name = resolve_timezone(options.get("timezone"))
        since, until = window(options.get("since"), options.get("until"), tz, now or datetime.now(UTC))
        projects = split(options.get("project"), "--project")
        machines = split(options.get("machine"), "--machine")
        return cls(
            tz=tz,
            timezone=tz_name,
            since_ms=None if since is None else to_ms(since),
            until_ms=None if until is None else to_ms(until),
            sources=split(options.get("source"), "--source"),
            projects=resolve_projects(db, projects, secret) if projects and db is not None else projects,
            models=split(options.get("model"), "--model"),
            machines=resolve_machines(db, machines, secret) if machines and db is not None else machines,
            stamps={f: split(options.get(f), f"--{f}") for f in STAMP_FIELDS if options.get(f) is not None},
        )

    @classmethod
    def from_canonical(cls, filters: Mapping[str, Any]) -> Filters:
        """From the canonical mapping (:meth:`canonical`; a cursor's, or an exporter's argument).
        Without ``timezone``: UTC."""
        name = str(filters.get("timezone") or "UTC")
        return cls(
            tz=ZoneInfo(name),
            timezone=name,
            since_ms=_bound(filters.get("since")),
            until_ms=_bound(filters.get("until")),
            sources=filters.get("sources") or (),
            projects=filters.get("projects") or (),
            models=filters.get("models") or (),
            machines=filters.get("machines") or (),
            stamps=filters.get("stamps") or {},
        )

    def canonical(self) -> dict[str, Any]:
        """The canonical form contract documents show and cursors bind: ``timezone``, ``since``
        and ``until`` (``YYYY-MM-DDTHH:MM:SS.sssZ`` or null), ``sources``, ``projects``,
        ``models`` (sorted lists), and only when some are given ``machines`` (sorted; added after the
        contracts' first version: documents without the filter are unchanged) and ``stamps`` (field
        → sorted values)."""
        out: dict[str, Any] = {
            "timezone": self.timezone,
            "since": iso_ms(self.since_ms),
            "until": iso_ms(self.until_ms),
            "sources": list(self.sources),
            "projects": list(self.projects),
            "models": list(self.models),
        }
        if self.machines:
            out["machines"] = list(self.machines)
        if self.stamps:
            out["stamps"] = {f: list(v) for f, v in self.stamps}
        return out


def _bound(value: Any) -> int | None:
    return None if value is None else to_ms(datetime.fromisoformat(str(value)))


def iso_ms(ms: int | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` of UTC milliseconds (the contracts' instants)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso(dt: datetime) -> str:
    """:func:`iso_ms` of an aware datetime."""
    return iso_ms(to_ms(dt)) or ""


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


MIN_MACHINE_PREFIX = 8  # hex digits after ``sha256:`` a --machine prefix needs (32 bits)


def resolve_machines(db: sqlite3.Connection, wanted: list[str], secret: bytes) -> list[str]:
    """Machine keys for ``--machine`` values: a key, a prefix of one (at least
    :data:`MIN_MACHINE_PREFIX` hex digits, with or without ``sha256:``), or this host's label
    (``RELAYBURN_MACHINE_LABEL``). A value that matches no machine in the archive is a
    :class:`UsageError`, as is a prefix two machines share."""
    import os

    from burn.privacy.identity import machine_key

    keys: set[str] = set()
    known = [k for (k,) in db.execute("SELECT DISTINCT machine FROM turns ORDER BY machine")]
    label = os.environ.get("RELAYBURN_MACHINE_LABEL", "").strip()
    for value in wanted:
        if secret and label and value == label:
            keys.add(machine_key(secret))
            continue
        digits = value.removeprefix("sha256:")
        found = {k for k in known if k == value} or (
            {k for k in known if k.removeprefix("sha256:").startswith(digits)}
            if len(digits) >= MIN_MACHINE_PREFIX
            else set()
        )
        if not found:
            raise UsageError(
                f"no machine matches {value!r} (use a key, {MIN_MACHINE_PREFIX}+ hex digits of one, "
                "or this host's RELAYBURN_MACHINE_LABEL; `burn report usage --by machine` lists them)"
            )
        if len(found) > 1:
            raise UsageError(f"--machine {value!r} matches {len(found)} machines: give more digits")
        keys |= found
    return sorted(keys)
