"""``burn serve``'s socket and its cache-hit path, checked by what they do, not how fast."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from burn.records import SessionInfo
from burn.server import params
from burn.server.cli import listen
from burn.store import LEDGER_VERSION, encode
from tests.contract_fixture import build_fixture, env_for
from tests.server_fixture import InProcess
from tests.test_contract_cursor import OPS, _turn


def test_accepted_connections_have_tcp_nodelay() -> None:
    """asyncio sets TCP_NODELAY on a connection only when its socket's protocol is IPPROTO_TCP;
    without it, a response written as headers then body waits for the client's delayed ACK
    (~40 ms per keep-alive request; docs/performance.md)."""
    sock = listen("127.0.0.1", 0)

    async def accepted_nodelay() -> int:
        got: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            got.set_result(w.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            w.close()

        server = await asyncio.start_server(handle, sock=sock)
        _r, w = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            return await asyncio.wait_for(got, 30)
        finally:
            w.close()
            server.close()

    assert asyncio.run(accepted_nodelay()) != 0


@pytest.fixture
def app(tmp_path: Path) -> Iterator[InProcess]:
    build_fixture(tmp_path)
    served = InProcess(tmp_path / "burn", {**env_for(tmp_path), "TZ": "UTC"})
    yield served
    served.close()


def test_a_cache_hit_does_not_parse_the_query(app: InProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hit is answered on the event loop: neither the argparse parse of the query nor the hand-off
    to a worker thread (render_cached) runs; a bad query is still refused every time, as it is
    never cached."""
    from burn.server.app import Server

    calls: list[str] = []
    real = params.options
    real_render = Server.render_cached

    def counted(verb: str, name: str, *rest: object) -> object:
        calls.append(name)
        return real(verb, name, *rest)  # type: ignore[arg-type]

    def counted_render(self: Server, *args: Any) -> Any:
        calls.append("render_cached")
        return real_render(self, *args)

    monkeypatch.setattr(params, "options", counted)
    monkeypatch.setattr(Server, "render_cached", counted_render)
    first = app.get("/v1/reports/usage?by=day&since=2026-01-01")
    again = app.get("/v1/reports/usage?since=2026-01-01&by=day")
    assert (first[0], first[1]["x-burn-cache"]) == (200, "miss")
    assert (again[0], again[1]["x-burn-cache"], again[2]) == (200, "hit", first[2])
    assert calls == ["render_cached", "usage"]
    for _ in range(2):
        status, headers, _body = app.get("/v1/reports/usage?by=fortnight")
        assert (status, headers["content-type"]) == (400, "application/problem+json")
    assert calls == ["render_cached", "usage"] * 3


def test_the_stamp_is_read_again_only_after_a_commit(tmp_path: Path) -> None:
    """A cache hit reads ``PRAGMA data_version``; the stamp's own query runs again once another
    connection has committed to the archive (here: ingest-quality counters, which move no ledger
    position), and then the stamp differs."""
    import sqlite3

    from burn.archive import quality
    from burn.server.cache import Stamper

    build_fixture(tmp_path)
    path = tmp_path / "burn" / "archive.sqlite"
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    statements: list[str] = []
    reader.set_trace_callback(statements.append)
    stamper = Stamper(reader)
    first, again = stamper(), stamper()
    assert first == again
    assert sum("archive_state" in s for s in statements) == 1
    assert sum("data_version" in s for s in statements) == 2

    writer = sqlite3.connect(path, isolation_level=None)
    with writer:
        quality.add(writer, [("claude-code", "duplicates_dropped", "duplicate", 3)])
    writer.close()
    changed = stamper()
    assert sum("archive_state" in s for s in statements) == 2
    assert changed[:2] != first[:2]
    reader.close()


# -- paging over HTTP with ingests between pages (property) ------------------------------------------


def _post(app: InProcess, records: list[Any]) -> None:
    lines = []
    for record in records:
        item = encode(record)
        lines.append(orjson.dumps({"v": LEDGER_VERSION, "kind": item.kind, "id": item.id,
                                   "record": orjson.loads(item.data)}))  # fmt: skip
    status, _, body = app.post("/v1/ledger", b"\n".join(lines))
    assert status == 200 and not orjson.loads(body)["rejected"], body


def _session(sid: str, ts: str) -> list[Any]:
    return [SessionInfo(source="claude-code", session_id=sid, first_seen_ts=ts), _turn(sid, 0, ts)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 6), limit=st.integers(1, 3), ops=OPS)
