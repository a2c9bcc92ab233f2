"""The Claude Code reader, rule by rule, on hand-written fixtures (FORMATS.md §1, DESIGN §5).

Lines are built in the shapes the real transcripts have (see ../shared/samples/claude); one
hand-written file, tests/fixtures/claude/spaced_and_broken.jsonl, holds pretty-spaced JSON and
broken lines as a fixture author would write them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import burn_claude
from burn.convert import to_dict
from burn.ledger.merge import merge
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit
from burn.readkit import normalize_ts
from burn.records import Compaction, SessionInfo, ToolCall, ToolResultEvent, Turn, UserTurn
from burn_claude import ClaudeReader
from burn_claude.discover import ORDER_MAIN, ORDER_SUBAGENT, unit_for
from tests.claude_fold import Folded, fold_records, fold_units

FIXTURES = Path(__file__).parent / "fixtures" / "claude"
SID = "0a1b2c3d-0000-4000-8000-000000000001"
SID2 = "0a1b2c3d-0000-4000-8000-000000000002"
CWD = "/home/dev/projects/demo"
T0 = "2026-03-01T10:00:00.000Z"


# ------------------------------------------------------------------------------------ builders


def ts(second: int) -> str:
    return f"2026-03-01T10:{second // 60:02d}:{second % 60:02d}.000Z"


def envelope(kind: str, *, session: str = SID, at: str | None = T0, **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": CWD,
        "sessionId": session,
        "version": "2.1.39",
        "gitBranch": "main",
        "slug": "brisk-testing-otter",
        "type": kind,
    }
    if at is not None:
        line["timestamp"] = at
    line.update(extra)
    return line


def usage(output: int, **over: Any) -> dict[str, Any]:
    u: dict[str, Any] = {
        "input_tokens": 3,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 5000,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        "output_tokens": output,
        "service_tier": "standard",
    }
    u.update(over)
    return {k: v for k, v in u.items() if v is not _ABSENT}


_ABSENT: Any = object()


def assistant(
    mid: str | None,
    rid: str | None,
    output: int = 10,
    *,
    u: dict[str, Any] | None = None,
    content: list[dict[str, Any]] | None = None,
    model: Any = "claude-sonnet-4-5-20250929",
    stop: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content if content is not None else [{"type": "text", "text": "working on it"}],
        "stop_reason": stop,
        "usage": u if u is not None else usage(output),
    }
    if mid is not None:
        msg["id"] = mid
    if model is _ABSENT:
        del msg["model"]
    line = envelope("assistant", uuid=f"a-{mid}-{output}", message=msg, **extra)
    if rid is not None:
        line["requestId"] = rid
    return line


def user(uuid: str, content: Any, **extra: Any) -> dict[str, Any]:
    return envelope("user", uuid=uuid, message={"role": "user", "content": content}, **extra)


def tool_use(tid: str, name: str, args: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": tid, "name": name, "input": args}


def progress_copy(inner: dict[str, Any], agent: str, *, tool: str = "toolu_task_1") -> dict[str, Any]:
    """A 2.1.x agent_progress line carrying a subagent's line (inner holds requestId/timestamp)."""
    nested = {k: inner[k] for k in ("type", "message", "requestId", "uuid", "timestamp") if k in inner}
    return envelope(
        "progress",
        at=inner.get("timestamp"),
        data={
            "message": nested,
            "normalizedMessages": [],
            "type": "agent_progress",
            "prompt": "p",
            "agentId": agent,
        },
        toolUseID="agent_msg_1",
        parentToolUseID=tool,
        uuid=f"p-{inner.get('uuid')}",
    )


def encode(line: dict[str, Any] | bytes | str) -> bytes:
    if isinstance(line, bytes):
        return line if line.endswith(b"\n") else line + b"\n"
    if isinstance(line, str):
        return line.encode() + b"\n"
    return orjson.dumps(line) + b"\n"


def write(path: Path, *lines: dict[str, Any] | bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(encode(x) for x in lines))
    return path


def append(path: Path, *lines: dict[str, Any] | bytes | str) -> None:
    with open(path, "ab") as f:
        f.write(b"".join(encode(x) for x in lines))


def main_file(tmp_path: Path, *lines: dict[str, Any] | bytes | str, session: str = SID) -> Path:
    return write(tmp_path / "projects" / "-home-dev-projects-demo" / f"{session}.jsonl", *lines)


def read(path: Path, cursor: FileCursor | None = None) -> ReadResult:
    return ClaudeReader().read(unit_for(path), cursor)


def of(result: ReadResult | Folded, cls: type[Any]) -> list[Any]:
    records = result.records.values() if isinstance(result, Folded) else result.records
    return [r for r in records if isinstance(r, cls)]


