#!/usr/bin/env python3
"""One benchmark corpus for several agents: Claude Code, Codex CLI and OpenCode side by side.

    python benchmarks/gen_corpus.py --out DIR --size 1GB [--agents claude,codex,opencode]
                                    [--mix claude=60,codex=30,opencode=10] [--seed 1] [--jobs 2]
                                    [--density 1]

Each agent's generator (gen_claude.py, gen_codex.py, gen_opencode.py) writes its share of the size
into its own directory, in parallel processes; then ``DIR/expected.json`` merges their expected
totals::

    DIR/claude/      CLAUDE_CONFIG_DIR  (projects/…, its own expected.json)
    DIR/codex/       CODEX_HOME         (sessions/…, archived_sessions/…)
    DIR/opencode/    OPENCODE_DATA_DIR  (opencode.db, storage/…)
    DIR/expected.json

``expected.json`` has the totals in burn's meaning (``burn summary --json`` field names, cost in
integer micro-USD at the bundled rates) overall, per source, per UTC day and per source and day,
plus ``peer.ccusage``: the token totals ccusage 20.0.24 reports by its own rules (each generator
knows which of its responses those rules miss or count differently; docs/performance.md names them).
The output depends only on the seed, the size, the agents, the mix and the density.
``--density D`` divides every text length by D (same sessions and turns in fewer bytes): ``--density 32``
puts about 200 turns in each MB, like the dense real corpus of issue 19.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from gen_claude import parse_density, parse_size
from oracle import FIELDS, Totals, add_into, density_field, zero_totals

GENERATOR = "burn-bench-gen-corpus"
GENERATOR_VERSION = 1
AGENTS = ("claude", "codex", "opencode")
# The environment variable that points a reader (burn's and ccusage's) at each agent's directory.
ENV_VARS = {"claude": "CLAUDE_CONFIG_DIR", "codex": "CODEX_HOME", "opencode": "OPENCODE_DATA_DIR"}
DEFAULT_MIX = {"claude": 60, "codex": 30, "opencode": 10}
# The ``source`` each agent's turns carry in burn (``burn summary --json`` by_source rows).
BURN_SOURCES = {"claude": "claude-code", "codex": "codex", "opencode": "opencode"}

Json = dict[str, Any]


def _generate_one(agent: str, out: Path, size: int, seed: int, density: float = 1.0) -> Json:
    """Run one agent's generator (in a worker process: modules are imported there)."""
    if agent == "claude":
        import gen_claude

        return gen_claude.generate(out, size, seed, density=density)
    if agent == "codex":
        import gen_codex

        return gen_codex.generate(out, size, seed, density)
    import gen_opencode

    return gen_opencode.generate(out, size, seed, density)


def parse_mix(text: str) -> dict[str, int]:
    """``claude=60,codex=30`` → weights by agent (positive integers)."""
    mix: dict[str, int] = {}
    for item in text.split(","):
        name, _, weight = item.partition("=")
        name = name.strip()
        if name not in AGENTS or not weight.strip().isdigit() or int(weight) <= 0:
            raise argparse.ArgumentTypeError(f"not a mix entry: {item!r} (example: claude=60,codex=30)")
        mix[name] = int(weight)
    return mix


