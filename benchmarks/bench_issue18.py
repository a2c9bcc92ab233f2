"""Time ``burn compare``, ``burn plans`` and ``burn mcp`` (issue 18) on an ingested burn home and
print the figures as JSON. Not a test.

    python benchmarks/bench_issue18.py --home /tmp/burn-bench/home-1GB --work W [--runs 9]
        [--outputs benchmarks/results/issue18-outputs.md]

HOME is never written: it is copied to ``W/home`` (an archive of another schema version is rebuilt
there first: ``rebuild_s``), and a ``plans.toml`` with a Claude Max subscription, a ChatGPT Pro
subscription and an API budget is written into the copy. ``at`` is the archive's last turn: the
plans, and the MCP tools that read the clock (``today``, ``active_block``, ``usage``, ``compare``),
are evaluated there, so every window holds data. Figures, each the median and the fastest of
``--runs``:

* ``query_ms`` — the query functions alone, in-process, on one open archive: ``compare`` (with the
  meta block's ``model_facts``) over the whole archive and over the 30 days before ``at`` (a
  window that starts mid-hour: its partial hour is read from turns), and ``plans`` (every plan's
  row at ``at``);
* ``mcp_ms`` — each MCP tool function as the server runs it (open the archive read-only, query,
  close), the tools' clock at ``at``;
* ``mcp_stdio_ms`` — each tool through the MCP SDK's client over stdio against one spawned
  ``burn mcp`` (the round trip, JSON included; the server's clock is the real one, so windows are
  given explicitly); skipped without the SDK;
* ``command_ms`` — whole commands, a fresh process each (``runner.base_env``: empty ``HOME``,
  ``TZ=UTC``): ``burn compare`` (table and ``--json``), ``burn plans --at`` (table and
  ``--json``), ``burn plans check --at``.

``--outputs FILE`` writes the three commands' outputs (tables, trimmed) as Markdown, with
``burn compare --models`` of the two busiest models in full.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_analytics import _timed
from runner import base_env, make_empty

PLANS = """\
# benchmarks/bench_issue18.py: two subscriptions and an API budget
[[plan]]
name = "Claude Max"
kind = "subscription"
price_usd = 200
budget_usd = 400  # a soft cap: warn when the usage heads past twice the price at API rates
reset_day = 15
timezone = "Europe/Berlin"
sources = ["claude-code"]

[[plan]]
name = "ChatGPT Pro"
kind = "subscription"
price_usd = 200
reset_day = 31
timezone = "America/New_York"
sources = ["codex"]

