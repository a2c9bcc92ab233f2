"""The Codex CLI reader, rule by rule, on hand-written fixtures (FORMATS.md §2, DESIGN §5).

Fixture trees under tests/fixtures/codex/ are Codex homes (``sessions/…``) written in the shapes
real rollouts have (see ../shared/samples/codex): ``accounting`` (re-emits, a reset, totals-only,
last-only, rate-limit-only and zero-delta events, model switches, the fallback model, a
compaction), ``fork`` (a parent and a fork that replays it, re-stamped, with UUIDv7 turn ids),
``subagent`` (a spawned subagent whose replayed prefix keeps its original timestamps), ``burst``
(a fork from a build without turn ids: the replay is a burst right after the child's meta) and
``legacy`` (a mid-2025 rollout without usage) and ``backwards`` (totals that go down: stale and
replayed events, lines out of order, a context-window fill and a resumed counter). Small single-rule cases are built inline.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import burn_codex
from burn.archive.database import Archive
from burn.convert import to_dict
from burn.ingest.run import IngestReport, ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult
from burn.readkit import normalize_ts
from burn.records import Compaction, Record, SessionInfo, ToolCall, ToolResultEvent, Turn, UserTurn
from burn_codex import CodexReader
from burn_codex.discover import ORDER_ACTIVE, ORDER_ARCHIVED, locations, unit_for
from burn_codex.timefmt import uuid7_ts

FIXTURES = Path(__file__).parent / "fixtures" / "codex"
SID = "c0de0000-0000-4000-8000-000000000001"
DAY = "sessions/2026/04/01"

ACCOUNTING = (
    "accounting/sessions/2026/02/01/rollout-2026-02-01T09-00-00-acc00000-0000-4000-8000-000000000001.jsonl"
)
FORK_PARENT = (
    "fork/sessions/2026/03/01/rollout-2026-03-01T10-00-00-019ca8d7-2d00-7aaa-8aaa-aaaaaaaaaaaa.jsonl"
)
FORK_CHILD = "fork/sessions/2026/03/01/rollout-2026-03-01T11-00-00-019ca90e-1b80-7bbb-8bbb-bbbbbbbbbbbb.jsonl"
SUB_PARENT = (
    "subagent/sessions/2026/03/02/rollout-2026-03-02T09-00-00-5a1e0000-0000-4000-8000-00000000000a.jsonl"
)
SUB_CHILD = (
    "subagent/sessions/2026/03/02/rollout-2026-03-02T09-00-04-5a1e0000-0000-4000-8000-00000000000b.jsonl"
)
BURST = "burst/sessions/2026/03/03/rollout-2026-03-03T12-00-00-b0b00000-0000-4000-8000-0000000000c2.jsonl"
LEGACY = "legacy/sessions/rollout-2025-06-01-1e9ac000-0000-4000-8000-000000000001.jsonl"
BACKWARDS = (
    "backwards/sessions/2026/03/04/rollout-2026-03-04T09-00-00-ba0c0000-0000-4000-8000-000000000004.jsonl"
)
ALL_FIXTURES = (ACCOUNTING, FORK_PARENT, FORK_CHILD, SUB_PARENT, SUB_CHILD, BURST, LEGACY, BACKWARDS)


# ------------------------------------------------------------------------------------ builders


def at(second: int) -> str:
    return f"2026-04-01T10:{second // 60:02d}:{second % 60:02d}.000Z"


def line(kind: str, payload: dict[str, Any], second: int = 0) -> bytes:
    return orjson.dumps({"timestamp": at(second), "type": kind, "payload": payload})


def meta(sid: str = SID, second: int = 0, **extra: Any) -> bytes:
    payload: dict[str, Any] = {
        "id": sid,
        "timestamp": at(second),
        "cwd": "/work/demo",
        "originator": "codex_cli_rs",
        "cli_version": "0.63.0",
        "source": "cli",
        "model_provider": "openai",
    }
    payload.update(extra)
    return line("session_meta", payload, second)


def context(model: str, second: int = 0, **extra: Any) -> bytes:
    return line("turn_context", {"cwd": "/work/demo", "model": model, **extra}, second)


def usage(inp: int, cached: int, out: int, reasoning: int = 0, total: int | None = None) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out if total is None else total,
    }


def tokens(
    second: int,
    total: dict[str, int] | None = None,
    last: dict[str, int] | None = None,
    **info_extra: Any,
) -> bytes:
    info: dict[str, Any] = dict(info_extra)
    if total is not None:
        info["total_token_usage"] = total
    if last is not None:
        info["last_token_usage"] = last
    return line("event_msg", {"type": "token_count", "info": info, "rate_limits": None}, second)


def rate_limits_only(second: int) -> bytes:
    return line(
        "event_msg",
        {"type": "token_count", "info": None, "rate_limits": {"primary": {"used_percent": 9.0}}},
        second,
    )


def write(path: Path, *lines: bytes, end: bytes = b"\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + end if lines else b"")
    return path


def rollout(home: Path, *lines: bytes, sid: str = SID) -> Path:
    return write(home / DAY / f"rollout-2026-04-01T10-00-00-{sid}.jsonl", *lines)


def read(path: Path, cursor: FileCursor | None = None, archived: bool = False) -> ReadResult:
    return CodexReader().read(unit_for(path, archived), cursor)


def of(records: Any, kind: type[Any]) -> list[Any]:
    return [r for r in records if isinstance(r, kind)]


def vec(t: Turn) -> tuple[int | None, ...]:
    u = t.usage
    return (u.input, u.cache_read, u.output, u.reasoning)


def fixture_home(tmp_path: Path, name: str) -> Path:
    home = tmp_path / "codex"
    shutil.copytree(FIXTURES / name, home, dirs_exist_ok=True)
    return home


def read_tree(home: Path) -> tuple[list[Record], Diagnostics]:
    """Every unit under a Codex home, in the core's order, read once from the start."""
    reader = CodexReader()
    diag = Diagnostics()
    units = sorted(reader.discover([home], diag), key=lambda u: (u.order, u.key))
    records: list[Record] = []
    for unit in units:
        result = reader.read(unit, None)
        diag.add(result.diagnostics)
        records.extend(result.records)
    return records, diag


