"""``burn ingest``: run every reader over what changed, append to the ledger, build the archive.

The whole run holds the ledger's writer lock, so concurrent ingests serialise and the later one
finds nothing new. Cursors are saved only after the records they cover are in the ledger: a crash
in between re-reads those lines next time, and their ids make the ledger drop them.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from burn import sqlite
from burn.archive import quality
from burn.archive.state import is_corrupt, is_current, read_state, remove_stale_rebuild
from burn.errors import PluginError
from burn.gcpause import gc_paused
from burn.ingest.dedupe import Deduper, Notes, rules_of
from burn.ingest.read_cursors import CursorFile
from burn.ingest.stamps import EnvStamps
from burn.paths import user_home
from burn.plugins.manager import Plugins
from burn.plugins.stores import open_store
from burn.pricing.inputs import inputs_fingerprint
from burn.reader import Diagnostics, FileCursor, Reader, SourceUnit, fingerprint, printable
from burn.store import AppendResult, Encoded, LedgerEntry, Sink, Store, append_encoded, encode

if TYPE_CHECKING:
    from burn.archive.database import Archive, Build, BuildResult
    from burn.ingest.workers import Prepared, ReadFailure, Spilled
# A no-op ingest imports neither the worker pool (multiprocessing) nor the archive's builder nor
# the sanitizer (identity, redaction): those are imported when there is something to read or build.

# Records per append (ledger and archive feed): the main process's peak memory follows the largest
# batch it holds, and larger batches bought no measurable speed (docs/performance.md, "Figures
# behind the code's constants"). The parts of a unit read ahead are as large (workers.SPILL_PART).
APPEND_BATCH = 20_000

Progress = Callable[[str, int, int, int], None]  # reader name, units done, units total, bytes read


@attrs.define
class SourceReport:
    """What one reader's part of an ingest did."""

    roots: list[str] = attrs.field(factory=list)
    files_seen: int = 0
    files_changed: int = 0
    diagnostics: Diagnostics = attrs.field(factory=Diagnostics)
    appended: AppendResult = attrs.field(factory=AppendResult)

    def quality(self) -> dict[str, Any]:
        """This run's counters as :mod:`burn.archive.quality` stores them."""
        d = self.diagnostics
        return {
            "lines_read": d.lines_read,
            "records_kept": self.appended.lines_written,
            "duplicates_dropped": dict(Counter(d.dropped) + Counter(self.appended.dropped)),
            "invalid_skipped": dict(d.invalid),
        }


@attrs.define
class IngestReport:
    """What one :func:`ingest` did: per source (reads, appends, skips by reason), the archive build
    (``None`` when it had nothing to do) and the warnings to print."""

    sources: dict[str, SourceReport] = attrs.field(factory=dict)
    archive: BuildResult | None = None
    warnings: list[str] = attrs.field(factory=list)

    def totals(self) -> dict[str, Any]:
        """One summary over all sources (what ``burn ingest`` prints and ``--json`` returns)."""
        diag = Diagnostics()
        appended = AppendResult()
        for s in self.sources.values():
            diag.add(s.diagnostics)
            appended.add(s.appended)
        dropped: Counter[str] = Counter(diag.dropped)
        dropped.update(appended.dropped)
        return {
            "files_seen": sum(s.files_seen for s in self.sources.values()),
            "files_changed": sum(s.files_changed for s in self.sources.values()),
            "lines_read": diag.lines_read,
            "bytes_read": diag.bytes_read,
            "records_read": diag.records,
            "records_appended": appended.lines_written,
            "appended_by_kind": dict(sorted((appended.appended + appended.revised).items())),
            "revisions": sum(appended.revised.values()),
            "duplicates_dropped": dict(sorted(dropped.items())),
            "invalid_skipped": dict(sorted(diag.invalid.items())),
            "repaired": dict(sorted(diag.repaired.items())),
            "rereads": dict(sorted(diag.rereads.items())),
        }