def sha32(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


# --------------------------------------------------------------------------------- the plugin


def test_plugin_registers_the_reader_through_its_hook() -> None:
    got: list[Reader] = []
    burn_claude.register_readers(got.append)
    (reader,) = got
    assert isinstance(reader, Reader)
    assert (reader.name, reader.env_var) == ("claude-code", "CLAUDE_CONFIG_DIR")


# ---------------------------------------------------------------------------- streaming split


def test_streaming_split_collapses_to_the_max_output_line(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_A", "req_A", 8, at=ts(1)),
        assistant("msg_A", "req_A", 8, at=ts(2), content=[tool_use("toolu_1", "Read", {"file_path": "/a"})]),
        assistant("msg_A", "req_A", 780, at=ts(3), stop="tool_use"),
        assistant("msg_A", "req_A", 10, at=ts(4)),  # a late partial snapshot never wins
    )
    result = read(path)
    (turn,) = of(result, Turn)
    assert turn.usage.output == 780
    assert turn.stop_reason == "tool_use"  # other fields from the winning line
    assert turn.ts == ts(1)  # attributed to the earliest sighting, as the core's merge does
    assert (turn.message_id, turn.request_id) == ("msg_A", "req_A")
    assert result.diagnostics.dropped["streaming_split"] == 3
    (call,) = of(result, ToolCall)
    assert (call.message_id, call.ts) == ("msg_A", ts(2))


def test_equal_output_prefers_the_larger_total(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_A", "req_A", 50, u=usage(50, cache_read_input_tokens=10), at=ts(1)),
        assistant("msg_A", "req_A", 50, u=usage(50, cache_read_input_tokens=90), at=ts(2)),
    )
    (turn,) = of(read(path), Turn)
    assert turn.usage.cache_read == 90


def test_an_equal_snapshot_keeps_the_first_sighting_as_the_core_merge_does(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_A", "req_A", 50, at=ts(1), stop=None),
        assistant("msg_A", "req_A", 50, at=ts(2), stop="end_turn"),
    )
    result = read(path)
    (turn,) = of(result, Turn)
    assert (turn.stop_reason, turn.ts) == (None, ts(1))
    assert result.diagnostics.dropped["streaming_split"] == 1


@pytest.mark.parametrize("late_output", [5, 500])
def test_an_out_of_order_earlier_sighting_takes_the_attribution(tmp_path: Path, late_output: int) -> None:
    """A copy written with an earlier timestamp further down the file (e.g. history copied on
    resume into another session) owns the turn, whichever snapshot has the most output."""
    path = main_file(
        tmp_path,
        assistant("msg_A", "req_A", 50, at=ts(30), session=SID),
        assistant("msg_A", "req_A", late_output, at=ts(1), session=SID2, isSidechain=True),
    )
    (turn,) = of(read(path), Turn)
    assert (turn.ts, turn.session_id, turn.is_sidechain) == (ts(1), SID2, True)
    assert turn.usage.output == max(50, late_output)


def test_same_message_id_with_different_request_ids_are_two_turns(tmp_path: Path) -> None:
    path = main_file(tmp_path, assistant("msg_A", "req_1", 5), assistant("msg_A", "req_2", 5))
    assert len(of(read(path), Turn)) == 2


def test_reading_line_by_line_equals_reading_at_once(tmp_path: Path) -> None:
    """In-read collapse follows the core's merge: where reads stop never changes the result."""
    lines: list[dict[str, Any]] = [
        user("u1", "first prompt", at=ts(0)),
        assistant("msg_A", "req_A", 1, at=ts(1)),
        assistant("msg_A", "req_A", 300, at=ts(2), content=[tool_use("toolu_1", "Bash", {"command": "ls"})]),
        user("u2", [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a\nb"}], at=ts(3)),
        assistant("msg_B", "req_B", 7, at=ts(4)),
        progress_copy(assistant("msg_S", "req_S", 2, at=ts(5), isSidechain=True), "abc1234"),
        progress_copy(assistant("msg_S", "req_S", 40, at=ts(6), isSidechain=True), "abc1234"),
        assistant("msg_B", "req_B", 90, at=ts(7)),
        user("u3", "thanks", at=ts(8)),
        envelope(
            "system", at=ts(9), subtype="compact_boundary", uuid="cb1", compactMetadata={"trigger": "manual"}
        ),
        assistant("msg_C", "req_C", 5, at=ts(10)),
    ]
    whole = main_file(tmp_path / "whole", *lines)
    expected = fold_units(ClaudeReader(), [unit_for(whole)]).records
    for step in (1, 2, 3):
        path = main_file(tmp_path / f"step{step}", *lines[:step])
        best: dict[str, Any] = {}
        cursor = None
        for i in range(0, len(lines), step):
            if i:
                append(path, *lines[i : i + step])
            result = read(path, cursor)
            cursor = result.cursor
            fold_records(best, result.records)
        diff = {k: (v, best.get(k)) for k, v in expected.items() if best.get(k) != v}
        assert best == expected, f"step {step}: {diff}"


# ---------------------------------------------------------- copies across files (global dedupe)


def test_progress_copy_and_subagent_file_are_one_turn_in_one_session(tmp_path: Path) -> None:
    agent = "a881341"
    sub_lines = [
        assistant("msg_S", "req_S", 1, at=ts(5), isSidechain=True, agentId=agent),
        assistant("msg_S", "req_S", 120, at=ts(6), isSidechain=True, agentId=agent),
    ]
    main = main_file(
        tmp_path,
        assistant(
            "msg_P", "req_P", 9, at=ts(1), content=[tool_use("toolu_task_1", "Task", {"subagent_type": "x"})]
        ),
        progress_copy(sub_lines[0], agent),  # the parent only saw the first snapshot
    )
    sub = write(main.parent / SID / "subagents" / f"agent-{agent}.jsonl", *sub_lines)
    copy = of(read(main), Turn)
    own = of(read(sub), Turn)
    sub_session = f"{SID}/agent-{agent}"
    copied = next(t for t in copy if t.message_id == "msg_S")
    (from_file,) = own
    assert copied.event_id() == from_file.event_id()
    assert copied.session_id == from_file.session_id == sub_session
    assert copied.is_sidechain and copied.agent_id == agent
    folded = fold_units(ClaudeReader(), [unit_for(sub), unit_for(main)])
    (turn,) = [t for t in folded.turns() if t.message_id == "msg_S"]
    assert (turn.usage.output, turn.session_id, turn.ts) == (120, sub_session, ts(5))
    infos = {s.session_id: s for s in of(folded, SessionInfo)}
    assert infos[sub_session].relationship == "subagent"
    assert infos[sub_session].parent_session_id == SID
    assert infos[sub_session].parent_tool_use_id == "toolu_task_1"  # from progress parentToolUseID


def test_resumed_session_copy_is_one_turn_attributed_to_the_earliest(tmp_path: Path) -> None:
    original = main_file(tmp_path, assistant("msg_R", "req_R", 50, at=ts(1), session=SID2), session=SID2)
    resumed = main_file(
        tmp_path,
        assistant("msg_R", "req_R", 50, at=ts(1), session=SID),  # history copied into the new file
        assistant("msg_N", "req_N", 5, at=ts(30), session=SID),
        session=SID,
    )
    for order in ([original, resumed], [resumed, original]):
        best: dict[str, Any] = {}
        for path in order:
            fold_records(best, read(path).records)
        turns = {t.message_id: t for t in best.values() if isinstance(t, Turn)}
        assert set(turns) == {"msg_R", "msg_N"}
        # Same timestamp on both copies: the core's merge breaks the tie by session id.
        assert turns["msg_R"].session_id == min(SID, SID2)
    rewritten = main_file(tmp_path / "b", assistant("msg_R", "req_R", 50, at=ts(40)), session=SID)
    best = {}
    for path in (rewritten, original):
        fold_records(best, read(path).records)
    (turn,) = [t for t in best.values() if isinstance(t, Turn)]
    assert (turn.session_id, turn.ts) == (SID2, ts(1))  # the earliest sighting wins


def test_synthetic_lines_are_skipped(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_X", None, 0, model="<synthetic>", u={"input_tokens": 0, "output_tokens": 0}),
        assistant("msg_Y", "req_Y", 3),
    )
    result = read(path)
    assert [t.message_id for t in of(result, Turn)] == ["msg_Y"]
    assert result.diagnostics.dropped["synthetic"] == 1


def test_btw_replay_is_flagged_sidechain_and_dropped_by_the_fold(tmp_path: Path) -> None:
    main = main_file(tmp_path, assistant("msg_M", "req_1", 200, at=ts(1)))
    aside = write(
        main.parent / SID / "subagents" / "agent-aside_question-1.jsonl",
        assistant("msg_M", "req_2", 200, at=ts(9), isSidechain=True, agentId="aside_question-1"),
        assistant("msg_Q", "req_3", 30, at=ts(10), isSidechain=True, agentId="aside_question-1"),
    )
    replay = next(t for t in of(read(aside), Turn) if t.message_id == "msg_M")
    assert replay.is_sidechain and replay.request_id == "req_2"
    folded = fold_units(ClaudeReader(), [unit_for(aside), unit_for(main)])
    kept = sorted((t.message_id, t.request_id, t.is_sidechain) for t in folded.turns())
    assert kept == [("msg_M", "req_1", False), ("msg_Q", "req_3", True)]
    assert folded.diagnostics.dropped["btw_replay"] == 1


def test_pre_2_0_sidechain_lines_stay_in_the_main_session(tmp_path: Path) -> None:
    path = main_file(tmp_path, assistant("msg_SC", "req_SC", 5, isSidechain=True))
    (turn,) = of(read(path), Turn)
    assert (turn.session_id, turn.is_sidechain, turn.agent_id) == (SID, True, None)


# ---------------------------------------------------------------------------------- usage mapping


@pytest.mark.parametrize(
    ("u", "expected", "fidelity", "notes"),
    [
        (usage(1), (100, 200), "full", ()),
        (
            usage(1, cache_creation={"ephemeral_1h_input_tokens": 200}),
            (100, 200),
            "full",
            ("cache_write_split_assumed_5m",),
        ),
        (usage(1, cache_creation={"ephemeral_1h_input_tokens": 300}), (0, 300), "full", ()),
        (usage(1, cache_creation={"ephemeral_5m_input_tokens": 300}), (300, 0), "full", ()),
        (
            usage(1, cache_creation={"ephemeral_5m_input_tokens": 100}),
            (300, 0),
            "full",
            ("cache_write_split_assumed_5m",),
        ),
        (usage(1, cache_creation=_ABSENT), (300, 0), "full", ("cache_write_split_assumed_5m",)),
        (usage(1, cache_creation=_ABSENT, cache_creation_input_tokens=0), (0, 0), "full", ()),
        (usage(1, cache_creation=_ABSENT, cache_creation_input_tokens=_ABSENT), (None, None), "partial", ()),
    ],
)
def test_cache_write_split(
    tmp_path: Path,
    u: dict[str, Any],
    expected: tuple[int | None, int | None],
    fidelity: str,
    notes: tuple[str, ...],
) -> None:
    (turn,) = of(read(main_file(tmp_path, assistant("msg_A", "req_A", u=u))), Turn)
    assert (turn.usage.cache_write_5m, turn.usage.cache_write_1h) == expected
    assert (turn.fidelity.usage, turn.fidelity.notes) == (fidelity, notes)
    assert (turn.usage.input, turn.usage.output, turn.usage.cache_read, turn.usage.reasoning) == (
        3,
        1,
        5000,
        None,
    )


def test_web_search_speed_tier_cost_and_provider(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_W", "req_W", u=usage(5, server_tool_use={"web_search_requests": 3}, speed="fast")),
        assistant("msg_N", "req_N", u=usage(5, server_tool_use=None), costUSD=0.025),
        assistant("msg_E", "req_E", u=usage(5), costUSD=1e-05),
        assistant("msg_I", "req_I", u=usage(5, service_tier="priority"), costUSD=2),
        assistant("msg_B", "req_B", u=usage(5), costUSD=True),
        assistant("msg_S", "req_S", u=usage(5), costUSD="0.5"),
    )
    turns = {t.message_id: t for t in of(read(path), Turn)}
    assert turns["msg_W"].usage.web_search_requests == 3
    assert turns["msg_W"].speed == "fast"
    assert turns["msg_N"].usage.web_search_requests is None and turns["msg_N"].speed is None
    assert {k: t.reported_cost_usd for k, t in turns.items()} == {
        "msg_W": None,
        "msg_N": "0.025",
        "msg_E": "0.00001",
        "msg_I": "2",
        "msg_B": None,
        "msg_S": None,
    }
    assert turns["msg_I"].service_tier == "priority" and turns["msg_N"].service_tier == "standard"
    assert {t.provider for t in turns.values()} == {"anthropic"}


@pytest.mark.parametrize("bad", [None, "17", True, -1, 1.5])
def test_wrongly_typed_token_counts_are_unknown_never_zero(tmp_path: Path, bad: Any) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_A", "req_A", u=usage(5, output_tokens=bad, input_tokens=bad)),
        assistant("msg_B", "req_B", u=usage(5)),
    )
    result = read(path)
    turns = {t.message_id: t for t in of(result, Turn)}
    bad_turn = turns["msg_A"]
    assert bad_turn.usage.output is None and bad_turn.usage.input is None
    assert bad_turn.usage.cache_read == 5000  # the rest of the line is kept
    assert bad_turn.fidelity.usage == "partial"
    assert turns["msg_B"].fidelity.usage == "full"
    assert result.diagnostics.invalid["wrong_type"] == (0 if bad is None else 1)  # once per line
    if bad is not None:
        assert any(w.endswith(f"{path}:1") for w in result.diagnostics.warnings)


def test_missing_model_is_unknown_with_a_note(tmp_path: Path) -> None:
    path = main_file(
        tmp_path, assistant("msg_A", "req_A", model=_ABSENT), assistant("msg_B", "req_B", model="")
    )
    turns = of(read(path), Turn)
    assert {t.model for t in turns} == {"unknown"}
    assert all("model_unknown" in t.fidelity.notes for t in turns)


def test_empty_usage_object_has_fidelity_none(tmp_path: Path) -> None:
    (turn,) = of(read(main_file(tmp_path, assistant("msg_A", None, u={}))), Turn)
    assert turn.usage == type(turn.usage)()
    assert turn.fidelity.usage == "none"


# ------------------------------------------------------------------------- malformed input


def test_pretty_spaced_json_and_broken_lines_fixture(tmp_path: Path) -> None:
    path = write(
        tmp_path / "projects" / "-work-app" / "spaced-0000.jsonl",
        (FIXTURES / "spaced_and_broken.jsonl").read_bytes(),
    )
    result = read(path)
    d = result.diagnostics
    turns = {t.message_id: t for t in of(result, Turn)}
    assert set(turns) == {"msg_spaced_1", "msg_spaced_3"}
    spaced = turns["msg_spaced_1"]
    assert (spaced.usage.output, spaced.usage.cache_write_5m, spaced.usage.cache_write_1h) == (412, 40, 60)
    assert spaced.usage.web_search_requests == 2
    assert d.dropped["streaming_split"] == 1
    typed = turns["msg_spaced_3"]
    assert (typed.usage.input, typed.usage.output, typed.usage.cache_read) == (None, None, None)
    assert typed.fidelity.usage == "partial"
    # invalid JSON (line 4), a JSON array (5), message as a string (6), content as a number (7),
    # wrongly typed token counts (8, kept); the blank line (9) is not an error.
    assert d.invalid == {"invalid_json": 1, "wrong_type": 4}
    assert any(w.endswith("spaced-0000.jsonl:4") for w in d.warnings)
    assert any(w.endswith("spaced-0000.jsonl:5") for w in d.warnings)
    assert d.lines_read == 10
    (info,) = of(result, SessionInfo)
    assert (info.title, info.git_branch, info.cwd) == ("Parser walkthrough", None, "/work/app")
    (call,) = of(result, ToolCall)
    assert call.target == "/work/app/parser.py"


def test_invalid_utf8_is_repaired_and_counted(tmp_path: Path) -> None:
    good = orjson.dumps(assistant("msg_U", "req_U", 4, content=[{"type": "text", "text": "caf\u00e9"}]))
    broken = good.replace("caf\u00e9".encode(), b"caf\xe9")  # latin-1 byte in a UTF-8 file
    path = main_file(tmp_path, broken, b'{"type":"assistant", "message": {"id": "x\xff')
    result = read(path)
    (turn,) = of(result, Turn)
    assert turn.message_id == "msg_U"
    assert result.diagnostics.repaired["invalid_utf8"] == 1
    assert result.diagnostics.invalid["invalid_json"] == 1


def test_lines_without_ids_are_identified_by_their_bytes(tmp_path: Path) -> None:
    line = assistant(None, None, 75)
    other = assistant(None, None, 76)
    path = main_file(tmp_path, line, line, other)
    result = read(path)
    turns = of(result, Turn)
    assert len(turns) == 2
    raw = orjson.dumps(line)
    assert turns[0].line_hash == sha32(raw)
    assert turns[0].event_id() != turns[1].event_id()
    assert result.diagnostics.dropped["duplicate_line"] == 1
    # The same line read again (another read, or the same line twice) is the same event.
    again = of(read(main_file(tmp_path / "again", line)), Turn)
    assert again[0].event_id() == turns[0].event_id()


def test_message_id_without_request_id_still_dedupes(tmp_path: Path) -> None:
    path = main_file(tmp_path, assistant("msg_A", None, 3), assistant("msg_A", None, 30))
    (turn,) = of(read(path), Turn)
    assert (turn.request_id, turn.line_hash, turn.usage.output) == (None, None, 30)


def test_timestamps_are_normalised_and_inherited(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_0", "req_0", at=None),  # nothing before it: skipped
        assistant("msg_1", "req_1", at="2026-03-01T12:00:00+02:00"),
        assistant("msg_2", "req_2", at=None),  # inherits the previous line's
        assistant("msg_3", "req_3", at="2026-03-01T10:00:01.123456Z"),
        assistant("msg_4", "req_4", at="not a time"),
    )
    result = read(path)
    got = {t.message_id: t.ts for t in of(result, Turn)}
    assert got == {
        "msg_1": "2026-03-01T10:00:00.000Z",
        "msg_2": "2026-03-01T10:00:00.000Z",
        "msg_3": "2026-03-01T10:00:01.123Z",
        "msg_4": "2026-03-01T10:00:01.123Z",
    }
    assert result.diagnostics.invalid["missing_timestamp"] == 1
    # The previous timestamp is remembered across reads.
    append(path, assistant("msg_5", "req_5", at=None))
    (late,) = of(read(path, result.cursor), Turn)
    assert late.ts == "2026-03-01T10:00:01.123Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-02-11T21:24:22.960Z", "2026-02-11T21:24:22.960Z"),
        ("2026-02-11T21:24:22Z", "2026-02-11T21:24:22.000Z"),
        ("2026-02-11T23:24:22.960+02:00", "2026-02-11T21:24:22.960Z"),
        ("2026-02-11T21:24:22.960999", "2026-02-11T21:24:22.960Z"),
        ("2026-02-11", "2026-02-11T00:00:00.000Z"),
        ("yesterday", None),
        (1_770_000_000, None),
        (None, None),
    ],
)
def test_normalize_ts(value: object, expected: str | None) -> None:
    assert normalize_ts(value) == expected