# ------------------------------------------------------------------------------- end to end


def env_for(tmp_path: Path, codex_home: Path) -> dict[str, str]:
    empty = tmp_path / "empty"
    for name in ("claude", "opencode"):
        (empty / name).mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(tmp_path / "home"),
        "CODEX_HOME": str(codex_home),
        "CLAUDE_CONFIG_DIR": str(empty / "claude"),
        "OPENCODE_DATA_DIR": str(empty / "opencode"),
        "RELAYBURN_HOME": str(tmp_path / "burn"),
        "BURN_STRICT_PLUGINS": "1",
    }


def run_ingest(tmp_path: Path, codex_home: Path) -> tuple[IngestReport, dict[str, Any]]:
    """One ``burn ingest`` through the real stack, and the ``codex`` row of ``by_source``."""
    env = env_for(tmp_path, codex_home)
    home = Path(env["RELAYBURN_HOME"])
    report = ingest(home, Plugins(env=env), env)
    archive = Archive.in_home(home, readonly=True)
    try:
        rows = summarize(archive, Filters.for_zone("UTC"))["by_source"]
    finally:
        archive.close()
    row: dict[str, Any] = next((r for r in rows if r["source"] == "codex"), {})
    return report, row


def archive_rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(tmp_path / "burn" / "archive.sqlite")
    try:
        return list(db.execute(sql))
    finally:
        db.close()


def totals(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["input"], row["cache_read"], row["output"], row["reasoning"], row["turns"])


# ------------------------------------------------------------------------------------ plugin


def test_plugin_registers_the_reader_through_its_hook() -> None:
    got: list[Reader] = []
    burn_codex.register_readers(got.append)
    assert len(got) == 1 and isinstance(got[0], Reader)
    reader = got[0]
    assert (reader.name, reader.env_var) == ("codex", "CODEX_HOME")
    assert isinstance(Plugins(env={"BURN_STRICT_PLUGINS": "1"}).readers()["codex"], CodexReader)


# -------------------------------------------------------------------------------- accounting


def test_accounting_fixture_every_rule(tmp_path: Path) -> None:
    result = read(FIXTURES / ACCOUNTING)
    turns = of(result.records, Turn)
    assert [(vec(t), t.model) for t in turns] == [
        ((100, 0, 10, 0), "gpt-5"),  # before any turn_context: fallback model
        ((100, 100, 20, 5), "gpt-5-codex"),  # delta of totals, input without cached
        ((50, 0, 5, 0), "gpt-5.1-codex-max"),  # totals went down: a reset, use last
        ((20, 10, 4, 1), "gpt-5.1-codex-max"),  # totals only
        ((20, 20, 4, 2), "gpt-5.1-codex-max"),  # last only
        ((100, 0, 10, 0), "o3"),  # the event names its model (info.model)
    ]
    assert [t.fidelity.notes for t in turns] == [("model_fallback",)] + [()] * 5
    assert all(t.fidelity.usage == "full" for t in turns)
    assert all(t.usage.cache_write_5m == 0 and t.usage.cache_write_1h == 0 for t in turns)
    assert all(t.usage.web_search_requests is None for t in turns)
    assert all(t.message_id is None and t.request_id is None and t.line_hash for t in turns)
    assert all(
        t.provider == "openai" and t.source == "codex" and t.session_id.startswith("acc0") for t in turns
    )
    assert [t.ts for t in turns][:2] == ["2026-02-01T09:00:03.000Z", "2026-02-01T09:00:06.000Z"]
    assert len({t.event_id() for t in turns}) == 6
    d = result.diagnostics
    assert d.dropped == {"rate_limit_only": 1, "reemit": 4, "zero_delta": 1}
    assert not d.invalid and d.files_read == 1 and d.records == len(result.records)
    assert len(of(result.records, Compaction)) == 1  # compacted line + context_compacted event
    (info,) = of(result.records, SessionInfo)
    assert (info.classification, info.originator, info.relationship) == ("automated", "codex_exec", "root")


