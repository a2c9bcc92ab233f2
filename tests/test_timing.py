"""Timing in the records (issue 15 item 1; docs/accounting.md "Timing"): per-agent derivation on
small fixtures for each rule and on the shared samples (skipped when ../shared is absent).
Unknown stays ``None``; a duration is never negative."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from burn.ledger.merge import merge
from burn.reader import Diagnostics
from burn.records import ToolResultEvent, Turn, UserTurn, span_ms
from burn_claude import ClaudeReader
from burn_claude.discover import unit_for as claude_unit
from burn_codex import CodexReader
from burn_codex.discover import unit_for as codex_unit
from burn_opencode.parse import message_records
from burn_opencode.prompts import Prompts
from tests import claude_lines as cl
from tests import opencode_db as oc
from tests.claude_fold import fold_tree, fold_units
from tests.test_codex_reader import archive_rows, line, rollout, run_ingest, tokens, usage
from tests.test_opencode_reader import Env, db_message, write_message

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not available")


def ts(second: float) -> str:
    ms = int(second * 1000)
    return f"2026-03-01T10:00:{ms // 1000:02d}.{ms % 1000:03d}Z"


def test_span_is_none_when_unknown_or_backwards() -> None:
    assert (span_ms(1000, 2500), span_ms(None, 5), span_ms(5, None), span_ms(2000, 1000)) == (
        1500,
        None,
        None,
        None,
    )


# ------------------------------------------------------------------------------ Claude Code


def claude(tmp_path: Path, lines: list[dict[str, Any]]) -> list[Any]:
    path = cl.write_session(tmp_path, lines)
    return list(fold_units(ClaudeReader(), [claude_unit(path)]).records.values())


def test_claude_latency_and_duration_from_the_prompt_to_the_first_and_last_line(tmp_path: Path) -> None:
    records = claude(
        tmp_path,
        [
            cl.user("p1", "hi", ts=ts(0)),
            cl.assistant("m1", 5, request="r1", ts=ts(1.5)),
            cl.assistant("m1", 40, request="r1", ts=ts(4)),
        ],
    )
    (turn,) = [r for r in records if isinstance(r, Turn)]
    assert (turn.latency_ms, turn.duration_ms) == (1500, 4000)


def test_claude_out_of_order_timestamps_give_none_never_negative(tmp_path: Path) -> None:
    records = claude(tmp_path, [cl.user("p1", "hi", ts=ts(9)), cl.assistant("m1", 5, request="r1", ts=ts(2))])
    (turn,) = [r for r in records if isinstance(r, Turn)]
    assert (turn.latency_ms, turn.duration_ms) == (None, None)


def test_claude_response_without_a_prompt_has_unknown_timing(tmp_path: Path) -> None:
    (turn,) = [
        r for r in claude(tmp_path, [cl.assistant("m1", 5, request="r1", ts=ts(2))]) if isinstance(r, Turn)
    ]
    assert (turn.latency_ms, turn.duration_ms) == (None, None)


def test_claude_turn_duration_is_the_prompts_wall_time_and_tool_duration_is_kept(tmp_path: Path) -> None:
    result = cl.user("t1", "x", ts=ts(3))
    result["message"]["content"] = [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]
    result["toolUseResult"] = {"durationMs": 640}
    system = {"type": "system", "subtype": "turn_duration", "durationMs": 7125, "sessionId": cl.SESSION,
              "timestamp": ts(7), "uuid": "s1", "isSidechain": False}  # fmt: skip
    records = claude(
        tmp_path,
        [cl.user("p1", "hi", ts=ts(0)), cl.assistant("m1", 5, request="r1", ts=ts(2)), result, system],
    )
    walls = {r.user_uuid: r.wall_ms for r in records if isinstance(r, UserTurn)}
    assert walls == {"p1": 7125, "t1": None}  # a tool result is not the start of a user turn
    assert [r.duration_ms for r in records if isinstance(r, ToolResultEvent)] == [640]


def test_claude_timing_is_the_same_read_line_by_line(tmp_path: Path) -> None:
    """A response whose lines span two reads keeps its prompt (carried) and its longest duration."""
    lines = [
        cl.user("p1", "hi", ts=ts(0)),
        cl.assistant("m1", 5, request="r1", ts=ts(1)),
        cl.user("t1", "x", ts=ts(2)),  # a tool result written between the response's lines
        cl.assistant("m1", 40, request="r1", ts=ts(3)),
    ]
    path = cl.write_session(tmp_path, lines[:2])
    reader = ClaudeReader()
    first = reader.read(claude_unit(path), None)
    path.write_bytes(cl.dumps(lines))
    second = reader.read(claude_unit(path), first.cursor)
    a = next(r for r in first.records if isinstance(r, Turn))
    b = next(r for r in second.records if isinstance(r, Turn))
    merged = merge(a, b)
    assert isinstance(merged, Turn)
    assert (merged.latency_ms, merged.duration_ms) == (1000, 3000)


def test_merge_keeps_known_timing_against_unknown() -> None:
    base = Turn(source="s", session_id="x", message_id="m", request_id="r", ts=ts(0), model="m",
                usage=cl_usage(), duration_ms=900, latency_ms=200)  # fmt: skip
    import attrs

    assert merge(base, attrs.evolve(base, duration_ms=None, latency_ms=None)) is None
    later = merge(base, attrs.evolve(base, duration_ms=1200, latency_ms=500))
    assert isinstance(later, Turn) and (later.duration_ms, later.latency_ms) == (1200, 200)


def cl_usage() -> Any:
    from burn.records import Usage

    return Usage(input=1, output=2)


# ------------------------------------------------------------------------------------ Codex


def test_codex_duration_from_the_last_input_event_and_wall_time_to_task_complete(tmp_path: Path) -> None:
    path = rollout(
        tmp_path,
        line("event_msg", {"type": "user_message", "message": "go"}, 10),
        tokens(14, total=usage(100, 0, 10)),
        line("response_item", {"type": "function_call_output", "call_id": "c1", "output": "ok"}, 15),
        tokens(22, total=usage(200, 0, 30)),
        line("event_msg", {"type": "task_complete"}, 23),
        tokens(30, total=usage(300, 0, 40)),  # no input since the last response: unknown
    )
    records = CodexReader().read(codex_unit(path), None).records
    assert [r.duration_ms for r in records if isinstance(r, Turn)] == [4000, 7000, None]
    assert [r.latency_ms for r in records if isinstance(r, Turn)] == [None, None, None]
    assert [r.wall_ms for r in records if isinstance(r, UserTurn)] == [13000]


def test_codex_wall_time_of_a_prompt_read_earlier_comes_as_a_mergeable_copy(tmp_path: Path) -> None:
    head = [
        line("event_msg", {"type": "user_message", "message": "go"}, 10),
        tokens(14, total=usage(1, 0, 1)),
    ]
    path = rollout(tmp_path, *head)
    reader = CodexReader()
    first = reader.read(codex_unit(path), None)
    rollout(tmp_path, *head, line("event_msg", {"type": "turn_aborted"}, 19))
    second = reader.read(codex_unit(path), first.cursor)
    (old,) = [r for r in first.records if isinstance(r, UserTurn)]
    (new,) = [r for r in second.records if isinstance(r, UserTurn)]
    merged = merge(old, new)
    assert isinstance(merged, UserTurn) and merged.wall_ms == 9000 and merged.blocks == old.blocks


def test_the_archive_stores_the_timings_and_unknown_stays_null(tmp_path: Path) -> None:
    """Through the real ingest: ledger -> archive (schema 8) keeps each timing, NULL for unknown."""
    home = tmp_path / "codex"
    rollout(
        home,
        line("event_msg", {"type": "user_message", "message": "go"}, 10),
        tokens(14, total=usage(100, 0, 10)),
        tokens(30, total=usage(300, 0, 40)),
        line("event_msg", {"type": "task_complete"}, 31),
    )
    run_ingest(tmp_path, home)
    assert archive_rows(tmp_path, "SELECT duration_ms, latency_ms FROM turns ORDER BY ts_ms") == [
        (4000, None),
        (None, None),
    ]
    assert archive_rows(tmp_path, "SELECT wall_ms FROM user_turns") == [(21000,)]


# --------------------------------------------------------------------------------- OpenCode


def opencode(msg: dict[str, Any], *parts: dict[str, Any]) -> list[Any]:
    return message_records(msg, list(parts), message_id=msg["id"], session_id="ses", diag=Diagnostics())


TOKENS = {"input": 10, "output": 20, "reasoning": 0, "cache": {"read": 0, "write": 0}}


def test_opencode_message_times_and_first_part() -> None:
    msg = {"id": "m", "role": "assistant", "modelID": "x", "tokens": TOKENS,
           "time": {"created": 1_000, "completed": 4_000}}  # fmt: skip
    tool = {"type": "tool", "callID": "c", "tool": "bash",
            "state": {"status": "completed", "output": "ok", "time": {"start": 1_800, "end": 2_300}}}  # fmt: skip
    records = opencode(msg, {"type": "text", "text": "a", "time": {"start": 1_250, "end": 1_300}}, tool)
    (turn,) = [r for r in records if isinstance(r, Turn)]
    assert (turn.duration_ms, turn.latency_ms) == (3000, 250)
    assert [r.duration_ms for r in records if isinstance(r, ToolResultEvent)] == [500]


def test_opencode_missing_or_backwards_times_are_unknown() -> None:
    aborted = {"id": "m", "role": "assistant", "modelID": "x", "tokens": TOKENS, "time": {"created": 1_000}}
    backwards = {**aborted, "id": "n", "time": {"created": 5_000, "completed": 4_000}}
    for msg in (aborted, backwards):
        (turn,) = [r for r in opencode(msg) if isinstance(r, Turn)]
        assert (turn.duration_ms, turn.latency_ms) == (None, None)


def test_opencode_steps_time_from_their_parts() -> None:
    msg = {"id": "m", "role": "assistant", "modelID": "x", "time": {"created": 1_000, "completed": 9_000}}
    step = {"type": "step-finish", "tokens": TOKENS, "reason": "tool-calls"}
    parts = [
        {"type": "step-start"},
        {"type": "text", "text": "a", "time": {"start": 1_500, "end": 2_000}},
        {
            "type": "tool",
            "callID": "c",
            "tool": "bash",
            "state": {"status": "completed", "output": "ok", "time": {"start": 2_000, "end": 3_000}},
        },
        {**step, "id": "s1"},
        {"type": "step-start"},
        {"type": "text", "text": "b", "time": {"start": 4_000, "end": 5_000}},
        {**step, "id": "s2", "reason": "stop"},
    ]
    turns = [r for r in opencode(msg, *parts) if isinstance(r, Turn)]
    assert [(t.latency_ms, t.duration_ms) for t in turns] == [(500, 2000), (1000, 6000)]


# OpenCode user-turn wall time: the prompt's creation until the reply that ended its turn completed.

P_PART = oc.text("prt_p", "msg_u", "ses", "fix the parser")
ABORTED = {"name": "MessageAbortedError", "data": {"message": "aborted"}}


def _reply(
    mid: str, created: int, completed: int | None, finish: str | None = "stop", **kw: Any
) -> dict[str, Any]:
    msg = oc.assistant(mid, "ses", created=created, completed=completed, parent_id="msg_u", finish=finish,
                       tokens=oc.tokens(1, 2), **kw)  # fmt: skip
    if completed is None and "error" not in kw:
        del msg["time"]["completed"]
    return msg


def _walls(records: list[Any]) -> list[tuple[str, int | None]]:
    return [(r.user_uuid, r.wall_ms) for r in records if isinstance(r, UserTurn)]


def test_opencode_wall_time_comes_with_the_reply_that_ends_the_turn() -> None:
    prompt = oc.user("msg_u", "ses", created=1_000)
    prompts = Prompts(lambda _id: None)  # everything is in this read
    read = lambda msg, *parts: message_records(  # noqa: E731
        msg, list(parts), message_id=msg["id"], session_id="ses", diag=Diagnostics(), prompts=prompts
    )
    (own,) = [r for r in read(prompt, P_PART) if isinstance(r, UserTurn)]
    assert own.wall_ms is None  # the turn has not ended yet
    assert _walls(read(_reply("msg_a1", 1_200, 3_000, finish="tool-calls"))) == []  # the loop goes on
    ended = read(_reply("msg_a2", 3_100, 9_000))
    assert [r for r in ended if isinstance(r, UserTurn)] == [attrs.evolve(own, wall_ms=8_000)]
    assert merge(own, attrs.evolve(own, wall_ms=8_000)) == attrs.evolve(own, wall_ms=8_000)


@pytest.mark.parametrize(
    ("prompt_time", "reply", "wall"),
    [
        ({"created": 1_000}, _reply("r", 2_000, 5_000, finish=None), 4_000),  # no finish: older builds
        ({"created": 1_000}, _reply("r", 2_000, 5_000, finish="length"), 4_000),
        ({"created": 1_000}, _reply("r", 2_000, 5_000, finish="unknown"), None),  # the loop goes on
        ({"created": 1_000}, _reply("r", 2_000, 6_000, finish=None, error={"name": "APIError"}), 5_000),
        ({"created": 1_000}, _reply("r", 2_000, None, finish=None, error=ABORTED), None),  # no end time
        ({}, _reply("r", 2_000, 5_000), None),  # the prompt's time would be a fallback
        ({"created": 9_000}, _reply("r", 2_000, 5_000), None),  # backwards: unknown, never negative
    ],
)
def test_opencode_wall_time_rules(
    prompt_time: dict[str, int], reply: dict[str, Any], wall: int | None
) -> None:
    prompt = {**oc.user("msg_u", "ses"), "time": prompt_time}
    # The reply read on its own (a later ingest): the prompt is fetched from where it is stored.
    prompts = Prompts(lambda mid: (prompt, [P_PART]) if mid == "msg_u" else None)
    records = message_records(reply, [], message_id="r", session_id="ses", diag=Diagnostics(),
                              fallback_ms=500, prompts=prompts)  # fmt: skip
    assert _walls(records) == ([] if wall is None else [("msg_u", wall)])


def test_opencode_reply_without_a_user_prompt_gives_no_wall_time() -> None:
    for fetched in (None, (oc.assistant("msg_u", "ses"), []), (oc.user("msg_u", "ses"), [])):
        prompts = Prompts(lambda _id, f=fetched: f)  # no prompt, not a prompt, a prompt without parts
        records = message_records(_reply("r", 2_000, 5_000), [], message_id="r", session_id="ses",
                                  diag=Diagnostics(), prompts=prompts)  # fmt: skip
        assert _walls(records) == []
    unlinked = {k: v for k, v in _reply("r", 2_000, 5_000).items() if k != "parentID"}
    assert _walls(opencode(unlinked)) == []


@pytest.mark.parametrize("store", ["db", "json"])
def test_opencode_wall_time_through_ingest_when_the_turn_ends_in_a_later_read(
    tmp_path: Path, store: str
) -> None:
    env = Env(tmp_path)
    sid = "ses_wall"
    prompt = oc.user("msg_u", sid, created=oc.T0)
    part = oc.text("prt_p", "msg_u", sid, "fix the parser")
    first = oc.assistant("msg_a1", sid, created=oc.T0 + 500, completed=oc.T0 + 4_000, finish="tool-calls",
                         parent_id="msg_u", tokens=oc.tokens(1, 2))  # fmt: skip
    last = oc.assistant("msg_a2", sid, created=oc.T0 + 4_100, completed=oc.T0 + 61_250, finish="stop",
                        parent_id="msg_u", tokens=oc.tokens(3, 4))  # fmt: skip
    db = env.db() if store == "db" else None
    write = (
        (lambda m, *p: db_message(db, m, *p))
        if db is not None
        else (lambda m, *p: write_message(env.storage, m, *p))
    )
    if db is not None:
        db.session(sid)
    write(prompt, part)
    write(first)
    env.ingest()
    assert env.rows("SELECT user_uuid, wall_ms FROM user_turns") == [("msg_u", None)]
    write(last)  # the turn ends after the prompt was ingested
    env.ingest()
    assert env.rows("SELECT user_uuid, wall_ms FROM user_turns") == [("msg_u", 61_250)]
    assert env.ingest()["records_appended"] == 0  # nothing new: nothing appended
    if db is not None:
        db.close()


# ---------------------------------------------------------------------------------- samples


@needs_samples
def test_claude_sample_turn_duration_latency_and_tool_time() -> None:
    folded = fold_tree(ClaudeReader(), SAMPLES / "claude" / "spotter_v2.1.39")
    turns = sorted(folded.turns(), key=lambda t: t.ts)
    assert all(t.duration_ms is None or t.duration_ms >= 0 for t in turns)
    # the first response: prompt 20:36:45.618, first line 20:36:47.925, last line 20:36:53.585
    assert (turns[0].latency_ms, turns[0].duration_ms) == (2307, 7967)
    assert [(u.ts, u.wall_ms) for u in folded.of(UserTurn) if u.wall_ms is not None] == [
        ("2026-02-11T20:51:10.715Z", 2729883)
    ]
    assert sorted(r.duration_ms for r in folded.of(ToolResultEvent) if r.duration_ms is not None)[:2] == [
        391,
        411,
    ]


@needs_samples
def test_codex_sample_turn_durations() -> None:
    result = CodexReader().read(codex_unit(SAMPLES / "codex" / "vct_codex_v0.39.0_vscode.jsonl"), None)
    durations = [r.duration_ms for r in result.records if isinstance(r, Turn)]
    # user_message 09:02:12.677 -> token_count 09:02:27.915; tool output 09:02:27.916 -> 09:02:37.803
    assert durations[:2] == [15238, 9887]
    assert all(d is None or d >= 0 for d in durations)
