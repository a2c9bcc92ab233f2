"""Conformance of the Claude Code reader on the shared public samples (FORMATS.md §1.9).

Records of every unit of a sample are folded with the core's merge rule and the /btw rule
(tests/claude_fold.py) and compared with the "max (recommended)" column of FORMATS.md §1.9, as
(input, output, cache_write_5m + cache_write_1h, cache_read). Skips when ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from burn.convert import to_dict
from burn.reader import Diagnostics
from burn.records import Compaction, SessionInfo, ToolCall, ToolResultEvent, Turn, UserTurn
from burn_claude import ClaudeReader
from burn_claude.discover import ORDER_MAIN, ORDER_SUBAGENT, unit_for
from tests.claude_fold import Folded, fold_tree, fold_units

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
CLAUDE = SAMPLES / "claude"

pytestmark = pytest.mark.skipif(not CLAUDE.is_dir(), reason="../shared/samples is not available")

SPOTTER = CLAUDE / "spotter_v2.1.39"
SPOTTER_PROJECT = SPOTTER / "projects" / "-home-USER-projects-spotter-worktrees-spotter-gqc"
SPOTTER_SESSION = "258c7280-ae70-4798-800f-63464d01a85d"
SHOWCASE_SESSION = "55550000-0000-4000-8000-000000000001"


def _fold(sample: str) -> Folded:
    path = CLAUDE / sample
    if path.is_dir():
        return fold_tree(ClaudeReader(), path)
    return fold_units(ClaudeReader(), [unit_for(path)])


def _usage_lines(paths: list[Path]) -> tuple[int, int]:
    """(lines with usage, unique keys) counted independently of the reader, per FORMATS §1.10."""
    lines = 0
    keys: set[tuple[object, object]] = set()
    for path in paths:
        for n, raw in enumerate(path.read_bytes().splitlines()):
            d = orjson.loads(raw)
            if d.get("type") == "progress" and d["data"].get("type") == "agent_progress":
                d = d["data"]["message"]
            if d.get("type") != "assistant" or not isinstance(d["message"].get("usage"), dict):
                continue
            if d["message"].get("model") == "<synthetic>":
                continue
            lines += 1
            key = (d["message"].get("id"), d.get("requestId"))
            keys.add(key if key != (None, None) else (path, n))
    return lines, len(keys)


# ---------------------------------------------------------------------------------- totals §1.9


@pytest.mark.parametrize(
    ("sample", "expected", "lines", "keys"),
    [
        ("vct_claude_code_v1.0.95_streaming.jsonl", (158, 3_860, 99_004, 1_093_509), 42, 32),
        ("spotter_v2.1.39", (198, 38_908, 394_137, 14_972_534), 307, 156),
        ("spotter_v2.1.38/subagent.jsonl", (1_600, 1_593, 40_127, 522_629), 37, 17),
        ("daaain_claude-code-log/sidechain_integrated.jsonl", (9, 738, 164_054, 141_272), 4, 3),
    ],
)
def test_max_rule_totals_match_formats(
    sample: str, expected: tuple[int, int, int, int], lines: int, keys: int
) -> None:
    folded = _fold(sample)
    assert folded.totals() == expected
    assert len(folded.turns()) == keys
    path = CLAUDE / sample
    files = sorted(path.rglob("*.jsonl")) if path.is_dir() else [path]
    assert _usage_lines(files) == (lines, keys)  # the sample is what FORMATS describes
    # Every usage line reached the reader: one record per key and read, the rest collapsed.
    emitted = 0
    reader = ClaudeReader()
    for f in files:
        result = reader.read(unit_for(f), None)
        emitted += sum(isinstance(r, Turn) for r in result.records)
        emitted += (
            result.diagnostics.dropped["streaming_split"] + result.diagnostics.dropped["duplicate_line"]
        )
    assert emitted == lines
    assert not folded.diagnostics.invalid
    assert folded.diagnostics.dropped["btw_replay"] == 0


def test_spotter_without_progress_copies_would_undercount() -> None:
    """The 2.1.38 sample's haiku usage exists only in agent_progress copies (FORMATS §1.6)."""
    folded = _fold("spotter_v2.1.38/subagent.jsonl")
    copies = [t for t in folded.turns() if t.agent_id == "afb92ff"]
    assert {t.model for t in copies} == {"claude-haiku-4-5-20251001"}
    assert all(t.is_sidechain for t in copies)
    main = [t for t in folded.turns() if t.agent_id is None]
    assert (sum(t.usage.input or 0 for t in main), sum(t.usage.output or 0 for t in main)) == (1_576, 1_586)