def test_reemitted_totals_count_once(tmp_path: Path) -> None:
    t1 = usage(1000, 400, 50, 10)
    path = rollout(
        tmp_path, meta(), context("gpt-5"), tokens(1, t1, t1), tokens(2, t1, t1), tokens(3, t1, t1)
    )
    result = read(path)
    assert [vec(t) for t in of(result.records, Turn)] == [(600, 400, 50, 10)]
    assert result.diagnostics.dropped["reemit"] == 2


def test_reset_uses_last_and_a_repeated_vector_after_a_reset_is_a_new_event(tmp_path: Path) -> None:
    a, b, c = usage(100, 0, 10), usage(200, 0, 20), usage(70, 0, 7)
    path = rollout(
        tmp_path,
        meta(),
        context("gpt-5"),
        tokens(1, a, a),
        tokens(2, b, usage(100, 0, 10)),
        tokens(3, c, c),  # lower totals that are one response: a fresh counter; count `last`
        tokens(4, a, usage(30, 0, 3)),  # the new counter reaches the vector `a` again
        tokens(5, usage(50, 0, 5), None),  # lower again, no `last` to check: skipped, counted
    )
    result = read(path)
    turns = of(result.records, Turn)
    assert [vec(t) for t in turns] == [(100, 0, 10, 0), (100, 0, 10, 0), (70, 0, 7, 0), (30, 0, 3, 0)]
    assert len({t.event_id() for t in turns}) == 4  # the vector `a` twice, in two epochs
    assert result.diagnostics.invalid == {"token_count_backwards": 1}


def test_totals_that_go_backwards_never_inflate_usage(tmp_path: Path) -> None:
    """Regression (issue 11, finding 6): a stale copy of an earlier snapshot, two events out of
    order and a replay of the first event each lowered the baseline, and the next difference
    counted the same responses again. The fixture holds 16 responses; a context-window fill and a
    resumed counter are real resets and count. Before the fix: 18 turns, 156,000 input and 844,500
    cache reads (the truth: 81,000 and 483,000), no warning."""
    result = read(FIXTURES / BACKWARDS)
    turns = of(result.records, Turn)
    # 16 responses; r8 and r9 were written out of order, so one difference holds both
    assert len(turns) == 15
    assert tuple(sum(v) for v in zip(*(vec(t) for t in turns), strict=True)) == (
        81_000,
        483_000,
        14_040,
        4_520,
    )
    d = result.diagnostics
    assert d.invalid == {"token_count_backwards": 3}
    assert d.dropped == {"zero_delta": 1}
    assert d.warnings == [f"skipped (token_count_backwards): {FIXTURES / BACKWARDS} (line 9 of this read)"]
    assert len({t.event_id() for t in turns}) == 15

    report, row = run_ingest(tmp_path, fixture_home(tmp_path, "backwards"))
    assert totals(row) == (81_000, 483_000, 14_040, 4_520, 15)
    assert report.totals()["invalid_skipped"] == {"token_count_backwards": 3}
    assert any("skipped (token_count_backwards)" in w for w in report.warnings)


def test_a_stale_fresh_counter_is_not_a_new_baseline_once_the_old_counter_goes_on(tmp_path: Path) -> None:
    a, b, x = usage(100, 0, 10), usage(200, 0, 20), usage(5, 0, 1)
    path = rollout(
        tmp_path,
        meta(),
        context("gpt-5"),
        tokens(1, a, a),
        tokens(2, b, usage(100, 0, 10)),
        tokens(3, x, x),  # shaped like a resumed counter: counted once (no look-ahead)
        tokens(4, usage(250, 0, 25), usage(50, 0, 5)),  # `last` = totals − the old high-water mark
    )
    turns = of(read(path).records, Turn)
    assert [vec(t) for t in turns] == [(100, 0, 10, 0), (100, 0, 10, 0), (5, 0, 1, 0), (50, 0, 5, 0)]


def test_totals_only_events_use_deltas_and_recompute_total(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        meta(),
        context("o4-mini"),
        tokens(1, {"input_tokens": 150, "output_tokens": 75, "cached_input_tokens": 25}),
        tokens(2, {"input_tokens": 500, "output_tokens": 200, "cached_input_tokens": 100}),
    )
    assert [vec(t) for t in of(read(path).records, Turn)] == [(125, 25, 75, 0), (275, 75, 125, 0)]


def test_last_only_events_skip_exact_repeats_and_advance_the_totals(tmp_path: Path) -> None:
    t = usage(1000, 0, 100)
    last = usage(300, 100, 30, 3)
    path = rollout(
        tmp_path,
        meta(),
        context("gpt-5"),
        tokens(1, t, t),
        tokens(2, None, last),
        tokens(3, None, last),  # byte-identical repeat
        tokens(4, usage(1300, 100, 130, 3), last),  # totals that include the last-only event: a re-emit
        tokens(5, None, usage(10, 0, 1)),
    )
    result = read(path)
    assert [vec(x) for x in of(result.records, Turn)] == [(1000, 0, 100, 0), (200, 100, 30, 3), (10, 0, 1, 0)]
    assert result.diagnostics.dropped["reemit"] == 2


