"""``burn doctor``: where each reader looks, what it finds, what is not ingested yet, and what may be
lost before it is (DESIGN §11). The JSON shape is documented in docs/doctor.md.

Doctor only reads, and never writes anything, anywhere: no reader is called (discovery lists
directories; units are only stat'ed), cursors are read with ``mode=ro`` (:class:`CursorFile` with
``readonly=True``), and the archive is opened without creating the ``-wal``/``-shm`` files a plain
read-only SQLite connection to a WAL database leaves behind (:class:`_Snapshot`).

Ingest lag is exactly what the next ``burn ingest`` would read: a unit whose stat fingerprint
(:func:`burn.reader.fingerprint`) differs from the one stored with its cursor, or that has no
cursor at all.

An agent that deletes its own files (Claude Code's ``cleanupPeriodDays``) is checked by its
reader's optional ``retention`` method (:class:`burn.reader.Retention`): doctor hands every reader
that has one the units it stat'ed and lists what comes back, under the key the reader names, with
its findings. Doctor itself knows no source.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import attrs

from burn import sqlite
from burn.archive.database import Archive
from burn.archive.state import SCHEMA_VERSION, quick_check
from burn.errors import BurnError
from burn.ingest.read_cursors import CursorFile
from burn.paths import user_home
from burn.plugins.manager import Plugins
from burn.plugins.stores import close, open_store, probe, where
from burn.reader import (
    Diagnostics,
    Reader,
    Retention,
    RetentionCheck,
    RetentionWarning,
    SourceUnit,
    UnitStat,
    fingerprint,
    printable,
)
from burn.readkit.words import human_bytes, plural
from burn.records import iso_seconds

Level = Literal["warning", "note"]


@attrs.frozen
class Finding:
    """One line of advice: ``warning`` when data may be lost or wrong, ``note`` otherwise."""

    level: Level
    code: str
    message: str


@attrs.frozen
class Location:
    path: str
    exists: bool


@attrs.define
class Lag:
    """Units the next ``burn ingest`` would read: ``new`` ones (never read) and ``changed`` ones."""

    units: int = 0
    bytes: int = 0
    new: int = 0
    changed: int = 0


@attrs.define
class SourceHealth:
    """One reader: where it looked, what it found on disk and in the archive, and its lag."""

    reader: str
    env_var: str | None
    env_value: str | None
    locations: list[Location] = attrs.field(factory=list)
    units: int = 0
    files: int = 0  # units and their existing companion files
    bytes: int = 0
    newest_mtime: str | None = None
    unreadable: int = 0  # units that could not be stat'ed
    archive_turns: int = 0
    archive_sessions: int = 0
    newest_record: str | None = None
    lag: Lag = attrs.field(factory=Lag)
    gone: int = 0  # units ingested earlier and no longer on disk (the agent deleted them)
    skipped: dict[str, int] = attrs.field(factory=dict)  # discovery's diagnostics, by reason
    error: str | None = None


@attrs.define
class ArchiveHealth:
    path: str
    exists: bool
    schema_version: int | None = None
    expected_schema_version: int = SCHEMA_VERSION
    ledger_position: int | None = None
    ledger_end: int | None = None
    up_to_date: bool | None = None
    store: dict[str, Any] = attrs.field(factory=dict)
    # Unreadable ledger lines not yet repaired (``burn ledger verify``); None: not checked (not the
    # file store, or a ledger over LEDGER_VERIFY_BYTES, which doctor leaves to the command).
    ledger_damaged: int | None = None
    error: str | None = None


@attrs.define
class DoctorReport:
    burn_home: str
    checked_at: str
    sources: list[SourceHealth]
    archive: ArchiveHealth
    pricing: dict[str, Any] | None
    retention: list[Retention]  # what readers' retention checks returned, by reader name
    plugin_failures: list[str]
    findings: list[Finding]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: each retention check's entries under its own key, after
        ``pricing`` (docs/doctor.md)."""
        data = attrs.asdict(self, recurse=True, filter=lambda a, _: a.name != "retention")
        tail = {k: data.pop(k) for k in ("plugin_failures", "findings")}
        for r in self.retention:
            if r.key:  # a check that failed has none: its finding says so
                data.setdefault(r.key, []).extend(r.entries)
        return {**data, **tail}