def never_raises_lines() -> st.SearchStrategy[bytes]:
    ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)
    scalars = st.none() | st.booleans() | ints | st.floats(allow_nan=False) | st.text(max_size=8)
    values = st.recursive(
        scalars,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=8,
    )
    keys = st.sampled_from(
        [
            "type",
            "message",
            "usage",
            "content",
            "timestamp",
            "sessionId",
            "data",
            "requestId",
            "uuid",
            "isSidechain",
            "agentId",
            "toolUseResult",
            "subtype",
            "compactMetadata",
            "costUSD",
            "summary",
        ]
    )
    kinds = st.sampled_from(["assistant", "user", "progress", "system", "summary", "custom-title", None])
    shaped = st.fixed_dictionaries(
        {
            "type": kinds,
            "timestamp": st.sampled_from([T0, None, 5, "x"]),
            "message": values
            | st.fixed_dictionaries(
                {
                    "id": values,
                    "model": values,
                    "usage": values
                    | st.dictionaries(
                        st.sampled_from(
                            [
                                "input_tokens",
                                "output_tokens",
                                "cache_creation",
                                "cache_creation_input_tokens",
                                "cache_read_input_tokens",
                                "server_tool_use",
                                "speed",
                            ]
                        ),
                        values,
                        max_size=5,
                    ),
                    "content": values
                    | st.lists(
                        st.dictionaries(
                            st.sampled_from(
                                ["type", "id", "name", "input", "tool_use_id", "content", "is_error", "text"]
                            ),
                            values | st.sampled_from(["tool_use", "tool_result", "text", "Bash", "WebFetch"]),
                            max_size=5,
                        ),
                        max_size=3,
                    ),
                }
            ),
        },
        optional={"data": values, "agentId": values, "isSidechain": values, "toolUseResult": values},
    )
    as_json = (shaped | st.dictionaries(keys, values, max_size=6)).map(lambda d: orjson.dumps(d, default=str))
    return as_json | st.binary(max_size=40).map(lambda b: b.replace(b"\n", b""))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(never_raises_lines(), max_size=8))
