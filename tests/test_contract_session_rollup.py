"""The session rollup stays equal to a fresh computation through incremental ingests, and its
revisions move only for the sessions that changed (what export cursors rely on)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from burn import session_rollup
from burn.archive import Archive, rebuild
from burn.store_file import FileStore
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