def diagnose(
    home: Path, plugins: Plugins, env: Mapping[str, str] | None = None, now: datetime | None = None
) -> DoctorReport:
    """Everything ``burn doctor`` reports, computed without writing anything."""
    env = os.environ if env is None else env
    now = now or datetime.now(UTC)
    plugins.collect()  # every registration hook now, so that plugin_failures is complete
    cursors = CursorFile.load(home, readonly=True)
    sources: list[SourceHealth] = []
    retention: list[Retention] = []
    try:
        for _name, reader in sorted(plugins.readers().items()):
            health, units, roots = _source(reader, cursors, env)
            sources.append(health)
            check: RetentionCheck | None = getattr(reader, "retention", None)
            if check is not None:
                retention.append(_retention(reader.name, check, roots, units, now))
    finally:
        cursors.close()
    archive, pricing = _archive(home, plugins, env, sources)
    report = DoctorReport(
        burn_home=str(home),
        checked_at=_iso_ns(int(now.timestamp() * 1e9)),
        sources=sources,
        archive=archive,
        pricing=pricing,
        retention=retention,
        plugin_failures=[f.message() for f in plugins.failures],
        findings=[],
    )
    report.findings = findings(report)
    return report


# -- sources ---------------------------------------------------------------------------------------


def _source(
    reader: Reader, cursors: CursorFile, env: Mapping[str, str]
) -> tuple[SourceHealth, list[UnitStat], list[Path]]:
    env_var = reader.env_var
    health = SourceHealth(
        reader=reader.name, env_var=env_var, env_value=env.get(env_var) if env_var else None
    )
    diag = Diagnostics()
    try:
        roots = reader.locations(env, user_home(env))
        health.locations = [Location(printable(str(r)), r.exists()) for r in roots]
        units = list(reader.discover(roots, diag))
    except Exception as exc:  # a reader plugin's bug is reported, as ingest does, not raised
        health.error = f"{type(exc).__name__}: {exc}"
        return health, [], []
    health.skipped = dict(sorted(diag.invalid.items()))
    health.units = len(units)
    stored = cursors.fingerprints(reader.name)
    stats: list[UnitStat] = []
    newest = 0
    for unit in units:
        files, size, mtime_ns, own_mtime_ns = _stat_unit(unit)
        current = fingerprint(unit)
        if current is None:
            health.unreadable += 1
            continue
        health.files += files
        health.bytes += size
        newest = max(newest, mtime_ns)
        known = unit.key in stored
        pending = not known or stored[unit.key] != current
        if pending:
            health.lag.units += 1
            health.lag.bytes += size
            if known:
                health.lag.changed += 1
            else:
                health.lag.new += 1
        stats.append(UnitStat(unit.key, own_mtime_ns, size, pending))
    health.newest_mtime = _iso_ns(newest) if newest else None
    seen = {u.key for u in units}
    health.gone = sum(1 for key in stored if key not in seen)
    return health, stats, list(roots)


def _stat_unit(unit: SourceUnit) -> tuple[int, int, int, int]:
    """Files, bytes and newest mtime of a unit's path and existing companions, and its own mtime."""
    files = size = newest = own = 0
    for i, path in enumerate((unit.path, *unit.companions)):
        try:
            st = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        files += 1
        size += st.st_size
        newest = max(newest, st.st_mtime_ns)
        if i == 0:
            own = st.st_mtime_ns
    return files, size, newest, own


# -- archive and pricing ---------------------------------------------------------------------------


class _Snapshot(Archive):
    """The archive opened for reading without writing a byte.

    A plain ``mode=ro`` connection to a WAL database creates ``-wal`` and ``-shm`` files (and
    leaves them behind). When no ``-wal`` with content exists, every committed page is in the main
    file, so ``immutable=1`` reads it alone. A non-empty ``-wal`` means an ingest is writing (or
    crashed): then the usual read-only connection is needed to see its commits.
    """

    def __init__(self, path: Path) -> None:  # deliberately not Archive.__init__: it may create files
        self.path = path
        self.readonly = True
        wal = path.with_name(path.name + "-wal")
        self.db = sqlite.connect(
            path, readonly=True, immutable=not (wal.is_file() and wal.stat().st_size > 0)
        )


