"""``burn ingest``: run every reader over what changed, append to the ledger, build the archive.

The whole run holds the ledger's writer lock, so concurrent ingests serialise and the later one
finds nothing new. Cursors are saved only after the records they cover are in the ledger: a crash
in between re-reads those lines next time, and their ids make the ledger drop them.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from burn import quality
from burn.archive import Archive, Build, BuildResult, SchemaMismatch, rebuild
from burn.cursors import CursorFile
from burn.errors import PluginError
from burn.identity import observe
from burn.parallel import Pool, Prepare, Prepared, ReadFailure, unit_size, workers_for
from burn.paths import user_home
from burn.plugins import Plugins
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit, fingerprint
from burn.records import USAGE_FIELDS, Record, SessionInfo, ToolCall, Turn
from burn.redact import redact
from burn.store import AppendResult, Encoded, LedgerEntry, Sink, Store, append_encoded, encode
from burn.stores import open_store

APPEND_BATCH = 50_000

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
        """This run's counters as :mod:`burn.quality` stores them."""
        d = self.diagnostics
        return {
            "lines_read": d.lines_read,
            "records_kept": self.appended.lines_written,
            "duplicates_dropped": dict(Counter(d.dropped) + Counter(self.appended.dropped)),
            "invalid_skipped": dict(d.invalid),
        }


@attrs.define
class IngestReport:
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
    env = os.environ if env is None else env
    store = open_store(home, env, plugins)
    report = IngestReport()
    with store.lock():
        cursors = CursorFile.load(home)
        live = _LiveArchive(home, store)
        readers = sorted(plugins.readers().items())
        plans = [_discover(name, reader, report, cursors, env, plugins) for name, reader in readers]
        # One stream of reads over every reader, so the workers start on the next reader's units
        # (the OpenCode database, say) while the main process still appends this one's.
        workers = workers_for(env, sum(unit_size(unit) for plan in plans for unit, _ in plan.jobs))
        with Pool({name: (reader, _preparer()) for name, reader in readers}) as pool:
            results = pool.read([(plan.name, plan.jobs) for plan in plans], workers)
            for plan in plans:
                _append_source(
                    plan, itertools.islice(results, len(plan.jobs)), store, cursors, progress, plugins, live
                )
        cursors.save()
        cursors.close()
        if progress is not None:
            progress("building the archive", 0, 0, 0)
        try:
            archive = Archive.in_home(home) if live.archive is None else live.archive
            report.archive = archive.build(store) if live.build is None else live.build.finish(store)
        except SchemaMismatch:
            # The archive is disposable: a new burn rebuilds it from the ledger instead of failing.
            archive, report.archive = rebuild(home, store)
            report.warnings.append("the archive was built by another burn version and was rebuilt")
        # The counters contract documents report (DESIGN §10 quality), summed over every ingest.
        quality.add(archive.db, quality.rows_of({n: s.quality() for n, s in report.sources.items()}))
        archive.close()
    for src in report.sources.values():
        report.warnings.extend(src.diagnostics.warnings)
    return report


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

    def __call__(self, start: int, entries: Iterable[LedgerEntry]) -> None:
        if self.build is None:
            if self.failed:
                return
            try:
                self.archive = Archive.in_home(self.home)
            except SchemaMismatch:
                self.failed = True
                return
            self.build = self.archive.begin(self.store)
            if self.build is None:  # cannot happen after an append; read it all at the end then
                self.failed = True
                return
        self.build.feed(start, entries)


def _preparer() -> Prepare:
    observed: set[str] = set()  # one reader's working directories (per process: each observes its own)

    def prepare(result: ReadResult) -> Prepared:
        # Runs in the worker that read the unit (or in-process): sanitize, then encode.
        diag = result.diagnostics
        return Prepared([encode(r) for r in _sanitize(result.records, observed, diag)], result.cursor, diag)

    return prepare


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
        rep.roots = [str(r) for r in roots]
        units = sorted(reader.discover(roots, diag), key=lambda u: (u.order, u.key))
    except Exception as exc:  # a reader plugin's bug must not take ingest down
        _reader_failed(plugins, reader, "discover", exc, diag)
        return plan
    plan.discovered = True
    rep.files_seen = len(units)
    for unit in units:
        plan.seen_keys.add(unit.key)
        stamp = fingerprint(unit)
        if stamp is not None and cursors.fingerprint(reader.name, unit.key) == stamp:
            continue  # the stat-only fast path: the unit is not even opened
        plan.before[unit.key] = stamp
        plan.jobs.append((unit, cursors.get(reader.name, unit.key)))
    rep.files_changed = len(plan.jobs)
    return plan