def test_rate_limit_only_and_zero_deltas_are_dropped(tmp_path: Path) -> None:
    t = usage(100, 0, 10)
    path = rollout(
        tmp_path,
        meta(),
        context("gpt-5"),
        rate_limits_only(1),
        tokens(2, t, t),
        rate_limits_only(3),
        tokens(4, {**t, "total_tokens": 111}, t),  # only total_tokens moved
        tokens(5, usage(0, 0, 0), usage(0, 0, 0)),  # a reset to nothing
        line("event_msg", {"type": "token_count", "info": {"model_context_window": 272000}}, 6),
    )
    result = read(path)
    assert len(of(result.records, Turn)) == 1
    assert result.diagnostics.dropped == {"rate_limit_only": 2, "zero_delta": 2, "no_usage": 1}


def test_model_switches_between_turn_contexts(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        meta(),
        context("gpt-5.1-codex"),
        tokens(1, usage(100, 0, 10), usage(100, 0, 10)),
        tokens(2, usage(300, 0, 30), usage(200, 0, 20)),
        context("gpt-5.2-codex", 3),
        tokens(4, usage(600, 0, 60), usage(300, 0, 30)),
    )
    models = [t.model for t in of(read(path).records, Turn)]
    assert models == ["gpt-5.1-codex", "gpt-5.1-codex", "gpt-5.2-codex"]


def test_fallback_model_is_flagged(tmp_path: Path) -> None:
    path = rollout(tmp_path, meta(), tokens(1, usage(100, 0, 10), usage(100, 0, 10)))
    (turn,) = of(read(path).records, Turn)
    assert (turn.model, turn.fidelity.notes) == ("gpt-5", ("model_fallback",))


# -------------------------------------------------------------------------- fork and subagent


def test_fork_replay_is_baseline_only_and_lineage_is_the_childs(tmp_path: Path) -> None:
    home = fixture_home(tmp_path, "fork")
    records, diag = read_tree(home)
    parent, child = "019ca8d7-2d00-7aaa-8aaa-aaaaaaaaaaaa", "019ca90e-1b80-7bbb-8bbb-bbbbbbbbbbbb"
    turns = of(records, Turn)
    assert [(t.session_id, vec(t), t.model) for t in turns] == [
        (parent, (800, 200, 100, 50), "gpt-5.1-codex"),
        (parent, (500, 1000, 200, 70), "gpt-5.1-codex"),
        (child, (500, 1000, 150, 30), "gpt-5.2-codex"),  # its own delta over the replayed totals
    ]
    assert diag.dropped["replayed"] == 2
    infos = {i.session_id: i for i in of(records, SessionInfo)}
    assert set(infos) == {parent, child}  # the replayed parent meta made no SessionInfo
    c = infos[child]
    assert (c.relationship, c.parent_session_id, c.harness_version, c.cwd) == (
        "fork",
        parent,
        "0.61.0",
        "/work/acme",
    )
    assert (c.git_branch, c.git_remote, c.classification) == (
        "health-fork",
        "github.com/acme/api",
        "interactive",
    )
    assert infos[parent].relationship == "root"
    # replayed prompts and tool calls stay the parent's
    assert [u.session_id for u in of(records, UserTurn)] == [parent, parent, child]
    assert [(c.session_id, c.name, c.target) for c in of(records, ToolCall)] == [
        (parent, "shell", "rg"),
        (child, "apply_patch", "src/middleware/health.ts"),
    ]
    assert [(r.session_id, r.status) for r in of(records, ToolResultEvent)] == [
        (parent, "error"),  # exit_code 1
        (child, "ok"),
    ]


def test_fork_end_to_end_counts_the_parent_once(tmp_path: Path) -> None:
    report, row = run_ingest(tmp_path, fixture_home(tmp_path, "fork"))
    assert totals(row) == (1300 + 500, 1200 + 1000, 300 + 150, 120 + 30, 3)
    assert report.totals()["duplicates_dropped"].get("replayed") == 2


def test_subagent_replay_with_original_timestamps(tmp_path: Path) -> None:
    home = fixture_home(tmp_path, "subagent")
    records, diag = read_tree(home)
    parent, child = "5a1e0000-0000-4000-8000-00000000000a", "5a1e0000-0000-4000-8000-00000000000b"
    assert [(t.session_id, vec(t), t.model) for t in of(records, Turn)] == [
        (parent, (2000, 1000, 200, 100), "gpt-5-codex"),
        (parent, (1000, 3000, 300, 150), "gpt-5-codex"),
        (child, (500, 1500, 150, 20), "gpt-5-codex-mini"),
    ]
    assert diag.dropped["replayed"] == 1
    info = next(i for i in of(records, SessionInfo) if i.session_id == child)
    assert (info.relationship, info.parent_session_id, info.agent_type) == ("subagent", parent, "explorer")
    assert [u.session_id for u in of(records, UserTurn)] == [parent, child]
    assert [(c.session_id, c.name, c.target) for c in of(records, ToolCall)] == [
        (parent, "spawn_agent", "explorer"),
        (child, "exec_command", "rg"),  # the VAR=secret assignment is skipped
    ]
    spawn = next(r for r in of(records, ToolResultEvent) if r.tool_use_id == "call_spawn_1")
    assert spawn.subagent_session_id == child
    assert [r.status for r in of(records, ToolResultEvent)] == ["ok", "ok"]