def _archive(
    home: Path, plugins: Plugins, env: Mapping[str, str], sources: Sequence[SourceHealth]
) -> tuple[ArchiveHealth, dict[str, Any] | None]:
    path = home / "archive.sqlite"
    health = ArchiveHealth(path=str(path), exists=path.is_file())
    try:
        store = open_store(home, env, plugins)
        try:
            unreachable = probe(store)
            health.store = {**store.describe(), "where": where(store), "reachable": unreachable is None}
            if unreachable is None:
                health.ledger_end = store.position()
                health.ledger_damaged = _ledger_damaged(home, health.store)
            else:
                health.store["unreachable"] = unreachable
        finally:
            close(store)
    except BurnError as exc:
        health.error = str(exc)
    if not health.exists:
        return health, None
    pricing: dict[str, Any] | None = None
    try:
        archive = _Snapshot(path)
    except sqlite3.DatabaseError as exc:
        health.error = f"cannot open the archive: {exc}"
        return health, None
    try:
        damage = quick_check(archive.db)  # a scan of every page: doctor is where it is cheap to ask
        if damage is not None:
            health.error = f"archive is corrupt ({damage}); run `burn archive rebuild`"
            return health, None
        state = archive.state()
        version = state.get("schema_version")
        health.schema_version = int(version) if version is not None else None
        if health.schema_version == SCHEMA_VERSION:
            health.ledger_position = int(state.get("ledger_position", "0"))
            if health.ledger_end is not None:
                health.up_to_date = health.ledger_position >= health.ledger_end
            _archive_sources(archive, sources)
            pricing = _pricing(home, archive)
    except (sqlite3.DatabaseError, ValueError) as exc:
        # An ingest rewriting the file while we read, or a foreign file: report it, do not fail.
        health.error = f"cannot read the archive: {exc}"
    finally:
        archive.close()
    return health, pricing


# A full scan parses every line (~1 s per 300 MB); a larger ledger is left to `burn ledger verify`.
LEDGER_VERIFY_BYTES = 256 * 1024 * 1024


def _ledger_damaged(home: Path, store: Mapping[str, Any]) -> int | None:
    if store.get("store") != "file" or store.get("ledger_bytes", 0) > LEDGER_VERIFY_BYTES:
        return None
    from burn.ingest.verify_ledger import verify

    # A torn last line may be an ingest writing right now (doctor takes no lock): not counted.
    return sum(d.reason != "torn_tail" for d in verify(home).damaged)


def _archive_sources(archive: Archive, sources: Sequence[SourceHealth]) -> None:
    by_name = {s.reader: s for s in sources}
    for source, turns, newest_ms in archive.db.execute(
        "SELECT source, COUNT(*), MAX(ts_ms) FROM turns GROUP BY source"
    ):
        if source in by_name:
            by_name[source].archive_turns = int(turns)
            by_name[source].newest_record = _iso_ns(int(newest_ms) * 10**6)
    for source, sessions in archive.db.execute("SELECT source, COUNT(*) FROM sessions GROUP BY source"):
        if source in by_name:
            by_name[source].archive_sessions = int(sessions)


def _pricing(home: Path, archive: Archive) -> dict[str, Any]:
    """What ``burn pricing check`` reports: unpriced and fallback-priced models with their tokens."""
    from burn.pricing.load import load_pricing
    from burn.text.pricing import check

    return check(archive, load_pricing(home))


# -- retention -----------------------------------------------------------------------------------


def _retention(
    name: str, check: RetentionCheck, roots: Sequence[Path], units: Sequence[UnitStat], now: datetime
) -> Retention:
    """A reader's retention check; one that raises is reported as a ``reader_error``, as ingest does."""
    try:
        result = check(roots, units, now)
        if not result.key.endswith("_retention"):
            raise ValueError(f"retention key {result.key!r} does not end in _retention")
        return result
    except Exception as exc:
        message = f"{name}: retention check failed: {type(exc).__name__}: {exc}"
        return Retention("", warnings=[RetentionWarning("warning", "reader_error", message)])


