"""``to_dict``'s compiled functions give what the cattrs converter gives, byte for byte once
serialized; the readers' real records are checked in test_benchmark_corpus.py."""

from __future__ import annotations

import subprocess
import sys

import attrs
import orjson
import pytest

from burn.convert import converter, from_dict, to_dict
from burn.records import (
    Compaction,
    Fidelity,
    ProjectObservation,
    Record,
    SessionInfo,
    ToolCall,
    ToolResultEvent,
    Turn,
    Usage,
    UserBlock,
    UserTurn,
)

RECORDS: list[Record] = [
    Turn(
        source="claude-code",
        session_id="s",
        message_id=None,
        request_id=None,
        ts="t",
        model="m",
        usage=Usage(),
    ),
    Turn(
        source="codex",
        session_id="s",
        message_id="m1",
        request_id="r1",
        ts="t",
        model="m",
        usage=Usage(
            input=0,
            output=5,
            reasoning=2,
            cache_read=7,
            cache_write_5m=1,
            cache_write_1h=0,
            web_search_requests=3,
        ),
        provider="openai",
        reported_cost_usd="0.25",
        speed="fast",
        service_tier="flex",
        stop_reason="end",
        is_sidechain=True,
        agent_id="a",
        fidelity=Fidelity(usage="partial", notes=("x", "y")),
        line_hash="h",
    ),
    Turn(
        source="c",
        session_id="s",
        message_id="m",
        request_id=None,
        ts="t",
        model="m",
        usage=Usage(output=1),
        fidelity=Fidelity(usage="none"),
    ),
    ToolCall(source="c", session_id="s", tool_use_id="t", message_id=None, ts="t", name="Bash"),
    ToolCall(
        source="c",
        session_id="s",
        tool_use_id="t",
        message_id="m",
        ts="t",
        name="Read",
        target="f",
        args_hash="h",
    ),
    ToolResultEvent(source="c", session_id="s", tool_use_id="t", ts="t"),
    ToolResultEvent(
        source="c",
        session_id="s",
        tool_use_id="t",
        ts="t",
        status="error",
        content_length=9,
        content_hash="h",
        subagent_session_id="sub",
    ),
    UserTurn(source="c", session_id="s", user_uuid="u", ts="t"),
    UserTurn(
        source="c",
        session_id="s",
        user_uuid="u",
        ts="t",
        preceding_message_id="p",
        following_message_id="f",
        blocks=(
            UserBlock(kind="text", byte_length=3, approx_tokens=1),
            UserBlock(
                kind="tool_result",
                byte_length=0,
                approx_tokens=0,
                content_hash="h",
                tool_use_id="t",
                is_error=False,
            ),
        ),
        is_meta=True,
        is_compact_summary=True,
    ),
    Compaction(source="c", session_id="s", ts="t"),
    Compaction(
        source="c", session_id="s", ts="t", trigger="auto", tokens_before=10, tokens_after=0, uuid="u"
    ),
    SessionInfo(source="c", session_id="s"),
    SessionInfo(
        source="c",
        session_id="s",
        cwd="/w",
        git_branch="b",
        git_remote="r",
        git_commit="c",
        harness_version="1",
        slug="sl",
        title="t",
        parent_session_id="p",
        relationship="subagent",
        agent_id="a",
        agent_type="ty",
        parent_tool_use_id="pt",
        originator="o",
        classification="automated",
        first_seen_ts="f",
        usage_fidelity="full",
    ),
    ProjectObservation(cwd="/w", observed_at="t"),
    ProjectObservation(
        cwd="/w",
        observed_at="t",
        exists=False,
        git_root="/w",
        is_worktree=True,
        branch="b",
        remotes=(("origin", "github.com/o/r"), ("up", "github.com/u/r")),
    ),
    ProjectObservation(cwd="/w", observed_at="t", remotes=()),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_compiled_unstructuring_equals_the_converter(record: Record) -> None:
    fast = to_dict(record)
    assert orjson.dumps(fast) == orjson.dumps(converter.unstructure(record))
    assert from_dict(record.KIND, orjson.loads(orjson.dumps(fast))) == record


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_compiled_structuring_equals_the_converter(record: Record) -> None:
    data = orjson.loads(orjson.dumps(to_dict(record)))  # a ledger line's record, as read back
    fast = from_dict(record.KIND, data)
    assert fast == converter.structure(data, type(record)) == record
    assert all(
        type(getattr(fast, a.name)) is type(getattr(record, a.name)) for a in attrs.fields(type(record))
    )


TURN = {"source": "codex", "session_id": "s", "message_id": "m", "request_id": None, "ts": "t", "model": "x"}
# Values that are not already of their field's type, or missing: cattrs converts or refuses them,
# and from_dict must do exactly what it does.
NOT_PLAIN: list[tuple[str, dict[str, object]]] = [
    ("turn", {**TURN, "usage": {"input": "5"}}),  # a count as a string: cattrs converts it
    ("turn", {**TURN, "usage": {"input": True}}),  # a bool where an int goes
    ("turn", {**TURN, "usage": {"input": 1.0}}),
    ("turn", {**TURN, "usage": {}, "is_sidechain": 1}),
    ("turn", {**TURN, "usage": {}, "fidelity": {"usage": "most"}}),  # not a UsageFidelity
    ("turn", {**TURN, "usage": {}, "fidelity": {"notes": "a"}}),  # a string where a tuple goes
    ("turn", {**TURN, "usage": []}),
    ("turn", {k: v for k, v in TURN.items() if k != "model"} | {"usage": {}}),  # a required field missing
    (
        "user_turn",
        {"source": "c", "session_id": "s", "user_uuid": "u", "ts": "t", "blocks": [{"kind": "text"}]},
    ),
    ("project", {"cwd": "/w", "observed_at": "t", "remotes": [["origin"]]}),
    ("session", {"source": "c", "session_id": "s", "relationship": 7}),
]


@pytest.mark.parametrize(("kind", "data"), NOT_PLAIN, ids=lambda x: str(x)[:40])
def test_values_of_other_types_get_the_converters_answer(kind: str, data: dict[str, object]) -> None:
    from burn.records import RECORD_TYPES

    try:
        expected: object = converter.structure(data, RECORD_TYPES[kind])
    except Exception as exc:  # cattrs's answer may be an error: from_dict must give the same one
        with pytest.raises(type(exc)):
            from_dict(kind, data)
        return
    assert from_dict(kind, data) == expected


def test_encoded_records_hold_their_json_not_the_serializer_buffer() -> None:
    """Encoded records wait in lists (a unit's in a worker, a batch before it is appended): each
    must hold about its JSON's size. orjson 3.13 returns a buffer of ~4 KB for any small document,
    which made a 37 MB transcript's records hold 40 MB instead of 4."""
    import tracemalloc

    from burn.store import encode

    records = [
        Turn(
            source="claude-code",
            session_id=f"session-{i}",
            message_id=f"msg_{i:08d}",
            request_id=f"req_{i:08d}",
            ts="2026-03-01T10:00:00.000Z",
            model="claude-sonnet-4-5",
            usage=Usage(input=i, output=2 * i, cache_read=3 * i),
        )
        for i in range(2_000)
    ]
    tracemalloc.start()
    try:
        items = [encode(r) for r in records]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    json_bytes = sum(len(item.data) for item in items)
    assert 200_000 < json_bytes < 2_000 * 1_000
    # The JSON plus the tuple, id and header of each item: well under a buffer of 4 KB apiece.
    assert held < json_bytes + 2_000 * 600, (held, json_bytes)


ENCODE_ONLY = """
import sys
from burn.records import Turn, Usage
from burn.store import decode, encode
turn = Turn(source="codex", session_id="s", message_id="m", request_id=None, ts="t", model="m", usage=Usage(input=1))
assert decode(encode(turn)) == turn
print("cattrs" in sys.modules)
from burn.convert import converter
print("cattrs" in sys.modules, type(converter).__name__)
"""


def test_encoding_and_decoding_need_no_cattrs_until_the_converter_is_asked_for() -> None:
    """Records go to the ledger and back through compiled functions: an ingest (an incremental one
    merges revised records, which decodes them) does not import cattrs; ``converter`` is built on
    first access."""
    done = subprocess.run([sys.executable, "-c", ENCODE_ONLY], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["False", "True OrjsonConverter"]