def test_fork_from_a_build_without_turn_ids_skips_the_replay_burst(tmp_path: Path) -> None:
    records, diag = read_tree(fixture_home(tmp_path, "burst"))
    (turn,) = of(records, Turn)
    assert (vec(turn), turn.model) == ((200, 1000, 100, 30), "gpt-5-codex")
    assert diag.dropped["replayed"] == 2
    (info,) = of(records, SessionInfo)
    assert (info.session_id, info.relationship, info.parent_session_id) == (
        "b0b00000-0000-4000-8000-0000000000c2",
        "fork",
        "b0b00000-0000-4000-8000-0000000000c1",
    )
    assert [u.blocks[0].byte_length for u in of(records, UserTurn)] == [len("Fork prompt.")]


def test_replay_gate_rules_inline(tmp_path: Path) -> None:
    """A fork whose replay has no token_count: the child's first own token_count is its own, and
    its last=total rule applies (prev is None)."""
    child = "c0de0000-0000-4000-8000-0000000000f2"
    path = rollout(
        tmp_path,
        meta(child, 10, forked_from_id="c0de0000-0000-4000-8000-0000000000f1"),
        line("event_msg", {"type": "user_message", "message": "parent prompt"}, 2),  # older: replayed
        context("gpt-5", 20),  # the first line after creation: the child's own
        tokens(25, usage(100, 0, 10), usage(100, 0, 10)),
        sid=child,
    )
    result = read(path)
    assert [vec(t) for t in of(result.records, Turn)] == [(100, 0, 10, 0)]
    assert len(of(result.records, UserTurn)) == 0


def test_subagent_without_a_parent_thread_is_not_gated(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        meta(source={"subagent": "review"}),
        context("gpt-5-codex", 0),
        tokens(0, usage(100, 0, 10), usage(100, 0, 10)),
    )
    result = read(path)
    assert len(of(result.records, Turn)) == 1
    (info,) = of(result.records, SessionInfo)
    assert (info.relationship, info.parent_session_id, info.agent_type) == ("subagent", None, "review")


# ---------------------------------------------------------------------------- identity, copies


def test_archived_copy_has_the_same_ids(tmp_path: Path) -> None:
    active = tmp_path / "codex" / ACCOUNTING.split("/", 1)[1]
    active.parent.mkdir(parents=True)
    shutil.copy(FIXTURES / ACCOUNTING, active)
    archived = tmp_path / "codex" / "archived_sessions" / active.name
    archived.parent.mkdir(parents=True)
    shutil.copy(active, archived)
    one, two = read(active), read(archived, archived=True)
    assert [r.event_id() for r in one.records] == [r.event_id() for r in two.records]
    assert one.records == two.records


def test_archived_copy_counts_once_end_to_end(tmp_path: Path) -> None:
    home = fixture_home(tmp_path, "accounting")
    src = home / ACCOUNTING.split("/", 1)[1]
    (home / "archived_sessions").mkdir()
    shutil.copy(src, home / "archived_sessions" / src.name)
    report, row = run_ingest(tmp_path, home)
    assert totals(row) == (390, 130, 53, 8, 6)
    t = report.totals()
    assert t["files_seen"] == 2
    assert t["appended_by_kind"]["turn"] == 6
    assert archive_rows(tmp_path, "SELECT COUNT(*) FROM compactions") == [(1,)]


