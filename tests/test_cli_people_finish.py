"""The rest of issue 16: ingest's one-line summary and its counts, the no-agent-directory
warning, report defaults, store copy progress, export --parquet, blocks --json — real CLI runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from burn.cli.app import main
from burn.text.money import usd
from tests.contract_fixture import FIXTURE, env_for


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)

    def run(env: dict[str, str], *argv: str, code: int = 0) -> tuple[str, str]:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        assert main(list(argv)) == code
        out = capsys.readouterr()
        return out.out, out.err

    return run


def test_ingest_ends_with_turns_sessions_and_cost_that_match_summary(cli: Any, tmp_path: Path) -> None:
    env = env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex")
    first, _ = cli(env, "ingest")
    summary = json.loads(cli(env, "summary", "--json")[0])["totals"]
    # Before: ingest printed records and ledger entries only ("records appended …"), never turns.
    assert first == f"ingested {summary['turns']:,} turns in {summary['sessions']:,} sessions · $0.90\n"
    assert cli(env, "ingest")[0] == "nothing new to ingest (8 files checked)\n"
    verbose, _ = cli(env, "ingest", "-v")
    assert usd(summary["cost_usd_micros"]) == "$0.90"
    assert "records appended" in verbose and verbose.endswith("nothing new to ingest (8 files checked)\n")


def test_ingest_json_counts_line_up(cli: Any, tmp_path: Path) -> None:
    env = env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex")
    doc = json.loads(cli(env, "ingest", "--json")[0])
    totals, added = doc["totals"], doc["ingested"]
    summary = json.loads(cli(env, "summary", "--json")[0])["totals"]
    assert added["turns"] == summary["turns"] == totals["appended_by_kind"]["turn"]
    assert added["sessions"] == summary["sessions"]
    assert added["cost_usd_micros"] == summary["cost_usd_micros"]
    # Records are every kind of ledger entry; turns are one kind of them (150 records, 28 turns).
    assert totals["records_appended"] == sum(totals["appended_by_kind"].values()) > added["turns"]


def test_ingest_warns_when_no_agent_directory_exists(cli: Any, tmp_path: Path) -> None:
    env = env_for(tmp_path)
    out, err = cli(env, "ingest")
    assert out == "nothing new to ingest (0 files checked)\n"
    assert "burn: warning: no agent data directory found" in err
    assert f"claude-code: looked in {tmp_path / 'none' / 'CLAUDE_CONFIG_DIR'}" in err
    assert "(set CLAUDE_CONFIG_DIR if the data lives elsewhere)" in err
    assert "(set CODEX_HOME if the data lives elsewhere)" in err
    # One source present is normal: no warning.
    _, err = cli(env_for(tmp_path / "b", FIXTURE / "claude"), "ingest")
    assert "no agent data directory" not in err


def test_report_defaults_daily_all_time_activity_last_7_days_said_in_the_table(
    cli: Any, tmp_path: Path
) -> None:
    from burn.text.reports import View, render

    env = env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex")
    cli(env, "ingest", "-q")
    daily, _ = cli(env, "daily", "-z", "UTC")  # no window: all time (the fixture is in March 2026)
    assert "2026-03-02" in daily
    argv = ("report", "activity", "-z", "UTC", "--since", "2026-03-02", "--until", "2026-03-02")
    doc = json.loads(cli(env, *argv, "--json")[0])
    assert "the last 7 days (the default" in render(doc, View(default_window=True))
    # Before: the footer never said which window activity chose by itself.
    assert "the default" not in cli(env, *argv)[0]


def test_store_copy_draws_the_same_progress_bar_as_ingest(tmp_path: Path) -> None:
    import io

    from burn.plugins.manager import Plugins
    from burn.plugins.stores import close, copy_ledger, open_store, open_store_url
    from burn.text.render import copy_progress, progress_printer
    from tests.contract_fixture import run_ingest

    env = env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex")
    run_ingest(env)
    home, plugins = Path(env["RELAYBURN_HOME"]), Plugins(env=env)
    source = open_store(home, env, plugins)
    target = open_store_url(f"sqlite:///{tmp_path / 'copy.sqlite'}", home, env, plugins)
    out = io.StringIO()
    try:
        result = copy_ledger(source, target, copy_progress(out))
    finally:
        close(target)
        close(source)
    last = out.getvalue().split("\r\x1b[K")[-1]
    # Before: "copying [#####…] 100% N entries", a bar of its own without throughput or ETA.
    assert last == f"copying {'█' * 20} 100% {result.entries:,} entries"
    ingest_bar = io.StringIO()
    progress_printer(ingest_bar)("claude-code", 3, 3, 2_000_000)
    assert ingest_bar.getvalue() == f"\r\x1b[Kclaude-code {'█' * 20} 100% 3/3 files, 2.0 MB"


def test_statusline_block_and_day_match_the_query_layer(tmp_path: Path) -> None:
    import sqlite3
    from datetime import UTC, datetime

    from burn.cli.statusline import _active_block
    from burn.query import Filters
    from burn.query.blocks import blocks
    from tests.contract_fixture import build_fixture

    home = build_fixture(tmp_path)
    db = sqlite3.connect(home / "archive.sqlite")
    try:
        times = [t for (t,) in db.execute("SELECT ts_ms FROM turns ORDER BY ts_ms")]
        checked = 0
        for now_ms in {t + 60_000 for t in times}:  # a minute after every turn: inside its block
            from burn.archive.database import Archive

            archive = Archive.in_home(home, readonly=True)
            try:
                recent = Filters.for_zone("UTC", since_ms=now_ms - 10 * 3_600_000)
                active = [b for b in blocks(archive, recent) if b.active(now_ms)]
            finally:
                archive.close()
            fast = _active_block(db, now_ms)
            assert (fast is None) == (not active)
            if active:
                b = active[-1]
                assert fast == (b.start_ms, b.first_ms, b.last_ms, b.cost_micros)
                checked += 1
        assert checked == len({t + 60_000 for t in times})
    finally:
        db.close()
    assert datetime.fromtimestamp(times[0] / 1000, UTC).year == 2026


def test_statusline_loads_no_parser_attrs_or_query_layer(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import io, sys; from burn.entry import main; sys.stdin = io.TextIOWrapper(io.BytesIO(b'{}')); "
        "main(['statusline']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('argparse', 'attr', 'attrs', "
        "'orjson') or m.startswith(('burn.query', 'burn.archive.database', 'burn.plugins.manager'))))"
    )
    env = {"RELAYBURN_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    # Before: statusline went through the argparse tree, attrs and the query layer (the slow start).
    assert out.stdout.splitlines() == ["burn: no archive yet (run `burn ingest`)", "[]"]


def test_blocks_json_has_the_documented_shape(cli: Any, tmp_path: Path) -> None:
    env = env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex")
    cli(env, "ingest", "-q")
    doc = json.loads(cli(env, "blocks", "-z", "UTC", "--json")[0])
    assert set(doc) == {"timezone", "token_limit", "blocks"} and doc["blocks"]
    keys = {"start", "end", "first_activity", "last_activity", "active", "turns", "tokens"}
    for b in doc["blocks"]:
        assert set(b) == keys | {"cost_usd_micros", "models"}  # docs/cli.md "Blocks"
