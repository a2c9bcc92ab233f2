"""Keyset cursors: pages concatenate to ``--all``; resets (tampered, foreign, rebuilt, rows
changed) print nothing on stdout, one JSON object on stderr and exit 4; query flags with
``--cursor`` are usage errors; and a hypothesis property over interleaved pages and ingests."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from burn.archive.database import Archive, rebuild
from burn.cli import app as cli
from burn.contract import run as runner
from burn.contract.page_cursor import CursorReset
from burn.ledger.file import FileStore
from burn.records import SessionInfo, Turn, Usage
from burn_export_sessions.exporter import SessionsExporter
from tests.contract_fixture import NOW, build_fixture, end_of, parse, pin, rows_of, run, validate

FILTERS = {"timezone": "UTC", "since": None, "until": None, "sources": [], "projects": [], "models": [],
           "roots_only": False, "exclude_automated": False}  # fmt: skip


@pytest.fixture(scope="module")
def fixture_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("cursor"))


@pytest.fixture
def home(fixture_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "burn"
    shutil.copytree(fixture_home, copy)
    monkeypatch.setenv("RELAYBURN_HOME", str(copy))
    return copy


def pages(home: Path, limit: int, fmt: str = "--ndjson") -> list[bytes]:
    out = [run(home, "export", ["sessions", fmt, "--limit", str(limit)])]
    while (token := end_of(out[-1])["cursor"]["next"]) is not None:
        out.append(run(home, "export", ["sessions", fmt, "--cursor", token]))
    return out


@pytest.mark.parametrize("fmt", ["--ndjson", "--json"])
def test_pages_concatenate_to_all(home: Path, fmt: str) -> None:
    everything = rows_of(run(home, "export", ["sessions", fmt, "--all"]))
    got = pages(home, 2, fmt)
    assert len(got) == 4
    for data in got:
        validate(data, "sessions")
    assert [r for data in got for r in rows_of(data)] == everything
    metas = [parse(d)[0] if fmt == "--ndjson" else parse(d)["meta"] for d in got]
    assert [m["page"]["rows_before"] for m in metas] == [0, 2, 4, 6]
    assert len({m["page"]["watermark"] for m in metas}) == 1


def test_a_cursor_keeps_its_profile_and_limit(home: Path) -> None:
    first = run(home, "export", ["sessions", "--identity", "anonymous", "--limit", "3"])
    token = end_of(first)["cursor"]["next"]
    second = run(home, "export", ["sessions", "--cursor", token])
    assert len(rows_of(second)) == 3
    assert all(r["session_id"].startswith("hmac-sha256:") for r in rows_of(second))


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _token(home: Path) -> str:
    token: str = end_of(run(home, "export", ["sessions", "--limit", "2"]))["cursor"]["next"]
    return token


def _assert_reset(code: int, out: str, err: str, reason: str) -> None:
    assert code == 4
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["error"] == "cursor_reset" and obj["reason"] == reason and obj["message"]


@pytest.mark.parametrize(
    "flags",
    [
        ["--source", "codex"],
        ["--identity", "full"],
        ["--since", "7d"],
        ["--roots-only"],
        ["--timezone", "UTC"],
    ],
)
def test_query_flags_with_a_cursor_are_usage_errors(home: Path, flags: list[str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code, out, err = _cli(["export", "sessions", "--cursor", _token(home), *flags], capsys)
    assert code == 2 and out == "" and "--cursor" in err


def test_paging_flags_with_a_cursor_are_fine(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(["export", "sessions", "--cursor", _token(home), "--ndjson", "--limit", "1"], capsys)
    assert code == 0 and len(out.splitlines()) == 3


def test_tampered_cursor_resets(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _token(home)
    body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["emitted"] = 0  # a consumer "rewinding" the cursor: the signature no longer matches
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + sig
    _assert_reset(*_cli(["export", "sessions", "--cursor", forged], capsys), "tampered")
    _assert_reset(*_cli(["export", "sessions", "--cursor", "garbage"], capsys), "invalid_cursor")


def test_foreign_cursor_resets(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    shutil.copytree(home, other)
    a = Archive.in_home(other)
    a.db.execute("UPDATE archive_state SET value = 'another' WHERE key = 'archive_id'")
    a.close()
    token = _token(home)
    code, _out, _err = _cli(["export", "sessions", "--cursor", token], capsys)  # same archive: fine
    assert code == 0
    pytest.MonkeyPatch().setenv("RELAYBURN_HOME", str(other))
    _assert_reset(*_cli(["export", "sessions", "--cursor", token], capsys), "foreign_archive")


def test_rebuild_resets(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = _token(home)
    store = FileStore(home)
    with store.lock():
        rebuild(home, store)[0].close()
    _assert_reset(*_cli(["export", "sessions", "--cursor", token], capsys), "archive_rebuilt")


def _append(home: Path, records: list[Any]) -> None:
    store = FileStore(home)
    with store.lock():
        store.append(records)
        archive = Archive.in_home(home)
        archive.build(store)
        archive.close()


def _turn(session: str, n: int, ts: str, source: str = "claude-code") -> Turn:
    return Turn(source=source, session_id=session, message_id=f"msg_{session}_{n}", request_id=f"req_{n}",
                ts=ts, model="claude-sonnet-4-5-20250929", usage=Usage(input=1, output=2, cache_read=0,
                cache_write_5m=0, cache_write_1h=0))  # fmt: skip


def test_a_changed_session_under_the_watermark_resets(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(home, "export", ["sessions", "--limit", "2"])
    emitted = rows_of(first)[0]
    _append(home, [_turn(emitted["session_id"], 99, "2026-03-09T10:00:00.000Z", emitted["source"])])
    token = end_of(first)["cursor"]["next"]
    _assert_reset(*_cli(["export", "sessions", "--cursor", token], capsys), "rows_changed")


def test_new_sessions_after_the_first_page_wait_for_the_next_export(home: Path) -> None:
    everything = rows_of(run(home, "export", ["sessions", "--all"]))
    first = run(home, "export", ["sessions", "--limit", "2"])
    _append(home, [SessionInfo(source="claude-code", session_id="late", first_seen_ts="2026-03-09T10:00:00.000Z"),
                   _turn("late", 1, "2026-03-09T10:00:00.000Z")])  # fmt: skip
    rows = rows_of(first)
    token = end_of(first)["cursor"]["next"]
    while token is not None:
        page = run(home, "export", ["sessions", "--cursor", token])
        rows += rows_of(page)
        token = end_of(page)["cursor"]["next"]
    assert rows == everything
    assert "late" in {r["session_id"] for r in rows_of(run(home, "export", ["sessions", "--all"]))}


# -- property: interleaved pages and ingests ---------------------------------------------------------

CTX = runner.Context(home=Path("/unused"), now=NOW, hostname="h")


def _page(home: Path, token: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    archive = Archive.in_home(home, readonly=True)
    out = io.BytesIO()
    try:
        req = runner.Request(
            fmt="ndjson", filters=FILTERS if token is None else {}, cursor=token, limit=limit
        )
        runner.export(SessionsExporter(), archive, req, out, runner.Context(home, NOW, "h"))
    finally:
        archive.close()
    data = out.getvalue()
    validate(data, "sessions")
    return rows_of(data), end_of(data)["cursor"]["next"]


OPS = st.lists(
    st.one_of(
        st.just(("page",)),
        st.tuples(st.just("new"), st.integers(0, 30)),
        st.tuples(st.just("grow"), st.integers(0, 9)),
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 6), limit=st.integers(1, 3), ops=OPS)
def test_pages_interleaved_with_ingests_yield_each_row_once_or_reset(
    tmp_path_factory: pytest.TempPathFactory, n: int, limit: int, ops: list[tuple[Any, ...]]
) -> None:
    home = tmp_path_factory.mktemp("prop") / "burn"
    sessions = [f"s{i}" for i in range(n)]
    _append(home, [r for i, s in enumerate(sessions) for r in (
        SessionInfo(source="claude-code", session_id=s, first_seen_ts=f"2026-03-01T10:{i:02d}:00.000Z"),
        _turn(s, 0, f"2026-03-01T10:{i:02d}:00.000Z"))])  # fmt: skip
    pin(home)
    snapshot, _ = _page(home, None, 10_000)
    got, token = _page(home, None, limit)
    changed_existing = False
    counter = 1
    try:
        for op in ops:
            if op[0] == "page":
                if token is None:
                    break
                rows, token = _page(home, token, limit)
                got += rows
            elif op[0] == "new":  # a new session, possibly sorting before rows already emitted
                sid = f"new{counter}"
                ts = f"2026-03-01T{9 + op[1] // 10:02d}:{op[1] % 10 * 5:02d}:30.000Z"
                _append(home, [SessionInfo(source="claude-code", session_id=sid, first_seen_ts=ts),
                               _turn(sid, 0, ts)])  # fmt: skip
            else:  # new turns in an existing session change its aggregates
                sid = sessions[op[1] % n]
                _append(home, [_turn(sid, counter, "2026-03-02T10:00:00.000Z")])
                changed_existing = True
            counter += 1
        while token is not None:
            rows, token = _page(home, token, limit)
            got += rows
    except CursorReset as exc:
        assert exc.reason == "rows_changed"
        assert changed_existing, "a reset without a change under the watermark"
        event("reset")
        return
    event("complete" + (" after changes" if changed_existing else ""))
    # No reset: exactly the rows of the snapshot at the first page, once each, in order.
    assert got == snapshot


def test_the_cursor_key_is_per_archive_created_0600(tmp_path: Path) -> None:
    from burn.contract.page_cursor import secret

    key = secret(tmp_path, "archive-a")
    path = tmp_path / "cursor-keys" / "archivea.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert secret(tmp_path, "archive-a") == key != secret(tmp_path, "archive-b")