def test_active_copy_that_grew_after_archiving_adds_only_its_new_turns(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    head = [meta(), context("gpt-5"), tokens(1, usage(100, 0, 10), usage(100, 0, 10))]
    write(home / "archived_sessions" / f"rollout-2026-04-01T10-00-00-{SID}.jsonl", *head)
    rollout(home, *head, tokens(2, usage(300, 0, 30), usage(200, 0, 20)))
    _, row = run_ingest(tmp_path, home)
    assert totals(row) == (300, 0, 30, 0, 2)


# ------------------------------------------------------------------------------- incremental


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_reading_in_two_pieces_equals_one_read(tmp_path: Path, name: str) -> None:
    """At every line boundary, a read of the first part plus a read of the appended rest yields
    exactly the records of one read (the cursor state carries totals, model, session and gate)."""
    data = (FIXTURES / name).read_bytes()
    whole = read(FIXTURES / name)
    cuts = [i + 1 for i, b in enumerate(data) if b == 0x0A][:-1]
    for cut in cuts:
        path = tmp_path / f"cut{cut}" / Path(name).name
        path.parent.mkdir()
        path.write_bytes(data[:cut])
        first = read(path)
        assert first.cursor is not None
        orjson.dumps(dict(first.cursor.state))  # JSON-able
        with open(path, "ab") as f:
            f.write(data[cut:])
        second = read(path, first.cursor)
        assert [*first.records, *second.records] == list(whole.records), f"cut at byte {cut}"
        assert first.diagnostics.dropped + second.diagnostics.dropped == whole.diagnostics.dropped


def test_incremental_ingest_appends_only_new_deltas_and_a_noop_reads_nothing(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    lines = (FIXTURES / ACCOUNTING).read_bytes().splitlines(keepends=True)
    path = home / ACCOUNTING.split("/", 1)[1]
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(lines[:6]))
    _, row = run_ingest(tmp_path, home)
    assert totals(row) == (200, 100, 30, 5, 2)
    with open(path, "ab") as f:
        f.write(b"".join(lines[6:]))
    report, row = run_ingest(tmp_path, home)
    assert totals(row) == (390, 130, 53, 8, 6)
    assert report.totals()["lines_read"] == len(lines) - 6
    assert report.totals()["appended_by_kind"]["turn"] == 4
    again, row = run_ingest(tmp_path, home)
    assert again.totals()["lines_read"] == 0
    assert again.totals()["records_appended"] == 0
    assert totals(row) == (390, 130, 53, 8, 6)


def test_rewritten_file_is_read_again_and_its_ids_repeat(tmp_path: Path) -> None:
    t = usage(100, 0, 10)
    path = rollout(tmp_path, meta(), context("gpt-5"), tokens(1, t, t))
    first = read(path)
    assert first.cursor is not None
    rollout(tmp_path, meta(cwd="/elsewhere"), context("gpt-5"), tokens(1, t, t), tokens(2, usage(150, 0, 15)))
    second = read(path, first.cursor)
    assert second.diagnostics.rereads["rewritten_or_truncated"] == 1
    ids = [r.event_id() for r in second.records if isinstance(r, Turn)]
    assert ids[0] == next(r.event_id() for r in first.records if isinstance(r, Turn)) and len(ids) == 2


# ---------------------------------------------------------------------------------- privacy


def test_git_remote_credentials_never_reach_the_ledger(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    rollout(
        home,
        meta(git={"repository_url": "https://user:ghp_secret@github.com/acme/api.git", "branch": "main"}),
        context("gpt-5"),
        line("event_msg", {"type": "user_message", "message": "deploy with token ghp_prompt_secret"}, 1),
        tokens(2, usage(100, 0, 10), usage(100, 0, 10)),
    )
    run_ingest(tmp_path, home)
    ledger = (tmp_path / "burn" / "ledger.jsonl").read_bytes()
    assert b"ghp_secret" not in ledger and b"user:" not in ledger
    assert b"ghp_prompt_secret" not in ledger  # prompts are sizes and hashes only
    assert b"github.com/acme/api" in ledger
    assert archive_rows(tmp_path, "SELECT git_remote FROM sessions") == [("github.com/acme/api",)]
    for f in (tmp_path / "burn").iterdir():
        if f.is_file():
            assert b"ghp_secret" not in f.read_bytes(), f.name


def test_tool_arguments_and_outputs_are_never_stored(tmp_path: Path) -> None:
    _, _ = run_ingest(tmp_path, fixture_home(tmp_path, "subagent"))
    ledger = (tmp_path / "burn" / "ledger.jsonl").read_bytes()
    assert b"ghp_never_stored" not in ledger and b"GITHUB_TOKEN" not in ledger
    assert b"checkout.ts" not in ledger and b"Map the checkout flow" not in ledger


# ------------------------------------------------------------------------------- bad input


def test_bad_lines_are_counted_by_reason(tmp_path: Path) -> None:
    bad_utf8 = line("event_msg", {"type": "user_message", "message": "caf\u00e9"}, 2).replace(
        "é".encode(), b"\xe9"
    )
    path = rollout(
        tmp_path,
        meta(),
        context("gpt-5"),
        tokens(1, usage(100, 0, 10), usage(100, 0, 10)),
        b"[1, 2]",
        b'{"timestamp":"2026-04-01T10:00:03.000Z","type":"event_msg","payload":"token_count"}',
        b'{"timestamp":"2026-04-01T10:00:03.000Z","type":"event_msg"}',
        tokens(4, {"input_tokens": "999", "output_tokens": 1}),  # type: ignore[dict-item]
        line("event_msg", {"type": "token_count", "info": [1]}, 4),
        b"not json at all",
        b"",
        bad_utf8,
        tokens(5, usage(300, 0, 30), usage(200, 0, 20)),
    )
    result = read(path)
    d = result.diagnostics
    assert d.invalid == {"wrong_type": 5, "invalid_json": 1}
    assert d.repaired == {"invalid_utf8": 1}
    assert d.lines_read == 12
    # the wrongly typed events left the running totals alone
    assert [vec(t) for t in of(result.records, Turn)] == [(100, 0, 10, 0), (200, 0, 20, 0)]
    assert len(of(result.records, UserTurn)) == 1


def never_raises_lines() -> st.SearchStrategy[bytes]:
    scalars = st.none() | st.booleans() | st.integers(-5, 2**64 - 1) | st.text(max_size=8)
    values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    )
    token_usage = st.dictionaries(
        st.sampled_from(["input_tokens", "cached_input_tokens", "output_tokens", "total_tokens"]), values
    )
    payload = st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["token_count", "user_message", "function_call", "function_call_output", "message", "x"]
            )
            | values
        },
        optional={
            "info": st.none()
            | st.fixed_dictionaries(
                {}, optional={"total_token_usage": token_usage, "last_token_usage": token_usage}
            )
            | values,
            "id": values,
            "source": values,
            "forked_from_id": values,
            "message": values,
            "output": values,
            "arguments": values,
            "call_id": values,
            "model": values,
            "turn_id": values,
        },
    )
    envelope = st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["session_meta", "turn_context", "event_msg", "response_item", "compacted"]
            )
            | values,
            "payload": payload | values,
        },
        optional={
            "timestamp": st.sampled_from(["2026-04-01T10:00:00.000Z", "2026-04-01T09:00:00Z"]) | values
        },
    )
    return envelope.map(lambda d: orjson.dumps(d, default=str)) | st.binary(max_size=30).map(
        lambda b: b.replace(b"\n", b"")
    )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(never_raises_lines(), max_size=8))