def test_vct_streaming_split_keeps_max_output() -> None:
    folded = _fold("vct_claude_code_v1.0.95_streaming.jsonl")
    by_id = {t.message_id: t for t in folded.turns()}
    assert by_id["msg_01NudsoqEJXy7ux27eod4pB9"].usage.output == 992
    empty = by_id["msg_taskstop_1"]  # fixture author's `usage: {}` line without requestId
    assert empty.request_id is None
    assert empty.usage.output is None and empty.fidelity.usage == "none"
    assert folded.diagnostics.dropped["streaming_split"] == 10


def test_sidechain_integrated_is_pretty_spaced_and_kept_in_main_session() -> None:
    folded = _fold("daaain_claude-code-log/sidechain_integrated.jsonl")
    main = "88a8d761-7b9a-4bf1-a8ca-c1febe6bf358"
    turns = sorted(folded.turns(), key=lambda t: t.ts)
    assert [t.is_sidechain for t in turns] == [False, True, False]
    assert {t.session_id for t in turns} == {main}
    assert turns[1].usage.output == 183 and turns[1].agent_id is None
    assert all(t.usage.web_search_requests is None for t in turns)  # "server_tool_use": null
    # The sidechain user line that names its agent is attributed to that subagent's session.
    users = {u.user_uuid: u for u in folded.of(UserTurn)}
    assert users["4899826e-499f-4f24-ae6e-f2ac31cddfd4"].session_id == f"{main}/agent-e1c84ba5"
    assert users["97965533-18f3-41b7-aa07-0c438f2a5893"].session_id == main


# ------------------------------------------------------------------------------- discovery


def test_discover_spotter_layout() -> None:
    diag = Diagnostics()
    units = {u.path.name: u for u in ClaudeReader().discover([SPOTTER / "projects"], diag)}
    assert set(units) == {
        f"{SPOTTER_SESSION}.jsonl",
        "agent-a881341.jsonl",
        "agent-acompact-fffbd0.jsonl",
    }
    main = units[f"{SPOTTER_SESSION}.jsonl"]
    assert main.order == ORDER_MAIN and dict(main.hints) == {"session_id": SPOTTER_SESSION}
    sub = units["agent-a881341.jsonl"]
    assert sub.order == ORDER_SUBAGENT
    assert dict(sub.hints) == {"parent_session_id": SPOTTER_SESSION, "agent_id": "a881341"}
    compact = units["agent-acompact-fffbd0.jsonl"]
    assert compact.order == ORDER_SUBAGENT
    assert dict(compact.hints) == {
        "parent_session_id": SPOTTER_SESSION,
        "agent_id": "acompact-fffbd0",
        "agent_type": "compaction",
    }
    assert not diag.invalid


def test_discover_flat_agent_meta_sidecar_and_nested_layouts() -> None:
    reader = ClaudeReader()
    diag = Diagnostics()
    flat = list(reader.discover([CLAUDE / "cass_v2.0.37_flat_agent" / "projects"], diag))
    assert [(u.path.name, u.order, dict(u.hints)) for u in flat] == [
        ("agent-test123.jsonl", ORDER_SUBAGENT, {"agent_id": "test123"})
    ]
    showcase = list(reader.discover([CLAUDE / "daaain_claude-code-log" / "minimal_showcase"], diag))
    assert len(showcase) == 1
    meta = showcase[0].path.with_name("agent-showcol1.meta.json")
    assert dict(showcase[0].hints) == {
        "parent_session_id": SHOWCASE_SESSION,
        "agent_id": "showcol1",
        "meta_path": str(meta),
    }
    nested = list(reader.discover([CLAUDE / "ccusage_fixtures" / "projects"], diag))
    assert [(u.path.name, u.order, dict(u.hints)) for u in nested] == [
        ("chat.jsonl", ORDER_MAIN, {"session_id": "chat"})
    ]
    assert not diag.invalid


