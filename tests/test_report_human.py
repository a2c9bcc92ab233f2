"""`burn report …` prints a table by default, rendered from the same document `--json` prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from burn.text.money import usd

DEMO = Path(__file__).resolve().parents[1] / "examples" / "claude-demo"


def _burn(env: dict[str, str], *args: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "burn.cli.app", *args], env=env, check=True, capture_output=True, text=True
    )
    return res.stdout


def test_report_tables_match_the_json(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": str(DEMO),
        "RELAYBURN_HOME": str(tmp_path / "burn"),
        "TZ": "UTC",
    }
    _burn(env, "ingest", "--quiet")
    doc = orjson.loads(_burn(env, "report", "daily", "--json"))
    text = _burn(env, "report", "daily")
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["day", "turns", "sessions"]
    days = [line.split()[0] for line in lines[2:] if line[:1].isdigit()]
    assert days == [r["key"] for r in doc["rows"]]
    total = next(line for line in lines if line.startswith("total")).split()
    assert int(total[1].replace(",", "")) == doc["totals"]["turns"]
    assert total[-1] == usd(doc["totals"]["cost"]["total_usd_micros"])  # the one exact formatter
    activity = _burn(env, "report", "activity", "--since", "2026-03-01", "--until", "2026-03-08")
    assert activity.splitlines()[0].split()[:3] == ["bucket", "agent", "min"]