def test_read_never_raises(tmp_path: Path, lines: list[bytes]) -> None:
    path = write(tmp_path / "sessions" / "fuzz.jsonl", *lines)
    result = read(path)
    assert result.diagnostics.invalid["unparseable"] == 0  # no bug-level surprise on any line
    assert result.diagnostics.records == len(result.records)
    assert result.cursor is not None and result.cursor.offset == path.stat().st_size
    orjson.dumps(dict(result.cursor.state))
    for record in result.records:
        orjson.dumps(to_dict(record))


# ----------------------------------------------------------------------------- legacy, misc


def test_legacy_rollout_has_a_session_but_no_turns(tmp_path: Path) -> None:
    result = read(FIXTURES / LEGACY)
    assert of(result.records, Turn) == []
    (info,) = of(result.records, SessionInfo)
    assert (info.session_id, info.git_branch, info.git_remote, info.classification, info.first_seen_ts) == (
        "1e9ac000-0000-4000-8000-000000000001",
        "legacy",
        "github.com/acme/legacy",
        None,
        "2025-06-01T08:30:00.000Z",
    )
    users = of(result.records, UserTurn)
    assert [u.is_meta for u in users] == [True, False]
    (call,) = of(result.records, ToolCall)
    assert (call.name, call.target, call.ts) == ("shell", "git", "2025-06-01T08:30:00.000Z")
    (res,) = of(result.records, ToolResultEvent)
    assert res.status == "error"
    assert not result.diagnostics.invalid


def test_file_without_session_meta_gets_a_minimal_session_from_its_name(tmp_path: Path) -> None:
    path = rollout(tmp_path, context("gpt-5"), tokens(1, usage(100, 0, 10), usage(100, 0, 10)))
    result = read(path)
    assert isinstance(result.records[0], SessionInfo)
    assert result.records[0].session_id == SID and result.records[0].first_seen_ts == at(0)
    assert of(result.records, Turn)[0].session_id == SID


def test_user_turns_are_sizes_and_hashes(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        meta(),
        line(
            "event_msg",
            {"type": "user_message", "message": "fix it", "images": ["data:image/png;base64,AAAA"]},
            1,
        ),
        line("event_msg", {"type": "user_message", "message": "fix it"}, 2),
        line(
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]},
            2,
        ),
    )
    users = of(read(path).records, UserTurn)
    assert len(users) == 2  # response_item copies of prompts are not user turns
    assert [(b.kind, b.byte_length) for b in users[0].blocks] == [("text", 6), ("image", 26)]
    assert users[0].blocks[0].content_hash == users[1].blocks[0].content_hash
    assert users[0].user_uuid != users[1].user_uuid


def test_tool_targets_hashes_and_error_status(tmp_path: Path) -> None:
    args = '{"command":["bash","-lc","FOO=bar npm test -- --token=abc"],"workdir":"/w"}'
    path = rollout(
        tmp_path,
        meta(),
        line(
            "response_item", {"type": "function_call", "name": "shell", "arguments": args, "call_id": "c1"}, 1
        ),
        line(
            "response_item",
            {"type": "function_call_output", "call_id": "c1", "output": "Exit code: 2\nboom"},
            2,
        ),
        line(
            "response_item",
            {
                "type": "function_call",
                "name": "read_file",
                "arguments": '{"path":"/w/a.py"}',
                "call_id": "c2",
            },
            3,
        ),
        line(
            "response_item",
            {"type": "function_call_output", "call_id": "c2", "output": {"content": "x", "success": False}},
            4,
        ),
        line(
            "response_item",
            {
                "type": "local_shell_call",
                "call_id": "c3",
                "status": "completed",
                "action": {"type": "exec", "command": ["ls", "-la"]},
            },
            5,
        ),
        line(
            "response_item",
            {"type": "function_call", "name": "mcp__db__query", "arguments": "{}", "call_id": "c4"},
            6,
        ),
        line(
            "response_item",
            {"type": "function_call_output", "call_id": "c4", "output": "Process exited with code 0"},
            7,
        ),
    )
    records = read(path).records
    calls = of(records, ToolCall)
    assert [(c.name, c.target) for c in calls] == [
        ("shell", "npm"),
        ("read_file", "/w/a.py"),
        ("local_shell", "ls"),
        ("mcp__db__query", None),
    ]
    assert calls[0].args_hash == hashlib.sha256(args.encode()).hexdigest()[:32]
    assert [r.status for r in of(records, ToolResultEvent)] == ["error", "error", "ok"]
    assert of(records, ToolResultEvent)[0].content_length == len("Exit code: 2\nboom")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"originator": "codex_exec", "source": "exec"}, "automated"),
        ({"originator": "codex_cli_rs", "source": "exec"}, "automated"),
        ({"originator": "codex_cli_rs", "source": "mcp"}, "automated"),
        ({"originator": "codex_vscode", "source": "vscode"}, "interactive"),
        ({"originator": "codex_cli_rs", "source": "cli"}, "interactive"),
    ],
)
def test_classification(tmp_path: Path, extra: dict[str, Any], expected: str) -> None:
    (info,) = of(read(rollout(tmp_path, meta(**extra))).records, SessionInfo)
    assert info.classification == expected