# -- findings --------------------------------------------------------------------------------------


def findings(report: DoctorReport) -> list[Finding]:
    """The advice lines, warnings first, from the facts of the report."""
    out: list[Finding] = [Finding("warning", "plugin_failure", m) for m in report.plugin_failures]
    for s in report.sources:
        if s.error:
            out.append(Finding("warning", "reader_error", f"{s.reader}: discovery failed: {s.error}"))
        elif s.lag.units:
            out.append(
                Finding(
                    "note",
                    "ingest_lag",
                    f"{s.reader}: {s.lag.units:,} of {plural(s.units, 'unit')} ({human_bytes(s.lag.bytes)}) "
                    "not ingested yet: run `burn ingest`",
                )
            )
        if not s.error and not any(loc.exists for loc in s.locations):
            where = ", ".join(loc.path for loc in s.locations) or "nowhere"
            hint = f" (set {s.env_var} if the data lives elsewhere)" if s.env_var else ""
            out.append(Finding("note", "no_data", f"{s.reader}: nothing found in {where}{hint}"))
    out.extend(_archive_findings(report.archive))
    out.extend(_pricing_findings(report.pricing))
    for r in report.retention:
        out.extend(Finding(w.level, w.code, w.message) for w in r.warnings)
    # Warnings first, each level in the order found.
    return [f for f in out if f.level == "warning"] + [f for f in out if f.level == "note"]


def _archive_findings(a: ArchiveHealth) -> list[Finding]:
    out = []
    if a.ledger_damaged:
        out.append(
            Finding(
                "warning",
                "ledger_damaged",
                f"the ledger has {plural(a.ledger_damaged, 'unreadable line')} whose records are missing:"
                " run `burn ledger verify --repair`",
            )
        )
    elif a.ledger_damaged is None and a.store.get("store") == "file":
        out.append(
            Finding(
                "note",
                "ledger_unverified",
                "the ledger is too large to verify here: run `burn ledger verify`",
            )
        )
    return out + _archive_state_findings(a)


def _archive_state_findings(a: ArchiveHealth) -> list[Finding]:
    if a.error:
        return [Finding("warning", "archive_error", a.error)]
    if not a.exists:
        return [Finding("note", "no_archive", "no archive yet: run `burn ingest`")]
    if a.schema_version != a.expected_schema_version:
        return [
            Finding(
                "warning",
                "archive_schema",
                f"the archive has schema v{a.schema_version}, this burn uses v{a.expected_schema_version}:"
                " the next `burn ingest` rebuilds it from the ledger",
            )
        ]
    if a.up_to_date is False:
        return [
            Finding("warning", "archive_behind", "the archive is behind the ledger: run `burn archive build`")
        ]
    return []


def _pricing_findings(p: Mapping[str, Any] | None) -> list[Finding]:
    if p is None:
        return []
    out: list[Finding] = []
    kinds: tuple[tuple[str, Level, str], ...] = (
        ("unpriced", "warning", "without a price (no cost computed)"),
        ("fallback", "note", "priced by a fallback match"),
    )
    for kind, level, what in kinds:
        rows = p[kind]
        if rows:
            tokens = sum(r["tokens"] for r in rows)
            models = ", ".join(sorted({r["model"] for r in rows}))
            out.append(
                Finding(
                    level,
                    f"{kind}_models",
                    f"{plural(len(rows), 'model')} {what}, {tokens:,} tokens: {models} "
                    "(see `burn pricing check`)",
                )
            )
    if p.get("stale"):
        out.append(
            Finding(
                "note",
                "pricing_stale",
                "the archive's costs come from another pricing table: `burn archive build` re-prices them",
            )
        )
    return out


# -- formatting ------------------------------------------------------------------------------------


def _iso_ns(ns: int) -> str:
    return iso_seconds(ns // 10**6)