def test_read_never_raises(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "projects" / "p" / "fuzz.jsonl"
    write(path, *lines)
    result = read(path)
    assert result.diagnostics.records == len(result.records)
    assert result.diagnostics.invalid["unparseable"] == 0  # no bug-level surprise on any line
    assert result.cursor is not None and result.cursor.offset == path.stat().st_size


# ------------------------------------------------------------------------------------ tools


def test_tool_calls_have_targets_and_hashes_never_arguments(tmp_path: Path) -> None:
    calls = [
        tool_use("t_read", "Read", {"file_path": "/srv/app/settings.py", "offset": 10}),
        tool_use(
            "t_edit",
            "Edit",
            {"file_path": "/srv/app/a.py", "old_string": "SECRET_OLD", "new_string": "SECRET_NEW"},
        ),
        tool_use("t_write", "Write", {"file_path": "/srv/app/b.py", "content": "SECRET_BODY"}),
        tool_use("t_bash", "Bash", {"command": "API_KEY=SECRET_KEY curl -H 'x: SECRET_HDR' https://x"}),
        tool_use("t_grep", "Grep", {"pattern": "def main" + "x" * 300, "path": "/srv"}),
        tool_use("t_glob", "Glob", {"pattern": "**/*.py"}),
        tool_use(
            "t_fetch",
            "WebFetch",
            {"url": "https://user:SECRET_PW@docs.example.com:8443/p?token=SECRET_TOK", "prompt": "p"},
        ),
        tool_use("t_task", "Task", {"subagent_type": "general-purpose", "prompt": "SECRET_PROMPT"}),
        tool_use("t_mcp", "mcp__db__query", {"sql": "select SECRET_COL"}),
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "SECRET_Q"}},
        tool_use("t_read", "Read", {"file_path": "/dup"}),  # the same id again in this read
    ]
    path = main_file(tmp_path, assistant("msg_T", "req_T", 5, content=calls))
    got = {c.tool_use_id: c for c in of(read(path), ToolCall)}
    assert {k: c.target for k, c in got.items()} == {
        "t_read": "/srv/app/settings.py",
        "t_edit": "/srv/app/a.py",
        "t_write": "/srv/app/b.py",
        "t_bash": "curl",
        "t_grep": ("def main" + "x" * 300)[:200],
        "t_glob": "**/*.py",
        "t_fetch": "docs.example.com",
        "t_task": "general-purpose",
        "t_mcp": None,
        "srvtoolu_1": None,
    }
    assert got["t_mcp"].name == "mcp__db__query" and got["srvtoolu_1"].name == "web_search"
    args = calls[1]["input"]
    assert got["t_edit"].args_hash == sha32(orjson.dumps(args, option=orjson.OPT_SORT_KEYS))
    reordered = dict(reversed(list(args.items())))
    path2 = main_file(
        tmp_path / "2", assistant("msg_T", "req_T", 5, content=[tool_use("t_edit", "Edit", reordered)])
    )
    assert of(read(path2), ToolCall)[0].args_hash == got["t_edit"].args_hash
    assert all(c.message_id == "msg_T" and c.session_id == SID and c.ts == T0 for c in got.values())
    dumped = orjson.dumps([to_dict(c) for c in got.values()])
    assert b"SECRET" not in dumped


