"""``burn compare`` on a hand-computed corpus: two models that split activity categories in known
ways (issue 18). Every expected number below is worked out by hand from the lines written."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from burn.cli.app import main
from burn.contract import schemas
from tests.claude_lines import CWD, assistant, claude_only_env, write_session

SONNET = "claude-sonnet-4-5-20250929"
OPUS = "claude-opus-4-1-20250805"
S1, S2, S3 = (f"{c * 8}-1111-4111-8111-111111111111" for c in "abc")


def _tool(mid: str, tool_id: str, name: str, target: str) -> list[dict[str, Any]]:
    key = "file_path"
    return [{"type": "tool_use", "id": tool_id, "name": name, "input": {key: target}}]


def _result(session: str, uuid: str, tool_id: str, ts: str, error: bool) -> dict[str, Any]:
    return {
        "parentUuid": None, "isSidechain": False, "cwd": CWD, "sessionId": session, "version": "2.1.39",
        "type": "user", "uuid": uuid, "timestamp": ts,
        "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": tool_id, "is_error": error, "content": "x"}]},
    }  # fmt: skip


def corpus(config: Path) -> None:
    """Sonnet: two coding turns (one tool error in two results) and one conversation turn in
    session a; Opus: three reading turns over sessions b and c, every tool result ok."""
    write_session(config, [
        assistant("m1", 100, session=S1, ts="2026-03-01T10:00:00.000Z", model=SONNET, input_tokens=10,
                  cache_read=1000, cache_1h=200, content=_tool("m1", "toolu_1", "Edit", "/repo/src/app.py")),
        _result(S1, "r1", "toolu_1", "2026-03-01T10:00:01.000Z", False),
        assistant("m2", 300, session=S1, ts="2026-03-01T10:01:00.000Z", model=SONNET, input_tokens=30,
                  cache_read=3000, cache_1h=0, content=_tool("m2", "toolu_2", "Edit", "/repo/src/app.py")),
        _result(S1, "r2", "toolu_2", "2026-03-01T10:01:01.000Z", True),
        assistant("m3", 50, session=S1, ts="2026-03-01T10:02:00.000Z", model=SONNET, input_tokens=5,
                  cache_read=0, cache_1h=0),
    ], session=S1)  # fmt: skip
    for session, turns in ((S2, [("m4", 10, 1), ("m5", 20, 2)]), (S3, [("m6", 30, 3)])):
        lines = []
        for i, (mid, out, inp) in enumerate(turns):
            tool = f"toolu_{mid}"
            lines.append(assistant(mid, out, session=session, ts=f"2026-03-02T10:0{i}:00.000Z", model=OPUS,
                                   input_tokens=inp, cache_read=0, cache_1h=0,
                                   content=_tool(mid, tool, "Read", "/repo/src/app.py")))  # fmt: skip
            lines.append(_result(session, f"r-{mid}", tool, f"2026-03-02T10:0{i}:01.000Z", False))
        write_session(config, lines, session=session)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "claude"
    corpus(config)
    home = claude_only_env(tmp_path, monkeypatch, config)
    assert main(["ingest", "--quiet"]) == 0
    return home


def _doc(capfdbinary: pytest.CaptureFixture[bytes], *argv: str) -> dict[str, Any]:
    capfdbinary.readouterr()
    assert main(["compare", "--json", "--timezone", "UTC", *argv]) == 0
    data = capfdbinary.readouterr().out
    surface, _, problems = schemas.validate_bytes(data)
    assert (surface, problems) == ("compare", [])
    doc: dict[str, Any] = orjson.loads(data)
    return doc


def _costs(home: Path) -> dict[tuple[str, str], int]:
    db = sqlite3.connect(home / "archive.sqlite")
    return {(m, a): c for m, a, c in db.execute(
        "SELECT model, activity, SUM(cost_usd_micros) FROM turns GROUP BY 1, 2")}  # fmt: skip


def test_two_models_split_categories_as_written(
    home: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    doc = _doc(capfdbinary)
    rows = {(r["model"], r["category"]): r for r in doc["rows"]}
    assert list(rows) == [(OPUS, "reading"), (SONNET, "coding"), (SONNET, "conversation")]
    coding = rows[(SONNET, "coding")]
    assert (coding["turns"], coding["sessions"], coding["small_sample"]) == (2, 1, True)
    assert coding["tokens"] == {"input": 40, "output": 400, "cache_read": 4000, "cache_write": 200}
    assert coding["per_turn"] == {"input": 20, "output": 200, "cache_read": 2000, "cache_write": 100}
    assert coding["cache_hit_ratio"] == 0.9434  # 4000 / (40 + 4000 + 200)
    assert (coding["tool_results"], coding["tool_errors"], coding["tool_error_rate"]) == (2, 1, 0.5)
    # m2 answers the tool result written at 10:00:01 by 10:01:00 (docs/accounting.md, Timing); m1 has
    # no prompting line before it, so it is untimed and left out of the median, not counted as 0.
    assert (coding["timed_turns"], coding["median_duration_ms"]) == (1, 59000)
    reading = rows[(OPUS, "reading")]
    assert (reading["turns"], reading["sessions"]) == (3, 2)
    assert reading["tokens"] == {"input": 6, "output": 60, "cache_read": 0, "cache_write": 0}
    assert reading["per_turn"]["output"] == 20
    assert reading["cache_hit_ratio"] == 0.0
    assert (reading["tool_results"], reading["tool_errors"], reading["tool_error_rate"]) == (3, 0, 0.0)
    talk = rows[(SONNET, "conversation")]
    assert (talk["tool_results"], talk["tool_error_rate"]) == (0, None)
    costs = _costs(home)
    for (model, cat), row in rows.items():
        total = costs[(model, cat)]
        assert row["cost"]["total_usd_micros"] == total
        turns, sessions = row["turns"], row["sessions"]
        assert row["cost"]["per_turn_usd_micros"] == (2 * total + turns) // (2 * turns)  # half up
        assert row["cost"]["per_session_usd_micros"] == (2 * total + sessions) // (2 * sessions)
    assert doc["min_turns"] == 20 and doc["small_samples"] == 3
    assert doc["meta"]["contract"] == "burn.compare"


def test_min_turns_marks_and_never_hides(home: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    doc = _doc(capfdbinary, "--min-turns", "2")
    marked = {(r["model"], r["category"]): r["small_sample"] for r in doc["rows"]}
    assert marked == {(OPUS, "reading"): False, (SONNET, "coding"): False, (SONNET, "conversation"): True}


def test_models_filter(home: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    doc = _doc(capfdbinary, "--models", f"{OPUS},nonexistent")
    assert [r["model"] for r in doc["rows"]] == [OPUS]
    assert doc["meta"]["filters"]["models"] == sorted([OPUS, "nonexistent"])
    doc = _doc(capfdbinary, "--since", "2026-03-02")
    assert [r["model"] for r in doc["rows"]] == [OPUS]


def test_median_duration_where_turns_are_timed(home: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    # Durations set by hand on the archive's turns.duration_ms, and the rollups marked stale so the
    # next build recomputes them from the edited turns: compare reports the lower-middle median
    # over the timed turns only, read from turns (stale rollup) and after the build alike.
    db = sqlite3.connect(home / "archive.sqlite")
    for mid, ms in (("m1", 100), ("m2", 300), ("m3", None), ("m4", 9), ("m5", 5), ("m6", 7)):
        db.execute("UPDATE turns SET duration_ms = ? WHERE message_id = ?", (ms, mid))
    db.execute("UPDATE archive_state SET value = 'stale' WHERE key = 'rollup'")
    db.commit()
    db.close()
    from_turns = _doc(capfdbinary)["rows"]
    assert main(["archive", "build"]) == 0
    rows = {(r["model"], r["category"]): r for r in _doc(capfdbinary)["rows"]}
    assert list(rows.values()) == from_turns
    assert (rows[(SONNET, "coding")]["median_duration_ms"], rows[(SONNET, "coding")]["timed_turns"]) == (
        100,
        2,
    )
    assert rows[(OPUS, "reading")]["median_duration_ms"] == 7
    assert (
        rows[(SONNET, "conversation")]["median_duration_ms"],
        rows[(SONNET, "conversation")]["timed_turns"],
    ) == (None, 0)


def test_table(home: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    capfdbinary.readouterr()
    assert main(["compare", "--timezone", "UTC", "--no-color"]) == 0
    text = capfdbinary.readouterr().out.decode()
    assert "reading *" in text and "50.0%" in text and "fewer than 20 turns" in text
