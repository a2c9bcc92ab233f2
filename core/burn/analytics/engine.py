"""``$RELAYBURN_HOME/analytics.duckdb``: a columnar copy of the archive's turns for the dashboard.

One fact table, ``facts``, holds a row per archive turn with what the panels group and sum by:
time, source, model, the session's project key, agent type and root-or-subagent, the token fields,
the exact per-turn cost (``cost_usd_micros``) and the timing columns (:data:`TIMING_COLUMNS`; NULL
where the archive has none). ``projects`` holds the project keys and labels.

**Feeding.** :meth:`Engine.sync` runs before every query. Its watermarks (table ``watermarks``, one
row per table) say which archive state the copy reflects: the archive id, generation and pricing
digest (a change of any of them means every row may differ: rebuild) and the archive's session
sequence number (``archive_state.session_seq``, bumped by every build that changes a session's
rollup row; each row remembers its ``revision``). Only sessions whose revision is above the
watermark are read again: their turns are replaced. A count check after each sync (turns in the
copy = turns in the archive) catches anything the watermarks cannot see and rebuilds.

**Self-healing.** A missing file is built from scratch; a file DuckDB cannot open (garbled,
truncated) or whose ``engine_version`` is not :data:`VERSION` is deleted and rebuilt. The copy is
derived data: losing it costs one rebuild, never a figure.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from burn.records import USAGE_FIELDS

VERSION = 1
FILENAME = "analytics.duckdb"
# Timing columns copied from the archive's ``turns`` when it has them (issue 15, item 1: written
# by another branch); absent columns are copied as NULL and the timing panel says "no timing data".
TIMING_COLUMNS = ("duration_ms", "latency_ms")
TOKEN_FIELDS = tuple(f for f in USAGE_FIELDS if f != "web_search_requests")
_CHUNK = 50_000

# (name, DuckDB type, SQL over ``turns t LEFT JOIN sessions s`` in the archive); timing columns
# are appended per archive (see _select).
_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "VARCHAR", "t.id"),
    ("source", "VARCHAR", "t.source"),
    ("session_id", "VARCHAR", "t.session_id"),
    ("ts_ms", "BIGINT", "t.ts_ms"),
    ("model", "VARCHAR", "t.model"),
    ("project_key", "VARCHAR", "s.project_key"),
    ("agent_type", "VARCHAR", "s.agent_type"),
    ("is_root", "BOOLEAN", "COALESCE(s.relationship, 'root') = 'root'"),
    *((f, "BIGINT", f"t.{f}") for f in USAGE_FIELDS),
    ("cost_usd_micros", "BIGINT", "t.cost_usd_micros"),
    ("price_match", "VARCHAR", "t.price_match"),
    ("cost_source", "VARCHAR", "t.cost_source"),
)
FACT_COLUMNS = (*(n for n, _, _ in _COLUMNS), *TIMING_COLUMNS)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS watermarks (tbl VARCHAR PRIMARY KEY, archive_id VARCHAR,
  generation BIGINT, pricing_digest VARCHAR, session_seq BIGINT, rows BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS facts ({", ".join(f"{n} {t}" for n, t, _ in _COLUMNS)},
  {", ".join(f"{c} BIGINT" for c in TIMING_COLUMNS)});
CREATE TABLE IF NOT EXISTS projects (key VARCHAR PRIMARY KEY, label VARCHAR);
"""


@attrs.define
class SyncResult:
    """What one :meth:`Engine.sync` did: ``rebuilt`` (why, or None), rows read from the archive per
    table (the work-count the tests check), sessions refreshed, whether the watermark was written."""

    rebuilt: str | None = None
    rows_read: dict[str, int] = attrs.field(factory=lambda: {"turns": 0, "projects": 0})
    sessions: int = 0
    marked: bool = False


