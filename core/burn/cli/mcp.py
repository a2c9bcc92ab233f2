"""``burn mcp``: a read-only Model Context Protocol server over stdio (needs ``burn[mcp]``).

Tools answer from the archive as it is (never ingest): today's cost, a session's cost, usage by
day, model or project (``burn summary``'s query), the active 5-hour block, plan status and the
model comparison. Each tool opens the archive read-only for the one query and closes it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from burn.errors import UsageError


def register(sub: Any, parents: Any) -> None:
    p = sub.add_parser(
        "mcp", help="a read-only MCP server over stdio for agents (needs burn[mcp]; docs/mcp.md)"
    )
    p.set_defaults(func=cmd_mcp)


def now() -> datetime:
    """The tools' clock (``benchmarks/bench_issue18.py`` sets it to a corpus's last turn)."""
    return datetime.now(UTC)


def _read(fn: Callable[[Any], Any]) -> Any:
    from burn.archive.database import Archive
    from burn.paths import burn_home

    archive = Archive.in_home(burn_home(), readonly=True)
    try:
        return fn(archive)
    finally:
        archive.close()


def usage(
    by: str = "day", since: str | None = "7d", timezone: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """Tokens and cost by day, model, source or project (``burn summary``): the totals and at most
    ``limit`` rows — the latest days, or the largest models, sources or projects by tokens."""
    from burn.query import Filters
    from burn.query.summary import summarize

    if by not in ("day", "model", "source", "project"):
        raise UsageError("by must be day, model, source or project")
    if limit < 1:
        raise UsageError("limit must be at least 1")
    filters = Filters.from_options({"since": since, "timezone": timezone}, now=now())
    data: dict[str, Any] = _read(lambda a: summarize(a, filters, (by,), pricing=False))
    found = data[f"by_{by}"]
    # An agent's context is the scarce thing: a year of days or a thousand projects is trimmed.
    kept = found[-limit:] if by == "day" else found[:limit]
    return {"timezone": data["timezone"], "since": data["since"], "totals": data["totals"],
            f"by_{by}": kept, "rows_omitted": len(found) - len(kept)}  # fmt: skip


def today() -> dict[str, Any]:
    """Today's totals (local day)."""
    from burn.query import Filters

    tz = Filters.for_zone(None)
    midnight = now().astimezone(tz.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return usage("model", midnight.isoformat(), tz.timezone)


def session_cost(session_id: str) -> dict[str, Any]:
    """One session's assistant turns and cost, and its cost with every subagent descendant's."""

    def q(a: Any) -> dict[str, Any]:
        # The session rollup, by key: ``source IN (…)`` lets the primary key answer an id alone.
        row = a.db.execute(
            """SELECT source, assistant_turns, subagents, cost, cost_n, incl_cost, incl_cost_n
            FROM session_rollup WHERE source IN (SELECT DISTINCT source FROM session_rollup)
            AND session_id = ? ORDER BY source LIMIT 1""",
            (session_id,),
        ).fetchone()
        if row is None:
            return {"session_id": session_id, "found": False}
        source, turns, subagents, cost, cost_n, incl, incl_n = row
        return {"session_id": session_id, "found": True, "source": source, "turns": turns,
                "subagents": subagents, "cost_usd_micros": cost if cost_n else None,
                "including_subagents_usd_micros": incl if incl_n else None}  # fmt: skip

    result: dict[str, Any] = _read(q)
    return result


def active_block() -> dict[str, Any]:
    """The active 5-hour billing block with burn rate and projection, or none."""
    from burn.query import Filters
    from burn.query.blocks import blocks

    at = now()
    now_ms = int(at.timestamp() * 1000)
    f = Filters(since_ms=int((at - timedelta(hours=10)).timestamp() * 1000))
    active = [b for b in _read(lambda a: blocks(a, f)) if b.active(now_ms)]
    return {"active": active[-1].as_json(now_ms) if active else None}


def plans() -> dict[str, Any]:
    """Every declared plan's current period (``burn plans --json`` rows)."""
    from burn.cli.plans import rows
    from burn.paths import burn_home

    return {"plans": rows(burn_home(), now())[0]}


def compare(
    since: str | None = "30d", models: list[str] | None = None, min_turns: int = 20
) -> dict[str, Any]:
    """Models side by side per activity category (``burn compare`` rows)."""
    from burn.query import Filters
    from burn.query.compare import compare as groups
    from burn.query.compare import rows

    f = Filters.from_options({"since": since, "model": models}, now=now())
    return {"min_turns": min_turns, "rows": _read(lambda a: list(rows(groups(a, f), min_turns)))}


TOOLS: list[Callable[..., dict[str, Any]]] = [today, session_cost, usage, active_block, plans, compare]


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        from mcp.server.mcpserver import MCPServer
    except ImportError:
        raise UsageError("burn mcp needs the MCP SDK: pip install 'burn[mcp]'") from None
    server = MCPServer("burn")
    for tool in TOOLS:
        server.tool(name=tool.__name__, description=tool.__doc__)(tool)
    server.run("stdio")
    return 0