def test_tool_results_sizes_hashes_status_and_subagent_link(tmp_path: Path) -> None:
    text = "line one\nSECRET_OUTPUT ünïcode\n"
    blocks = [{"type": "text", "text": "SECRET_LIST_ITEM"}]
    path = main_file(
        tmp_path,
        user("u1", [{"type": "tool_result", "tool_use_id": "t1", "content": text}]),
        user("u2", [{"type": "tool_result", "tool_use_id": "t2", "content": blocks, "is_error": True}]),
        user(
            "u3",
            [
                {
                    "type": "tool_result",
                    "tool_use_id": "t3",
                    "content": [{"type": "text", "text": "agentId: abc"}],
                }
            ],
            toolUseResult={"status": "completed", "agentId": "abc", "content": []},
        ),
        user(
            "u4",
            [{"type": "tool_result", "tool_use_id": "t4", "content": "x", "is_error": None}],
            toolUseResult="Error: x",
        ),
    )
    results = {r.tool_use_id: r for r in of(read(path), ToolResultEvent)}
    assert results["t1"].content_length == len(text.encode())
    assert results["t1"].content_hash == sha32(text.encode())
    assert results["t1"].status == "ok" and results["t1"].subagent_session_id is None
    assert results["t2"].status == "error"
    assert results["t2"].content_length == len(orjson.dumps(blocks))
    assert results["t3"].subagent_session_id == f"{SID}/agent-abc"
    assert results["t4"].status == "ok"
    assert b"SECRET" not in orjson.dumps([to_dict(r) for r in results.values()])


# ------------------------------------------------------------------------------- user turns


