"""The timing and agents panels equal the same figures worked out in Python from the archive's
turns (one query each now, docs/performance.md "Analytics dashboard"), and project labels are looked
up once per state of the archive, not on every panel request."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from burn.analytics import document
from burn.analytics.document import PANELS, panel
from burn.analytics.engine import open_engine
from burn.analytics.queries import EDGES_MS, TPS_EDGES
from burn.archive.database import Archive
from burn.contract.profile import Renderer
from burn.privacy.identity import local_secret
from tests.contract_fixture import FIXTURE, env_for, run_ingest
from tests.test_analytics import base

pytest.importorskip("duckdb")

__all__ = ["base"]  # the fixture, shared with tests/test_analytics.py

FILTERS = [{}, {"source": ["codex"]}, {"source": ["claude-code"]}, {"since": "2026-03-05"}]
_TURNS = """SELECT t.duration_ms, t.latency_ms, t.output, t.cost_usd_micros, t.input, s.agent_type,
  COALESCE(s.relationship, 'root') = 'root' FROM turns t
  LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id"""


def _rows(archive: Archive, options: dict[str, Any]) -> list[tuple[Any, ...]]:
    terms, params = [], []
    if options.get("source"):
        terms.append("t.source = ?")
        params.append(options["source"][0])
    if options.get("since"):
        terms.append("t.ts >= ?")
        params.append(options["since"])
    where = f" WHERE {' AND '.join(terms)}" if terms else ""
    return archive.db.execute(_TURNS + where, params).fetchall()


def _panel_and_turns(home: Path, name: str, options: dict[str, Any]) -> tuple[Any, list[tuple[Any, ...]]]:
    """A panel's data and the archive's turns under the same filters."""
    engine, archive = open_engine(home), Archive.in_home(home, readonly=True)
    try:
        return panel(name, engine, archive, home, {"timezone": "UTC", **options})["data"], _rows(
            archive, options
        )
    finally:
        engine.close()
        archive.close()


def _nearest_rank(values: list[Any], q: str) -> Any:
    """The smallest value with at least a fraction ``q`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[math.ceil(Fraction(q) * len(ordered)) - 1] if ordered else None


def _measure(values: list[Any], edges: tuple[int, ...], show: Any) -> dict[str, Any]:
    def bin_of(v: Any) -> int:
        return max([0] + [i for i, e in enumerate(edges) if v >= e])

    return {
        "count": len(values),
        **{name: show(_nearest_rank(values, q)) for name, q in (("p50", "0.5"), ("p90", "0.9"), ("p99", "0.99"))},
        "histogram": [
            {"from": e, "to": edges[i + 1] if i + 1 < len(edges) else None,
             "count": sum(1 for v in values if bin_of(v) == i)}
            for i, e in enumerate(edges)
        ],
    }  # fmt: skip


def _tenth(v: float | None) -> str | None:
    return None if v is None else str(Decimal(str(v)).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


@pytest.mark.parametrize("options", FILTERS)
def test_timing_panel_equals_the_turns(base: Path, options: dict[str, Any]) -> None:
    got, rows = _panel_and_turns(base / "burn", "timing", options)
    durations = [r[0] for r in rows if r[0] is not None]
    latencies = [r[1] for r in rows if r[1] is not None]
    rates = [r[2] * 1000.0 / r[0] for r in rows if r[0] is not None and r[0] > 0 and r[2] is not None]
    assert durations and ((latencies and rates) or options), "the fixture has timed turns"
    assert got == {
        "available": True,
        "duration_ms": _measure(durations, EDGES_MS, lambda v: v),
        "latency_ms": _measure(latencies, EDGES_MS, lambda v: v),
        "output_tokens_per_s": _measure(rates, TPS_EDGES, _tenth),
    }


@pytest.mark.parametrize("options", FILTERS)
def test_agents_panel_equals_the_turns(base: Path, options: dict[str, Any]) -> None:
    got, rows = _panel_and_turns(base / "burn", "agents", options)

    def sums(selected: list[tuple[Any, ...]]) -> tuple[int, int | None, int | None]:
        costs = [r[3] for r in selected if r[3] is not None]
        inputs = [r[4] for r in selected if r[4] is not None]
        return len(selected), sum(costs) if costs else None, sum(inputs) if inputs else None

    def shown(usage: dict[str, Any] | None) -> tuple[int, int | None, int | None] | None:
        return None if usage is None else (usage["turns"], usage["cost_usd_micros"], usage["tokens"]["input"])

    kinds = {r[5] or ("main" if r[6] else "subagent") for r in rows}
    want = {k: sums([r for r in rows if (r[5] or ("main" if r[6] else "subagent")) == k]) for k in kinds}
    assert {a["agent_type"]: shown(a) for a in got["by_agent_type"]} == want
    roots, subs = [r for r in rows if r[6]], [r for r in rows if not r[6]]
    assert shown(got["root"]) == (sums(roots) if roots else None)
    assert shown(got["subagent"]) == (sums(subs) if subs else None)
    assert subs or options, "the fixture has subagent turns"


def test_project_labels_are_looked_up_once_per_archive_state(tmp_path: Path) -> None:
    env = env_for(tmp_path, None, FIXTURE / "codex")  # the claude sessions arrive later
    run_ingest(env)
    home = Path(env["RELAYBURN_HOME"])
    engine, archive = open_engine(home), Archive.in_home(home, readonly=True)
    try:
        first = panel("page", engine, archive, home, {"timezone": "UTC"})
        cache = document._IDENTITIES[str(archive.path)]
        looked_up = cache.lookups
        assert looked_up == len(first["data"]["choices"]["projects"]) > 0
        for name in PANELS:
            for identity in ("shareable", "full", "anonymous"):
                panel(name, engine, archive, home, {"timezone": "UTC", "identity": identity})
        assert cache.lookups == looked_up  # every later request was answered from the cache

        run_ingest(env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex"))  # the archive moves on
        doc = panel("page", engine, archive, home, {"timezone": "UTC"})
        assert len(doc["data"]["choices"]["projects"]) > len(first["data"]["choices"]["projects"])
        assert cache.lookups == looked_up + len(doc["data"]["choices"]["projects"])  # all again
        # What the cache gave is what a lookup of its own gives.
        render = Renderer("shareable", local_secret(home), "host")
        assert doc["meta"]["projects"] == render.projects(archive.db, list(doc["meta"]["projects"]))
    finally:
        engine.close()
        archive.close()
