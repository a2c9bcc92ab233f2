"""``burn doctor``: where each reader looks, what it finds, what is not ingested yet, and what may be
lost before it is (DESIGN §11). The JSON shape is documented in docs/doctor.md.

Doctor only reads, and never writes anything, anywhere: no reader is called (discovery lists
directories; units are only stat'ed), cursors are read with ``mode=ro`` (:class:`CursorFile` with
``readonly=True``), and the archive is opened without creating the ``-wal``/``-shm`` files a plain
read-only SQLite connection to a WAL database leaves behind (:class:`_Snapshot`).

Ingest lag is exactly what the next ``burn ingest`` would read: a unit whose stat fingerprint
(:func:`burn.reader.fingerprint`) differs from the one stored with its cursor, or that has no
cursor at all.

Claude Code deletes transcripts whose modification time is older than ``cleanupPeriodDays``
(``settings.json`` of its config directory; default 30) when it starts. Doctor warns when a
transcript that is not (fully) ingested is within :data:`MARGIN_DAYS` of that age, with the days
left for the oldest such transcript.
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
import orjson

from burn.archive import Archive
from burn.archive_state import SCHEMA_VERSION
from burn.cursors import CursorFile
from burn.errors import BurnError
from burn.paths import user_home
from burn.plugins import Plugins
from burn.reader import Diagnostics, Reader, SourceUnit, fingerprint
from burn.stores import open_store

CLAUDE_SOURCE = "claude-code"  # the built-in Claude Code reader's name
CLAUDE_DEFAULT_CLEANUP_DAYS = 30  # Claude Code's default when settings.json does not set it
MARGIN_DAYS = 7  # warn this many days before Claude Code may delete a transcript not yet ingested
_DAY_NS = 86_400 * 10**9

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
class ClaudeRetention:
    """Claude Code's transcript retention for one config directory, against what is ingested."""

    config_dir: str
    settings: str
    settings_exists: bool
    cleanup_period_days: int
    setting: Literal["settings", "default", "invalid"]
    transcripts: int = 0
    pending: int = 0  # transcripts not (fully) ingested
    pending_bytes: int = 0
    at_risk: int = 0  # pending ones with fewer than MARGIN_DAYS left
    oldest_pending: dict[str, Any] | None = None  # {"path", "modified", "days_left"}


@attrs.define
class DoctorReport:
    burn_home: str
    checked_at: str
    sources: list[SourceHealth]
    archive: ArchiveHealth
    pricing: dict[str, Any] | None
    claude_retention: list[ClaudeRetention]
    plugin_failures: list[str]
    findings: list[Finding]

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=True)


@attrs.frozen
class UnitStat:
    path: str
    mtime_ns: int  # of the unit's own file: what Claude Code's cleanup looks at
    bytes: int
    pending: bool