def test_timestamps_and_uuid7() -> None:
    assert normalize_ts("2026-04-01T12:00:00+02:00") == "2026-04-01T10:00:00.000Z"
    assert normalize_ts("2026-04-01T10:00:00.123456Z") == "2026-04-01T10:00:00.123Z"
    assert normalize_ts(5) is None and normalize_ts("yesterday") is None
    assert uuid7_ts("019ca90e-1b80-7bbb-8bbb-bbbbbbbbbbbb") == "2026-03-01T11:00:00.000Z"
    assert uuid7_ts("5a1e0000-0000-4000-8000-00000000000a") is None  # v4


# -------------------------------------------------------------------------------- discovery


def test_locations_from_env_and_default(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert locations({}, home) == [home / ".codex"]
    a, b = tmp_path / "a", tmp_path / "b"
    assert locations({"CODEX_HOME": f" {a} ,,{b},{a}"}, home) == [a, b]
    assert locations({"CODEX_HOME": str(a / "sessions")}, home) == [a]


def test_discover_layouts_and_order(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    dated = rollout(home, meta())
    flat = write(home / "sessions" / "rollout-2025-06-01-1e9ac000-0000-4000-8000-000000000002.jsonl", b"{}")
    archived = write(home / "archived_sessions" / "rollout-2026-01-01T00-00-00-x.jsonl", b"{}")
    write(home / "history.jsonl", b"{}")
    write(home / "sessions" / "notes.txt", b"")
    other = tmp_path / "other"
    extra = rollout(
        other, meta("c0de0000-0000-4000-8000-000000000009"), sid="c0de0000-0000-4000-8000-000000000009"
    )
    diag = Diagnostics()
    reader = CodexReader()
    units = sorted(
        reader.discover(reader.locations({"CODEX_HOME": f"{home},{other},{home}"}, tmp_path), diag),
        key=lambda u: (u.order, u.key),
    )
    assert [u.path for u in units] == [*sorted([dated, flat, extra]), archived]
    assert [u.order for u in units] == [ORDER_ACTIVE, ORDER_ACTIVE, ORDER_ACTIVE, ORDER_ARCHIVED]
    assert units[-1].hints["archived"] == "1"
    by_path = {u.path: u for u in units}
    assert by_path[dated].hints["session_id"] == SID
    assert not diag.invalid


def test_discover_skips_and_counts_what_is_not_a_regular_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "codex"
    good = rollout(home, meta())
    day = home / DAY
    os.mkfifo(day / "rollout-fifo.jsonl")
    (day / "dir.jsonl").mkdir()
    (day / "dangling.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    locked = home / "sessions" / "2026" / "05"
    write(locked / "01" / "rollout-locked.jsonl", meta())
    real_scandir = os.scandir

    def scandir(path: Any) -> Iterator[os.DirEntry[str]]:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    diag = Diagnostics()
    assert [u.path for u in CodexReader().discover([home, tmp_path / "missing"], diag)] == [good]
    assert diag.invalid == {"not_a_file": 3, "unreadable": 1}


def test_discover_survives_symlink_loops(tmp_path: Path) -> None:
    home = tmp_path / "codex"
    good = rollout(home, meta())
    (home / DAY / "loop").symlink_to(home / "sessions")
    diag = Diagnostics()
    assert [u.path for u in CodexReader().discover([home], diag)] == [good]


def test_read_of_a_fifo_or_missing_file_does_not_block_or_raise(tmp_path: Path) -> None:
    fifo = tmp_path / "sessions" / "f.jsonl"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    assert read(fifo).diagnostics.invalid == {"not_a_file": 1}
    assert read(tmp_path / "missing.jsonl").diagnostics.invalid == {"unreadable": 1}


def test_compactions_pair_a_line_and_its_event_once(tmp_path: Path) -> None:
    compacted = line("compacted", {"message": "summary", "replacement_history": []}, 1)
    event = line("event_msg", {"type": "context_compacted"}, 1)
    path = rollout(
        tmp_path,
        meta(),
        compacted,
        event,  # the same compaction
        context("gpt-5", 2),
        event,  # the event first this time
        compacted,
        compacted,  # a second compaction right away: counted
    )
    found = of(read(path).records, Compaction)
    assert len(found) == 3
    assert len({c.event_id() for c in found}) == 3
    assert all(c.trigger is None and c.tokens_before is None for c in found)
