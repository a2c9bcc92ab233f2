"""Real ``burn serve`` processes for the server's tests: started on a free loopback port
(``--port 0``; the server prints the URL it listens on), ready once ``/healthz`` answers, killed
after."""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path,
                 tls: ssl.SSLContext | None = None) -> None:  # fmt: skip
        self.proc, self.url, self.log, self.tls = proc, url, log, tls
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        conn = (
            http.client.HTTPSConnection(self.host, self.port, timeout=60, context=self.tls)
            if self.url.startswith("https://")
            else http.client.HTTPConnection(self.host, self.port, timeout=60)
        )
        try:
            h = dict(headers or {})
            conn.request(method, path, body=body, headers=h, encode_chunked="Transfer-Encoding" in h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def get(self, path: str, token: str | None = None, **headers: str) -> tuple[int, dict[str, str], bytes]:
        h = dict(headers)
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return self.request("GET", path, headers=h)

    def post(self, path: str, body: bytes, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
        h = {"Content-Type": "application/x-ndjson"}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        return self.request("POST", path, body=body, headers=h)

    def json(self, path: str, token: str | None = None) -> Any:
        status, _, body = self.get(path, token)
        assert status == 200, body
        return orjson.loads(body)

    def stop(self) -> str:
        """Stop the server (SIGTERM, then SIGKILL) and return everything it logged."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.log.read_text()


def burn_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "burn", *args]


def start(env: Mapping[str, str], *args: str, log: Path, tls: ssl.SSLContext | None = None) -> Served:
    """``burn serve --port 0 ARGS`` in the burn home of ``env``; returns once /healthz answers
    (over TLS verified with ``tls`` when the server was given a certificate)."""
    full = {**os.environ, **env}
    full.pop("RELAYBURN_STORAGE", None)
    with log.open("wb") as err:
        proc = subprocess.Popen(burn_cmd("serve", "--port", "0", *args), env=full,
                                stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
    url = None
    deadline = time.monotonic() + 60  # a bound on waiting, not an assertion on speed
    while time.monotonic() < deadline:
        text = log.read_text()
        if text:
            first = text.splitlines()[0]
            if first.startswith("{"):
                url = orjson.loads(first)["url"]
                break
        if proc.poll() is not None:
            raise AssertionError(f"burn serve exited {proc.returncode}: {log.read_text()}")
        time.sleep(0.05)
    assert url is not None, log.read_text()
    served = Served(proc, url, log, tls)
    while time.monotonic() < deadline:
        try:
            if served.get("/healthz")[0] == 200:
                return served
        except OSError:
            pass
        time.sleep(0.05)
    served.stop()
    raise AssertionError("burn serve never answered /healthz")


def cli(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, **env}
    full.pop("RELAYBURN_STORAGE", None)
    return subprocess.run(burn_cmd(*args), env=full, capture_output=True, timeout=120, check=False)


class InProcess:
    """``burn serve``'s ASGI application over a burn home, called in-process through an anyio
    blocking portal (no sockets): the same routes, keeper (writer thread) and archive as the real
    process, cheap enough for property tests that make many requests."""

    def __init__(self, home: Path, env: Mapping[str, str]) -> None:
        from anyio.from_thread import start_blocking_portal

        from burn.plugins.manager import Plugins
        from burn.plugins.stores import open_store
        from burn.server.app import Config, Server, create_app
        from burn.server.keeper import Keeper
        from burn.server.tokens import Keyring

        plugins = Plugins(env=dict(env))
        self.keeper = Keeper(home, open_store(home, env, plugins))
        self.keeper.start(0)
        self.server = Server(home, self.keeper, dict(plugins.exporters()), Keyring(home), Config())
        self.app = create_app(self.server)
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()

    def request(self, method: str, path: str, body: bytes = b"",
                headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        return self._portal.call(self._call, method, path, body, dict(headers or {}))

    async def _call(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        route, _, query = path.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": route, "raw_path": route.encode(), "root_path": "",
                 "query_string": query.encode(), "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8787),
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}  # fmt: skip
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status, out, chunks = 0, {}, []

        async def send(message: Mapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out.update({k.decode().lower(): v.decode() for k, v in message.get("headers", [])})
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, out, b"".join(chunks)

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path)

    def post(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        return self.request("POST", path, body, {"Content-Type": "application/x-ndjson"})

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)
        self.keeper.close()