# -------------------------------------------------------------------------------- sessions


def test_spotter_sessions_and_subagent_links() -> None:
    folded = _fold("spotter_v2.1.39")
    sub_id = f"{SPOTTER_SESSION}/agent-a881341"
    sessions = {s.session_id: s for s in folded.of(SessionInfo)}
    assert set(sessions) == {SPOTTER_SESSION, sub_id, f"{SPOTTER_SESSION}/agent-acompact-fffbd0"}
    root = sessions[SPOTTER_SESSION]
    assert (root.relationship, root.parent_session_id) == ("root", None)
    assert (root.cwd, root.git_branch, root.harness_version, root.slug) == (
        "/home/USER/projects/spotter-worktrees/spotter-gqc",
        "spotter-gqc",
        "2.1.39",
        "modular-petting-thompson",
    )
    assert root.first_seen_ts == "2026-02-11T20:31:53.375Z"  # the SessionStart hook_progress line
    sub = sessions[sub_id]
    assert (sub.relationship, sub.parent_session_id, sub.agent_id) == ("subagent", SPOTTER_SESSION, "a881341")
    assert sub.parent_tool_use_id == "toolu_01VmaERAwhb19LGUwu9GenaK"  # from progress parentToolUseID
    compact = sessions[f"{SPOTTER_SESSION}/agent-acompact-fffbd0"]
    assert (compact.agent_type, compact.relationship) == ("compaction", "subagent")
    # Progress copies and the subagent file's lines land in the same subagent session.
    sub_turns = [t for t in folded.turns() if t.session_id == sub_id]
    assert {t.message_id for t in sub_turns} >= {
        "msg_013qape6Zy3q8eZYgN4M39ym",
        "msg_01QkE2ptzZ6JmveaGTood3UR",
    }
    assert all(t.is_sidechain and t.agent_id == "a881341" for t in sub_turns)
    # The parent's Task tool result links to the subagent session.
    links = [r for r in folded.of(ToolResultEvent) if r.subagent_session_id]
    assert [(r.session_id, r.subagent_session_id) for r in links] == [(SPOTTER_SESSION, sub_id)]
    # The compaction summarizer call is a counted turn of its own session.
    compact_turns = [t for t in folded.turns() if t.session_id.endswith("agent-acompact-fffbd0")]
    assert [t.message_id for t in compact_turns] == ["msg_01EmKCTGA88TYu4RzLxm2E5i"]
    compactions = folded.of(Compaction)
    assert [(c.session_id, c.trigger, c.tokens_before, c.tokens_after) for c in compactions] == [
        (SPOTTER_SESSION, "auto", 167_094, None)
    ]
    assert any(u.is_compact_summary for u in folded.of(UserTurn))
    cache_1h = sum(t.usage.cache_write_1h or 0 for t in folded.turns())
    assert cache_1h == 394_137  # FORMATS: in the 2.1.x sample all writes are 1h
    web = [t.usage.web_search_requests for t in folded.turns() if t.usage.web_search_requests is not None]
    assert web and all(isinstance(w, int) for w in web)


def test_minimal_showcase_meta_sidecar() -> None:
    folded = _fold("daaain_claude-code-log/minimal_showcase")
    (info,) = folded.of(SessionInfo)
    assert info.session_id == f"{SHOWCASE_SESSION}/agent-showcol1"
    assert (info.parent_session_id, info.relationship, info.agent_id) == (
        SHOWCASE_SESSION,
        "subagent",
        "showcol1",
    )
    assert (info.agent_type, info.parent_tool_use_id) == ("general-purpose", "toolu_sc_showcol1")
    (turn,) = folded.turns()
    assert turn.usage.cache_read is None and turn.fidelity.usage == "partial"  # fields not written