def shares(size: int, agents: list[str], mix: Mapping[str, int]) -> dict[str, int]:
    """Each agent's byte budget: ``size`` split by the mix weights of the chosen agents."""
    weights = {a: mix.get(a, DEFAULT_MIX[a]) for a in agents}
    total = sum(weights.values())
    return {a: max(1, size * w // total) for a, w in weights.items()}


def normalized(totals: Mapping[str, int]) -> Totals:
    """Totals with every oracle field (gen_claude has no ``reasoning``: Claude writes none)."""
    out = zero_totals()
    add_into(out, {k: v for k, v in totals.items() if k in out})
    return out


def peer_view(agent: str, expected: Mapping[str, Any]) -> dict[str, int]:
    """The token totals ccusage 20.0.24 should print for this agent, in its four fields."""
    peer = expected.get("peer", {})
    if agent == "claude":
        t = peer["ccusage_visible"]  # it skips pretty-spaced lines
    elif agent == "codex":
        missed = peer["ccusage_missed"]  # subagents' first responses taken for replayed history
        t = {k: v - missed.get(k, 0) for k, v in expected["totals"].items()}
    else:
        t = peer["ccusage_view"]  # the message's own (last step's) tokens, reasoning not in output
    view = {
        "input": t["input"],
        "output": t["output"],
        "cache_read": t["cache_read"],
        "cache_write": t.get("cache_write_5m", 0) + t.get("cache_write_1h", 0),
        "turns": t["turns"],
    }
    if agent == "codex":
        # Codex prices alike in both tools (no tiers reached, no reported costs): the rest of the
        # cost is what the missed responses cost, up to per-turn rounding.
        view["cost_usd_micros"] = t["cost_usd_micros"]
    return view


def merge(per_agent: Mapping[str, Json], seed: int, size: int, density: float = 1.0) -> Json:
    totals = zero_totals()
    by_day: dict[str, Totals] = {}
    by_source: dict[str, Totals] = {}
    by_source_day: dict[str, dict[str, Totals]] = {}
    for agent, e in per_agent.items():
        by_source[agent] = normalized(e["totals"])
        add_into(totals, by_source[agent])
        by_source_day[agent] = {d: normalized(v) for d, v in sorted(e["by_day"].items())}
        for day, values in by_source_day[agent].items():
            add_into(by_day.setdefault(day, zero_totals()), values)
    return {
        "generator": {"name": GENERATOR, "version": GENERATOR_VERSION},
        "seed": seed,
        **density_field(density),
        "agents": list(per_agent),
        "fields": list(FIELDS),
        "target_size_bytes": size,
        "size_bytes": sum(e["size_bytes"] for e in per_agent.values()),
        "files": sum(e["files"] for e in per_agent.values()),
        "env": {ENV_VARS[a]: a for a in per_agent},
        "totals": totals,
        "by_source": by_source,
        "by_day": dict(sorted(by_day.items())),
        "by_source_day": by_source_day,
        "peer": {"ccusage": {a: peer_view(a, e) for a, e in per_agent.items()}},
        "sources": {
            a: {k: e.get(k) for k in ("generator", "size_bytes", "files", "lines", "features")}
            for a, e in per_agent.items()
        },
    }


def generate(
    out: Path,
    size: int,
    seed: int = 1,
    agents: list[str] | None = None,
    mix: Mapping[str, int] | None = None,
    jobs: int = 2,
    log: Callable[[str], None] | None = None,
    density: float = 1.0,
) -> Json:
    """Write the corpus into ``out`` (which must not hold one) and return its expected.json."""
    agents = list(agents or AGENTS)
    budget = shares(size, agents, mix or DEFAULT_MIX)
    per_agent: dict[str, Json] = {}
    if jobs <= 1:  # in this process (tests): no worker start-up, same output
        for agent in agents:
            per_agent[agent] = _generate_one(agent, out / agent, budget[agent], seed, density)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(agents))) as pool:
            futures = {a: pool.submit(_generate_one, a, out / a, budget[a], seed, density) for a in agents}
            for agent in agents:  # in a fixed order, whichever finishes first
                per_agent[agent] = futures[agent].result()
    for agent, e in per_agent.items():
        if log:
            mb, turns = e["size_bytes"] / 1e6, e["totals"]["turns"]
            log(f"{agent}: {mb:,.1f} MB in {e['files']:,} files, {turns:,} turns")
    expected = merge(per_agent, seed, size, density)
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="directory to create the corpus in")
    ap.add_argument("--size", type=parse_size, required=True, help="total bytes, e.g. 10MB, 1GB, 2GB")
    ap.add_argument(
        "--agents", default=",".join(AGENTS), help="comma-separated subset of claude,codex,opencode"
    )
    ap.add_argument(
        "--mix",
        type=parse_mix,
        default=DEFAULT_MIX,
        help="size weights, default claude=60,codex=30,opencode=10",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--density",
        type=parse_density,
        default=1.0,
        help="divide text lengths by this factor: more, shorter turns per MB (32: about 200/MB)",
    )
    ap.add_argument("--jobs", type=int, default=2, help="generator processes (default 2)")
    ap.add_argument("--force", action="store_true", help="replace an existing corpus in --out")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    agents = [a.strip() for a in args.agents.split(",") if a.strip()]
    if not agents or any(a not in AGENTS for a in agents) or len(set(agents)) != len(agents):
        ap.error(f"--agents: a comma-separated subset of {','.join(AGENTS)}")
    out: Path = args.out
    if (out / "expected.json").exists() or any((out / a).exists() for a in AGENTS):
        if not args.force:
            ap.error(f"{out} already holds a corpus; pass --force to replace it")
        for a in AGENTS:
            shutil.rmtree(out / a, ignore_errors=True)
        (out / "expected.json").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"gen_corpus: {msg}", file=sys.stderr)

    started = time.perf_counter()
    expected = generate(out, args.size, args.seed, agents, args.mix, args.jobs, log, args.density)
    secs = time.perf_counter() - started
    mb = expected["size_bytes"] / 1e6
    log(f"wrote {mb:,.1f} MB in {expected['files']:,} files to {out} in {secs:.1f} s ({mb / secs:,.0f} MB/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
