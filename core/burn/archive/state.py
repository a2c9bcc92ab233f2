"""Is the archive current? Its state table, read without the archive's builder.

Every ``burn ingest`` asks this once at the end; a no-op ingest asks nothing else of the archive.
Importing the builder (:mod:`burn.archive.database`: rollups, pricing columns, record classes) would cost a
no-op more than reading the state, so the question is answered here with :mod:`sqlite3` alone.

Also here, for the same reason: how a damaged archive is recognised and reported, and the removal
of what a killed rebuild left behind.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

from burn import sqlite
from burn.errors import BurnError

# 5: usage_hourly rollup; 6: session_rollup, ingest_quality, user_turns.ts_ms; 7: activity categories
# (rules burn.archive.activity.RULES_VERSION 1), turn/call/event indexes, cost components, stamps
# columns; 8: timing (turns.duration_ms/latency_ms, user_turns.wall_ms, tool_result_events.duration_ms);
# 9: the stamps table (ledger kind `stamp`), materialized into the sessions' stamp columns;
# 10: turns.machine (the host that first saw a turn), machine in usage_hourly and session_hours;
# 11: session timing in session_rollup (burn.archive.session_rollup.TIMING_COLUMNS)
# 12: the activity_hours rollup (burn compare), turns_by_activity, tool_results_by_call
SCHEMA_VERSION = 12


def read_state(path: Path) -> dict[str, str] | None:
    """The ``archive_state`` table of the archive at ``path``, read-only; ``None`` when there is no
    readable archive there."""
    if not path.is_file():
        return None
    try:
        db = sqlite.connect(path, readonly=True)
    except sqlite3.Error:
        return None
    try:
        return dict(db.execute("SELECT key, value FROM archive_state"))
    except sqlite3.Error:
        return None
    finally:
        db.close()


def is_current(state: Mapping[str, str], ledger_position: int, pricing_inputs: str) -> bool:
    """Whether an archive in ``state`` has this burn's schema, has applied the ledger up to
    ``ledger_position``, has complete rollups, and was priced from the pricing inputs whose
    fingerprint (:func:`burn.pricing.inputs.inputs_fingerprint`) is ``pricing_inputs``: then a
    build has nothing to do."""
    return (
        state.get("schema_version") == str(SCHEMA_VERSION)
        and state.get("pricing_inputs") == f"{pricing_inputs}|{state.get('pricing_digest')}"
        and state.get("rollup") == "ok"
        and state.get("session_hours") == "ok"
        and state.get("ledger_position") == str(ledger_position)
    )


class ArchiveCorrupt(BurnError):
    """``archive.sqlite`` is damaged. It is disposable: the commands that may write rebuild it from
    the ledger; the others say how to."""


def is_corrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying a database file is damaged or not a database at all."""
    name = str(getattr(exc, "sqlite_errorname", ""))
    return name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB"


def corrupt_error(exc: BaseException) -> ArchiveCorrupt:
    return ArchiveCorrupt(f"archive is corrupt ({exc}); run `burn archive rebuild`")


@contextlib.contextmanager
def corrupt_as_error() -> Iterator[None]:
    """Around a command's use of the archive: damage found becomes one line that says what to do."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if not is_corrupt(exc):
            raise
        raise corrupt_error(exc) from exc


def quick_check(db: sqlite3.Connection) -> str | None:
    """``PRAGMA quick_check`` (a scan of every page, without the index cross-checks of
    ``integrity_check``): ``None`` when the archive is sound, else SQLite's first complaint. Run by
    ``burn archive build`` and ``burn doctor``, never by reports."""
    try:
        row = db.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.DatabaseError as exc:
        if not is_corrupt(exc):
            raise
        return str(exc)
    return None if row is None or row[0] == "ok" else str(row[0])


REBUILD_SUFFIX = ".rebuild"


def remove_stale_rebuild(home: Path) -> None:
    """Delete what a killed ``burn archive rebuild`` left (``archive.sqlite.rebuild`` and its
    ``-wal``/``-shm``/``-journal``). Call it only with the ledger lock held: a rebuild holds it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        (home / f"archive.sqlite{REBUILD_SUFFIX}{suffix}").unlink(missing_ok=True)


def built_from_ledger(state: Mapping[str, str]) -> str | None:
    """The identity of the ledger an archive in ``state`` was built from (``None``: an empty
    archive, which fits any). An archive from before ledgers were named was built from the file
    store."""
    position = state.get("ledger_position", "0")
    return state.get("ledger_identity") or ("file" if position != "0" else None)
