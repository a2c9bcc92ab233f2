"""Session rows' ``timing`` (docs/accounting.md "Timing", per session): records with known and
unknown timings go through the real ledger, archive build and ``burn export sessions``; expected
values are worked out by hand below. Incremental builds keep the rollup's timing equal to a
rebuild's (tests/test_contract_session_rollup.py covers that on the contract fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from burn.cli.app import main
from burn.query import per_second
from burn.records import SessionInfo, Turn, Usage, UserBlock, UserTurn
from tests.test_contract_cursor import _append

SRC = "claude-code"
PROMPT = (UserBlock(kind="text", byte_length=10, approx_tokens=3),)


def _turn(
    sid: str, n: int, model: str, output: int | None, duration: int | None, latency: int | None
) -> Turn:
    return Turn(source=SRC, session_id=sid, message_id=f"{sid}-m{n}", request_id=f"{sid}-r{n}",
                ts=f"2026-03-01T10:00:{n:02d}.000Z", model=model, usage=Usage(input=10, output=output),
                duration_ms=duration, latency_ms=latency)  # fmt: skip


def _user(sid: str, n: int, wall: int | None) -> UserTurn:
    return UserTurn(source=SRC, session_id=sid, user_uuid=f"{sid}-u{n}", ts=f"2026-03-01T09:59:{n:02d}.000Z",
                    blocks=PROMPT, wall_ms=wall)  # fmt: skip


def _session(sid: str) -> SessionInfo:
    return SessionInfo(source=SRC, session_id=sid, cwd="/src/p", first_seen_ts="2026-03-01T09:59:00.000Z")


def _timing(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    monkeypatch.setenv("RELAYBURN_HOME", str(home))
    capsys.readouterr()
    assert main(["export", "sessions", "--all", "--json"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    return {r["session_id"]: r["timing"] for r in doc["rows"]}


def test_session_timing_from_known_values_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b, c = "sess-a", "sess-b", "sess-c"
    _append(tmp_path, [
        _session(a), _session(b), _session(c),
        # a: two models (the medians and sums span both); durations 1000, 3000, 0, 2000 and one
        # unknown; latencies 200, 100, 0; output known on all but the 2000 ms turn.
        _turn(a, 1, "claude-sonnet-4-5", 50, 1000, 200),
        _turn(a, 2, "claude-haiku-4-5", 150, 3000, 100),
        _turn(a, 3, "claude-sonnet-4-5", 10, None, None),
        _turn(a, 4, "claude-sonnet-4-5", 5, 0, 0),
        _turn(a, 5, "claude-haiku-4-5", None, 2000, None),
        _user(a, 1, 5000), _user(a, 2, None), _user(a, 3, 7000),
        # b: nothing timed.
        _turn(b, 1, "claude-sonnet-4-5", 40, None, None), _user(b, 1, None),
        # c: one output token in 3 s: 0.333… tokens/s.
        _turn(c, 1, "claude-sonnet-4-5", 1, 3000, 2999),
    ])  # fmt: skip
    got = _timing(tmp_path, monkeypatch, capsys)
    assert got[a] == {
        "turns_timed": 4,
        "duration_ms_total": 6000,
        "duration_ms_median": 1000,  # 0, 1000, 2000, 3000: the lower middle
        "latency_turns": 3,
        "latency_ms_median": 100,
        "output_tokens_per_s": "50.0",  # (50 + 150) × 1000 / (1000 + 3000); not the 0 ms turn
        "user_turns_timed": 2,
        "wall_ms_total": 12000,
    }
    assert got[b] == {
        "turns_timed": 0, "duration_ms_total": None, "duration_ms_median": None, "latency_turns": 0,
        "latency_ms_median": None, "output_tokens_per_s": None, "user_turns_timed": 0, "wall_ms_total": None,
    }  # fmt: skip
    assert got[c]["output_tokens_per_s"] == "0.3" and got[c]["latency_ms_median"] == 2999

    # A later batch adds a timed turn and a timed user turn to b: its row is refreshed.
    _append(tmp_path, [_turn(b, 2, "claude-sonnet-4-5", 90, 1500, 700), _user(b, 2, 4000)])
    got = _timing(tmp_path, monkeypatch, capsys)
    assert got[b] == {
        "turns_timed": 1, "duration_ms_total": 1500, "duration_ms_median": 1500, "latency_turns": 1,
        "latency_ms_median": 700, "output_tokens_per_s": "60.0", "user_turns_timed": 1, "wall_ms_total": 4000,
    }  # fmt: skip
    assert got[a]["turns_timed"] == 4  # untouched


@pytest.mark.parametrize(
    ("amount", "ms", "shown"),
    [
        (1, 3000, "0.3"),
        (2, 3000, "0.7"),
        (1, 160, "6.2"),  # 6.25: half to even
        (3, 160, "18.8"),  # 18.75: half to even
        (0, 5, "0.0"),
        (10, 0, None),  # no time: no rate (never a division by zero, never 0)
        (None, 10, None),
        (10, None, None),
    ],
)
def test_per_second_is_exact_and_rounds_half_to_even(
    amount: int | None, ms: int | None, shown: str | None
) -> None:
    assert per_second(amount, ms) == shown
