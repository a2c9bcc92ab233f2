"""Conformance of the Codex CLI reader on the shared public samples (FORMATS.md §2.8), end to end.

Each sample is copied into a temporary ``CODEX_HOME`` layout and run through the real stack
(plugins from entry points → ``burn ingest`` → ledger → archive → ``summarize``), and the ``codex``
row of ``by_source`` is compared with the "recommended" column in burn's meaning: ``input``
without cached tokens, ``cache_read`` = cached, ``output`` with reasoning inside, ``reasoning``.
Skips when ../shared is absent.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from burn.archive.database import Archive
from burn.ingest.run import IngestReport, ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "codex"
DAAAIN = SAMPLES / "daaain_claude-code-log" / "sessions"
PARENT = "22222222-2222-4222-8222-222222222222"
CHILD = "33333333-3333-4333-8333-333333333333"
LEGACY = "44444444-4444-4444-8444-444444444444"

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not available")


def _ingest(tmp_path: Path, codex_home: Path) -> tuple[IngestReport, dict[str, Any], Path]:
    empty = tmp_path / "empty"
    (empty / "claude").mkdir(parents=True, exist_ok=True)
    (empty / "opencode").mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(tmp_path / "home"),
        "CODEX_HOME": str(codex_home),
        "CLAUDE_CONFIG_DIR": str(empty / "claude"),
        "OPENCODE_DATA_DIR": str(empty / "opencode"),
        "RELAYBURN_HOME": str(tmp_path / "burn"),
        "BURN_STRICT_PLUGINS": "1",
    }
    home = Path(env["RELAYBURN_HOME"])
    report = ingest(home, Plugins(env=env), env)
    archive = Archive.in_home(home, readonly=True)
    try:
        rows = summarize(archive, Filters.for_zone("UTC"))["by_source"]
    finally:
        archive.close()
    return report, next((r for r in rows if r["source"] == "codex"), {}), home


def _single(tmp_path: Path, sample: str, name: str) -> Path:
    """A Codex home holding one sample as a dated rollout."""
    root = tmp_path / "codex"
    dest = root / "sessions" / "2026" / "01" / "01" / name
    dest.parent.mkdir(parents=True)
    shutil.copy(SAMPLES / sample, dest)
    return root


def _rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(home / "archive.sqlite")
    try:
        return list(db.execute(sql))
    finally:
        db.close()


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        # (input non-cached, cache_read, output, reasoning, turns)
        ("vct_codex_v0.39.0_vscode.jsonl", (133_698, 136_832, 12_551, 9_536, 19)),
        ("ccusage_fixtures/sessions/project-alpha/session-alpha.jsonl", (2_750, 750, 425, 275, 2)),
        ("toktrack_sample-session.jsonl", (400, 100, 200, 0, 2)),
        ("vct_codex_session_rate_limits.jsonl", (200, 0, 0, 0, 2)),
    ],
)
def test_sample_totals(tmp_path: Path, sample: str, expected: tuple[int, ...]) -> None:
    report, row, _ = _ingest(tmp_path, _single(tmp_path, sample, "rollout-" + Path(sample).name))
    assert (row["input"], row["cache_read"], row["output"], row["reasoning"], row["turns"]) == expected
    # OpenAI has no cache writes: known zeros, not unknowns
    assert (row["cache_write_5m"], row["cache_write_1h"]) == (0, 0)
    assert set(row["unknown"]) == {"web_search_requests"}
    assert report.totals()["records_read"] > 0


def test_vct_total_tokens_match_ccusage(tmp_path: Path) -> None:
    _, row, home = _ingest(tmp_path, _single(tmp_path, "vct_codex_v0.39.0_vscode.jsonl", "rollout-vct.jsonl"))
    assert row["input"] + row["cache_read"] + row["output"] == 283_081
    # 0.39 wrote no model_provider: unknown
    assert _rows(home, "SELECT DISTINCT model, provider FROM turns") == [("aide-gpt-5", None)]
    assert _rows(home, "SELECT git_remote, git_branch, classification FROM sessions") == [
        ("github.com/Mai0313/claude-code", "main", "interactive")
    ]


def test_ccusage_fixture_models_come_from_the_events(tmp_path: Path) -> None:
    root = _single(
        tmp_path, "ccusage_fixtures/sessions/project-alpha/session-alpha.jsonl", "session-alpha.jsonl"
    )
    _, _, home = _ingest(tmp_path, root)
    assert _rows(home, "SELECT model, input, cache_read, output, reasoning FROM turns ORDER BY ts") == [
        ("gpt-5.2-codex", 750, 250, 125, 75),
        ("gpt-5.3-codex", 2_000, 500, 300, 200),
    ]


def test_toktrack_counts_its_bad_lines(tmp_path: Path) -> None:
    report, _, home = _ingest(tmp_path, _single(tmp_path, "toktrack_sample-session.jsonl", "rollout-t.jsonl"))
    t = report.totals()
    assert t["invalid_skipped"] == {"invalid_json": 1}
    assert t["duplicates_dropped"].get("rate_limit_only") == 1
    assert _rows(home, "SELECT model FROM turns ORDER BY ts") == [("o4-mini",), ("gpt-4.1",)]


def test_daaain_tree_lineage_legacy_and_no_replayed_usage(tmp_path: Path) -> None:
    root = tmp_path / "codex"
    shutil.copytree(DAAAIN, root / "sessions")
    report, row, home = _ingest(tmp_path, root)
    assert row == {} or row["turns"] == 0  # no sample here has usage; the child replays none
    assert report.totals()["files_seen"] == 4
    assert not report.totals()["invalid_skipped"]
    sessions = {
        r[0]: r[1:]
        for r in _rows(
            home, "SELECT session_id, relationship, parent_session_id, classification FROM sessions"
        )
    }
    assert sessions[CHILD] == ("subagent", PARENT, "interactive")
    assert sessions[PARENT] == ("root", None, "interactive")
    assert sessions[LEGACY] == ("root", None, None)  # legacy: no originator, no usage
    assert _rows(home, f"SELECT COUNT(*) FROM turns WHERE session_id = '{LEGACY}'") == [(0,)]
    fidelity = _rows(home, "SELECT session_id, usage_fidelity FROM sessions WHERE usage_fidelity IS NOT NULL")
    assert fidelity == [(LEGACY, "none")]  # usage unknown, never zeros
    # the child's replayed prompt and spawn call stay the parent's; its own prompt is its own
    users = _rows(home, "SELECT session_id, COUNT(*) FROM user_turns GROUP BY session_id ORDER BY session_id")
    assert users == [("11111111-1111-4111-8111-111111111111", 1), (PARENT, 1), (CHILD, 1), (LEGACY, 1)]
    calls = _rows(home, "SELECT session_id, name FROM tool_calls WHERE name = 'spawn_agent'")
    assert calls == [(PARENT, "spawn_agent")]
    link = _rows(
        home, "SELECT subagent_session_id FROM tool_result_events WHERE tool_use_id = 'call-spawn-001'"
    )
    assert link == [(CHILD,)]
    tools = _rows(home, "SELECT name, target FROM tool_calls WHERE session_id LIKE '1111%' ORDER BY ts")
    assert tools == [("exec_command", "find"), ("apply_patch", "gamma.txt"), ("mcp__synthetic__lookup", None)]


def test_every_sample_at_once_ingests_idempotently(tmp_path: Path) -> None:
    root = tmp_path / "codex"
    shutil.copytree(DAAAIN, root / "sessions")
    flat = [f for f in SAMPLES.rglob("*.jsonl") if DAAAIN not in f.parents]
    for i, f in enumerate(sorted(flat)):
        shutil.copy(f, root / "sessions" / f"rollout-{i}-{f.name}")
    shutil.copy(SAMPLES / "vct_codex_v0.39.0_vscode.jsonl", root / "archived_sessions.jsonl")  # not a unit
    (root / "archived_sessions").mkdir()
    shutil.copy(SAMPLES / "vct_codex_v0.39.0_vscode.jsonl", root / "archived_sessions" / "rollout-vct.jsonl")
    first, row, _ = _ingest(tmp_path, root)
    # the archived vct copy is the same rollout: counted once
    assert (row["input"], row["cache_read"], row["output"], row["reasoning"]) == (
        133_698 + 2_750 + 400 + 200,
        136_832 + 750 + 100,
        12_551 + 425 + 200,
        9_536 + 275,
    )
    second, again, _ = _ingest(tmp_path, root)
    assert again == row
    assert second.totals()["lines_read"] == 0 and second.totals()["records_appended"] == 0
    assert first.totals()["files_seen"] == 9
