"""The activity rollup (``activity_hours``, what ``burn compare`` reads) stays equal to a fresh
aggregation of turns through incremental builds — tool calls and results that arrive after their
turn, a new session, a revision — and compare answers the same from the rollup (whole hours, turns
at the partial edges) as from turns alone, without scanning turns."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from burn.archive import activity_rollup
from burn.archive.database import Archive
from burn.cli.app import main
from burn.query import Filters
from burn.query.compare import Group, compare
from tests.claude_lines import assistant, claude_only_env, dumps, user, write_session

OPUS = "claude-opus-4-6"
S2 = "22222222-2222-4222-8222-222222222222"


def _tool(tool_id: str, name: str, target: dict[str, str]) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": target}


def _result(uuid: str, tool_id: str, ts: str, error: bool, session: str | None = None) -> dict[str, Any]:
    line = user(uuid, "", ts=ts, **({"session": session} if session else {}))
    line["message"]["content"] = [{"type": "tool_result", "tool_use_id": tool_id, "is_error": error,
                                   "content": "x"}]  # fmt: skip
    return line


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "claude"
    claude_only_env(tmp_path, monkeypatch, config)
    edit = _tool("toolu_1", "Edit", {"file_path": "/repo/src/app.py"})
    path = write_session(config, [
        user("u1", "fix it", ts="2026-03-01T10:20:00.000Z"),
        assistant("m1", 100, ts="2026-03-01T10:20:30.000Z", content=[edit]),
    ])  # fmt: skip
    assert main(["ingest", "--quiet"]) == 0
    # The first turn's result, then a turn whose calls are a read and a test run (a tie: testing
    # wins), their results, and a turn without calls in the next hour.
    read = _tool("toolu_2", "Read", {"file_path": "/repo/src/app.py"})
    test = _tool("toolu_3", "Bash", {"command": "pytest -q"})
    with open(path, "ab") as f:
        f.write(dumps([
            _result("r1", "toolu_1", "2026-03-01T10:20:31.000Z", True),
            assistant("m2", 40, ts="2026-03-01T10:40:00.000Z", content=[read, test]),
            _result("r2", "toolu_2", "2026-03-01T10:40:02.000Z", False),
            _result("r3", "toolu_3", "2026-03-01T10:40:05.000Z", True),
            assistant("m3", 7, ts="2026-03-01T11:05:00.000Z"),
        ]))  # fmt: skip
    assert main(["ingest", "--quiet"]) == 0
    # A revision of m3 (more output), and a second session on another model.
    git = _tool("toolu_4", "Bash", {"command": "git status"})
    with open(path, "ab") as f:
        f.write(dumps([assistant("m3", 70, ts="2026-03-01T11:05:09.000Z")]))
    write_session(config, [
        user("u2", "commit", session=S2, ts="2026-03-01T11:29:00.000Z"),
        assistant("m4", 20, session=S2, ts="2026-03-01T11:30:00.000Z", model=OPUS, content=[git]),
        _result("r4", "toolu_4", "2026-03-01T11:30:01.000Z", False, session=S2),
    ], session=S2)  # fmt: skip
    assert main(["ingest", "--quiet"]) == 0
    return tmp_path / "burn"


def _sorted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)


class _Stale:
    """The archive as compare sees it when the rollup cannot answer: every row from turns."""

    def __init__(self, archive: Archive) -> None:
        self.db, self.path, self._archive = archive.db, archive.path, archive

    def state(self) -> dict[str, str]:
        return {**self._archive.state(), "rollup": "stale"}


def _at(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_incremental_rows_equal_a_fresh_aggregation(home: Path) -> None:
    archive = Archive.in_home(home, readonly=True)
    stored = _sorted(archive.db.execute(f"SELECT {activity_rollup.COLUMNS} FROM activity_hours").fetchall())
    assert stored == _sorted(archive.db.execute(activity_rollup.rows_sql()).fetchall())
    names = ("model", "category", "turns", "output", "tool_results", "tool_errors", "timed_turns")
    got = [(g.model, g.category, g.turns, g.tokens["output"], g.tool_results, g.tool_errors, g.timed_turns)
           for g in compare(archive, Filters())]  # fmt: skip
    assert [dict(zip(names, g, strict=True)) for g in got] == [
        {"model": "claude-opus-4-6", "category": "git", "turns": 1, "output": 20, "tool_results": 1,
         "tool_errors": 0, "timed_turns": 1},
        {"model": "claude-sonnet-4-5-20250929", "category": "coding", "turns": 1, "output": 100,
         "tool_results": 1, "tool_errors": 1, "timed_turns": 1},
        {"model": "claude-sonnet-4-5-20250929", "category": "conversation", "turns": 1, "output": 70,
         "tool_results": 0, "tool_errors": 0, "timed_turns": 1},
        {"model": "claude-sonnet-4-5-20250929", "category": "testing", "turns": 1, "output": 40,
         "tool_results": 2, "tool_errors": 1, "timed_turns": 1},
    ]  # fmt: skip
    # m1 was prompted at 10:20:00 and answered at 10:20:30.
    assert next(g for g in compare(archive, Filters()) if g.category == "coding").median_duration_ms == 30_000
    archive.close()


WINDOWS = [
    {},
    {"since_ms": _at("2026-03-01T10:30:00+00:00")},  # mid-hour: the rest of hour 10 from turns
    {"until_ms": _at("2026-03-01T11:10:00+00:00")},
    {"since_ms": _at("2026-03-01T10:30:00+00:00"), "until_ms": _at("2026-03-01T11:10:00+00:00")},
    {
        "since_ms": _at("2026-03-01T10:30:00+00:00"),
        "until_ms": _at("2026-03-01T10:50:00+00:00"),
    },  # in an hour
    {"since_ms": _at("2026-03-01T11:00:00+00:00")},  # on an hour
    {"sources": ("claude-code",)},
    {"models": (OPUS,)},
]


@pytest.mark.parametrize("window", WINDOWS)
def test_rollup_and_turns_agree(home: Path, window: dict[str, Any]) -> None:
    archive = Archive.in_home(home, readonly=True)
    filters = Filters(**window)
    from_rollup: list[Group] = compare(archive, filters)
    assert from_rollup == compare(_Stale(archive), filters)  # type: ignore[arg-type]
    if "models" not in window:  # every turn in the window is in a group, once
        (n,) = archive.db.execute("SELECT COUNT(*) FROM turns WHERE ts_ms >= ? AND ts_ms < ?",
                                  (window.get("since_ms", 0), window.get("until_ms", 2**62))).fetchone()  # fmt: skip
        assert sum(g.turns for g in from_rollup) == n > 0
    key = archive.db.execute("SELECT project_key FROM sessions WHERE project_key IS NOT NULL").fetchone()
    if key is not None:
        by_project = Filters(**window, projects=(key[0],))
        assert compare(archive, by_project) == compare(_Stale(archive), by_project)  # type: ignore[arg-type]
    archive.close()


def test_compare_reads_no_turn_but_its_window_edges(home: Path) -> None:
    archive = Archive.in_home(home, readonly=True)
    statements: list[str] = []
    archive.db.set_trace_callback(statements.append)
    compare(archive, Filters(since_ms=_at("2026-03-01T10:30:00+00:00")))  # 3 timed groups
    archive.db.set_trace_callback(None)
    plans = [
        " | ".join(row[3] for row in archive.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        for sql in statements
        if sql.lstrip().upper().startswith("SELECT")
    ]
    archive.close()
    assert plans and not [p for p in plans if re.search(r"\bSCAN (t|turns)\b", p)], plans
    assert any("SCAN activity_hours" in p or "SEARCH activity_hours" in p for p in plans)
    medians = [p for p in plans if "turns_by_activity" in p]
    assert len(medians) == 3 and all("SEARCH t USING COVERING INDEX turns_by_activity" in p for p in medians)
