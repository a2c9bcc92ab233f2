"""The command line for people (issue 16): one parser tree, shortcuts, tables that fit, exact money,
ccusage habits, blocks, statusline, empty-window messages — real CLI runs on the contract fixture."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from burn.cli.app import main
from burn.query import Filters
from burn.query.blocks import blocks
from burn.text.money import usd
from burn.text.render import table
from burn.text.term import cell_width, truncate, use_color
from tests.contract_fixture import build_fixture, env_for


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("people"))


@pytest.fixture
def burn(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("RELAYBURN_HOME", str(home))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)

    def run(*argv: str, code: int = 0) -> str:
        assert main(list(argv)) == code, capsys.readouterr().err
        return capsys.readouterr().out

    return run


def test_version_and_help_of_every_command(burn: Any) -> None:
    assert burn("--version") == burn("-V") != ""
    out = burn("export", "--help")
    assert "sessions" in out and "One row per session" in out  # the exporter's description
    for cmd in ("ingest", "summary", "daily", "session", "blocks", "statusline", "doctor", "plugins"):
        text = burn(cmd, "--help")
        assert "--" in text
    assert "--json" in burn("summary", "--help") and "print JSON" in burn("summary", "--help")


def test_schema_list_json(burn: Any) -> None:
    listed = json.loads(burn("schema", "list", "--json"))
    assert {s["name"] for s in listed} >= {"sessions", "usage", "activity"}


def test_ccusage_habits_and_shortcuts_equal_the_report(burn: Any) -> None:
    report = burn("report", "daily", "--timezone", "UTC", "--since", "2026-03-01")
    assert burn("daily", "-z", "UTC", "-s", "20260301") == report
    rows = [line.split()[0] for line in report.splitlines()[2:] if line[:1].isdigit()]
    last = burn("daily", "-z", "UTC", "--last", "2", "--order", "desc")
    assert [line.split()[0] for line in last.splitlines()[2:] if line[:1].isdigit()] == rows[-2:][::-1]
    short, full = (
        json.loads(burn(*argv, "-z", "UTC", "--json")) for argv in (["daily"], ["report", "daily"])
    )
    for doc in (short, full):  # the second may tick over between the two runs
        doc["meta"].pop("generated_at")
    assert short == full


def test_a_preset_grouping_is_not_silently_replaced(burn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "daily", "--by", "session"]) == 2
    assert "--by cannot change `burn report daily`" in capsys.readouterr().err


def test_tables_show_project_labels_not_keys(burn: Any) -> None:
    text = burn("report", "usage", "--by", "project", "-z", "UTC")
    assert "acme-api" in text and "sha256:" not in text
    assert "cost: computed = tokens × the pricing table's rates" in text


def test_breakdown_lists_models_under_each_period(burn: Any) -> None:
    text = burn("daily", "-z", "UTC", "--breakdown")
    assert "└ claude-sonnet-4-5-20250929" in text


def test_session_table_folds_subagents_and_flat_lists_them(burn: Any) -> None:
    doc = json.loads(burn("export", "sessions", "--all", "-z", "UTC"))
    roots = [r for r in doc["rows"] if not r["parent_session_id"]]
    folded = burn("session", "-z", "UTC")
    body = [line for line in folded.splitlines()[2:] if line[:1].isdigit()]
    assert len(body) == len(roots)
    assert sum(int(line.split()[-1].strip("$").replace(".", "")) for line in body) >= 0
    flat = burn("session", "-z", "UTC", "--flat")
    assert len([line for line in flat.splitlines()[2:] if line[:1].isdigit()]) == len(doc["rows"])
    want = {usd(r["cost"]["including_children_usd_micros"]) for r in roots}
    assert {line.split()[-1] for line in body} == want


@pytest.mark.parametrize("columns", [60, 100, 160])
def test_tables_fit_the_terminal(burn: Any, monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    for argv in (("session", "-z", "UTC"), ("report", "usage", "--by", "model", "-z", "UTC")):
        text = burn(*argv)
        table_lines = [line for line in text.splitlines() if not line.startswith(("cost:", "(", "subagents"))]
        assert max(cell_width(line) for line in table_lines) <= max(columns, 84)  # numbers never cut


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color(Tty(), env={}) and not use_color(io.StringIO(), env={})
    assert not use_color(Tty(), env={"NO_COLOR": "1"}) and not use_color(Tty(), no_color=True, env={})
    assert "\x1b[1m" in table(["a"], [["x"]], color=True) and "\x1b" not in table(["a"], [["x"]])


def test_one_exact_money_formatter() -> None:
    assert usd(1_207_000) == "$1.21" and usd(1_140_300) == "$1.14" and usd(5_000) == "<$0.01"
    assert usd(125_000) == "$0.12" and usd(135_000) == "$0.14"  # half to even, from integers
    assert usd(10**15 + 5_000) == "$1,000,000,000.00" and usd(None) == "-" and usd(0) == "$0.00"


def test_wide_characters_are_measured_and_cut_with_an_ellipsis() -> None:
    assert cell_width("日本語") == 6 and cell_width("é") == 1
    cut = truncate("日本語のプロジェクト", 7)
    assert cut.endswith("…") and cell_width(cut) <= 7
    text = table(["project", "n"], [["日本語のプロジェクト-long-name", "1"]], max_width=14)
    assert max(cell_width(line) for line in text.splitlines()) <= 14


def test_empty_window_says_where_the_data_is(burn: Any) -> None:
    out = burn("daily", "-z", "UTC", "--since", "2026-04-01")
    assert out.startswith(
        "no usage between 2026-04-01 00:00 and now; latest activity 2026-03-07 (use --since "
    )


def test_csv_and_rows_only(burn: Any) -> None:
    lines = burn("daily", "-z", "UTC", "--format", "csv").splitlines()
    assert lines[0].startswith("type,by,key,") and "cost.total_usd_micros" in lines[0]
    rows = burn("export", "sessions", "--rows-only", "-z", "UTC").splitlines()
    assert rows and all(json.loads(r)["type"] == "session" for r in rows)


def test_completion_scripts_name_the_commands(burn: Any, tmp_path: Path) -> None:
    bash = burn("completion", "bash")
    assert "complete -F _burn burn" in bash and "blocks" in bash and "--rows-only" in bash
    assert "bashcompinit" in burn("completion", "zsh")
    assert "complete -c burn" in burn("completion", "fish")
    script = tmp_path / "c.bash"
    script.write_text(bash)
    probe = f'source {script}; COMP_WORDS=(burn report da); COMP_CWORD=2; _burn; echo "${{COMPREPLY[@]}}"'
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["daily"]


def test_schema_validate_streams_lines(burn: Any, tmp_path: Path) -> None:
    nd = tmp_path / "s.ndjson"
    nd.write_text(burn("export", "sessions", "--ndjson", "-z", "UTC"))
    assert burn("schema", "validate", str(nd)).startswith("valid: sessions (")


def test_json_paths_import_no_text_layer(home: Path, tmp_path: Path) -> None:
    env = {**env_for(tmp_path), "RELAYBURN_HOME": str(home)}
    probe = (
        "import sys, io; from burn.cli.app import main; sys.stdout = io.TextIOWrapper(io.BytesIO());"
        "main(['report', 'daily', '--json']);"
        "print([m for m in sys.modules if m == 'rich' or m.startswith('burn.text')], file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"


# -- blocks: hand-computed windows ----------------------------------------------------------------


class _View:
    def __init__(self, turns: list[tuple[str, int, int]]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.path = Path("/nonexistent/archive.sqlite")
        self.db.execute(
            "CREATE TABLE turns (source, session_id, ts_ms, model, input, output, cache_read, cache_write_5m,"
            " cache_write_1h, cost_usd_micros)"
        )
        self.db.execute("CREATE TABLE sessions (source, session_id, project_key)")
        from datetime import datetime

        for ts, tokens, cost in turns:
            ms = int(datetime.fromisoformat(ts).timestamp() * 1000)
            self.db.execute(
                "INSERT INTO turns VALUES ('claude', 's', ?, 'm', ?, 0, 0, 0, 0, ?)", (ms, tokens, cost)
            )

    def state(self) -> dict[str, str]:
        return {}


def _spans(view: _View) -> list[tuple[str, str, int, int | None]]:
    return [(str(b.as_json(0)["start"]), str(b.as_json(0)["end"]), b.tokens, b.cost_micros)
            for b in blocks(view, Filters())]  # fmt: skip


def test_blocks_match_hand_computed_windows() -> None:
    view = _View([
        ("2026-03-01T23:10:00+00:00", 100, 10),  # floored to 23:00: block 23:00-04:00 spans midnight
        ("2026-03-02T01:00:00+00:00", 100, 10),
        ("2026-03-02T03:59:00+00:00", 100, None),
        ("2026-03-02T04:05:00+00:00", 50, 5),  # at/after the block end: new block 04:00-09:00
        ("2026-03-02T10:00:00+00:00", 7, 1),  # 5h55m gap: new block 10:00-15:00
    ])  # fmt: skip
    assert _spans(view) == [
        ("2026-03-01T23:00:00Z", "2026-03-02T04:00:00Z", 300, 20),
        ("2026-03-02T04:00:00Z", "2026-03-02T09:00:00Z", 50, 5),
        ("2026-03-02T10:00:00Z", "2026-03-02T15:00:00Z", 7, 1),
    ]


def test_a_block_across_a_dst_change_is_five_real_hours() -> None:
    # Europe/Berlin springs forward at 2026-03-29 01:00 UTC: the block is 5 hours of UTC, 6 local.
    view = _View([("2026-03-29T00:30:00+00:00", 1, 1), ("2026-03-29T02:30:00+00:00", 1, 1)])
    assert _spans(view) == [("2026-03-29T00:00:00Z", "2026-03-29T05:00:00Z", 2, 2)]


def test_active_block_has_burn_rate_and_projection() -> None:
    from datetime import datetime

    view = _View([("2026-03-02T10:00:00+00:00", 600, 60_000), ("2026-03-02T11:00:00+00:00", 600, 60_000)])
    (b,) = blocks(view, Filters())
    now = int(datetime.fromisoformat("2026-03-02T12:00:00+00:00").timestamp() * 1000)
    j = b.as_json(now)
    assert j["active"] is True
    assert j["burn_rate"] == {"tokens_per_minute": 20, "cost_per_hour_usd_micros": 120_000}
    assert j["projection"] == {
        "tokens": 1200 + 20 * 180,
        "cost_usd_micros": 120_000 + 6_000_000 // 1000 * 60,
        "remaining_minutes": 180,
    }


def test_blocks_command_and_token_limit(burn: Any) -> None:
    doc = json.loads(burn("blocks", "-z", "UTC", "--json", "--token-limit", "max"))
    assert doc["blocks"] and doc["token_limit"] == max(b["tokens"] for b in doc["blocks"])
    assert sum(b["turns"] for b in doc["blocks"]) == 31  # every fixture turn in exactly one block
    assert "% limit" in burn("blocks", "-z", "UTC", "-t", "500000")
    assert burn("blocks", "--active") == "no active block (no turn in the last 5 hours)\n"


# -- statusline ---------------------------------------------------------------------------------


def test_statusline_reads_claude_codes_hook_json(burn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = json.loads(burn("export", "sessions", "--all", "-z", "UTC"))
    root = next(r for r in doc["rows"] if r["source"] == "claude-code" and r["counts"]["subagents"])
    hook = {  # the fields Claude Code documents for the statusLine command
        "hook_event_name": "Status", "session_id": root["session_id"],
        "transcript_path": "/nonexistent/t.jsonl", "cwd": "/tmp",
        "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
        "workspace": {"current_dir": "/tmp", "project_dir": "/tmp"},
        "version": "1.0.80", "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 0.01, "total_duration_ms": 45000},
    }  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(hook).encode())))
    line = burn("statusline")
    assert line.startswith("🔥 Opus · ") and line.count("\n") == 1
    assert f"{usd(root['cost']['including_children_usd_micros'])} session" in line
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"not json")))
    assert "session not ingested yet" in burn("statusline")  # bad input: a line, never a traceback


def test_progress_bar_shows_percentage_and_files() -> None:
    from burn.text.render import progress_printer

    out = io.StringIO()
    show = progress_printer(out)
    show("claude", 4, 4, 4_000_000)
    assert "100% 4/4 files, 4.0 MB" in out.getvalue() and "█" * 20 in out.getvalue()
