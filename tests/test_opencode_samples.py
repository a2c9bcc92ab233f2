"""Conformance on the shared OpenCode samples, through the whole stack (entry points → reader →
ledger → archive → summary), against FORMATS.md §3.7. Skips when ../shared is absent.

The samples are read in place (OPENCODE_DATA_DIR points at them), never copied into the repo.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "opencode"

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not available")


class Run:
    def __init__(self, tmp_path: Path, data_dirs: list[Path]) -> None:
        for d in ("home", "claude", "codex", "burn"):
            (tmp_path / d).mkdir(exist_ok=True)
        self.home = tmp_path / "burn"
        self.env = {
            "HOME": str(tmp_path / "home"),
            "OPENCODE_DATA_DIR": ",".join(str(d) for d in data_dirs),
            "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"),
            "CODEX_HOME": str(tmp_path / "codex"),
            "RELAYBURN_HOME": str(self.home),
            "BURN_STRICT_PLUGINS": "1",
        }

    def ingest(self) -> dict[str, Any]:
        return ingest(self.home, Plugins(env=self.env), self.env).totals()

    def summary(self) -> dict[str, Any]:
        archive = Archive.in_home(self.home, readonly=True)
        try:
            return summarize(archive, Filters.for_zone("UTC"))
        finally:
            archive.close()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        archive = Archive.in_home(self.home, readonly=True)
        try:
            return list(archive.db.execute(sql))
        finally:
            archive.close()


def _tokens(t: dict[str, Any]) -> tuple[Any, ...]:
    return (t["input"], t["output"], t["cache_write"], t["cache_read"])


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def test_toktrack(tmp_path: Path) -> None:
    run = Run(tmp_path, [SAMPLES / "toktrack"])
    report = run.ingest()
    s = run.summary()
    t = s["totals"]
    assert _tokens(t) == (3_000, 1_300, 150, 300)
    assert t["total"] == 4_750 and t["turns"] == 2 and t["sessions"] == 1
    assert [d["day"] for d in s["by_day"]] == ["2025-02-04"]
    assert report["duplicates_dropped"].get("no_usage") == 1  # msg_003_no_tokens ignored
    rows = run.rows("SELECT message_id, session_id, reported_cost_usd, model, provider FROM turns")
    assert sorted(rows) == [
        ("msg_001", "ses_test", "0.05", "claude-sonnet-4-20250514", "anthropic"),
        ("msg_002", "ses_test", "0.12", "claude-sonnet-4-20250514", "anthropic"),
    ]


def test_tokscale(tmp_path: Path) -> None:
    run = Run(tmp_path, [SAMPLES / "tokscale"])
    run.ingest()
    t = run.summary()["totals"]
    assert _tokens(t) == (1_000, 500, 100, 200) and t["turns"] == 1
    assert run.rows("SELECT session_id, reported_cost_usd, ts FROM turns") == [
        ("ses_test001", None, "2024-12-01T00:00:00.000Z")  # no cost field: nothing reported
    ]


def test_cass_current_layout_has_no_usage(tmp_path: Path) -> None:
    run = Run(tmp_path, [SAMPLES / "cass_current_layout"])
    report = run.ingest()
    assert run.summary()["totals"]["turns"] == 0
    assert report["invalid_skipped"] == {}
    assert run.rows("SELECT session_id, cwd, title FROM sessions") == [
        ("ses_test1", "/tmp/test-project", "OpenCode JSON Session")
    ]
    # The reply names no prompt (no parentID): the user turn's wall time is unknown, not 0.
    assert run.rows("SELECT user_uuid, block_count, wall_ms FROM user_turns") == [("msg_test1", 1, None)]


def test_cass_legacy_layout_is_readable(tmp_path: Path) -> None:
    run = Run(tmp_path, [SAMPLES / "cass_legacy_layout_v0"])
    report = run.ingest()
    assert report["invalid_skipped"] == {}
    assert report["files_seen"] == 3 and report["lines_read"] == 5  # 3 documents + 2 parts
    assert run.summary()["totals"]["turns"] == 0
    assert run.rows("SELECT session_id, cwd, title FROM sessions") == [
        ("ses_test001", "/tmp/test-project", "OpenCode Test Session")
    ]
    # The reply names no prompt (no parentID): the user turn's wall time is unknown, not 0.
    assert run.rows("SELECT user_uuid, block_count, wall_ms FROM user_turns") == [("msg_001", 1, None)]


def test_all_samples_at_once_idempotent_and_untouched(tmp_path: Path) -> None:
    before = _tree_digest(SAMPLES)
    dirs = sorted(p for p in SAMPLES.iterdir() if p.is_dir())
    run = Run(tmp_path, dirs)
    first = run.ingest()
    t = run.summary()["totals"]
    assert _tokens(t) == (4_000, 1_800, 250, 500) and t["turns"] == 3
    second = run.ingest()
    assert (second["files_changed"], second["lines_read"], second["records_appended"]) == (0, 0, 0)
    assert run.summary()["totals"] == t
    assert first["files_seen"] == second["files_seen"] == 10
    assert _tree_digest(SAMPLES) == before
