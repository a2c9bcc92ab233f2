"""End-to-end costs of the shared Claude Code samples (ingest -> archive -> summary).

Each expected value is burn's own, derived by hand from the folded tokens and the bundled rates
(the derivations are in docs/pricing.md, "Samples"): the exact sum, and the total of per-turn costs
each rounded once. ccusage 20.0.24 ``claude daily --offline`` figures are quoted for comparison
only; every difference is explained by a named rule in docs/pricing.md. Skips without ../shared.
"""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from burn.cli.app import main
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins

CLAUDE = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "claude"
pytestmark = pytest.mark.skipif(not CLAUDE.is_dir(), reason="../shared/samples is not available")

RATES = {  # USD per MTok: input, output, cache read, cache write 5m, cache write 1h
    "claude-sonnet-4-20250514": ("3", "15", "0.3", "3.75", "6"),
    "claude-sonnet-4-5-20250929": ("3", "15", "0.3", "3.75", "6"),
    "claude-opus-4-6": ("5", "25", "0.5", "6.25", "10"),
    "claude-haiku-4-5-20251001": ("1", "5", "0.1", "1.25", "2"),
    "claude-opus-4-20250514": ("15", "75", "1.5", "18.75", "30"),
}


def _summary(
    sample: str, isolated_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    src = CLAUDE / sample
    projects = isolated_env["CLAUDE_CONFIG_DIR"] / "projects"
    if (src / "projects").is_dir():
        shutil.copytree(src / "projects", projects)
    elif src.is_dir():
        shutil.copytree(src, projects / "p")
    else:
        (projects / "p").mkdir(parents=True)
        shutil.copy(src, projects / "p")
    env = dict(os.environ)
    ingest(isolated_env["RELAYBURN_HOME"], Plugins(env=env), env)
    capsys.readouterr()
    assert main(["summary", "--json", "--timezone", "UTC"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _exact(row: dict[str, Any]) -> Decimal:
    """tokens x rates for one model row: the cost before any rounding."""
    r = [Decimal(x) for x in RATES[row["model"]]]
    tokens = [row[k] or 0 for k in ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")]
    return sum((t * x for t, x in zip(tokens, r, strict=True)), Decimal(0))


@pytest.mark.parametrize(
    ("sample", "expected", "ccusage_usd"),
    [
        # sonnet 4: 158 x 3 + 3,860 x 15 + 1,093,509 x 0.3 + 99,004 x 3.75 = 757,691.7
        (
            "vct_claude_code_v1.0.95_streaming.jsonl",
            {"claude-sonnet-4-20250514": ("757691.7", 757_692)},
            "0.7576917",
        ),
        # opus 4.6: 183 x 5 + 38,905 x 25 + 14,938,375 x 0.5 + 351,961 x 10 (all writes 1h) = 11,962,337.5
        # sonnet 4.5: 15 x 3 + 3 x 15 + 34,159 x 0.3 + 42,176 x 6 = 263,393.7
        (
            "spotter_v2.1.39",
            {
                "claude-opus-4-6": ("11962337.5", 11_962_348),
                "claude-sonnet-4-5-20250929": ("263393.7", 263_393),
            },
            "12.2257312",
        ),
        # opus 4.6 519,593 and haiku 4.5 38,163.3 (tokens in docs/pricing.md, "Samples")
        (
            "spotter_v2.1.38/subagent.jsonl",
            {"claude-opus-4-6": ("519593", 519_594), "claude-haiku-4-5-20251001": ("38163.3", 38_163)},
            "0.5577563",
        ),
        # sonnet 4.5: 9 x 3 + 738 x 15 + 141,272 x 0.3 + 164,054 x 3.75 = 668,681.1;
        # ccusage 20 reads nothing of this pretty-printed file (rule: line pre-filter)
        (
            "daaain_claude-code-log/sidechain_integrated.jsonl",
            {"claude-sonnet-4-5-20250929": ("668681.1", 668_681)},
            "0",
        ),
    ],
)
def test_sample_costs(
    sample: str,
    expected: dict[str, tuple[str, int]],
    ccusage_usd: str,
    isolated_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = _summary(sample, isolated_env, capsys)
    by_model = {r["model"]: r for r in data["by_model"] if r["cost_usd_micros"] is not None}
    assert {m: (_exact(r), r["cost_usd_micros"]) for m, r in by_model.items()} == {
        m: (Decimal(e), micros) for m, (e, micros) in expected.items()
    }
    total = sum(micros for _, micros in expected.values())
    assert (data["totals"]["cost_usd_micros"], data["totals"]["cost_source"]) == (total, "computed")
    # Per-turn rounding moves a total by at most half a micro-USD per turn from the exact sum.
    exact = sum((Decimal(e) for e, _ in expected.values()), Decimal(0))
    assert abs(total - exact) <= Decimal(data["totals"]["turns"]) / 2
    if ccusage_usd != "0":  # ccusage sums unrounded floats: the exact sum, up to float noise
        assert abs(exact - Decimal(ccusage_usd) * 1_000_000) < Decimal("0.01")


def test_reported_costs_are_kept_but_totals_use_computed(
    isolated_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # ccusage_fixtures: every line has costUSD (0.12 + 0.34 + 0.56 = $1.02, what ccusage's default
    # "auto" mode reports); burn prices the tokens and keeps the reports beside.
    data = _summary("ccusage_fixtures", isolated_env, capsys)
    t = data["totals"]
    # sonnet 4: 100 x 3 + 50 x 15 + 25 x 3.75 + 10 x 0.3 = 1,146.75 -> 1,147; 300 x 3 + 125 x 15 + 40 x 0.3 = 2,787
    # opus 4 (speed "fast", no published fast rates: standard, flagged fallback):
    # 200 x 15 + 75 x 75 + 50 x 18.75 + 20 x 1.5 = 9,592.5 -> 9,592 (half even)
    assert (t["cost_usd_micros"], t["reported_usd_micros"], t["cost_source"]) == (
        13_526,
        1_020_000,
        "computed",
    )
    assert data["pricing"]["fallback"] == {"used": True, "models": ["claude-opus-4-20250514"]}


def test_toktrack_sample_mixes_reported_and_unreported_lines(
    isolated_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data = _summary("toktrack_claude-sample.jsonl", isolated_env, capsys)
    by_model = {r["model"]: r for r in data["by_model"]}
    # opus 4: 500 x 15 + 200 x 75 = 22,500 computed; its costUSD 0.025 kept as reported
    opus = by_model["claude-opus-4-20250514"]
    assert (opus["cost_usd_micros"], opus["reported_usd_micros"]) == (22_500, 25_000)
    # sonnet 4: (100 x 3 + 50 x 15 + 10 x 3.75 + 20 x 0.3 = 1,093.5 -> 1,094) + (150 x 3 + 75 x 15 = 1,575)
    assert by_model["claude-sonnet-4-20250514"]["cost_usd_micros"] == 2_669
