"""The demo data set in examples/ is reproducible and burn counts it exactly."""

from __future__ import annotations

import hashlib
import json
import runpy
import shutil
from pathlib import Path

from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize

DEMO_SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "make_claude_demo.py"
DEMO = DEMO_SCRIPT.parent / "claude-demo"


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def test_demo_is_reproducible_from_its_script(tmp_path: Path) -> None:
    committed = _tree_hash(DEMO)
    copy = tmp_path / "examples"
    copy.mkdir()
    shutil.copy(DEMO_SCRIPT, copy / DEMO_SCRIPT.name)
    runpy.run_path(str(copy / DEMO_SCRIPT.name), run_name="__main__")
    assert _tree_hash(copy / "claude-demo") == committed


def _recount(root: Path) -> dict[str, int]:
    """Independent count: one response per (message.id, requestId), max output, no <synthetic>."""
    best: dict[tuple[str, str], dict[str, int]] = {}
    for f in root.rglob("*.jsonl"):
        for raw in f.read_text().splitlines():
            line = json.loads(raw)
            if line.get("type") == "progress":
                line = line["data"]["message"]
            msg = line.get("message") or {}
            if line.get("type") != "assistant" or msg.get("model") == "<synthetic>":
                continue
            u = msg["usage"]
            key = (msg["id"], line["requestId"])
            if key not in best or u["output_tokens"] > best[key]["output"]:
                best[key] = {
                    "input": u["input_tokens"],
                    "output": u["output_tokens"],
                    "cache_read": u["cache_read_input_tokens"],
                    "cache_write": u["cache_creation_input_tokens"],
                }
    return {k: sum(v[k] for v in best.values()) for k in ("input", "output", "cache_read", "cache_write")} | {
        "turns": len(best)
    }


def test_demo_totals_match_an_independent_recount(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(DEMO), "RELAYBURN_HOME": str(tmp_path / "burn")}
    ingest(tmp_path / "burn", Plugins(env=env), env)
    archive = Archive.in_home(tmp_path / "burn", readonly=True)
    totals = summarize(archive, Filters.for_zone("UTC"))["totals"]
    archive.close()
    expected = _recount(DEMO)
    assert {k: totals[k] for k in expected} == expected
    assert totals["sessions"] == 6  # 3 main sessions, a resume, a subagent, a compaction call