def test_flat_agent_file_2_0() -> None:
    folded = _fold("cass_v2.0.37_flat_agent")
    (info,) = folded.of(SessionInfo)
    assert (info.session_id, info.parent_session_id, info.agent_id) == (
        "test-session/agent-test123",
        "test-session",
        "test123",
    )
    assert info.title == "Discussed matrix completion"
    assert not folded.turns()  # its assistant line has no usage
    (call,) = folded.of(ToolCall)
    assert (call.name, call.target, call.session_id) == (
        "Read",
        "/test/file.rs",
        "test-session/agent-test123",
    )


# ------------------------------------------------------------------------ small fixtures


def test_toktrack_invalid_line_synthetic_and_cost() -> None:
    folded = _fold("toktrack_claude-sample.jsonl")
    d = folded.diagnostics
    assert d.invalid["invalid_json"] == 1
    assert any(w.endswith("toktrack_claude-sample.jsonl:3") for w in d.warnings)
    assert d.dropped["synthetic"] == 1
    turns = {t.message_id: t for t in folded.turns()}
    assert set(turns) == {"msg-001", "msg-002", None}
    assert turns["msg-002"].reported_cost_usd == "0.025"
    assert turns["msg-001"].reported_cost_usd is None
    no_ids = turns[None]
    assert no_ids.request_id is None and no_ids.line_hash is not None and len(no_ids.line_hash) == 32
    assert (no_ids.usage.input, no_ids.usage.output) == (150, 75)
    assert all(t.model != "<synthetic>" for t in folded.turns())


def test_ccusage_fixture_speed_cost_and_nested_layout() -> None:
    folded = _fold("ccusage_fixtures")
    turns = {t.message_id: t for t in folded.turns()}
    assert {k: t.reported_cost_usd for k, t in turns.items()} == {
        "msg-alpha-1": "0.12",
        "msg-alpha-2": "0.34",
        "msg-alpha-3": "0.56",
    }
    assert turns["msg-alpha-2"].speed == "fast"
    assert turns["msg-alpha-1"].speed is None
    assert {t.session_id for t in turns.values()} == {"session-alpha"}
    assert folded.totals() == (600, 250, 75, 70)


def test_simonw_summary_title_and_tools_without_content() -> None:
    folded = _fold("simonw_sample_session.jsonl")
    (info,) = folded.of(SessionInfo)
    assert (info.session_id, info.title) == ("test-session-id", "Test session for JSONL parsing")
    calls = {c.tool_use_id: c for c in folded.of(ToolCall)}
    assert (calls["toolu_001"].name, calls["toolu_001"].target) == ("Write", "/project/hello.py")
    assert (calls["toolu_002"].name, calls["toolu_002"].target) == ("Bash", "git")
    dumped = orjson.dumps([to_dict(r) for r in folded.records.values()])
    for secret in (
        b"Hello, World",
        b"Add hello function",
        b"hello world function",
        b"goodbye",
        b"1 file changed",
    ):
        assert secret not in dumped
    users = sorted(folded.of(UserTurn), key=lambda u: u.ts)
    assert [u.user_uuid for u in users] == ["msg-001", "msg-003", "msg-005", "msg-006"]
    assert users[0].blocks[0].kind == "text"
    assert users[0].blocks[0].byte_length == len(b"Create a hello world function")


def test_dag_compact_after_rewind() -> None:
    folded = _fold("daaain_claude-code-log/dag_compact_after_rewind.jsonl")
    (c,) = folded.of(Compaction)
    assert (c.uuid, c.trigger, c.tokens_before, c.ts) == ("cb", "auto", 150_000, "2025-07-01T10:30:00.000Z")
    users = {u.user_uuid: u for u in folded.of(UserTurn)}
    assert users["cs"].is_compact_summary
    # Rewind branches are separate requests: all five responses count.
    assert len(folded.turns()) == 5
    assert (users["b2u"].preceding_message_id, users["b2u"].following_message_id) == ("msg_b1a", "msg_b2a")
