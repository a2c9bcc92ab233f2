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
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from burn import sqlite
from burn.archive import enrich, quality, rollup, session_rollup
from burn.archive.activity import categorize
from burn.archive.state import (
    REBUILD_SUFFIX,
    SCHEMA_VERSION,
    is_corrupt,
    is_current,
    quick_check,
    remove_stale_rebuild,
)
from burn.errors import BurnError, writing
from burn.gcpause import gc_paused
from burn.pricing.columns import COST_COLUMNS_SQL
from burn.pricing.inputs import inputs_fingerprint
from burn.records import ts_to_ms
from burn.store import LedgerEntry, ReadStats, Store

if TYPE_CHECKING:
    from burn.pricing.load import Pricing
BATCH = 20_000

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS archive_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, cwd TEXT, git_branch TEXT,
  git_remote TEXT, git_commit TEXT, harness_version TEXT, slug TEXT, title TEXT, parent_session_id TEXT,
  relationship TEXT NOT NULL,
  agent_id TEXT, agent_type TEXT, parent_tool_use_id TEXT, originator TEXT, classification TEXT,
  first_seen_ts TEXT, usage_fidelity TEXT, project_key TEXT,
  -- derived per session after each batch (burn.archive.enrich; stamps: burn.archive.stamps)
  message_count INTEGER, has_content INTEGER, activity TEXT,
  workflow_id TEXT, stamp_agent TEXT, stamp_persona TEXT, stamp_tier TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_by_source ON sessions (source, session_id);
CREATE INDEX IF NOT EXISTS sessions_by_cwd ON sessions (cwd);
CREATE INDEX IF NOT EXISTS sessions_by_parent ON sessions (source, parent_session_id);
-- One row per observed working directory; many directories can share one project key.
CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY, cwd TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
  label TEXT NOT NULL, resolution TEXT NOT NULL, machine_local INTEGER NOT NULL, remote TEXT,
  git_root TEXT, branch TEXT, is_worktree INTEGER, observed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS projects_by_cwd ON projects (cwd);
CREATE TABLE IF NOT EXISTS turns (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, message_id TEXT,
  request_id TEXT, ts TEXT NOT NULL, ts_ms INTEGER NOT NULL, model TEXT NOT NULL, provider TEXT,
  input INTEGER, output INTEGER, reasoning INTEGER, cache_read INTEGER, cache_write_5m INTEGER,
  cache_write_1h INTEGER, web_search_requests INTEGER, reported_cost_usd TEXT, speed TEXT,
  service_tier TEXT, stop_reason TEXT, is_sidechain INTEGER NOT NULL, agent_id TEXT,
  fidelity_usage TEXT NOT NULL, fidelity_notes TEXT,
  turn_index INTEGER, activity TEXT,  -- derived per session (burn.archive.enrich)
  -- cost columns stay last: _apply appends them to _turn_row's values
  {COST_COLUMNS_SQL});
CREATE INDEX IF NOT EXISTS turns_by_time ON turns (ts_ms);
CREATE INDEX IF NOT EXISTS turns_by_session ON turns (source, session_id, ts_ms);
CREATE INDEX IF NOT EXISTS turns_by_model ON turns (model);
CREATE TABLE IF NOT EXISTS tool_calls (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, tool_use_id TEXT NOT NULL,
  message_id TEXT, ts TEXT NOT NULL, name TEXT NOT NULL, target TEXT, args_hash TEXT,
  ts_ms INTEGER NOT NULL, category TEXT NOT NULL,  -- burn.archive.activity.categorize(name, target)
  call_index INTEGER, turn_id TEXT);  -- derived per session (burn.archive.enrich)
CREATE INDEX IF NOT EXISTS tool_calls_by_session ON tool_calls (source, session_id, tool_use_id);
CREATE INDEX IF NOT EXISTS tool_calls_by_turn ON tool_calls (turn_id);
CREATE TABLE IF NOT EXISTS tool_result_events (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, tool_use_id TEXT NOT NULL,
  ts TEXT NOT NULL, status TEXT NOT NULL, content_length INTEGER NOT NULL, content_hash TEXT,
  subagent_session_id TEXT,
  -- derived per session (burn.archive.enrich)
  message_id TEXT, call_index INTEGER, event_index INTEGER, agent_id TEXT, event_source TEXT);