[[plan]]
name = "API budget"
kind = "budget"
budget_usd = 750
reset_day = 1
timezone = "UTC"
sources = ["opencode"]
"""


def _load() -> str:
    """The 1, 5 and 15-minute load averages (Linux)."""
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def _burn(argv: list[str], env: Mapping[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "burn.cli.app", *argv], env=dict(env), capture_output=True,
                          text=True, check=False)  # fmt: skip
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        raise SystemExit(f"burn {' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed * 1000, proc.stdout


def _commands(env: Mapping[str, str], at: str, runs: int) -> tuple[dict[str, Any], dict[str, str]]:
    argvs = {
        "compare": ["compare", "--no-color"],
        "compare --json": ["compare", "--json"],
        "plans --at": ["plans", "--no-color", "--at", at],
        "plans --json --at": ["plans", "--json", "--at", at],
        "plans check --at": ["plans", "check", "--at", at],
    }
    figures, outputs = {}, {}
    for name, argv in argvs.items():
        times = []
        for _ in range(runs):
            ms, out = _burn(argv, env, ok=(0, 1) if "check" in argv else (0,))
            times.append(ms)
        figures[name] = {"median": round(statistics.median(times), 1), "min": round(min(times), 1)}
        outputs[name] = out
    return figures, outputs


def _stdio(env: Mapping[str, str], at: datetime, session: str, runs: int) -> dict[str, Any] | None:
    try:
        import anyio
        from mcp import ClientSession
        from mcp.client.stdio import StdioServerParameters, stdio_client
    except ImportError:
        return None
    since = (at - timedelta(days=30)).isoformat()
    calls: dict[str, tuple[str, dict[str, Any]]] = {
        "today": ("today", {}),
        "session_cost": ("session_cost", {"session_id": session}),
        "usage by day, 7 days": ("usage", {"by": "day", "since": (at - timedelta(days=7)).isoformat()}),
        "usage by project, all": ("usage", {"by": "project", "since": None}),
        "active_block": ("active_block", {}),
        "plans": ("plans", {}),
        "compare, 30 days": ("compare", {"since": since}),
        "compare, all": ("compare", {"since": None}),
    }
    out: dict[str, Any] = {}

    async def go() -> None:
        argv = ["-m", "burn.cli.app", "mcp"]
        params = StdioServerParameters(command=sys.executable, args=argv, env=dict(env))
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for label, (tool, args) in calls.items():
                times = []
                for _ in range(runs):
                    started = time.perf_counter()
                    result = await session.call_tool(tool, args)
                    times.append((time.perf_counter() - started) * 1000)
                    if result.is_error:
                        raise SystemExit(f"mcp {tool}: {result.content}")
                out[label] = {"median": round(statistics.median(times), 1), "min": round(min(times), 1)}

    anyio.run(go)
    return out


def db_models(home: Path) -> list[tuple[str]]:
    """The two models with the most turns."""
    import sqlite3

    db = sqlite3.connect(f"file:{home / 'archive.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT model FROM turns GROUP BY model ORDER BY COUNT(*) DESC LIMIT 2").fetchall()
    finally:
        db.close()


def _trim(text: str, lines: int = 24) -> str:
    rows = text.rstrip("\n").splitlines()
    if len(rows) <= lines:
        return "\n".join(rows)
    return "\n".join([*rows[: lines - 4], f"… ({len(rows) - lines + 1} more lines)", *rows[-3:]])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--home", type=Path, required=True, help="an ingested burn home (read only)")
    p.add_argument("--work", type=Path, required=True, help="scratch directory (emptied)")
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--outputs", type=Path, help="write the commands' outputs here (Markdown)")
    args = p.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    home, empty = args.work / "home", args.work / "empty"
    shutil.copytree(args.home, home)
    (home / "plans.toml").write_text(PLANS)
    make_empty(empty)
    env = {**base_env(empty), "RELAYBURN_HOME": str(home)}
    os.environ.update({"RELAYBURN_HOME": str(home), "TZ": "UTC"})

    from burn import sqlite
    from burn.archive.database import Archive, SchemaMismatch
    from burn.cli import mcp
    from burn.query import Filters
    from burn.query.compare import compare, model_facts
    from burn.query.plans import load, statuses

    out: dict[str, Any] = {"home": str(args.home), "runs": args.runs, "load_before": _load()}
    try:
        Archive.in_home(home, readonly=True).close()
    except SchemaMismatch:
        out["rebuild_s"] = round(_burn(["archive", "rebuild"], env)[0] / 1000, 2)
    archive = Archive.in_home(home, readonly=True)
    db = archive.db
    last_ms, turns = db.execute("SELECT MAX(ts_ms), COUNT(*) FROM turns").fetchone()
    at = datetime.fromtimestamp(last_ms / 1000, UTC)
    busiest = "SELECT session_id FROM session_rollup ORDER BY assistant_turns DESC LIMIT 1"
    (session,) = db.execute(busiest).fetchone()
    (rows,) = db.execute("SELECT COUNT(*) FROM activity_hours").fetchone()
    out["archive"] = {"turns": turns, "activity_hours_rows": rows, "at": at.isoformat()}
    every = Filters()
    month = Filters(since_ms=int((at - timedelta(days=30)).timestamp() * 1000))
    plans = load(home)

    def compared(f: Filters) -> Callable[[], object]:
        def run() -> object:
            with sqlite.snapshot(db):
                groups = compare(archive, f)
                return groups, model_facts(archive, f, groups)

        return run

    def planned() -> object:
        with sqlite.snapshot(db):
            return statuses(archive, plans, at)

    out["query_ms"] = {
        "compare, all": _timed(compared(every), args.runs),
        "compare, 30 days": _timed(compared(month), args.runs),
        "plans (3)": _timed(planned, args.runs),
    }
    archive.close()
    mcp.now = lambda: at  # type: ignore[assignment]  # the tools' clock at the corpus's last turn
    tools: dict[str, Callable[[], object]] = {
        "today": mcp.today,
        "session_cost": lambda: mcp.session_cost(session),
        "usage by day, 7 days": lambda: mcp.usage("day", "7d"),
        "usage by model, 7 days": lambda: mcp.usage("model", "7d"),
        "usage by project, all": lambda: mcp.usage("project", None),
        "usage by day, all": lambda: mcp.usage("day", None),
        "active_block": mcp.active_block,
        "plans": mcp.plans,
        "compare, 30 days": lambda: mcp.compare("30d"),
        "compare, all": lambda: mcp.compare(None),
    }
    out["mcp_ms"] = {name: _timed(call, args.runs) for name, call in tools.items()}
    out["mcp_stdio_ms"] = _stdio(env, at, session, args.runs)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    out["command_ms"], outputs = _commands(env, stamp, args.runs)
    out["load_after"] = _load()
    two = [m for (m,) in db_models(home)]
    outputs["compare --models"] = _burn(["compare", "--no-color", "--models", ",".join(two)], env)[1]
    print(json.dumps(out, indent=2))
    if args.outputs is not None:
        parts = [f"# Issue 18: the commands on the benchmark corpus\n\n`{args.home}` ({turns:,} turns), "
                 f"written by `benchmarks/bench_issue18.py`; plans evaluated `--at {stamp}` (the last "
                 "turn), with this plans.toml:\n\n```toml\n" + PLANS + "```\n"]  # fmt: skip
        shown = {
            "compare": "burn compare",
            "compare --models": f"burn compare --models {','.join(two)}",
            "plans --at": f"burn plans --at {stamp}",
            "plans check --at": f"burn plans check --at {stamp}",
        }
        for name, argv in shown.items():
            text = outputs[name] if name == "compare --models" else _trim(outputs[name], 30)
            parts.append(f"## `{argv}`\n\n```\n{text.rstrip() or '(no output: exit 0)'}\n```\n")
        args.outputs.write_text("\n".join(parts))


if __name__ == "__main__":
    main()