def test_http_pages_interleaved_with_posts_yield_each_row_once_or_409(
    tmp_path_factory: pytest.TempPathFactory, n: int, limit: int, ops: list[tuple[Any, ...]]
) -> None:
    """``GET /v1/sessions`` pages with ``POST /v1/ledger`` between them (new sessions, possibly
    sorting before rows already sent; new turns in sent or unsent sessions): a pass either ends
    with exactly the rows of the snapshot at its first page, once each and in order, or gets a 409
    ``cursor_reset`` (only after a session under its watermark changed) and starts over. Once the
    ingests stop, the last pass completes."""
    base = tmp_path_factory.mktemp("http-paging")
    app = InProcess(base / "burn", {**env_for(base), "TZ": "UTC"})
    try:
        sessions = [f"s{i}" for i in range(n)]
        _post(app, [r for i, s in enumerate(sessions) for r in _session(s, f"2026-03-01T10:{i:02d}:00.000Z")])

        def get(path: str) -> tuple[int, Any]:
            status, headers, body = app.get(path)
            assert headers["content-type"] == (
                "application/json" if status == 200 else "application/problem+json"
            )
            return status, orjson.loads(body)

        def first_page() -> tuple[list[Any], list[Any], str | None]:
            snapshot = get("/v1/sessions?all=true")[1]["rows"]
            page = get(f"/v1/sessions?limit={limit}")[1]
            return snapshot, page["rows"], page["cursor"]["next"]

        snapshot, got, token = first_page()
        changed, restarts, counter = False, 0, 1
        pending = list(ops)
        while True:
            op = pending.pop(0) if pending else ("page",)
            if op[0] == "page":
                if token is None:
                    break
                status, doc = get(f"/v1/sessions?cursor={token}")
                if status == 409:
                    assert (doc["error"], doc["reason"]) == ("cursor_reset", "rows_changed"), doc
                    assert changed, "a reset without a change under the watermark"
                    restarts += 1
                    snapshot, got, token = first_page()
                    changed = False
                    continue
                assert status == 200, doc
                got += doc["rows"]
                token = doc["cursor"]["next"]
            elif op[0] == "new":
                ts = f"2026-03-01T{9 + op[1] // 10:02d}:{op[1] % 10 * 5:02d}:30.000Z"
                _post(app, _session(f"new{counter}", ts))
            else:
                _post(app, [_turn(sessions[op[1] % n], counter, "2026-03-02T10:00:00.000Z")])
                changed = True
            counter += 1
        event("restarted" if restarts else "complete")
        assert got == snapshot
        keys = [(r["source"], r["session_id"]) for r in got]
        assert len(keys) == len(set(keys))
    finally:
        app.close()


@pytest.mark.parametrize("fails", [False, True])
def test_one_render_per_document_however_many_requests_miss(
    monkeypatch: pytest.MonkeyPatch, fails: bool
) -> None:
    """Requests that miss while the same document renders wait for that render (its body, or its
    error) instead of rendering it again: one render for six requests."""
    import threading
    import time

    from burn.server import cache

    waiting = [0]
    count_lock = threading.Lock()

    class CountedEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            with count_lock:
                waiting[0] += 1
            return super().wait(timeout)

    class CountedFlight(cache._Flight):
        def __init__(self) -> None:
            super().__init__()
            self.done = CountedEvent()

    monkeypatch.setattr(cache, "_Flight", CountedFlight)
    gate = threading.Semaphore(0)
    renders: list[int] = []

    def render() -> bytes:
        renders.append(1)
        gate.acquire()
        if fails:
            raise ValueError("bad query")
        return b'{"doc":1}\n'

    docs = cache.DocumentCache()
    results: list[object] = []

    def ask() -> None:
        try:
            results.append(docs.get_or_render(("usage", ()), "stamp-1", render))
        except ValueError as exc:
            results.append(exc)

    leader = threading.Thread(target=ask)
    leader.start()
    followers = [threading.Thread(target=ask) for _ in range(5)]
    for t in followers:
        t.start()
    deadline = time.monotonic() + 60  # a bound on waiting for the threads, not a speed assertion
    while waiting[0] < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert waiting[0] == 5
    gate.release()
    for t in [leader, *followers]:
        t.join(60)
    assert len(renders) == 1 and len(results) == 6
    if fails:
        assert all(isinstance(r, ValueError) for r in results)
        assert len(docs) == 0 and docs.get_or_render(("usage", ()), "stamp-1", lambda: b"x")[1] is False
    else:
        assert sorted(results, key=lambda r: r[1]) == [(b'{"doc":1}\n', False)] + [(b'{"doc":1}\n', True)] * 5  # type: ignore[index]


def test_a_new_stamp_replaces_the_requests_body() -> None:
    """One body per request: the body of a newer stamp replaces the older one (which nothing can
    ask for again), so the cache does not fill with dead bodies minute after minute."""
    from burn.server.cache import DocumentCache

    docs = DocumentCache()
    assert docs.get_or_render("daily", "minute-1", lambda: b"a" * 10) == (b"a" * 10, False)
    assert docs.peek("daily", "minute-1") == b"a" * 10
    assert docs.get_or_render("daily", "minute-2", lambda: b"b" * 20) == (b"b" * 20, False)
    assert docs.peek("daily", "minute-1") is None and docs.peek("daily", "minute-2") == b"b" * 20
    assert docs.get_or_render("weekly", "minute-2", lambda: b"c" * 5) == (b"c" * 5, False)
    assert (len(docs), docs._bytes) == (2, 25)
