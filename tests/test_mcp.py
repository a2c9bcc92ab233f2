"""``burn mcp``: a round trip through the MCP SDK's client over stdio, spawning ``burn mcp``, that
calls every tool and checks its answer against the archive."""

from __future__ import annotations

import json
import os
import sqlite3
import sysconfig
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.contract_fixture import build_fixture

PLANS = '[[plan]]\nname = "api"\nkind = "budget"\nbudget_usd = 100\nreset_day = 1\ntimezone = "UTC"\n'


def test_round_trip(tmp_path: Path) -> None:
    home = build_fixture(tmp_path)
    (home / "plans.toml").write_text(PLANS)
    db = sqlite3.connect(home / "archive.sqlite")
    sid, turns, cost = db.execute(
        "SELECT session_id, COUNT(*), SUM(cost_usd_micros) FROM turns GROUP BY 1 ORDER BY 1 LIMIT 1"
    ).fetchone()
    db.close()
    # The console script of the interpreter running the tests (not whichever ``burn`` is first on PATH).
    burn = str(Path(sysconfig.get_path("scripts")) / "burn")
    env = {**os.environ, "RELAYBURN_HOME": str(home), "TZ": "UTC"}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("usage", {"by": "model", "since": "2026-03-01"}),
        ("usage", {"by": "model", "since": "2026-03-01", "limit": 1}),
        ("compare", {"since": "2026-03-01", "min_turns": 2}),
        ("session_cost", {"session_id": sid}),
        ("session_cost", {"session_id": "no-such-session"}),
        ("today", {}),
        ("active_block", {}),
        ("plans", {}),
    ]

    async def go() -> tuple[set[str], list[Any]]:
        params = StdioServerParameters(command=burn, args=["mcp"], env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            out = []
            for name, args in calls:
                result = await session.call_tool(name, args)
                assert not result.is_error, (name, result.content)
                out.append(json.loads(result.content[0].text))  # type: ignore[union-attr]
            return names, out

    names, (usage, top, cmp, session, missing, today, block, plans) = anyio.run(go)
    assert names == {"today", "session_cost", "usage", "active_block", "plans", "compare"}
    assert usage["totals"]["turns"] > 0 and len(usage["by_model"]) > 1 and "by_day" not in usage
    # limit keeps the largest model by tokens and counts the rest
    assert top["by_model"] == usage["by_model"][:1] and top["rows_omitted"] == len(usage["by_model"]) - 1
    assert cmp["rows"] and cmp["min_turns"] == 2
    assert (session["found"], session["turns"], session["cost_usd_micros"]) == (True, turns, cost)
    assert missing == {"session_id": "no-such-session", "found": False}
    # The fixture's turns are from March 2026: nothing today, no active block.
    assert today["totals"]["turns"] == 0 and block == {"active": None}
    assert [p["name"] for p in plans["plans"]] == ["api"]
