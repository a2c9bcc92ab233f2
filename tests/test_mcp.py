"""``burn mcp``: a round trip through the MCP SDK's client over stdio, spawning ``burn mcp``."""

from __future__ import annotations

import json
import os
import sysconfig
from pathlib import Path

import anyio
import pytest

pytest.importorskip("mcp")
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.contract_fixture import build_fixture


def test_round_trip(tmp_path: Path) -> None:
    home = build_fixture(tmp_path)
    # The console script of the interpreter running the tests (not whichever ``burn`` is first on PATH).
    burn = str(Path(sysconfig.get_path("scripts")) / "burn")
    env = {**os.environ, "RELAYBURN_HOME": str(home), "TZ": "UTC"}

    async def go() -> tuple[set[str], dict[str, object], dict[str, object]]:
        params = StdioServerParameters(command=burn, args=["mcp"], env=env)
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            usage = await session.call_tool("usage", {"by": "model", "since": "2026-03-01"})
            cmp = await session.call_tool("compare", {"since": "2026-03-01", "min_turns": 2})
            texts = [json.loads(r.content[0].text) for r in (usage, cmp)]  # type: ignore[union-attr]
            return names, texts[0], texts[1]

    names, usage, cmp = anyio.run(go)
    assert names == {"today", "session_cost", "usage", "active_block", "plans", "compare"}
    assert usage["totals"]["turns"] > 0 and usage["by_model"]  # type: ignore[index]
    assert cmp["rows"] and cmp["min_turns"] == 2  # type: ignore[index]
