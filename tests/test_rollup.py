"""The hourly rollup stays exactly equal to a fresh aggregation of turns through incremental builds
(revisions that move a turn, sessions whose project appears later), and reports answer the same
from the rollup and from turns."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from burn.archive import rollup
from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize
from burn.query.timewindow import resolve_timezone
from tests.claude_lines import assistant, dumps, user, write_session


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
        "RELAYBURN_HOME": str(tmp_path / "burn"),
    }


def _run(env: dict[str, str]) -> None:
    ingest(Path(env["RELAYBURN_HOME"]), Plugins(env=env), env)


def _rollup_rows(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(db.execute("SELECT * FROM usage_hourly").fetchall(), key=repr)


def _fresh_rows(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(db.execute(rollup.grouped_turns_sql(rollup.HOUR_MS)).fetchall(), key=repr)


def _session_hours(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(db.execute("SELECT * FROM session_hours").fetchall(), key=repr)


def _fresh_session_hours(db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(db.execute(rollup.session_hours_sql(rollup.HOUR_MS)).fetchall(), key=repr)


def test_incremental_rollup_equals_a_fresh_aggregation(tmp_path: Path) -> None:
    env = _env(tmp_path)
    claude = Path(env["CLAUDE_CONFIG_DIR"])
    path = write_session(claude, [user("u1", "hi"), assistant("msg_a", 5, ts="2026-03-01T10:59:00.000Z")])
    _run(env)
    steps = [
        # a later snapshot of msg_a (revision in the same hour) and a turn in the next hour
        [
            assistant("msg_a", 50, ts="2026-03-01T10:59:30.000Z"),
            assistant("msg_b", 7, ts="2026-03-01T11:01:00.000Z"),
        ],
        # a new model, a new day
        [assistant("msg_c", 9, ts="2026-03-02T08:00:00.000Z", model="claude-opus-4-6")],
    ]
    for lines in steps:
        with open(path, "ab") as f:
            f.write(dumps(lines))
        _run(env)
    # a second session in another (real, git-less) directory: its project arrives with it
    other = assistant(
        "msg_d", 3, session="22222222-2222-4222-8222-222222222222", ts="2026-03-01T11:30:00.000Z"
    )
    other["cwd"] = str(tmp_path)
    write_session(claude, [other], session="22222222-2222-4222-8222-222222222222")
    _run(env)
    archive = Archive.in_home(Path(env["RELAYBURN_HOME"]), readonly=True)
    assert archive.state()["rollup"] == "ok"
    assert _rollup_rows(archive.db) == _fresh_rows(archive.db)
    rows = _rollup_rows(archive.db)
    assert len(rows) == 4 and len({r[4] for r in rows}) == 3  # hour 11 holds two projects
    assert archive.state()["session_hours"] == "ok"
    assert _session_hours(archive.db) == _fresh_session_hours(archive.db)
    assert len(_session_hours(archive.db)) == 4  # hour 11: both sessions; the late project is set
    assert all(r[4] is not None for r in _session_hours(archive.db))
    archive.close()


def test_an_archive_without_session_hours_gets_them_on_its_next_build(tmp_path: Path) -> None:
    env = _env(tmp_path)
    lines = [assistant(f"msg_{i}", 10 + i, ts=f"2026-03-0{1 + i % 3}T1{i % 10}:00:00.000Z") for i in range(9)]
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), lines)
    _run(env)
    home = Path(env["RELAYBURN_HOME"])
    db = sqlite3.connect(home / "archive.sqlite")  # as a burn before session_hours left it
    db.execute("DROP TABLE session_hours")
    db.execute("DELETE FROM archive_state WHERE key = 'session_hours'")
    db.commit()
    db.close()
    _run(env)  # nothing new to read: the build still fills session_hours
    archive = Archive.in_home(home, readonly=True)
    assert archive.state()["session_hours"] == "ok"
    assert len(_session_hours(archive.db)) == 9
    assert _session_hours(archive.db) == _fresh_session_hours(archive.db)
    archive.close()


def test_reports_agree_between_rollup_and_turns(tmp_path: Path) -> None:
    env = _env(tmp_path)
    lines = [
        assistant(
            f"msg_{i}", 10 + i, ts=f"2026-03-{1 + i % 5:02d}T{(i * 7) % 24:02d}:{(i * 13) % 60:02d}:00.000Z"
        )
        for i in range(40)
    ]
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), lines)
    _run(env)
    home = Path(env["RELAYBURN_HOME"])
    tz, name = resolve_timezone("Europe/Berlin")
    archive = Archive.in_home(home, readonly=True)
    from_rollup = summarize(archive, Filters(tz=tz, timezone=name))
    archive.close()
    db = sqlite3.connect(home / "archive.sqlite")
    db.execute("UPDATE archive_state SET value = 'stale' WHERE key = 'rollup'")  # force the turns path
    db.commit()
    db.close()
    archive = Archive.in_home(home, readonly=True)
    from_turns = summarize(archive, Filters(tz=tz, timezone=name))
    archive.close()
    assert from_rollup == from_turns
    assert from_rollup["totals"]["output"] == sum(10 + i for i in range(40))
    assert len(from_rollup["by_day"]) == 5
