"""``burn statusline``: one line for Claude Code's status line, fast.

Claude Code runs the command on every refresh, so it must answer in tens of milliseconds on a
large archive. This module imports only the standard library, :mod:`burn.blockrule` and
:mod:`burn.text.money` (no argparse tree, attrs, plugins or query layer): :func:`burn.entry.main`
calls :func:`run` before anything else is imported. Each figure is one indexed query on a
read-only connection: the session's turns by ``(source, session_id)``, today's and the last ten
hours' turns by ``ts_ms``, the latest turn by ``MAX(ts_ms)``. It reads the archive only and never
ingests (docs/cli.md).
"""

from __future__ import annotations

import json  # not orjson: importing it loads dataclasses and inspect (tens of ms)
import os
import sqlite3
import sys
from datetime import UTC, datetime

from burn.blockrule import BLOCK_MS, block_start, starts_block
from burn.text.money import usd

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing, collections.abc and pathlib cost start-up time on every refresh
    from collections.abc import Mapping
    from typing import Any


def _archive(env: Mapping[str, str]) -> str:
    # burn.paths.burn_home, without pathlib: the same place.
    value = env.get("RELAYBURN_HOME")
    home = os.path.expanduser(value) if value else os.path.join(os.path.expanduser("~"), ".relayburn")
    return os.path.abspath(os.path.join(home, "archive.sqlite"))


def run(stdin: Any = None, stdout: Any = None) -> int:
    """Read the hook JSON on ``stdin``, print the line; never fails (every problem is a short
    line and exit 0)."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    try:
        hook = json.loads(stdin.buffer.read() or b"{}")
    except ValueError:
        hook = {}
    if not isinstance(hook, dict):
        hook = {}
    try:
        line = statusline(hook, datetime.now(UTC), os.environ)
    except sqlite3.Error:
        line = "burn: no data (the archive cannot be read; run `burn ingest`)"
    except Exception:  # a status line must never print a traceback into the editor
        line = "burn: no data"
    stdout.write(line + "\n")
    return 0


def statusline(hook: Mapping[str, Any], now: datetime, env: Mapping[str, str]) -> str:
    """The line: model, session cost (with its subagents), today's cost, the active block's cost,
    time left and burn rate — from the archive as it is."""
    path = _archive(env)
    if not os.path.isfile(path):
        return "burn: no archive yet (run `burn ingest`)"
    now_ms = int(now.timestamp() * 1000)
    db = sqlite3.connect(f"file:{_quote(path)}?mode=ro", uri=True, isolation_level=None)
    try:
        session = _session_cost(db, str(hook.get("session_id") or ""))
        midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)  # local day
        today = db.execute(
            "SELECT SUM(cost_usd_micros) FROM turns WHERE ts_ms >= ?", (int(midnight.timestamp() * 1000),)
        ).fetchone()[0]
        block = _active_block(db, now_ms)
        latest = db.execute("SELECT MAX(ts_ms) FROM turns").fetchone()[0]
    finally:
        db.close()
    model = hook.get("model") if isinstance(hook.get("model"), dict) else {}
    parts = [str(model.get("display_name") or model.get("id") or "")] if model else []
    parts.append(f"{usd(session)} session" if session is not None else "session not ingested yet")
    parts.append(f"{usd(today or 0)} today")
    if block is not None:
        start, first, last, cost = block
        left = (start + BLOCK_MS - now_ms) // 60_000
        parts.append(f"{usd(cost)} block ({left // 60}h {left % 60:02d}m left)")
        minutes = max(1.0, (last - first) / 60_000)  # burn.query.blocks.Block.cost_per_hour_micros
        parts.append(f"{usd(None if cost is None else round(cost * 60 / minutes))}/h")
    if latest and now_ms - latest > 3_600_000:
        parts.append(f"data {(now_ms - latest) // 3_600_000}h old")
    return "🔥 " + " · ".join(p for p in parts if p)


def _quote(path: str) -> str:
    # A file: URI path (burn.sqlite._file_uri, without urllib): escape what a URI reserves.
    return "".join(
        c if c.isalnum() or c in "/._-~" else "".join(f"%{b:02X}" for b in c.encode()) for c in path
    )


def _session_cost(db: sqlite3.Connection, session_id: str) -> int | None:
    """The session's cost with its subagents' (``None``: no turn of it in the archive). The
    sessions table is small (one row per session); the turns are read by their index."""
    keys = db.execute(
        "SELECT source, session_id FROM sessions WHERE session_id = ? OR parent_session_id = ?",
        (session_id, session_id),
    ).fetchall()
    total, turns = 0, 0
    for source, sid in keys:
        cost, n = db.execute(
            "SELECT COALESCE(SUM(cost_usd_micros), 0), COUNT(*) FROM turns "
            "WHERE source = ? AND session_id = ?",
            (source, sid),
        ).fetchone()
        total, turns = total + cost, turns + n
    return total if turns else None


def _active_block(db: sqlite3.Connection, now_ms: int) -> tuple[int, int, int, int | None] | None:
    """The active block (start, first turn, last turn, cost) from the last ten hours' turns: an
    active block started at most five hours ago, floored to the hour, and the turns before it in
    that range decide where it starts."""
    start = end = last = first = None
    cost: int | None = None
    for ts, c in db.execute(
        "SELECT ts_ms, cost_usd_micros FROM turns WHERE ts_ms >= ? ORDER BY ts_ms", (now_ms - 2 * BLOCK_MS,)
    ):
        if starts_block(ts, end, last):
            start = block_start(ts)
            end, first, cost = start + BLOCK_MS, ts, None
        last = ts
        if c is not None:
            cost = (cost or 0) + c
    if start is None or first is None or last is None or end is None:
        return None
    if not (now_ms < end and now_ms - last < BLOCK_MS):  # burn.query.blocks.Block.active
        return None
    return start, first, last, cost
