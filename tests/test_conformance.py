"""Conformance on the shared public samples, through the whole stack (reader → ledger → archive →
summary), against the "max (recommended)" column of FORMATS.md §1.9. Skips when ../shared is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize
from burn.query.timewindow import resolve_timezone

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "claude"

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not available")


def _ingest_tree(tmp_path: Path, config_dir: Path) -> dict[str, object]:
    env = {
        "HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(config_dir),
        "RELAYBURN_HOME": str(tmp_path / "burn"),
        "BURN_STRICT_PLUGINS": "1",
    }
    home = Path(env["RELAYBURN_HOME"])
    ingest(home, Plugins(env=env), env)
    archive = Archive.in_home(home, readonly=True)
    try:
        tz, name = resolve_timezone("UTC")
        return summarize(archive, Filters(tz=tz, timezone=name))["totals"]
    finally:
        archive.close()


def _single_file_tree(tmp_path: Path, sample: Path) -> Path:
    root = tmp_path / "claude"
    project = root / "projects" / "-sample"
    project.mkdir(parents=True)
    shutil.copy(sample, project / sample.name)
    return root


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("vct_claude_code_v1.0.95_streaming.jsonl", (158, 3_860, 99_004, 1_093_509)),
        ("spotter_v2.1.38/subagent.jsonl", (1_600, 1_593, 40_127, 522_629)),
        ("daaain_claude-code-log/sidechain_integrated.jsonl", (9, 738, 164_054, 141_272)),
    ],
)
def test_single_file_samples(tmp_path: Path, sample: str, expected: tuple[int, int, int, int]) -> None:
    t = _ingest_tree(tmp_path, _single_file_tree(tmp_path, SAMPLES / sample))
    assert (t["input"], t["output"], t["cache_write"], t["cache_read"]) == expected


def test_spotter_session_with_subagents_and_progress_copies(tmp_path: Path) -> None:
    t = _ingest_tree(tmp_path, SAMPLES / "spotter_v2.1.39")
    assert (t["input"], t["output"], t["cache_write"], t["cache_read"]) == (198, 38_908, 394_137, 14_972_534)
    assert t["turns"] == 156


def test_every_sample_at_once_ingests_cleanly_and_idempotently(tmp_path: Path) -> None:
    """All Claude samples in one config dir (CLAUDE_CONFIG_DIR may point at a projects/ dir too)."""
    root = tmp_path / "all" / "projects"
    for i, f in enumerate(sorted(SAMPLES.rglob("*.jsonl"))):
        if "projects" not in f.parts:
            dest = root / f"-flat-{i}" / f.name
            dest.parent.mkdir(parents=True)
            shutil.copy(f, dest)
    shutil.copytree(SAMPLES / "spotter_v2.1.39" / "projects", root, dirs_exist_ok=True)
    first = _ingest_tree(tmp_path, root)
    second = _ingest_tree(tmp_path, root)
    assert first == second
    assert first["output"] >= 38_908 + 3_860 + 1_593 + 738
