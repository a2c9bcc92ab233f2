"""``burn serve``'s socket and its cache-hit path, checked by what they do, not how fast."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from burn.server import params
from burn.server.cli import listen
from tests.contract_fixture import build_fixture, env_for
from tests.server_fixture import InProcess


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
    """The argparse parse of a query (most of a hit's cost) runs on a miss only; a bad query is
    still refused every time, as it is never cached."""
    calls: list[str] = []
    real = params.options

    def counted(verb: str, name: str, *rest: object) -> object:
        calls.append(name)
        return real(verb, name, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(params, "options", counted)
    first = app.get("/v1/reports/usage?by=day&since=2026-01-01")
    again = app.get("/v1/reports/usage?since=2026-01-01&by=day")
    assert (first[0], first[1]["x-burn-cache"]) == (200, "miss")
    assert (again[0], again[1]["x-burn-cache"], again[2]) == (200, "hit", first[2])
    assert calls == ["usage"]
    for _ in range(2):
        status, headers, _body = app.get("/v1/reports/usage?by=fortnight")
        assert (status, headers["content-type"]) == (400, "application/problem+json")
    assert calls == ["usage"] * 3


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