def _append_source(
    plan: _Plan,
    results: Iterable[tuple[SourceUnit, Prepared | ReadFailure]],
    store: Store,
    cursors: CursorFile,
    progress: Progress | None,
    plugins: Plugins,
    sink: Sink | None = None,
) -> None:
    """Append one reader's prepared results, in unit order, and move its cursors."""
    if not plan.discovered:
        return
    reader, rep = plan.reader, plan.report
    diag = rep.diagnostics
    pending: list[Encoded] = []
    for done, (unit, prepared) in enumerate(results, 1):
        if isinstance(prepared, ReadFailure):
            _reader_failed(plugins, reader, f"read {unit.path}", RuntimeError(prepared.message), diag)
            continue
        diag.add(prepared.diagnostics)
        pending.extend(prepared.items)
        if prepared.cursor is not None:
            cursors.set(
                reader.name, unit.key, attrs.evolve(prepared.cursor, fingerprint=plan.before[unit.key])
            )
        if len(pending) >= APPEND_BATCH:
            rep.appended.add(append_encoded(store, pending, sink))
            pending = []
        if progress is not None:
            progress(reader.name, done, len(plan.jobs), diag.bytes_read)
    rep.appended.add(append_encoded(store, pending, sink))
    cursors.prune(reader.name, plan.seen_keys)


def _sanitize(records: Sequence[Record], observed: set[str], diag: Diagnostics) -> list[Record]:
    """Redact credentials from free-form strings, refuse implausible token counts, and observe each
    new working directory's project.

    Readers are third-party code; this is the one place every record passes before the ledger, so
    "credentials never reach the ledger" and "counts fit every consumer" hold whatever a reader emits.
    """
    out: list[Record] = []
    for rec in records:
        if isinstance(rec, Turn):
            rec = _checked_counts(rec, diag)
        elif isinstance(rec, SessionInfo):
            if rec.cwd and rec.cwd not in observed:
                observed.add(rec.cwd)  # observe the real directory; the observation is redacted
                out.append(observe(rec.cwd, rec.first_seen_ts or _now()))
            fields = ("cwd", "title", "git_remote", "slug")
            clean: dict[str, Any] = {f: redact(getattr(rec, f)) for f in fields}
            if any(clean[f] != getattr(rec, f) for f in fields):
                rec = attrs.evolve(rec, **clean)
        elif isinstance(rec, ToolCall) and rec.target:
            target = redact(rec.target)
            if target != rec.target:
                rec = attrs.evolve(rec, target=target)
        out.append(rec)
    return out


# Counts must survive SQLite (64-bit signed) and JSON consumers that use doubles (2^53).
MAX_COUNT = 2**53 - 1


def _checked_counts(turn: Turn, diag: Diagnostics) -> Turn:
    usage = turn.usage
    bad = [
        f
        for f in USAGE_FIELDS
        if (v := getattr(usage, f)) is not None and not (isinstance(v, int) and 0 <= v <= MAX_COUNT)
    ]
    if not bad:
        return turn
    diag.skip("implausible_count", f"{turn.source} message {turn.message_id}: {', '.join(bad)}")
    notes = (*turn.fidelity.notes, "implausible_count")
    return attrs.evolve(
        turn,
        usage=attrs.evolve(usage, **dict.fromkeys(bad)),
        fidelity=attrs.evolve(turn.fidelity, usage="partial", notes=notes),
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _reader_failed(plugins: Plugins, reader: Reader, what: str, exc: Exception, diag: Diagnostics) -> None:
    message = f"reader {reader.name!r} failed to {what}: {type(exc).__name__}: {exc}"
    if plugins.strict:
        raise PluginError(message) from exc
    diag.skip("reader_error")
    diag.warn(message)
