"""The archive's tables, and how each ledger record kind becomes a row of one (DESIGN §7).

:data:`SCHEMA` creates the content tables (the rollups add theirs: :mod:`~burn.archive.rollup`,
:mod:`~burn.archive.session_rollup`, :mod:`~burn.archive.quality`); :data:`ROWS` maps a record kind
to its table and to the function that turns the record's dict (as the ledger stores it) into that
table's row; :data:`CONTENT_TABLES` are the tables whose rows come from the ledger, in digest order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import orjson

from burn.archive.activity import categorize
from burn.pricing.columns import COST_COLUMNS_SQL
from burn.records import ts_to_ms

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS archive_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, cwd TEXT, git_branch TEXT,
  git_remote TEXT, git_commit TEXT, harness_version TEXT, slug TEXT, title TEXT, parent_session_id TEXT,
  relationship TEXT NOT NULL,
  agent_id TEXT, agent_type TEXT, parent_tool_use_id TEXT, originator TEXT, classification TEXT,
  first_seen_ts TEXT, usage_fidelity TEXT, project_key TEXT,
  -- derived per session after each batch (burn.archive.enrich; stamps: burn.archive.database.stamps)
  message_count INTEGER, has_content INTEGER, activity TEXT,
  workflow_id TEXT, stamp_agent TEXT, stamp_persona TEXT, stamp_tier TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_by_source ON sessions (source, session_id);
CREATE INDEX IF NOT EXISTS sessions_by_cwd ON sessions (cwd);
CREATE INDEX IF NOT EXISTS sessions_by_parent ON sessions (source, parent_session_id);
-- One row per observed working directory; many directories can share one project key.
CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY, cwd TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
  label TEXT NOT NULL, resolution TEXT NOT NULL, machine_local INTEGER NOT NULL, remote TEXT,
  git_root TEXT, branch TEXT, is_worktree INTEGER, observed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS projects_by_cwd ON projects (cwd);
CREATE TABLE IF NOT EXISTS turns (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, message_id TEXT,
  request_id TEXT, ts TEXT NOT NULL, ts_ms INTEGER NOT NULL, model TEXT NOT NULL, provider TEXT,
  input INTEGER, output INTEGER, reasoning INTEGER, cache_read INTEGER, cache_write_5m INTEGER,
  cache_write_1h INTEGER, web_search_requests INTEGER, reported_cost_usd TEXT, speed TEXT,
  service_tier TEXT, stop_reason TEXT, is_sidechain INTEGER NOT NULL, agent_id TEXT,
  fidelity_usage TEXT NOT NULL, fidelity_notes TEXT,
  duration_ms INTEGER, latency_ms INTEGER,  -- timing, ms, NULL = unknown (docs/accounting.md)
  turn_index INTEGER, activity TEXT,  -- derived per session (burn.archive.enrich)
  machine TEXT NOT NULL,  -- machine key of the host that first saw the turn (the ledger's, else this host's)
  -- cost columns stay last: _apply appends them to _turn_row's values
  {COST_COLUMNS_SQL});
CREATE INDEX IF NOT EXISTS turns_by_time ON turns (ts_ms);
CREATE INDEX IF NOT EXISTS turns_by_session ON turns (source, session_id, ts_ms);
CREATE INDEX IF NOT EXISTS turns_by_model ON turns (model);
CREATE INDEX IF NOT EXISTS turns_by_machine ON turns (machine);
-- burn compare's medians: a group's timed turns in duration order, with the columns filters read
CREATE INDEX IF NOT EXISTS turns_by_activity ON turns (model, activity, duration_ms, ts_ms, source, machine,
  session_id) WHERE duration_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS tool_calls (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, tool_use_id TEXT NOT NULL,
  message_id TEXT, ts TEXT NOT NULL, name TEXT NOT NULL, target TEXT, args_hash TEXT,
  ts_ms INTEGER NOT NULL, category TEXT NOT NULL,  -- burn.archive.activity.categorize(name, target)
  call_index INTEGER, turn_id TEXT);  -- derived per session (burn.archive.enrich)
CREATE INDEX IF NOT EXISTS tool_calls_by_session ON tool_calls (source, session_id, tool_use_id);
CREATE INDEX IF NOT EXISTS tool_calls_by_turn ON tool_calls (turn_id);
CREATE TABLE IF NOT EXISTS tool_result_events (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, tool_use_id TEXT NOT NULL,
  ts TEXT NOT NULL, status TEXT NOT NULL, content_length INTEGER NOT NULL, content_hash TEXT,
  subagent_session_id TEXT,
  -- derived per session (burn.archive.enrich)
  message_id TEXT, call_index INTEGER, event_index INTEGER, agent_id TEXT, event_source TEXT,
  duration_ms INTEGER);  -- the tool's run time, ms, NULL = unknown
-- by the call a result answers (and, as its prefix, by session)
CREATE INDEX IF NOT EXISTS tool_results_by_call ON tool_result_events (source, session_id, tool_use_id);
CREATE TABLE IF NOT EXISTS user_turns (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, user_uuid TEXT NOT NULL,
  ts TEXT NOT NULL, preceding_message_id TEXT, following_message_id TEXT, block_count INTEGER NOT NULL,
  byte_length INTEGER NOT NULL, approx_tokens INTEGER NOT NULL, blocks TEXT NOT NULL,
  is_meta INTEGER NOT NULL, is_compact_summary INTEGER NOT NULL, ts_ms INTEGER NOT NULL,
  wall_ms INTEGER);  -- the user turn's wall time, ms, NULL = unknown
CREATE INDEX IF NOT EXISTS user_turns_by_session ON user_turns (source, session_id);
CREATE INDEX IF NOT EXISTS user_turns_by_time ON user_turns (ts_ms);
CREATE TABLE IF NOT EXISTS compactions (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, session_id TEXT NOT NULL, ts TEXT NOT NULL,
  trigger TEXT, tokens_before INTEGER, tokens_after INTEGER);
CREATE INDEX IF NOT EXISTS compactions_by_session ON compactions (source, session_id);
-- Stamps (burn stamp, RELAYBURN_STAMP_*); materialized into sessions by burn.archive.enrich.
CREATE TABLE IF NOT EXISTS stamps (
  id TEXT PRIMARY KEY, source TEXT, session_id TEXT NOT NULL, ts TEXT NOT NULL, ts_ms INTEGER NOT NULL,
  workflow TEXT, agent TEXT, persona TEXT, tier TEXT, origin TEXT);
CREATE INDEX IF NOT EXISTS stamps_by_session ON stamps (session_id);
"""