class Engine:
    """The analytics database of a burn home (one per process; calls are serialized)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / FILENAME
        self.lock = threading.RLock()
        self.last = SyncResult()
        self.opened_reason: str | None = None
        self.con: Any = self._open()

    # -- the file ----------------------------------------------------------------------------------

    def _open(self) -> Any:
        import duckdb

        reason = None if self.path.exists() else "missing"
        con = None
        if reason is None:
            try:
                con = duckdb.connect(str(self.path))
                row = con.execute("SELECT value FROM meta WHERE key = 'engine_version'").fetchone()
                if row is None or row[0] != str(VERSION):
                    reason = f"version {row[0] if row else 'unknown'} (this burn: {VERSION})"
            except duckdb.Error as exc:
                reason = f"unreadable ({type(exc).__name__})"
            if reason is not None:
                if con is not None:
                    con.close()
                con = None
                self._remove()
        if con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(self.path))
            con.execute(_SCHEMA)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('engine_version', ?)", [str(VERSION)])
        self.opened_reason = reason
        return con

    def _remove(self) -> None:
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            p.unlink(missing_ok=True)

    def close(self) -> None:
        with self.lock:
            self.con.close()

    # -- feeding -----------------------------------------------------------------------------------

    def sync(self, archive: sqlite3.Connection) -> SyncResult:
        """Bring the copy up to the archive (read in one snapshot of ``archive``); see the module
        docstring for the watermarks."""
        with self.lock:
            state = dict(archive.execute("SELECT key, value FROM archive_state").fetchall())
            mark = self.con.execute(
                "SELECT archive_id, generation, pricing_digest, session_seq FROM watermarks "
                "WHERE tbl = 'facts'"
            ).fetchone()
            current = (
                state.get("archive_id"),
                int(state.get("generation", "0")),
                state.get("pricing_digest"),
                int(state.get("session_seq", "0")),
            )
            result = SyncResult(rebuilt=self.opened_reason)
            self.opened_reason = None
            if mark is None and result.rebuilt is None:
                result.rebuilt = "empty"
            elif mark is not None and tuple(mark[:3]) != current[:3]:
                result.rebuilt = "archive rebuilt or re-priced"
            loaded = True
            if result.rebuilt is not None:
                self._load(archive, None, result)
            elif mark is not None and mark[3] != current[3]:
                self._load(archive, int(mark[3]), result)
            else:
                loaded = False
            if self._count() != _archive_turns(archive):  # what no watermark saw: start over
                result = SyncResult(rebuilt="row count differed from the archive")
                self._load(archive, None, result)
                loaded = True
            # An unchanged archive writes nothing: every panel request syncs first, and a write
            # (DuckDB's WAL) cost more than the panel's own query (issue 15's benchmark).
            if loaded or mark is None or tuple(mark) != current:
                self._mark(current)
                result.marked = True
            self.last = result
            return result

    def rebuild(self, archive: sqlite3.Connection) -> SyncResult:
        """Drop the copy and load every turn again."""
        with self.lock:
            self.con.execute("DELETE FROM watermarks")
            self.opened_reason = "asked"
            return self.sync(archive)

    def _load(self, archive: sqlite3.Connection, after_seq: int | None, result: SyncResult) -> None:
        select = _select(archive)
        con = self.con
        con.execute("BEGIN")
        try:
            if after_seq is None:
                con.execute("DELETE FROM facts")
                rows = archive.execute(f"{select} ORDER BY t.ts_ms")
            else:
                changed = archive.execute(
                    "SELECT source, session_id FROM session_rollup WHERE revision > ?", (after_seq,)
                ).fetchall()
                result.sessions = len(changed)
                con.execute("CREATE TEMP TABLE IF NOT EXISTS changed (source VARCHAR, session_id VARCHAR)")
                con.execute("DELETE FROM changed")
                _insert(con, "changed", ("source", "session_id"), changed)
                con.execute(
                    "DELETE FROM facts WHERE (source, session_id) IN (SELECT source, session_id FROM changed)"
                )
                # The archive connection may be read-only (burn serve): no temp table there; the
                # join reads each changed session's turns through turns_by_session.
                rows = archive.execute(
                    f"{select} JOIN session_rollup r ON r.source = t.source AND r.session_id = t.session_id "
                    "WHERE r.revision > ?",
                    (after_seq,),
                )
            while chunk := rows.fetchmany(_CHUNK):
                result.rows_read["turns"] += len(chunk)
                _insert(con, "facts", FACT_COLUMNS, chunk)
            projects = archive.execute(
                "SELECT key, label FROM projects ORDER BY key, observed_at, id"
            ).fetchall()
            latest = dict(projects)  # the latest observation's label per key
            result.rows_read["projects"] = len(projects)
            con.execute("DELETE FROM projects")
            _insert(con, "projects", ("key", "label"), sorted(latest.items()))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _count(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM facts").fetchone()[0])

    def _mark(self, current: tuple[Any, ...]) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO watermarks VALUES ('facts', ?, ?, ?, ?, ?)", [*current, self._count()]
        )

    # -- reading -----------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` over the copy."""
        with self.lock:
            rows: list[tuple[Any, ...]] = self.con.execute(sql, list(params)).fetchall()
            return rows

    def status(self) -> dict[str, Any]:
        """The file, its version, its watermarks and row counts."""
        with self.lock:
            mark = self.con.execute(
                "SELECT archive_id, generation, pricing_digest, session_seq, rows FROM watermarks"
            ).fetchone()
            return {
                "path": str(self.path),
                "bytes": self.path.stat().st_size if self.path.exists() else 0,
                "engine_version": VERSION,
                "watermarks": None
                if mark is None
                else dict(
                    zip(
                        ("archive_id", "generation", "pricing_digest", "session_seq", "rows"),
                        mark,
                        strict=True,
                    )
                ),
                "rows": {
                    "facts": self._count(),
                    "projects": int(self.con.execute("SELECT count(*) FROM projects").fetchone()[0]),
                },
                "timing_columns": list(TIMING_COLUMNS),
            }


def _archive_turns(archive: sqlite3.Connection) -> int:
    return int(archive.execute("SELECT count(*) FROM turns").fetchone()[0])


def _select(archive: sqlite3.Connection) -> str:
    """The archive query for fact rows; timing columns the archive lacks are NULL."""
    have = {r[1] for r in archive.execute("PRAGMA table_info(turns)")}
    timing = [f"t.{c}" if c in have else "NULL" for c in TIMING_COLUMNS]
    cols = ", ".join([*(expr for _, _, expr in _COLUMNS), *timing])
    return (
        f"SELECT {cols} FROM turns t LEFT JOIN sessions s "
        "ON s.source = t.source AND s.session_id = t.session_id"
    )


def _insert(con: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` column-wise: one ``unnest`` per column (far faster than executemany)."""
    if not rows:
        return
    cols = list(zip(*rows, strict=True))
    types = dict(
        con.execute(
            f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{table}'"
        ).fetchall()
    )
    sel = ", ".join(f"unnest(?::{types[c]}[])" for c in columns)
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {sel}", [list(c) for c in cols])


@contextmanager
def opened(home: Path) -> Iterator[Engine]:
    """An :class:`Engine` for ``home``, closed after."""
    engine = open_engine(home)
    try:
        yield engine
    finally:
        engine.close()


def open_engine(home: Path) -> Engine:
    """The engine of ``home`` (imports duckdb; a clear error when the extra is not installed)."""
    try:
        import duckdb  # noqa: F401
    except ImportError as exc:
        from burn.errors import BurnError

        raise BurnError("the analytics engine needs duckdb: pip install 'burn[dashboard]'") from exc
    return Engine(home)