def diagnose(
    home: Path, plugins: Plugins, env: Mapping[str, str] | None = None, now: datetime | None = None
) -> DoctorReport:
    """Everything ``burn doctor`` reports, computed without writing anything."""
    env = os.environ if env is None else env
    now = now or datetime.now(UTC)
    plugins.collect()  # every registration hook now, so that plugin_failures is complete
    cursors = CursorFile.load(home, readonly=True)
    sources: list[SourceHealth] = []
    retention: list[ClaudeRetention] = []
    try:
        for name, reader in sorted(plugins.readers().items()):
            health, units, roots = _source(reader, cursors, env)
            sources.append(health)
            if name == CLAUDE_SOURCE:
                retention = claude_retention(roots, units, now)
    finally:
        cursors.close()
    archive, pricing = _archive(home, plugins, env, sources)
    report = DoctorReport(
        burn_home=str(home),
        checked_at=_iso_ns(int(now.timestamp() * 1e9)),
        sources=sources,
        archive=archive,
        pricing=pricing,
        claude_retention=retention,
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
        health.locations = [Location(str(r), r.exists()) for r in roots]
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
        mode = "mode=ro" if wal.is_file() and wal.stat().st_size > 0 else "mode=ro&immutable=1"
        self.db = sqlite3.connect(f"file:{path}?{mode}", uri=True, isolation_level=None)


def _archive(
    home: Path, plugins: Plugins, env: Mapping[str, str], sources: Sequence[SourceHealth]
) -> tuple[ArchiveHealth, dict[str, Any] | None]:
    path = home / "archive.sqlite"
    health = ArchiveHealth(path=str(path), exists=path.is_file())
    try:
        store = open_store(home, env, plugins)
        health.store = store.describe()
        health.ledger_end = store.position()
        health.ledger_damaged = _ledger_damaged(home, health.store)
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
    from burn.ledger_verify import verify

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
    from burn.pricing.report import check

    return check(archive, load_pricing(home))


# -- Claude Code retention -------------------------------------------------------------------------


def cleanup_period(config_dir: Path) -> tuple[Path, bool, int, Literal["settings", "default", "invalid"]]:
    """``cleanupPeriodDays`` of a Claude Code config directory's ``settings.json``: the path, whether
    it exists, the days, and where the value came from (an unreadable value counts as the default,
    as Claude Code ignores it)."""
    settings = config_dir / "settings.json"
    try:
        data = orjson.loads(settings.read_bytes())
    except FileNotFoundError:
        return settings, False, CLAUDE_DEFAULT_CLEANUP_DAYS, "default"
    except (OSError, orjson.JSONDecodeError):
        return settings, settings.exists(), CLAUDE_DEFAULT_CLEANUP_DAYS, "invalid"
    value = data.get("cleanupPeriodDays") if isinstance(data, dict) else None
    if value is None:
        return settings, True, CLAUDE_DEFAULT_CLEANUP_DAYS, "default"
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return settings, True, CLAUDE_DEFAULT_CLEANUP_DAYS, "invalid"
    return settings, True, int(value), "settings"


def claude_retention(
    roots: Sequence[Path], units: Sequence[UnitStat], now: datetime
) -> list[ClaudeRetention]:
    """Per Claude Code config directory (the parent of each ``projects`` root): its cleanup period
    and the transcripts under it that are not ingested yet, with the days left for the oldest."""
    now_ns = int(now.timestamp() * 1e9)
    out: list[ClaudeRetention] = []
    claimed: set[str] = set()
    for root in roots:
        config_dir = root.parent if root.name == "projects" else root
        settings, exists, days, setting = cleanup_period(config_dir)
        if not exists and not root.is_dir():
            continue  # a default location Claude Code does not use here
        r = ClaudeRetention(str(config_dir), str(settings), exists, days, setting)
        prefix = str(root) + os.sep
        oldest: UnitStat | None = None
        for u in units:
            if u.path in claimed or not u.path.startswith(prefix):
                continue
            claimed.add(u.path)  # nested roots: a transcript belongs to the first one listing it
            r.transcripts += 1
            if not u.pending:
                continue
            r.pending += 1
            r.pending_bytes += u.bytes
            if _days_left(days, u.mtime_ns, now_ns) < MARGIN_DAYS:
                r.at_risk += 1
            if oldest is None or u.mtime_ns < oldest.mtime_ns:
                oldest = u
        if oldest is not None:
            r.oldest_pending = {
                "path": oldest.path,
                "modified": _iso_ns(oldest.mtime_ns),
                "days_left": round(_days_left(days, oldest.mtime_ns, now_ns), 1),
            }
        out.append(r)
    return out


def _days_left(period_days: int, mtime_ns: int, now_ns: int) -> float:
    return period_days - (now_ns - mtime_ns) / _DAY_NS


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
    for r in report.claude_retention:
        out.extend(_retention_findings(r))
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


def _retention_findings(r: ClaudeRetention) -> list[Finding]:
    out: list[Finding] = []
    where = f"cleanupPeriodDays {r.cleanup_period_days}" + (
        f" in {r.settings}" if r.setting == "settings" else " (Claude Code's default)"
    )
    if r.oldest_pending is not None and r.at_risk:
        days = r.oldest_pending["days_left"]
        when = (
            f"has {days:g} days left before Claude Code deletes it"
            if days > 0
            else "is past the cleanup period: Claude Code deletes it the next time it starts"
        )
        out.append(
            Finding(
                "warning",
                "claude_cleanup",
                f"{plural(r.at_risk, 'Claude Code transcript')} not ingested yet within {MARGIN_DAYS} "
                f"days of deletion ({where}); the oldest, {r.oldest_pending['path']}, {when}: "
                "run `burn ingest` now",
            )
        )
    if r.setting == "settings" and r.cleanup_period_days == 0:
        out.append(
            Finding(
                "warning",
                "claude_cleanup_period",
                f"cleanupPeriodDays is 0 in {r.settings}: Claude Code deletes transcripts when it starts "
                "(recent versions stop writing them), so burn sees little or nothing; set a number of days",
            )
        )
    elif r.setting == "settings" and r.cleanup_period_days < CLAUDE_DEFAULT_CLEANUP_DAYS:
        out.append(
            Finding(
                "note",
                "claude_cleanup_period",
                f"Claude Code deletes transcripts after {r.cleanup_period_days} days ({where}): run "
                "`burn ingest` regularly, e.g. from cron or launchd (see docs/doctor.md)",
            )
        )
    if r.setting == "invalid":
        out.append(
            Finding(
                "note",
                "claude_settings_invalid",
                f"{r.settings} is unreadable or its cleanupPeriodDays is not a number; assuming "
                f"{CLAUDE_DEFAULT_CLEANUP_DAYS} days",
            )
        )
    return out


# -- formatting ------------------------------------------------------------------------------------


def _iso_ns(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plural(n: int, word: str) -> str:
    """``1 unit``, ``2 units``."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def human_bytes(n: int) -> str:
    """``812 B``, ``148.2 kB``, ``3.6 MB``, ``1.2 GB`` (decimal units, as ``burn ingest`` prints)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"