# Tables whose rows come from the ledger, in digest order.
CONTENT_TABLES = (
    "sessions",
    "turns",
    "tool_calls",
    "tool_result_events",
    "user_turns",
    "compactions",
    "projects",
    "stamps",
)


def _ms(value: Any) -> int | None:
    """A duration as the ledger holds it: a non-negative int, else unknown (``None``) — a hand-edited
    or foreign ledger line cannot put a negative or fractional duration into the archive."""
    return value if type(value) is int and value >= 0 else None


def _session_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    # The last column, project_key, is resolved from the projects table after each batch.
    g = r.get
    return (rid, r["source"], r["session_id"], g("cwd"), g("git_branch"), g("git_remote"), g("git_commit"),
            g("harness_version"), g("slug"),
            g("title"), g("parent_session_id"), g("relationship", "root"), g("agent_id"), g("agent_type"),
            g("parent_tool_use_id"), g("originator"), g("classification"), g("first_seen_ts"),
            g("usage_fidelity"), None, None, None, None, None, None, None, None)  # fmt: skip


def _turn_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    u = g("usage") or {}
    f = g("fidelity") or {}
    notes = f.get("notes")
    return (rid, r["source"], r["session_id"], g("message_id"), g("request_id"), r["ts"], ts_to_ms(r["ts"]),
            r["model"], g("provider"), u.get("input"), u.get("output"), u.get("reasoning"),
            u.get("cache_read"), u.get("cache_write_5m"), u.get("cache_write_1h"),
            u.get("web_search_requests"), g("reported_cost_usd"), g("speed"), g("service_tier"),
            g("stop_reason"), int(bool(g("is_sidechain"))), g("agent_id"), f.get("usage", "full"),
            ",".join(notes) if notes else None, _ms(g("duration_ms")), _ms(g("latency_ms")), None,
            None)  # fmt: skip


def _tool_call_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    return (rid, r["source"], r["session_id"], r["tool_use_id"], g("message_id"), r["ts"], r["name"],
            g("target"), g("args_hash"), ts_to_ms(r["ts"]), categorize(r["name"], g("target")), None,
            None)  # fmt: skip


def _tool_result_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    return (rid, r["source"], r["session_id"], r["tool_use_id"], r["ts"], g("status", "ok"),
            g("content_length", 0), g("content_hash"), g("subagent_session_id"), None, None, None, None,
            None, _ms(g("duration_ms")))  # fmt: skip


def _user_turn_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    blocks = g("blocks") or []
    return (rid, r["source"], r["session_id"], r["user_uuid"], r["ts"], g("preceding_message_id"),
            g("following_message_id"), len(blocks), sum(b.get("byte_length", 0) for b in blocks),
            sum(b.get("approx_tokens", 0) for b in blocks), orjson.dumps(blocks).decode(),
            int(bool(g("is_meta"))), int(bool(g("is_compact_summary"))), ts_to_ms(r["ts"]),
            _ms(g("wall_ms")))  # fmt: skip


def _compaction_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    return (rid, r["source"], r["session_id"], r["ts"], g("trigger"), g("tokens_before"), g("tokens_after"))


def _project_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    remotes = tuple((str(name), str(url)) for name, url in r.get("remotes") or ())
    from burn.privacy.identity import identify
    from burn.records import ProjectObservation

    obs = ProjectObservation(cwd=r["cwd"], observed_at=r["observed_at"], git_root=r.get("git_root"))
    p = identify(attrs.evolve(obs, remotes=remotes))
    return (rid, r["cwd"], p.key, p.kind, p.value, p.label, p.resolution, int(p.machine_local), p.remote,
            r.get("git_root"), r.get("branch"), r.get("is_worktree"), r["observed_at"])  # fmt: skip


def _stamp_row(rid: str, r: dict[str, Any]) -> tuple[Any, ...]:
    g = r.get
    return (rid, g("source"), r["session_id"], r["ts"], ts_to_ms(r["ts"]), g("workflow"), g("agent"),
            g("persona"), g("tier"), g("origin"))  # fmt: skip


ROWS: dict[str, tuple[str, Callable[[str, dict[str, Any]], tuple[Any, ...]]]] = {
    "session": ("sessions", _session_row),
    "turn": ("turns", _turn_row),
    "tool_call": ("tool_calls", _tool_call_row),
    "tool_result": ("tool_result_events", _tool_result_row),
    "user_turn": ("user_turns", _user_turn_row),
    "compaction": ("compactions", _compaction_row),
    "project": ("projects", _project_row),
    "stamp": ("stamps", _stamp_row),
}