CREATE INDEX IF NOT EXISTS tool_results_by_session ON tool_result_events (source, session_id);
CREATE TABLE IF NOT EXISTS user_turns (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, user_uuid TEXT NOT NULL,
  ts TEXT NOT NULL, preceding_message_id TEXT, following_message_id TEXT, block_count INTEGER NOT NULL,
  byte_length INTEGER NOT NULL, approx_tokens INTEGER NOT NULL, blocks TEXT NOT NULL,
  is_meta INTEGER NOT NULL, is_compact_summary INTEGER NOT NULL, ts_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS user_turns_by_session ON user_turns (source, session_id);
CREATE INDEX IF NOT EXISTS user_turns_by_time ON user_turns (ts_ms);
CREATE TABLE IF NOT EXISTS compactions (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, ts TEXT NOT NULL,
  trigger TEXT, tokens_before INTEGER, tokens_after INTEGER);
CREATE INDEX IF NOT EXISTS compactions_by_session ON compactions (source, session_id);
"""

# Tables whose rows come from the ledger, in digest order.
CONTENT_TABLES = (
    "sessions",
    "turns",
    "tool_calls",
    "tool_result_events",
    "user_turns",
    "compactions",
    "projects",
)


def _session_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    # The last column, project_key, is resolved from the projects table after each batch.
    g = r.get
    return (rid, r["source"], r["session_id"], g("cwd"), g("git_branch"), g("git_remote"), g("git_commit"),
            g("harness_version"), g("slug"),
            g("title"), g("parent_session_id"), g("relationship", "root"), g("agent_id"), g("agent_type"),
            g("parent_tool_use_id"), g("originator"), g("classification"), g("first_seen_ts"),
            g("usage_fidelity"), None, None, None, None, None, None, None, None)  # fmt: skip


def _turn_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    u = g("usage") or {}
    f = g("fidelity") or {}
    notes = f.get("notes")
    return (rid, r["source"], r["session_id"], g("message_id"), g("request_id"), r["ts"], ts_to_ms(r["ts"]),
            r["model"], g("provider"), u.get("input"), u.get("output"), u.get("reasoning"),
            u.get("cache_read"), u.get("cache_write_5m"), u.get("cache_write_1h"),
            u.get("web_search_requests"), g("reported_cost_usd"), g("speed"), g("service_tier"),
            g("stop_reason"), int(bool(g("is_sidechain"))), g("agent_id"), f.get("usage", "full"),
            ",".join(notes) if notes else None, None, None)  # fmt: skip


def _tool_call_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    return (rid, r["source"], r["session_id"], r["tool_use_id"], g("message_id"), r["ts"], r["name"],
            g("target"), g("args_hash"), ts_to_ms(r["ts"]), categorize(r["name"], g("target")), None,
            None)  # fmt: skip


def _tool_result_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    return (rid, r["source"], r["session_id"], r["tool_use_id"], r["ts"], g("status", "ok"),
            g("content_length", 0), g("content_hash"), g("subagent_session_id"), None, None, None, None,
            None)  # fmt: skip


def _user_turn_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    blocks = g("blocks") or []
    return (rid, r["source"], r["session_id"], r["user_uuid"], r["ts"], g("preceding_message_id"),
            g("following_message_id"), len(blocks), sum(b.get("byte_length", 0) for b in blocks),
            sum(b.get("approx_tokens", 0) for b in blocks), orjson.dumps(blocks).decode(),
            int(bool(g("is_meta"))), int(bool(g("is_compact_summary"))), ts_to_ms(r["ts"]))  # fmt: skip


def _compaction_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    return (rid, r["source"], r["session_id"], r["ts"], g("trigger"), g("tokens_before"), g("tokens_after"))


def _project_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    remotes = tuple((str(name), str(url)) for name, url in r.get("remotes") or ())
    from burn.privacy.identity import identify
    from burn.records import ProjectObservation

    obs = ProjectObservation(cwd=r["cwd"], observed_at=r["observed_at"], git_root=r.get("git_root"))
    p = identify(attrs.evolve(obs, remotes=remotes))
    return (rid, r["cwd"], p.key, p.kind, p.value, p.label, p.resolution, int(p.machine_local), p.remote,
            r.get("git_root"), r.get("branch"), r.get("is_worktree"), r["observed_at"])  # fmt: skip


_ROWS: dict[str, tuple[str, Callable[[str, dict[str, Any]], tuple[Any, ...]]]] = {
    "session": ("sessions", _session_row),
    "turn": ("turns", _turn_row),
    "tool_call": ("tool_calls", _tool_call_row),
    "tool_result": ("tool_result_events", _tool_result_row),
    "user_turn": ("user_turns", _user_turn_row),
    "compaction": ("compactions", _compaction_row),
    "project": ("projects", _project_row),
}


# A session belongs to the project observed for its working directory. Session revisions and
# observations arrive in any order, so unresolved sessions are matched after every batch.
_RESOLVE_PROJECTS = """
UPDATE sessions SET project_key = (SELECT p.key FROM projects p WHERE p.cwd = sessions.cwd)
WHERE project_key IS NULL AND cwd IS NOT NULL
"""


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


class Archive:
    """``archive.sqlite`` in the burn home. Open read-only for queries, read-write to build."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        if readonly:
            if not path.exists():
                raise BurnError(f"no archive at {path}: run `burn ingest` first")
            self.db = _open_readonly(path)
        else:
            with writing(path):
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite.connect(path, pragmas=sqlite.ARCHIVE)
        version = self.state().get("schema_version")
        if version is not None and int(version) != SCHEMA_VERSION:
            self.db.close()
            raise SchemaMismatch(
                f"archive {path} has schema version {version}, this burn needs {SCHEMA_VERSION}: "
                "run `burn archive rebuild`"
            )
        if not readonly:
            with writing(path):
                self.db.executescript(_SCHEMA + rollup.SCHEMA + session_rollup.SCHEMA + quality.SCHEMA)
                self._init_state()

    @classmethod
    def in_home(cls, home: Path, *, readonly: bool = False) -> Archive:
        return cls(home / "archive.sqlite", readonly=readonly)

    def close(self) -> None:
        self.db.close()

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
                    if table != "projects":
                        touched.update((r[1], r[2]) for r in values)
            for table, values in rows.items():
                marks = ",".join("?" * len(values[0]))
                self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values)
            if "sessions" in rows or "projects" in rows:
                self.db.execute(_RESOLVE_PROJECTS)
            if incremental:
                dirty.update(r[6] // rollup.HOUR_MS for r in turns)  # column 6 is ts_ms
                dirty |= rollup.hours_of_sessions(self.db, ((r[1], r[2]) for r in rows.get("sessions", [])))
                dirty |= rollup.hours_of_cwds(self.db, (r[1] for r in rows.get("projects", [])))
                rollup.refresh_hours(self.db, dirty)
                touched |= session_rollup.sessions_of_cwds(self.db, (r[1] for r in rows.get("projects", [])))
                enrich.refresh(self.db, touched)
                session_rollup.refresh(self.db, touched)
            self._set_state(ledger_position=str(position))

    # -- facts -----------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {t: int(self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in CONTENT_TABLES}

    def digest(self) -> str:
        """sha256 over the logical content: every content table's rows in primary-key order."""
        import hashlib

        h = hashlib.sha256()
        for table in CONTENT_TABLES:
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
    for entry in entries:
        kind = entry.kind
        table, to_row = _ROWS[kind]
        record = entry.record
        try:
            row = to_row(entry.id, record)
            if table == "turns":
                row = (*row, *turn_columns(pricing, record))
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
        _add_rows(store.read(self.position, result.ledger), self)
        self._flush()
        for sql in self.deferred:
            db.execute(sql)
        if archive.state().get("rollup") != "ok":
            with sqlite.transaction(db):
                rollup.refresh_all(db)
                enrich.refresh(db, None)
                session_rollup.refresh(db, None)
                archive._set_state(rollup="ok", session_hours="ok")
        end = store.position()
        with sqlite.transaction(db):
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
    tmp = home / f"archive.sqlite{REBUILD_SUFFIX}"
    remove_stale_rebuild(home)
    fresh = Archive(tmp)
    try:
        fresh._set_state(archive_id=archive_id, generation=str(generation), rebuilt_at=_now())
        # Ingest counters are not in the ledger: carry them over from the archive being replaced.
        quality.add(fresh.db, quality.read_file(path))
        result = fresh.build(store)
        with writing(tmp):
            fresh.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        fresh.close()
        remove_stale_rebuild(home)  # a failed rebuild (a full disk) leaves nothing behind
        raise
    fresh.close()
    for stale in _db_files(path)[1:]:
        stale.unlink(missing_ok=True)
    os.replace(tmp, path)
    remove_stale_rebuild(home)
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
            return archive, archive.build(store), None
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
