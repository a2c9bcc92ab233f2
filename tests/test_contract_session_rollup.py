"""The session rollup stays equal to a fresh computation through incremental ingests, and its
revisions move only for the sessions that changed (what export cursors rely on)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from burn.archive import enrich, session_rollup
from burn.archive.database import Archive, rebuild
from burn.ledger.file import FileStore
from tests.contract_fixture import FIXTURE, env_for, run_ingest

FACTS = ", ".join(session_rollup.FACT_COLUMNS)


def _facts(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return db.execute(f"SELECT source, session_id, {FACTS} FROM session_rollup ORDER BY 1, 2").fetchall()


def _grow(src: Path, dst: Path, part: int, parts: int) -> None:
    """Copy the first part/parts of every fixture file's lines (an agent still writing)."""
    for f in sorted(src.rglob("*")):
        if f.is_dir():
            continue
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.suffix != ".jsonl":
            target.write_bytes(f.read_bytes())
            continue
        lines = f.read_bytes().splitlines(keepends=True)
        target.write_bytes(b"".join(lines[: len(lines) * part // parts]))


def test_incremental_rollup_equals_a_fresh_one(tmp_path: Path) -> None:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    env = env_for(tmp_path, claude, codex)
    home = Path(env["RELAYBURN_HOME"])
    for part in range(1, 5):
        _grow(FIXTURE / "claude", claude, part, 4)
        _grow(FIXTURE / "codex", codex, part, 4)
        run_ingest(env)
    archive = Archive.in_home(home)
    assert archive.state()["rollup"] == "ok"
    incremental = _facts(archive.db)
    assert len(incremental) == 8
    archive.db.execute("BEGIN")
    assert session_rollup.refresh(archive.db, None) == 0  # a full recomputation changes nothing
    archive.db.execute("ROLLBACK")
    archive.close()
    fresh, _ = rebuild(home, FileStore(home))
    assert _facts(fresh.db) == incremental
    fresh.close()


def test_revisions_move_only_for_changed_sessions_and_their_ancestors(tmp_path: Path) -> None:
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    env = env_for(tmp_path, claude, codex)
    _grow(FIXTURE / "claude", claude, 1, 1)
    _grow(FIXTURE / "codex", codex, 1, 1)
    run_ingest(env)
    home = Path(env["RELAYBURN_HOME"])
    db = sqlite3.connect(home / "archive.sqlite")
    seq = session_rollup.seq(db)
    db.close()
    run_ingest(env)  # nothing new: nothing moves
    child = next(claude.rglob("agent-d8e93ef.jsonl"))
    last = [x for x in child.read_bytes().splitlines() if b'"output_tokens":' in x][-1]
    bumped = last.replace(b'"output_tokens":', b'"output_tokens":1', 1)  # a later snapshot: more output
    assert bumped != last
    with child.open("ab") as f:
        f.write(bumped + b"\n")
    run_ingest(env)
    db = sqlite3.connect(home / "archive.sqlite")
    moved = db.execute(
        "SELECT session_id FROM session_rollup WHERE revision > ? ORDER BY 1", (seq,)
    ).fetchall()
    created = db.execute("SELECT COUNT(*) FROM session_rollup WHERE created_seq > ?", (seq,)).fetchone()[0]
    db.close()
    root = "f38b2ffc-80a4-4f5a-81c9-bc701e7ea419"
    assert [m for (m,) in moved] == [root, f"{root}/agent-d8e93ef"]
    assert created == 0


# Tables with a session_id column: what a refresh reads (and session_rollup, which it also writes).
SESSION_TABLES = ("sessions", "turns", "user_turns", "tool_calls", "tool_result_events", "compactions",
                  "session_rollup", "session_models", "session_hours")  # fmt: skip


def _refresh_work(
    db: sqlite3.Connection,
    sessions: list[tuple[str, str]] | None,
    refresh: Callable[[sqlite3.Connection, list[tuple[str, str]] | None], None] = session_rollup.refresh,
) -> int:
    """SQLite virtual-machine steps (in hundreds) of refreshing ``sessions``, rolled back."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    db.set_progress_handler(count, 100)
    db.execute("BEGIN")
    refresh(db, sessions)
    db.execute("ROLLBACK")
    db.set_progress_handler(None, 0)
    return steps


def _add_other_sessions(db: sqlite3.Connection, copies: int) -> None:
    """``copies`` copies of every session in every session table, under other session ids (and
    other ``id`` keys): an archive that many times larger whose extra sessions are unrelated."""
    db.execute("BEGIN")
    for table in SESSION_TABLES:
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        rows = db.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
        marks = ", ".join("?" * len(cols))
        for n in range(copies):
            db.executemany(
                f"INSERT INTO {table} VALUES ({marks})",
                [
                    tuple(f"{v}~{n}" if c in ("id", "session_id", "parent_session_id") and v else v
                          for c, v in zip(cols, row, strict=True))
                    for row in rows
                ],
            )  # fmt: skip
    db.execute("COMMIT")


ROOT = ("claude-code", "f38b2ffc-80a4-4f5a-81c9-bc701e7ea419")


def _fixture_archive(tmp_path: Path) -> sqlite3.Connection:
    """The contract fixture ingested whole; its archive, in autocommit mode."""
    claude, codex = tmp_path / "claude", tmp_path / "codex"
    env = env_for(tmp_path, claude, codex)
    _grow(FIXTURE / "claude", claude, 1, 1)
    _grow(FIXTURE / "codex", codex, 1, 1)
    run_ingest(env)
    return sqlite3.connect(Path(env["RELAYBURN_HOME"]) / "archive.sqlite", isolation_level=None)


def test_refreshing_a_session_does_work_of_its_subtree_not_of_the_archive(tmp_path: Path) -> None:
    """Work count of an incremental refresh: the same for one session (and its subagent) whether
    the archive holds 8 sessions or 1,608. Joins that put the archive's tables in the outer loop
    (the planner knows nothing of the temp tables' size) made every incremental ingest scan them."""
    db = _fixture_archive(tmp_path)
    root = [ROOT]
    small = _refresh_work(db, root)
    sessions = db.execute("SELECT COUNT(*) FROM session_rollup").fetchone()[0]
    _add_other_sessions(db, 200)
    assert db.execute("SELECT COUNT(*) FROM session_rollup").fetchone()[0] == sessions * 201
    large = _refresh_work(db, root)
    db.close()
    assert small > 0
    assert large <= small * 1.2 + 5


def test_enriching_does_work_of_the_sessions_refreshed_not_sessions_times_rows(tmp_path: Path) -> None:
    """Work count of the derived columns (burn.archive.enrich): one session's refresh costs the
    same at 8 and 1,608 sessions, and every session's (a cold build's) grows with the archive, not
    with its square. Flattened into the UPDATE, the planner looped over every target row and, for
    each, over every dirty session: 8.7 s of a 26 s cold ingest of a 100 MB corpus."""
    db = _fixture_archive(tmp_path)
    root = [ROOT]
    one_small, all_small = _refresh_work(db, root, enrich.refresh), _refresh_work(db, None, enrich.refresh)
    _add_other_sessions(db, 200)
    enrich.refresh(db, None)  # the copies' calls still name the original turns: link them to theirs
    one_large, all_large = _refresh_work(db, root, enrich.refresh), _refresh_work(db, None, enrich.refresh)
    db.close()
    assert one_small > 0 and all_small > 0
    assert one_large <= one_small * 1.2 + 5
    assert all_large <= all_small * 201 * 1.5
