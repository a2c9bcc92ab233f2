"""The archive: ``archive.sqlite``, a disposable, queryable read model of the ledger (DESIGN §7).

* Built incrementally from the ledger position stored in ``archive_state``; each batch of entries
  is applied in one transaction that also advances the position, so a crash never leaves the
  position ahead of the rows.
* A revision of an event replaces its row (same primary key = event id), so the archive holds the
  winner of every merge.
* ``rebuild`` builds a fresh file beside the old one and swaps it in: the same ledger gives the same
  rows, the same keys and the same :meth:`Archive.digest`; the archive id is kept and the
  generation goes up by one.
* Every turn carries its cost (``burn.pricing``), priced while it is applied; ``archive_state``
  keeps the digest of the pricing table that produced the costs. When the effective table differs
  (new bundled table, edited override) ``build`` re-prices every turn in one transaction first —
  the ledger is never re-read for that.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from burn import sqlite
from burn.archive import activity_rollup, enrich, projects, quality, rollup, session_rollup, tables
from burn.archive.state import (
    REBUILD_SUFFIX,
    SCHEMA_VERSION,
    built_from_ledger,
    is_corrupt,
    is_current,
    quick_check,
    remove_stale_rebuild,
)
from burn.errors import BurnError, writing
from burn.gcpause import gc_paused
from burn.pricing.inputs import inputs_fingerprint
from burn.store import LedgerEntry, ReadStats, Store, store_identity

if TYPE_CHECKING:
    from burn.pricing.load import Pricing
# Ledger entries per archive batch (rows built, then inserted): the rows are held until the batch is
# applied, so its size is the build's memory (docs/performance.md).
BATCH = 10_000


@attrs.define
class BuildResult:
    entries: int = 0
    applied: Counter[str] = attrs.field(factory=Counter)
    invalid_rows: int = 0
    ledger: ReadStats = attrs.field(factory=ReadStats)
    seconds: float = 0.0
    repriced: int = 0  # turns re-priced because the pricing digest changed


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SchemaMismatch(BurnError):
    """The archive was built by a burn with another schema; it must be rebuilt from the ledger."""

    warning = "the archive was built by another burn version and was rebuilt"


class LedgerMismatch(SchemaMismatch):
    """The archive was built from another ledger (``RELAYBURN_STORAGE`` or the store's location
    changed): its position means nothing in this one, so it is rebuilt from this ledger."""

    warning = "the archive was built from another ledger store and was rebuilt from this one"


def built_from(state: dict[str, str], store: Store) -> str | None:
    """Why an archive in ``state`` cannot be built on from ``store``'s ledger: the ledger it was
    built from, when that is another (``None``: the same, or an empty archive, which fits any).
    An archive from before ledgers were named was built from the file store."""
    known = built_from_ledger(state)
    return known if known is not None and known != store_identity(store) else None


class Archive:
    """``archive.sqlite`` in the burn home. Open read-only for queries, read-write to build."""

    fresh = False  # a new archive beside the real one, until :meth:`publish` (see fresh_in_home)

    def __init__(self, path: Path, *, readonly: bool = False, fresh: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.fresh = fresh
        if readonly:
            if not path.exists():
                raise BurnError(f"no archive at {path}: run `burn ingest` first")
            self.db = _open_readonly(path)
        else:
            with writing(path):
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite.connect(path, pragmas=sqlite.ARCHIVE_FRESH if fresh else sqlite.ARCHIVE)
        version = self.state().get("schema_version")
        if version is not None and int(version) != SCHEMA_VERSION:
            self.db.close()
            raise SchemaMismatch(
                f"archive {path} has schema version {version}, this burn needs {SCHEMA_VERSION}: "
                "run `burn archive rebuild`"
            )
        if not readonly:
            with writing(path):
                schemas = (tables, rollup, session_rollup, activity_rollup, quality)
                self.db.executescript("".join(m.SCHEMA for m in schemas))
                self._init_state()

    @classmethod
    def in_home(cls, home: Path, *, readonly: bool = False) -> Archive:
        return cls(home / "archive.sqlite", readonly=readonly)

    @classmethod
    def fresh_in_home(cls, home: Path) -> Archive:
        """A new, empty archive for a build from the start of the ledger, written as
        ``archive.sqlite.rebuild`` where no reader looks, without a journal
        (:data:`burn.sqlite.ARCHIVE_FRESH`); :meth:`publish` swaps it in once it is complete, and
        :meth:`close` before that deletes it. Call it with the ledger lock held."""
        remove_stale_rebuild(home)
        return cls(home / f"archive.sqlite{REBUILD_SUFFIX}", fresh=True)

    @classmethod
    def for_build(cls, home: Path) -> Archive:
        """The archive a build writes to: the one in ``home``, or a :meth:`fresh_in_home` one when
        there is none yet (a first ingest)."""
        path = home / "archive.sqlite"
        return cls(path) if path.exists() else cls.fresh_in_home(home)

    def publish(self) -> None:
        """Swap a :meth:`fresh_in_home` archive in as ``archive.sqlite`` (in WAL mode, as every
        archive is opened), and close it. Its pages reach the disk before its name does, so a
        crash leaves the old archive or the new one, never a torn one; the old one's WAL goes
        first, as it would otherwise be replayed into the new file."""
        target = self.path.with_name("archive.sqlite")
        with writing(self.path):
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.close()
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            for stale in _db_files(target)[1:]:
                stale.unlink(missing_ok=True)
            os.replace(self.path, target)
        self.path, self.fresh = target, False

    def close(self) -> None:
        """Close the connection; a :meth:`fresh_in_home` archive that was not published is deleted."""
        self.db.close()
        if self.fresh:
            remove_stale_rebuild(self.path.parent)
            self.fresh = False

    # -- state -----------------------------------------------------------------------------------

    def _init_state(self) -> None:
        defaults = {
            "schema_version": str(SCHEMA_VERSION),
            "archive_id": uuid.uuid4().hex,
            "generation": "1",
            "ledger_position": "0",
            "created_at": _now(),
        }
        self.db.executemany("INSERT OR IGNORE INTO archive_state VALUES (?, ?)", list(defaults.items()))

    def state(self) -> dict[str, str]:
        try:
            return dict(self.db.execute("SELECT key, value FROM archive_state"))
        except sqlite3.OperationalError:
            return {}

    def _set_state(self, **values: str) -> None:
        self.db.executemany("INSERT OR REPLACE INTO archive_state VALUES (?, ?)", list(values.items()))

    # -- build -----------------------------------------------------------------------------------

    def build(self, store: Store, pricing: Pricing | None = None) -> BuildResult:
        """Apply every ledger entry after the stored position. Idempotent.

        ``pricing`` defaults to the effective table of the burn home holding the archive.
        """
        build = self.begin(store, pricing)
        return BuildResult() if build is None else build.finish(store)

    def begin(self, store: Store, pricing: Pricing | None = None) -> Build | None:
        """Start a build: :meth:`Build.feed` takes entries as they are appended, :meth:`Build.finish`
        applies what remains in the ledger. ``None`` when nothing is new (the no-op ingest path)."""
        with writing(self.path):
            return self._begin(store, pricing)

    def _begin(self, store: Store, pricing: Pricing | None) -> Build | None:
        started = time.perf_counter()
        state = self.state()
        other = built_from(state, store)
        if other is not None:
            raise LedgerMismatch(
                f"archive {self.path} was built from the ledger {other}: run `burn archive rebuild`"
            )
        inputs = inputs_fingerprint(self.path.parent) if pricing is None else None
        if inputs is not None and is_current(state, store.position(), inputs):
            return None  # nothing new and the same pricing inputs: the no-op ingest path
        if pricing is None:
            from burn.pricing.load import load_pricing

            pricing = load_pricing(self.path.parent, state)
        result = BuildResult()
        self._ensure_priced(pricing, result)
        if self.state().get("rollup") == "ok" and self.state().get("session_hours") != "ok":
            # An archive from a burn without ``session_hours``: fill it once, then keep it current.
            with sqlite.transaction(self.db):
                rollup.refresh_session_hours(self.db)
                self._set_state(session_hours="ok")
        position = int(self.state()["ledger_position"])
        # A stale rollup (new archive, crash, re-pricing) is recomputed once at the end instead of
        # hour by hour in every batch.
        incremental = self.state().get("rollup") == "ok"
        deferred = self._drop_secondary_indexes() if position == 0 else []
        build = Build(self, pricing, inputs, result, position, incremental, deferred)
        build.seconds = time.perf_counter() - started
        return build

    def _drop_secondary_indexes(self) -> list[str]:
        """For a build from an empty archive: drop the non-unique indexes and return the SQL that
        recreates them. Building an index once over sorted data is several times cheaper than
        keeping it up to date through hundreds of thousands of random inserts. A crash before
        they are recreated loses nothing: the next open recreates them (CREATE … IF NOT EXISTS)."""
        if self.db.execute("SELECT 1 FROM turns LIMIT 1").fetchone() is not None:
            return []
        rows = self.db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND sql NOT LIKE 'CREATE UNIQUE%'"
        ).fetchall()
        for name, _ in rows:
            self.db.execute(f'DROP INDEX IF EXISTS "{name}"')
        return [sql for _, sql in rows]

    def _ensure_priced(self, pricing: Pricing, result: BuildResult) -> None:
        """Re-price every turn when the archive's costs came from another pricing table."""
        if self.state().get("pricing_digest") == pricing.digest:
            return
        from burn.pricing.archive_cost import previous_pricing, reprice

        p = pricing.provenance()
        previous = previous_pricing(self.state().get("pricing_table_json"))
        with sqlite.transaction(self.db):
            result.repriced = reprice(self.db, pricing, previous)
            self._set_state(
                rollup="stale",
                pricing_digest=pricing.digest,
                # The canonical table itself, so the next change re-prices only the models it touches.
                pricing_table_json=pricing.canonical().decode("utf-8"),
                pricing_source=p["source"],
                pricing_table=f"{p['table']['name']} {p['table']['version']}",
                pricing_custom_rows=str(p["custom_rows"]),
                priced_at=_now(),
            )

    def _apply(
        self, rows: dict[str, list[tuple[Any, ...]]], position: int, result: BuildResult, incremental: bool
    ) -> None:
        """Write one batch's rows (:func:`_add_rows`) in one transaction that moves the position."""
        with sqlite.transaction(self.db):
            turns = rows.get("turns", [])
            dirty = rollup.hours_of_turn_ids(self.db, [r[0] for r in turns]) if incremental else set()
            # Sessions whose rollup rows this batch changes: every row names its session, and a
            # revised turn may leave the session it was in.
            touched: set[tuple[str, str]] = set()
            if incremental:
                touched = session_rollup.sessions_of_turn_ids(self.db, [r[0] for r in turns])
                for table, values in rows.items():
                    if table not in ("projects", "stamps"):
                        touched.update((r[1], r[2]) for r in values)
                touched |= enrich.sessions_of_stamps(self.db, (r[2] for r in rows.get("stamps", [])))
            for table, values in rows.items():
                marks = ",".join("?" * len(values[0]))
                self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values)
            if "sessions" in rows or "projects" in rows:
                projects.resolve(self.db)
            if incremental:
                dirty.update(r[6] // rollup.HOUR_MS for r in turns)  # column 6 is ts_ms
                dirty |= rollup.hours_of_sessions(self.db, ((r[1], r[2]) for r in rows.get("sessions", [])))
                dirty |= rollup.hours_of_cwds(self.db, (r[1] for r in rows.get("projects", [])))
                rollup.refresh_hours(self.db, dirty)
                touched |= session_rollup.sessions_of_cwds(self.db, (r[1] for r in rows.get("projects", [])))
                enrich.refresh(self.db, touched)
                session_rollup.refresh(self.db, touched)
                activity_rollup.refresh(self.db, touched)
            self._set_state(ledger_position=str(position))

    # -- facts -----------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {
            t: int(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables.CONTENT_TABLES
        }

    def digest(self) -> str:
        """sha256 over the logical content: every content table's rows in primary-key order."""
        import hashlib

        h = hashlib.sha256()
        for table in tables.CONTENT_TABLES:
            h.update(table.encode() + b"\n")
            for row in self.db.execute(f"SELECT * FROM {table} ORDER BY id"):
                h.update(orjson.dumps(list(row)) + b"\n")
        return "sha256:" + h.hexdigest()

    def vacuum(self) -> None:
        """``VACUUM``, then record when in ``archive_state.last_vacuum_at``."""
        self.db.execute("VACUUM")
        with sqlite.transaction(self.db):
            self._set_state(last_vacuum_at=_now())


def _add_rows(entries: Iterable[LedgerEntry], build: Build) -> None:
    """Add the row of each entry (turns with their cost columns) to ``build``'s batch, or count it
    invalid; flush the batch every :data:`BATCH` entries. (A function, not a method: the loop runs
    once per ledger entry and reads its names from locals.)"""
    from burn.pricing.archive_cost import turn_columns

    pricing, result, rows = build.pricing, build.result, build.rows
    applied = result.applied
    local = build.machine
    for entry in entries:
        kind = entry.kind
        table, to_row = tables.ROWS[kind]
        record = entry.record
        try:
            row = to_row(entry.id, record)
            if table == "turns":
                row = (*row, entry.machine or local, *turn_columns(pricing, record))
        except (KeyError, TypeError, ValueError, AttributeError):
            result.invalid_rows += 1
        else:
            values = rows.get(table)
            if values is None:
                values = rows[table] = []
            values.append(row)
            applied[kind] += 1
        build.position = entry.position
        build.count += 1
        if build.count >= BATCH:
            build._flush()
            rows = build.rows


class Build:
    """One build of an archive (:meth:`Archive.begin`).

    Entries are applied in batches of :data:`BATCH` from the archive's ledger position on, each in
    one transaction that advances the position. :meth:`feed` takes entries just appended to the
    ledger — exactly what ``store.read(start)`` would give, without reading and parsing the ledger
    again — as long as they start where the archive stands; otherwise (a torn line, a lagging
    archive) it stops taking them and :meth:`finish` reads them from the ledger. The batches are
    the same either way, so the rows are too.
    """

    def __init__(
        self,
        archive: Archive,
        pricing: Pricing,
        inputs: str | None,
        result: BuildResult,
        position: int,
        incremental: bool,
        deferred: list[str],
    ) -> None:
        self.archive = archive
        self.pricing = pricing
        self.inputs = inputs
        self.result = result
        self.position = position  # the ledger position after the last entry fed or applied
        self.incremental = incremental
        self.deferred = deferred
        self.rows: dict[str, list[tuple[Any, ...]]] = {}  # the batch, as rows: no ledger dicts kept
        self.count = 0  # entries in the batch
        self.live = True
        self.seconds = 0.0
        # Entries of stores that keep no machine key (file, sqlite) are this host's.
        from burn.privacy.identity import local_secret, machine_key

        self.machine = machine_key(local_secret(archive.path.parent))

    def feed(self, start: int, entries: Iterable[LedgerEntry]) -> bool:
        """Apply ``entries``, appended to the ledger at ``start``; ``False`` (now and from then on)
        when they do not start at the archive's position: :meth:`finish` reads them instead."""
        if not self.live or start != self.position:
            self.live = False
            return False
        started = time.perf_counter()
        with gc_paused(), writing(self.archive.path):
            _add_rows(entries, self)
        self.seconds += time.perf_counter() - started
        return True

    def _flush(self) -> None:
        if self.count:
            self.archive._apply(self.rows, self.position, self.result, self.incremental)
            self.result.entries += self.count
            self.rows, self.count = {}, 0

    def finish(self, store: Store) -> BuildResult:
        """Apply the rest of the ledger, recreate deferred indexes, refresh stale rollups."""
        with gc_paused(), writing(self.archive.path):  # rows and rollups make no reference cycles
            return self._finish(store)

    def _finish(self, store: Store) -> BuildResult:
        started = time.perf_counter()
        archive, db, result = self.archive, self.archive.db, self.result
        # The end is taken before reading: on a shared store another host may append while this
        # reads, and the archive must not claim entries it never read (only trailing non-entries).
        end = store.position()
        _add_rows(store.read(self.position, result.ledger), self)
        self._flush()
        # The indexes over the columns enrich derives wait for it: built once over the final
        # values, not kept up to date through an UPDATE of every row.
        late = [sql for sql in self.deferred if _index_name(sql) in enrich.DERIVED_INDEXES]
        for sql in self.deferred:
            if sql not in late:
                db.execute(sql)
        if archive.state().get("rollup") != "ok":
            with sqlite.transaction(db):
                rollup.refresh_all(db)
                enrich.refresh(db, None)
                for sql in late:
                    db.execute(sql)
                late = []
                session_rollup.refresh(db, None)
                activity_rollup.refresh(db, None)
                archive._set_state(rollup="ok", session_hours="ok")
        for sql in late:
            db.execute(sql)
        end = max(end, self.position)
        with sqlite.transaction(db):
            if archive.state().get("ledger_identity") != store_identity(store):
                archive._set_state(ledger_identity=store_identity(store))
            if end != int(archive.state()["ledger_position"]):
                # Trailing lines that were not entries (invalid, unknown kinds) still count as read.
                archive._set_state(ledger_position=str(end))
            if result.entries:
                archive._set_state(last_build_at=_now())
            if self.inputs is not None:
                # Remember which inputs produced the digest in force (see the fast path in ``begin``).
                archive._set_state(pricing_inputs=f"{self.inputs}|{self.pricing.digest}")
        result.seconds = self.seconds + time.perf_counter() - started
        return result


def _index_name(sql: str) -> str:
    """The name an index's ``CREATE INDEX [IF NOT EXISTS] name ON …`` gives it."""
    words = sql.split(" ON ", 1)[0].split()
    return words[-1].strip('"')


def rebuild(home: Path, store: Store) -> tuple[Archive, BuildResult]:
    """Build a fresh archive from the whole ledger and swap it in; keep the id, bump the generation."""
    path = home / "archive.sqlite"
    archive_id, generation = uuid.uuid4().hex, 1
    if path.exists():
        try:
            old = Archive(path)
            st = old.state()
            archive_id, generation = st["archive_id"], int(st["generation"]) + 1
            old.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            old.close()
        except (BurnError, sqlite3.DatabaseError, KeyError, ValueError):
            pass  # an unreadable or foreign archive is simply replaced
    fresh = Archive.fresh_in_home(home)
    try:
        fresh._set_state(archive_id=archive_id, generation=str(generation), rebuilt_at=_now())
        # Ingest counters are not in the ledger: carry them over from the archive being replaced.
        quality.add(fresh.db, quality.read_file(path))
        result = fresh.build(store)
        fresh.publish()
    except BaseException:
        fresh.close()  # a failed rebuild (a full disk) leaves nothing behind
        raise
    return Archive(path), result


def build_checked(home: Path, store: Store) -> tuple[Archive, BuildResult, str | None]:
    """``burn archive build``: check the archive's pages (``PRAGMA quick_check``) and build it; a
    damaged archive is rebuilt from the ledger instead. Returns the archive, the build's result and
    what was found damaged (``None``: nothing). Call it with the ledger lock held."""
    remove_stale_rebuild(home)
    try:
        archive = Archive.in_home(home)
        damage = quick_check(archive.db)
        if damage is None:
            try:
                return archive, archive.build(store), None
            except LedgerMismatch:
                archive.close()
                raise
        archive.close()
    except sqlite3.DatabaseError as exc:
        if not is_corrupt(exc):
            raise
        damage = str(exc)
    archive, result = rebuild(home, store)
    return archive, result, damage


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to the archive, also in a read-only burn home."""
    db = sqlite.connect(path, readonly=True)
    try:
        db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
    except sqlite3.OperationalError as exc:
        wal = path.with_name(path.name + "-wal")
        if exc.sqlite_errorname != "SQLITE_CANTOPEN" or (wal.is_file() and wal.stat().st_size > 0):
            raise
        # A read-only directory: SQLite cannot make the ``-shm`` a WAL reader needs. With no WAL
        # content every committed page is in the main file, and where nothing can be written no
        # writer can change it, so reading the file as immutable is exact.
        db.close()
        db = sqlite.connect(path, immutable=True)
    return db


def _db_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