def ingest(
    home: Path,
    plugins: Plugins,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Read everything new from every registered reader into the ledger, then bring the archive up
    to date: ``burn ingest``, and the only writer of the ledger.

    Holds the store's writer lock for the whole run. Each reader's units are discovered and those
    whose stat fingerprint changed since their cursor are read (in worker processes when there is
    enough to read); the records are sanitized, deduplicated by the reader's own rules
    (:mod:`burn.ingest.dedupe`) and appended in batches; the cursors are saved after the appends,
    so a crash re-reads and the ids drop what was already appended. The archive is then
    built from the ledger position it reached (or not even opened when nothing changed). A reader
    that raises is counted and warned about (fatal with ``BURN_STRICT_PLUGINS=1``); bad input is
    counted in the report, never raised. ``env`` defaults to ``os.environ``; ``progress`` is called
    with ``(reader name, units done, units total, bytes read)`` for the terminal's progress line.
    """
    env = os.environ if env is None else env
    stamps = EnvStamps.from_env(env)  # a bad RELAYBURN_STAMP_* value stops the run before it reads
    store = open_store(home, env, plugins)
    report = IngestReport()
    with store.lock():
        remove_stale_rebuild(home)  # what a killed `burn archive rebuild` left
        live = _LiveArchive(home, store)
        try:
            _ingest_locked(home, store, plugins, env, progress, stamps, report, live)
        finally:
            live.close()  # a build that failed: a fresh archive is deleted, not left half made
    for src in report.sources.values():
        report.warnings.extend(src.diagnostics.warnings)
    return report


def _ingest_locked(
    home: Path,
    store: Store,
    plugins: Plugins,
    env: Mapping[str, str],
    progress: Progress | None,
    stamps: EnvStamps | None,
    report: IngestReport,
    live: _LiveArchive,
) -> None:
    """:func:`ingest`'s work under the writer lock: read and append, save the cursors, build."""
    cursors = CursorFile.load(home)
    readers = sorted(plugins.readers().items())
    plans = [_discover(name, reader, report, cursors, env, plugins) for name, reader in readers]
    if any(plan.jobs for plan in plans):
        dedupe = Deduper(home, store, {r.name: rules_of(r) for _, r in readers})
        try:
            _read_and_append(plans, readers, store, cursors, env, progress, plugins, live, dedupe, stamps)
        finally:
            dedupe.close()
    else:
        for plan in plans:
            if plan.discovered:
                cursors.prune(plan.reader.name, plan.seen_keys)  # units that are gone
    cursors.save()
    cursors.close()
    if progress is not None:
        progress("building the archive", 0, 0, 0)
    rows = quality.rows_of({n: s.quality() for n, s in report.sources.items()})
    # Nothing read and nothing to build (report.archive stays None): the archive is not even
    # opened for writing.
    state = read_state(home / "archive.sqlite") if live.archive is None else None
    if state is None or rows or not is_current(state, _end(store, state, report), inputs_fingerprint(home)):
        report.archive = _build_archive(home, store, live, report, rows)


def _end(store: Store, state: Mapping[str, str], report: IngestReport) -> int:
    """The ledger position the archive must have reached. A store that connects to a database
    (``connects = True``: sqlite, postgres) is not asked when this run read nothing: a no-op ingest
    opens no connection; what another run left unbuilt is built by the next ingest that appends,
    or by ``burn archive build``."""
    if getattr(store, "connects", False) and not any(s.files_changed for s in report.sources.values()):
        return int(state.get("ledger_position", "0"))
    return store.position()


def _read_and_append(
    plans: list[_Plan],
    readers: list[tuple[str, Reader]],
    store: Store,
    cursors: CursorFile,
    env: Mapping[str, str],
    progress: Progress | None,
    plugins: Plugins,
    live: _LiveArchive,
    dedupe: Deduper,
    stamps: EnvStamps | None = None,
) -> None:
    from burn.ingest.sanitize import preparer
    from burn.ingest.workers import Pool, remove_stale_spills, unit_size, workers_for

    remove_stale_spills(live.home)  # what a killed ingest's read-ahead left
    dedupe.open(plan.reader.name for plan in plans if plan.jobs)  # caught up before this run appends

    # One stream of reads over every reader, so the workers start on the next reader's units
    # while the main process still appends this one's. The reader with the largest unit goes
    # last: the pool reads a very large unit (the OpenCode database: one unit of 100 MB) ahead of
    # its turn, in one worker while the others read for the main process, so that it is read by
    # its turn. (Appended first, the main process waited for it with nothing to append; last and
    # not read ahead, it waited for it at the end with the other workers idle.)
    sizes = [[unit_size(unit) for unit, _ in plan.jobs] for plan in plans]
    workers = workers_for(env, sum(map(sum, sizes)))
    plans = [plan for _, plan in sorted(zip(sizes, plans, strict=True), key=lambda p: max(p[0], default=0))]
    # The results the pool's thread unpickles and the batches the main thread appends are garbage
    # without cycles: the collector is paused until the last is appended (burn.gcpause).
    with (
        gc_paused(),
        Pool(
            {name: (reader, preparer(dedupe.rules.get(reader.name, ()))) for name, reader in readers},
            live.home,
        ) as pool,
    ):
        results = pool.read([(plan.name, plan.jobs) for plan in plans], workers)
        for plan in plans:
            batches = _Batches(store, dedupe, plan.reader.name, live, stamps)
            _append_source(
                plan, itertools.islice(results, len(plan.jobs)), batches, cursors, progress, plugins
            )
    if stamps is not None and stamps.sessions:  # after the sessions they stamp
        append_encoded(store, [encode(r) for r in stamps.records()], live)


def _build_archive(
    home: Path, store: Store, live: _LiveArchive, report: IngestReport, rows: list[quality.Row]
) -> BuildResult:
    """Finish the archive build the appends began (or build what the ledger holds beyond it), and
    add this run's quality counters."""
    from burn.archive.database import Archive, SchemaMismatch, rebuild

    try:
        if live.corrupt is not None:
            raise live.corrupt
        archive = Archive.for_build(home) if live.archive is None else live.archive
        live.archive = archive  # closed (a fresh one deleted) by live.close() if the build fails
        result = archive.build(store) if live.build is None else live.build.finish(store)
    except SchemaMismatch as exc:
        # The archive is disposable: a new burn (or another store) rebuilds it instead of failing.
        live.close()
        archive, result = rebuild(home, store)
        report.warnings.append(exc.warning)
    except sqlite3.DatabaseError as exc:
        if not is_corrupt(exc):
            raise
        live.close()
        archive, result = rebuild(home, store)
        report.warnings.append(f"the archive was corrupt ({exc}) and was rebuilt from the ledger")
    # The counters contract documents report (DESIGN §10 quality), summed over every ingest.
    with sqlite.transaction(archive.db):
        quality.add(archive.db, rows)
    if archive.fresh:
        archive.publish()
    archive.close()
    live.archive = None
    return result


class _LiveArchive:
    """The archive build that applies entries while they are appended (:meth:`Archive.begin`), so a
    cold ingest neither reads the ledger back nor leaves all of the archive's work for the end.
    Begun at the first append that writes something, so that a no-op ingest keeps the build's
    no-op path; an archive of another schema is left to the rebuild after the appends."""

    def __init__(self, home: Path, store: Store) -> None:
        self.home = home
        self.store = store
        self.archive: Archive | None = None
        self.build: Build | None = None
        self.failed = False
        self.corrupt: sqlite3.DatabaseError | None = None  # met while feeding: rebuilt at the end

    def __call__(self, start: int, entries: Iterable[LedgerEntry]) -> None:
        try:
            self._feed(start, entries)
        except sqlite3.DatabaseError as exc:
            if not is_corrupt(exc):
                raise
            self.corrupt, self.failed, self.build = exc, True, None

    def _feed(self, start: int, entries: Iterable[LedgerEntry]) -> None:
        if self.build is None:
            if self.failed:
                return
            from burn.archive.database import Archive, SchemaMismatch

            try:
                self.archive = Archive.for_build(self.home)
                self.build = self.archive.begin(self.store)
            except SchemaMismatch:  # another schema or another ledger: rebuilt after the appends
                self.failed = True
                return
            if self.build is None:  # cannot happen after an append; read it all at the end then
                self.failed = True
                return
        self.build.feed(start, entries)

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None


@attrs.define
class _Plan:
    """What one reader has to read: its changed units, with their cursors and fingerprints."""

    name: str
    reader: Reader
    report: SourceReport
    jobs: list[tuple[SourceUnit, FileCursor | None]] = attrs.field(factory=list)
    before: dict[str, str | None] = attrs.field(factory=dict)
    seen_keys: set[str] = attrs.field(factory=set)
    discovered: bool = False


def _discover(
    name: str,
    reader: Reader,
    report: IngestReport,
    cursors: CursorFile,
    env: Mapping[str, str],
    plugins: Plugins,
) -> _Plan:
    """Find one reader's units and which of them changed (a stat each); nothing is read yet."""
    rep = report.sources[name] = SourceReport()
    plan = _Plan(name, reader, rep)
    diag = rep.diagnostics
    try:
        roots = reader.locations(env, user_home(env))
        rep.roots = [printable(str(r)) for r in roots]  # a non-UTF-8 root must not break --json
        units = list(reader.discover(roots, diag))
    except Exception as exc:  # a reader plugin's bug must not take ingest down
        _reader_failed(plugins, reader, "discover", exc, diag)
        return plan
    plan.discovered = True
    rep.files_seen = len(units)
    stored = cursors.fingerprints(reader.name)
    plan.seen_keys.update(unit.key for unit in units)
    for unit in units:
        stamp = fingerprint(unit)
        if stamp is not None and stored.get(unit.key) == stamp:
            continue  # the stat-only fast path: the unit is not even opened
        plan.before[unit.key] = stamp
        plan.jobs.append((unit, cursors.get(reader.name, unit.key)))
    # Read in the reader's order (Claude Code: main transcripts before subagent files); only what
    # is read needs it, and a no-op sorts nothing.
    plan.jobs.sort(key=lambda job: (job[0].order, job[0].key))
    rep.files_changed = len(plan.jobs)
    return plan


def _append_source(
    plan: _Plan,
    results: Iterable[tuple[SourceUnit, Prepared | ReadFailure | Spilled]],
    batches: _Batches,
    cursors: CursorFile,
    progress: Progress | None,
    plugins: Plugins,
) -> None:
    """Append one reader's prepared results, in unit order, and move its cursors."""
    from burn.ingest.workers import ReadFailure, Spilled, split

    if not plan.discovered:
        return
    reader, rep = plan.reader, plan.report
    diag = rep.diagnostics
    for done, (unit, prepared) in enumerate(results, 1):
        if isinstance(prepared, ReadFailure):
            _reader_failed(plugins, reader, f"read {unit.path}", RuntimeError(prepared.message), diag)
            continue
        diag.add(prepared.diagnostics)
        for part in prepared.parts() if isinstance(prepared, Spilled) else split(prepared, APPEND_BATCH):
            batches.add(part)
            if len(batches.items) >= APPEND_BATCH:
                rep.appended.add(batches.append())
        if prepared.cursor is not None:
            cursors.set(
                reader.name, unit.key, attrs.evolve(prepared.cursor, fingerprint=plan.before[unit.key])
            )
        if progress is not None:
            progress(reader.name, done, len(plan.jobs), diag.bytes_read)
    rep.appended.add(batches.append())
    cursors.prune(reader.name, plan.seen_keys)


class _Batches:
    """One reader's prepared items waiting to be appended, with the notes of its dedupe rules: each
    batch passes the rules (:class:`~burn.ingest.dedupe.Deduper`), then goes to the store."""

    def __init__(
        self, store: Store, dedupe: Deduper, source: str, sink: Sink | None, stamps: EnvStamps | None = None
    ) -> None:
        self.store, self.dedupe, self.source, self.sink = store, dedupe, source, sink
        self.stamps = stamps
        self.items: list[Encoded] = []
        self.notes: dict[int, Notes] = {}

    def add(self, prepared: Prepared) -> None:
        if self.stamps is not None:
            self.stamps.see(prepared.items)
        base = len(self.items)
        self.items.extend(prepared.items)
        for i, notes in prepared.notes.items():
            self.notes[base + i] = notes

    def append(self) -> AppendResult:
        items, self.items, notes, self.notes = self.items, [], self.notes, {}
        if not self.dedupe:
            return append_encoded(self.store, items, self.sink)
        kept, facts, dropped = self.dedupe.filter(self.source, items, notes)
        del items, notes
        result = append_encoded(self.store, kept, self.sink)
        self.dedupe.appended(self.source, facts)
        result.dropped.update(dropped)
        return result


def _reader_failed(plugins: Plugins, reader: Reader, what: str, exc: Exception, diag: Diagnostics) -> None:
    message = f"reader {reader.name!r} failed to {what}: {type(exc).__name__}: {exc}"
    if plugins.strict:
        raise PluginError(message) from exc
    diag.skip("reader_error")
    diag.warn(message)