def test_user_turns_blocks_and_links(tmp_path: Path) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    path = main_file(
        tmp_path,
        user("u0", "SECRET_FIRST prompt é", at=ts(0)),
        assistant("msg_A", "req_A", 1, at=ts(1)),
        assistant("msg_A", "req_A", 9, at=ts(2)),
        user(
            "u1",
            [
                {"type": "tool_result", "tool_use_id": "t1", "content": "SECRET_RESULT", "is_error": True},
                image,
            ],
            at=ts(3),
        ),
        user("u2", [{"type": "text", "text": "<local-command-caveat>"}], at=ts(4), isMeta=True),
        assistant("msg_B", "req_B", 4, at=ts(5)),
        user("u3", "summary of SECRET things", at=ts(6), isCompactSummary=True),
        envelope("user", at=ts(7), message={"role": "user", "content": "no uuid: no user turn"}),
        progress_copy(user("u-sub", "SECRET_SUB prompt", at=ts(8)), "abc"),  # copies are not user turns
    )
    users = {u.user_uuid: u for u in of(read(path), UserTurn)}
    assert set(users) == {"u0", "u1", "u2", "u3"}
    first = users["u0"]
    n = len("SECRET_FIRST prompt é".encode())
    assert [(b.kind, b.byte_length, b.approx_tokens) for b in first.blocks] == [("text", n, -(-n // 4))]
    assert first.blocks[0].content_hash == sha32("SECRET_FIRST prompt é".encode())
    assert (first.preceding_message_id, first.following_message_id) == (None, "msg_A")
    u1 = users["u1"]
    assert [(b.kind, b.tool_use_id, b.is_error) for b in u1.blocks] == [
        ("tool_result", "t1", True),
        ("image", None, None),
    ]
    assert u1.blocks[0].byte_length == len(b"SECRET_RESULT")
    assert (u1.preceding_message_id, u1.following_message_id) == ("msg_A", "msg_B")
    assert users["u2"].is_meta and not users["u1"].is_meta
    assert (users["u2"].preceding_message_id, users["u2"].following_message_id) == ("msg_A", "msg_B")
    assert users["u3"].is_compact_summary
    assert (users["u3"].preceding_message_id, users["u3"].following_message_id) == ("msg_B", None)
    assert b"SECRET" not in orjson.dumps([to_dict(u) for u in users.values()])


def test_following_message_is_filled_on_a_later_read(tmp_path: Path) -> None:
    path = main_file(tmp_path, assistant("msg_A", "req_A", 3, at=ts(1)), user("u1", "next?", at=ts(2)))
    first = read(path)
    (u1,) = of(first, UserTurn)
    assert (u1.preceding_message_id, u1.following_message_id) == ("msg_A", None)
    assert first.cursor is not None and first.cursor.state["pending"]
    append(path, assistant("msg_B", "req_B", 3, at=ts(3)))
    second = read(path, first.cursor)
    (late,) = of(second, UserTurn)
    assert (late.user_uuid, late.session_id, late.following_message_id) == ("u1", SID, "msg_B")
    assert late.event_id() == u1.event_id()
    merged = merge(u1, late)
    assert isinstance(merged, UserTurn)
    assert (merged.preceding_message_id, merged.following_message_id, merged.blocks) == (
        "msg_A",
        "msg_B",
        u1.blocks,
    )
    assert second.cursor is not None and "pending" not in second.cursor.state
    # Nothing waits any more: a third read adds no user turn.
    append(path, assistant("msg_C", "req_C", 3, at=ts(4)))
    assert not of(read(path, second.cursor), UserTurn)


def test_pending_state_is_bounded(tmp_path: Path) -> None:
    path = main_file(tmp_path, *(user(f"u{i}", "hi", at=ts(i)) for i in range(200)))
    result = read(path)
    assert result.cursor is not None
    assert len(result.cursor.state["pending"]) == 64
    assert len(orjson.dumps(dict(result.cursor.state))) < 16_000


def test_sidechain_lines_do_not_link_to_main_chain_responses(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        assistant("msg_M1", "req_M1", 1, at=ts(1)),
        user("u_sc", "sidechain prompt", at=ts(2), isSidechain=True),
        assistant("msg_S1", "req_S1", 1, at=ts(3), isSidechain=True),
        user("u_main", "main prompt", at=ts(4)),
        assistant("msg_M2", "req_M2", 1, at=ts(5)),
    )
    users = {u.user_uuid: u for u in of(read(path), UserTurn)}
    assert (users["u_sc"].preceding_message_id, users["u_sc"].following_message_id) == (None, "msg_S1")
    assert (users["u_main"].preceding_message_id, users["u_main"].following_message_id) == (
        "msg_M1",
        "msg_M2",
    )


# ------------------------------------------------------------------------------ compactions


def test_compaction_boundary(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        envelope(
            "system",
            at=ts(5),
            subtype="compact_boundary",
            uuid="cb-1",
            logicalParentUuid="a-9",
            compactMetadata={"trigger": "auto", "preTokens": 167094, "postTokens": 9000},
        ),
        envelope(
            "system",
            at=ts(6),
            subtype="compact_boundary",
            uuid="cb-2",
            compactMetadata={"trigger": "manual", "preTokens": "x"},
        ),
        envelope("system", at=ts(7), subtype="turn_duration", durationMs=100),
    )
    got = {c.uuid: c for c in of(read(path), Compaction)}
    assert set(got) == {"cb-1", "cb-2"}
    assert (got["cb-1"].trigger, got["cb-1"].tokens_before, got["cb-1"].tokens_after, got["cb-1"].ts) == (
        "auto",
        167094,
        9000,
        ts(5),
    )
    assert (got["cb-2"].trigger, got["cb-2"].tokens_before, got["cb-2"].tokens_after) == (
        "manual",
        None,
        None,
    )
    assert got["cb-1"].session_id == SID


# ----------------------------------------------------------------------------- session info


def test_session_info_fields_and_classification(tmp_path: Path) -> None:
    path = main_file(
        tmp_path,
        envelope(
            "user",
            at=ts(3),
            uuid="u1",
            gitBranch="",
            message={"role": "user", "content": "hi"},
            entrypoint="cli",
        ),
        envelope(
            "user", at=ts(1), uuid="u0", gitBranch="feature/x", message={"role": "user", "content": "earlier"}
        ),
        {"type": "custom-title", "customTitle": "My rename", "sessionId": SID},
        {"type": "ai-title", "aiTitle": "Auto title", "sessionId": SID},
        {"type": "summary", "summary": "Old summary title", "leafUuid": "u1"},
        envelope(
            "user",
            session=SID2,
            at=ts(9),
            uuid="u9",
            message={"role": "user", "content": "x"},
            entrypoint="sdk-ts",
        ),
        {"type": "ai-title", "aiTitle": "Only an AI title", "sessionId": SID2},
        envelope(
            "user",
            session="no-entrypoint",
            at=ts(9),
            uuid="u8",
            message={"role": "user", "content": "x"},
            version="1.0.95",
        ),
    )
    result = read(path)
    infos = {s.session_id: s for s in of(result, SessionInfo)}
    assert len(of(result, SessionInfo)) == len(infos) == 3  # once per session per read
    s = infos[SID]
    assert (s.cwd, s.git_branch, s.harness_version, s.slug) == (
        CWD,
        "feature/x",
        "2.1.39",
        "brisk-testing-otter",
    )
    assert (s.title, s.first_seen_ts, s.relationship, s.parent_session_id) == (
        "My rename",
        ts(1),
        "root",
        None,
    )
    assert (s.originator, s.classification) == ("cli", "interactive")
    assert (infos[SID2].classification, infos[SID2].originator, infos[SID2].title) == (
        "automated",
        "sdk-ts",
        "Only an AI title",
    )
    assert (
        infos["no-entrypoint"].classification is None and infos["no-entrypoint"].harness_version == "1.0.95"
    )


def test_subagent_meta_sidecar_and_compaction_agent(tmp_path: Path) -> None:
    subdir = tmp_path / "projects" / "-p" / SID / "subagents"
    sub = write(subdir / "agent-a1.jsonl", assistant("msg_1", "req_1", 2, isSidechain=True, agentId="a1"))
    (subdir / "agent-a1.meta.json").write_text(
        '{"agentType": "Explore", "description": "d", "toolUseId": "toolu_parent_1"}'
    )
    compact = write(
        subdir / "agent-acompact-0f0f.jsonl",
        assistant("msg_2", "req_2", 2, isSidechain=True, agentId="acompact-0f0f"),
    )
    broken = write(subdir / "agent-b2.jsonl", assistant("msg_3", "req_3", 2, isSidechain=True, agentId="b2"))
    (subdir / "agent-b2.meta.json").write_text("{not json")
    (info,) = of(read(sub), SessionInfo)
    assert (info.session_id, info.relationship, info.parent_session_id, info.agent_id) == (
        f"{SID}/agent-a1",
        "subagent",
        SID,
        "a1",
    )
    assert (info.agent_type, info.parent_tool_use_id) == ("Explore", "toolu_parent_1")
    (cinfo,) = of(read(compact), SessionInfo)
    assert (cinfo.session_id, cinfo.agent_type) == (f"{SID}/agent-acompact-0f0f", "compaction")
    result = read(broken)
    (binfo,) = of(result, SessionInfo)
    assert binfo.agent_type is None and binfo.session_id == f"{SID}/agent-b2"
    assert any("agent-b2.meta.json" in w for w in result.diagnostics.warnings)
    # The sidecar is a companion of the unit: written later, it is reported on the next read
    # even though the transcript did not grow.
    unit = unit_for(broken)
    assert unit.companions == (str(subdir / "agent-b2.meta.json"),)
    (subdir / "agent-b2.meta.json").write_text('{"agentType": "Plan", "toolUseId": "toolu_parent_2"}')
    again = ClaudeReader().read(unit, result.cursor)
    assert not of(again, Turn)
    (late,) = of(again, SessionInfo)
    assert (late.session_id, late.agent_type, late.parent_tool_use_id) == (
        f"{SID}/agent-b2",
        "Plan",
        "toolu_parent_2",
    )


def test_flat_2_0_agent_file_uses_the_line_session_as_parent(tmp_path: Path) -> None:
    path = write(
        tmp_path / "projects" / "-p" / "agent-f00d.jsonl",
        assistant("msg_1", "req_1", 2, isSidechain=True, agentId="f00d", session=SID),
    )
    (turn,) = of(read(path), Turn)
    assert (turn.session_id, turn.agent_id, turn.is_sidechain) == (f"{SID}/agent-f00d", "f00d", True)
    (info,) = of(read(path), SessionInfo)
    assert (info.parent_session_id, info.relationship) == (SID, "subagent")


def test_main_session_falls_back_to_the_file_stem(tmp_path: Path) -> None:
    line = assistant("msg_1", "req_1", 2)
    del line["sessionId"]
    (turn,) = of(read(main_file(tmp_path, line, session="stem-session")), Turn)
    assert turn.session_id == "stem-session"


# -------------------------------------------------------------------------- incremental reads


def test_appended_lines_yield_only_new_records(tmp_path: Path) -> None:
    path = main_file(tmp_path, assistant("msg_1", "req_1", 5, at=ts(1)), user("u1", "go", at=ts(2)))
    first = read(path)
    assert first.diagnostics.files_read == 1 and first.diagnostics.records == len(first.records)
    append(path, assistant("msg_2", "req_2", 5, at=ts(3)), assistant("msg_3", "req_3", 5, at=ts(4)))
    second = read(path, first.cursor)
    assert [t.message_id for t in of(second, Turn)] == ["msg_2", "msg_3"]
    assert second.diagnostics.lines_read == 2
    third = read(path, second.cursor)
    assert third.records == [] and third.diagnostics.lines_read == 0


def test_rewritten_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    path = main_file(tmp_path, assistant("msg_1", "req_1", 5, at=ts(1)), user("u1", "waiting", at=ts(2)))
    first = read(path)
    assert first.cursor is not None and first.cursor.state.get("pending")
    # Claude Code rewrote the transcript in place (resume/compaction): same name, other bytes.
    write(path, assistant("msg_9", "req_9", 5, at=ts(9)))
    second = read(path, first.cursor)
    assert [t.message_id for t in of(second, Turn)] == ["msg_9"]
    assert second.diagnostics.rereads["rewritten_or_truncated"] == 1
    assert not of(second, UserTurn)  # the old pending user turn was not carried into the new file
    # Truncated below the cursor: read from the start as well.
    path.write_bytes(b"")
    third = read(path, second.cursor)
    assert third.records == [] and third.cursor is not None and third.cursor.offset == 0


def test_incremental_warning_has_the_file_line_number(tmp_path: Path) -> None:
    path = main_file(tmp_path, *(assistant(f"msg_{i}", f"req_{i}", 1) for i in range(4)))
    first = read(path)
    append(path, "{broken")
    second = read(path, first.cursor)
    assert second.diagnostics.invalid["invalid_json"] == 1
    assert any(w.endswith(f"{path}:5") for w in second.diagnostics.warnings)


def test_read_of_a_missing_file_or_fifo_does_not_raise_or_block(tmp_path: Path) -> None:
    missing = ClaudeReader().read(SourceUnit(tmp_path / "gone.jsonl"), None)
    assert missing.records == () and missing.diagnostics.invalid["unreadable"] == 1
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    box: list[ReadResult] = []
    worker = threading.Thread(
        target=lambda: box.append(ClaudeReader().read(SourceUnit(fifo), None)), daemon=True
    )
    worker.start()
    worker.join(5)
    if worker.is_alive():  # unblock the reader before failing
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("read() opened a FIFO")
    assert box[0].records == () and box[0].diagnostics.invalid["not_a_file"] == 1


# ---------------------------------------------------------------------------------- discovery


def _layout(config: Path) -> dict[str, Path]:
    projects = config / "projects"
    files = {
        "main": projects / "-home-dev-a" / f"{SID}.jsonl",
        "sub": projects / "-home-dev-a" / SID / "subagents" / "agent-a1b2c3.jsonl",
        "compact": projects / "-home-dev-a" / SID / "subagents" / "agent-acompact-00ff.jsonl",
        "workflow": projects / "-home-dev-a" / SID / "subagents" / "workflows" / "wf-7" / "agent-w1.jsonl",
        "flat": projects / "-home-dev-b" / "agent-0badf00d.jsonl",
        "nested": projects / "project-alpha" / "session-alpha" / "chat.jsonl",
    }
    for path in files.values():
        write(path, assistant("msg_x", "req_x", 1))
    (files["sub"].parent / "agent-a1b2c3.meta.json").write_text('{"agentType": "Explore"}')
    return files


def test_discover_every_layout(tmp_path: Path) -> None:
    files = _layout(tmp_path / "cfg")
    (tmp_path / "cfg" / "projects" / "-home-dev-a" / "notes.txt").write_text("not a transcript")
    diag = Diagnostics()
    units = {u.path: u for u in ClaudeReader().discover([tmp_path / "cfg" / "projects"], diag)}
    assert set(units) == set(files.values())
    hints = {name: (units[p].order, dict(units[p].hints)) for name, p in files.items()}
    assert hints["main"] == (ORDER_MAIN, {"session_id": SID})
    assert hints["sub"] == (
        ORDER_SUBAGENT,
        {
            "parent_session_id": SID,
            "agent_id": "a1b2c3",
            "meta_path": str(files["sub"].with_name("agent-a1b2c3.meta.json")),
        },
    )
    assert hints["compact"] == (
        ORDER_SUBAGENT,
        {"parent_session_id": SID, "agent_id": "acompact-00ff", "agent_type": "compaction"},
    )
    assert hints["workflow"] == (
        ORDER_SUBAGENT,
        {"parent_session_id": SID, "workflow": "wf-7", "agent_id": "w1"},
    )
    assert hints["flat"] == (ORDER_SUBAGENT, {"agent_id": "0badf00d"})
    assert hints["nested"] == (ORDER_MAIN, {"session_id": "chat"})
    assert not diag.invalid


def test_locations_from_env_and_defaults(tmp_path: Path) -> None:
    reader = ClaudeReader()
    home = tmp_path / "home"
    assert reader.locations({}, home) == [
        home / ".config" / "claude" / "projects",
        home / ".claude" / "projects",
    ]
    xdg = tmp_path / "xdg"
    assert reader.locations({"XDG_CONFIG_HOME": str(xdg)}, home)[0] == xdg / "claude" / "projects"
    config = tmp_path / "cfg"
    (config / "projects").mkdir(parents=True)
    other = tmp_path / "other" / "projects"
    other.mkdir(parents=True)
    missing = tmp_path / "missing"
    env = {"CLAUDE_CONFIG_DIR": f"{config}, {other} ,,{missing}", "XDG_CONFIG_HOME": str(xdg)}
    assert reader.locations(env, home) == [config / "projects", other, missing / "projects"]
    assert reader.locations({"CLAUDE_CONFIG_DIR": f"{config},{config / 'projects'}"}, home) == [
        config / "projects"
    ]


def test_discover_with_comma_separated_config_dirs(tmp_path: Path) -> None:
    a = _layout(tmp_path / "a")
    b = _layout(tmp_path / "b")
    env = {"CLAUDE_CONFIG_DIR": f"{tmp_path / 'a'},{tmp_path / 'b' / 'projects'},{tmp_path / 'nope'}"}
    reader = ClaudeReader()
    roots = reader.locations(env, tmp_path / "home")
    diag = Diagnostics()
    found = {u.path for u in reader.discover(roots, diag)}
    assert found == set(a.values()) | set(b.values())
    assert not diag.invalid


def test_discover_dedupes_roots_and_survives_symlink_loops(tmp_path: Path) -> None:
    files = _layout(tmp_path / "cfg")
    projects = tmp_path / "cfg" / "projects"
    alias = tmp_path / "alias"
    alias.symlink_to(projects)
    (projects / "-home-dev-a" / "loop").symlink_to(projects)
    diag = Diagnostics()
    units = list(ClaudeReader().discover([projects, alias, projects / "-home-dev-a"], diag))
    assert sorted(u.path for u in units) == sorted(files.values())
    assert not diag.invalid


def test_discover_skips_and_counts_what_is_not_a_regular_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    projects = tmp_path / "projects"
    good = write(projects / "-p" / "good.jsonl", assistant("msg_1", "req_1", 1))
    (projects / "-p" / "dir.jsonl").mkdir()
    write(projects / "-p" / "dir.jsonl" / "inside.jsonl", assistant("msg_2", "req_2", 1))
    os.mkfifo(projects / "-p" / "fifo.jsonl")
    (projects / "-p" / "dangling.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    locked = projects / "-locked"
    write(locked / "secret.jsonl", assistant("msg_3", "req_3", 1))
    real_scandir = os.scandir

    def scandir(path: Any) -> Iterator[os.DirEntry[str]]:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # what burn_claude.discover lists directories with
    diag = Diagnostics()
    units = list(ClaudeReader().discover([projects], diag))
    assert [u.path for u in units] == [good]
    assert diag.invalid == {"not_a_file": 3, "unreadable": 1}
    assert any("fifo.jsonl" in w or "dangling.jsonl" in w or "dir.jsonl" in w for w in diag.warnings)


def test_discover_on_missing_roots_yields_nothing(tmp_path: Path) -> None:
    diag = Diagnostics()
    assert list(ClaudeReader().discover([tmp_path / "nope", tmp_path / "file"], diag)) == []
    assert not diag.invalid
