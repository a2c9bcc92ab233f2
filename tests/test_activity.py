"""Activity categories (docs/archive.md): one fixture per rule, ties, and the archive end to end on
the shared samples and the benchmark corpus generator's output."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from burn.archive.activity import CATEGORIES, PRECEDENCE, categorize, dominant, of_calls

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"

RULES: list[tuple[str, str | None, str]] = [
    ("Task", "general-purpose", "delegation"),
    ("spawn_agent", "explorer", "delegation"),
    ("task", "general", "delegation"),
    ("TodoWrite", None, "planning"),
    ("update_plan", None, "planning"),
    ("Edit", "/repo/docs/guide.txt", "docs"),
    ("Write", "/repo/README.md", "docs"),
    ("apply_patch", "/repo/tests/test_x.py", "testing"),
    ("Edit", "/repo/src/app.test.ts", "testing"),
    ("Edit", "/repo/src/app.py", "coding"),
    ("apply_patch", None, "coding"),
    ("Read", "/repo/src/app.py", "reading"),
    ("Grep", "def main", "reading"),
    ("WebFetch", "example.com", "reading"),
    ("Bash", "git", "git"),
    ("shell", "gh", "git"),
    ("Bash", "pytest", "testing"),
    ("bash", "/usr/bin/jest", "testing"),
    ("Bash", "gdb", "debugging"),
    ("shell", "journalctl", "debugging"),
    ("Bash", "rg", "reading"),
    ("Bash", "make", "coding"),
    ("Bash", None, "other"),
    ("mcp__github__create_issue", None, "other"),
]


@pytest.mark.parametrize(("name", "target", "expected"), RULES)
def test_each_rule(name: str, target: str | None, expected: str) -> None:
    assert categorize(name, target) == expected


def test_every_category_has_a_rule_or_is_the_fallback() -> None:
    assert {e for _, _, e in RULES} | {"conversation"} == set(CATEGORIES)
    assert set(PRECEDENCE) == set(CATEGORIES)


def test_most_calls_win_and_ties_follow_the_precedence() -> None:
    assert of_calls([]) == "conversation"
    assert of_calls(["reading", "reading", "coding"]) == "reading"
    assert of_calls(["reading", "coding"]) == "coding"  # a tie: coding precedes reading
    assert of_calls(["git", "testing"]) == "testing"
    assert dominant({}) is None


def _ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **dirs: Path) -> sqlite3.Connection:
    from burn.cli.app import main

    home = tmp_path / "home"
    monkeypatch.setenv("RELAYBURN_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "OPENCODE_DATA_DIR"):
        monkeypatch.setenv(var, str(dirs.get(var, tmp_path / "none")))
    assert main(["ingest", "--quiet"]) == 0
    return sqlite3.connect(home / "archive.sqlite")


def _check(db: sqlite3.Connection) -> dict[str, int]:
    """Every session with a tool call has a category; every turn has one; calls are indexed."""
    unlabeled = db.execute(
        """SELECT COUNT(*) FROM session_rollup WHERE tool_calls > 0 AND activity IS NULL"""
    ).fetchone()[0]
    assert unlabeled == 0
    assert (
        db.execute("SELECT COUNT(*) FROM turns WHERE activity IS NULL OR turn_index IS NULL").fetchone()[0]
        == 0
    )
    assert db.execute("SELECT COUNT(*) FROM tool_calls WHERE call_index IS NULL").fetchone()[0] == 0
    assert (
        db.execute(
            "SELECT COUNT(*) FROM tool_result_events WHERE event_index IS NULL OR event_source IS NULL"
        ).fetchone()[0]
        == 0
    )
    # Turn indexes are 0..n-1 in every session.
    for n, hi, distinct in db.execute(
        "SELECT COUNT(*), MAX(turn_index), COUNT(DISTINCT turn_index) FROM turns GROUP BY source, session_id"
    ):
        assert hi == n - 1 and distinct == n
    return dict(db.execute("SELECT activity, COUNT(*) FROM session_rollup WHERE tool_calls > 0 GROUP BY 1"))


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not available")
def test_samples_every_session_with_a_tool_call_is_categorized(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _ingest(tmp_path, monkeypatch, CLAUDE_CONFIG_DIR=SAMPLES / "claude" / "spotter_v2.1.39",
                 CODEX_HOME=SAMPLES / "codex" / "daaain_claude-code-log",
                 OPENCODE_DATA_DIR=SAMPLES / "opencode" / "cass_current_layout")  # fmt: skip
    dist = _check(db)
    assert sum(dist.values()) > 0
    # The real Claude Code 2.1.39 session (its classification is null: that version writes no
    # entrypoint) still gets an activity category.
    row = db.execute(
        "SELECT activity, classification FROM session_rollup WHERE session_id = '258c7280-ae70-4798-800f-63464d01a85d'"
    ).fetchone()
    assert row[0] is not None and row[0] != "conversation"


def test_generated_corpus_every_session_with_a_tool_call_is_categorized(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import gen_corpus

    out = tmp_path / "corpus"
    gen_corpus.generate(out, 400_000, seed=3, jobs=1)
    db = _ingest(tmp_path, monkeypatch, CLAUDE_CONFIG_DIR=out / "claude", CODEX_HOME=out / "codex",
                 OPENCODE_DATA_DIR=out / "opencode")  # fmt: skip
    dist = _check(db)
    assert sum(dist.values()) > 0
