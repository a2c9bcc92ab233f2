"""The ASGI application of ``burn serve`` (routes in docs/server.md and :mod:`.openapi`)."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Hashable, Mapping, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from burn.archive.database import Archive
from burn.cli.contract import commands, document
from burn.contract.page_cursor import CursorReset
from burn.errors import BurnError, UsageError
from burn.exporter import Exporter
from burn.server import cache, params, stream
from burn.server.feed import ledger_get, ledger_post
from burn.server.feed import server_of as _server
from burn.server.keeper import Keeper
from burn.server.metrics import Metrics
from burn.server.problems import PROBLEM, problem
from burn.server.tokens import Keyring, Scope, Token

Scope_ = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

NDJSON = "application/x-ndjson"
RENDER_THREADS = 2  # renders are CPU work under one GIL; SQLite releases it while it reads


@attrs.frozen
class Config:
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch: int = 5000
    body_timeout: float = 30.0  # seconds to receive a whole request body (slow clients get 408)


class Server:
    """What the routes share: the home, its store (through the keeper), the exporters, the tokens."""

    def __init__(self, home: Path, keeper: Keeper, exporters: dict[str, Exporter], keyring: Keyring,
                 config: Config, *, auth_required: bool = False) -> None:  # fmt: skip
        self.home = home
        self.keeper = keeper
        self.exporters = exporters
        self.keyring = keyring
        self.config = config
        self.auth_required = auth_required  # tokens demanded even while none exist (non-loopback)
        self.metrics = Metrics()
        self.documents = cache.DocumentCache()
        self._local = threading.local()
        self.started = time.time()
        self._engine: Any = None
        self._engine_lock = threading.Lock()
        self._commands: dict[str, dict[str, tuple[Exporter, Mapping[str, Any]]]] = {}
        # Documents render on their own few threads, not on the 40 of the shared pool: each thread
        # that renders keeps a malloc arena and an archive connection holding what the render
        # used, so renders spread over 40 threads grew the RSS by ~10 MB a minute (the cache's
        # minute), 84 -> 141 MB in 6 minutes of 50 clients (docs/performance.md).
        self.renderer = ThreadPoolExecutor(max_workers=RENDER_THREADS, thread_name_prefix="burn-render")

    def engine(self) -> Any:
        """The analytics engine (:mod:`burn.analytics`), opened on the first analytics request:
        duckdb is imported then, not when the server starts."""
        with self._engine_lock:
            if self._engine is None:
                from burn.analytics.engine import open_engine

                self._engine = open_engine(self.home)
            return self._engine

    # -- reading ---------------------------------------------------------------------------------

    def archive(self) -> Archive:
        """This thread's read-only archive connection, reopened when the file was replaced."""
        return self._held()[0]

    def _held(self) -> tuple[Archive, int, cache.Stamper]:
        path = self.home / "archive.sqlite"
        ino = path.stat().st_ino
        held: tuple[Archive, int, cache.Stamper] | None = getattr(self._local, "archive", None)
        if held is not None and held[1] == ino:
            return held
        if held is not None:
            held[0].close()
        archive = Archive(path, readonly=True)
        self._local.archive = held = (archive, ino, cache.Stamper(archive.db))
        return held

    def render(self, exp: Exporter, options: dict[str, Any]) -> bytes:
        out = io.BytesIO()
        try:
            document(exp, options, out, home=self.home, archive=self.archive())
            return out.getvalue()
        finally:
            release_freed_memory()

    def render_cached(
        self, request: Hashable, exp: Exporter, options: Callable[[], dict[str, Any]]
    ) -> tuple[bytes, bool]:
        """:meth:`render` through the document cache (:mod:`burn.server.cache`); and whether it hit.

        ``options`` parses the query (the command's argparse parser, ~0.5 ms) and is called on a
        miss only: a hit's request was parsed when it was first rendered, and the key is the query
        normalised (docs/performance.md, "`burn serve` under load")."""
        return self.documents.get_or_render(request, self._held()[2](), lambda: self.render(exp, options()))

    def cached(self, request: Hashable) -> bytes | None:
        """The cached body of ``request`` if the archive has not changed since, else None; cheap
        enough for the event loop (a stat, ``PRAGMA data_version``, a lookup), so a hit costs no
        hand-off to a worker thread (docs/performance.md, "`burn serve` under load")."""
        try:
            stamp = self._held()[2]()
        except Exception:
            return None  # no archive yet, or a damaged one: the render path says so properly
        return self.documents.peek(request, stamp)

    def commands(self, verb: str) -> dict[str, tuple[Exporter, Mapping[str, Any]]]:
        """:func:`burn.cli.contract.commands` of this server's exporters (fixed at start-up)."""
        table = self._commands.get(verb)
        if table is None:
            table = self._commands[verb] = commands(verb, self.exporters)
        return table


_trim: Callable[[int], int] | None = None


def release_freed_memory() -> None:
    """Hand what a render freed back to the OS (glibc's ``malloc_trim``; elsewhere nothing).

    glibc keeps freed memory in the freeing thread's malloc arena: a render of the daily report
    on the 1 GB archive peaks at tens of MB, and each new minute (the cache stamp's) renders
    again, so without this the RSS rose by several MB a minute under 50 clients; with it, it stays
    within a few MB (docs/performance.md). Renders are rare (once per document per minute or
    append), and a trim takes well under a millisecond.
    """
    global _trim
    if _trim is None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        found = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
        _trim = found if found is not None else (lambda _pad: 0)
    _trim(0)


# -- routes -----------------------------------------------------------------------------------------


async def sessions(request: Request) -> Response:
    return await _contract(request, "export", "sessions")


async def report(request: Request) -> Response:
    return await _contract(request, "report", request.path_params["name"])


async def _contract(request: Request, verb: str, name: str) -> Response:
    server = _server(request)
    table = server.commands(verb)
    if name not in table:
        return problem(404, "unknown_surface", f"no {verb} named {name!r} (known: {', '.join(table)})")
    exp, preset = table[name]
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "format"]
    fmt = request.query_params.get("format")
    if fmt is None:
        fmt = "ndjson" if NDJSON in request.headers.get("accept", "") else "json"
    if fmt not in ("json", "ndjson"):
        return problem(400, "usage", f"format is json or ndjson, not {fmt!r}")

    def parsed() -> dict[str, Any]:
        return {**params.options(verb, name, exp, preset, query), "format": fmt}

    if fmt == "json":
        # The request, normalised: parameters by name (a repeated one keeps its order).
        key = (verb, name, tuple(sorted(query, key=lambda kv: kv[0])))
        try:
            hit_body = server.cached(key)
            if hit_body is not None:
                body, hit = hit_body, True
            else:
                rendering = asyncio.get_running_loop().run_in_executor(
                    server.renderer, server.render_cached, key, exp, parsed
                )
                body, hit = await rendering
        except BaseException as exc:  # a UsageError from the parse is a 400, as below
            return _failure(exc)
        cached = {"X-Burn-Cache": "hit" if hit else "miss"}
        return Response(body, media_type="application/json", headers=cached)
    try:
        options = parsed()
    except UsageError as exc:
        return problem(400, "usage", str(exc))
    media = NDJSON
    # NDJSON streams, holding a few chunks at a time, from the runner's own connection.
    pipe = stream.start(lambda out: document(exp, options, out, home=server.home))  # type: ignore[arg-type]
    first = await pipe.first()
    if isinstance(first, BaseException):
        return _failure(first)
    if first is None:
        return Response(b"", media_type=media)
    return StreamingResponse(pipe.rest(first), media_type=media)


def _failure(exc: BaseException) -> Response:
    if isinstance(exc, CursorReset):
        # The body is byte for byte what `burn export --cursor` prints on stderr.
        return Response(orjson.dumps(exc.as_json()) + b"\n", 409, media_type=PROBLEM)
    if isinstance(exc, UsageError):
        return problem(400, "usage", str(exc))
    if isinstance(exc, BurnError):
        return problem(503, "unavailable", str(exc))
    _log({"event": "error", "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
    return problem(500, "internal", "internal error; see the server's log")


async def analytics(request: Request) -> Response:
    """``GET /v1/analytics/{panel}``: a ``burn.analytics`` document (docs/dashboard.md)."""
    from burn.analytics.document import PANELS, panel

    server = _server(request)
    name = request.path_params["panel"]
    if name not in PANELS:
        return problem(404, "unknown_panel", f"no analytics panel {name!r} (known: {', '.join(PANELS)})")
    q = request.query_params
    options: dict[str, Any] = {
        k: q.get(k) for k in ("range", "since", "until", "timezone", "identity", "bucket")
    }
    for k in ("source", "project", "model"):
        options[k] = q.getlist(k) or None

    def run() -> bytes:
        doc = panel(name, server.engine(), server.archive(), server.home, options)
        return orjson.dumps(doc) + b"\n"

    try:
        body = await run_in_threadpool(run)
    except BaseException as exc:
        return _failure(exc)
    return Response(body, media_type="application/json")


STATIC = Path(__file__).parent / "static"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".md": "text/markdown; charset=utf-8"}  # fmt: skip


async def page(request: Request) -> Response:
    """``GET /`` and ``GET /static/…``: the dashboard's files, shipped in the wheel (no CDN)."""
    rel = request.path_params.get("path", "index.html")
    path = (STATIC / rel).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file() or path.suffix not in _TYPES:
        return problem(404, "not_found", f"no route {request.url.path} (see /openapi.json)")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return Response(path.read_bytes(), media_type=_TYPES[path.suffix], headers=headers)


async def schema(request: Request) -> Response:
    from burn.contract import schemas

    name = request.path_params["name"]
    if name not in schemas.names():
        return problem(
            404, "unknown_schema", f"no schema named {name!r} (known: {', '.join(schemas.names())})"
        )
    return Response(schemas.text(name), media_type="application/schema+json")


async def healthz(request: Request) -> Response:
    server = _server(request)
    error = server.keeper.last_error
    body = {"status": "ok" if error is None else "degraded", "store": server.keeper.store.name}
    return Response(orjson.dumps(body) + b"\n", media_type="application/json")


async def metrics(request: Request) -> Response:
    server = _server(request)
    text = await run_in_threadpool(server.metrics.render, server.keeper.lag)
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


async def openapi(request: Request) -> Response:
    from burn.server.openapi import document as spec

    return Response(orjson.dumps(spec()), media_type="application/json")


# -- auth, metrics and access logs ------------------------------------------------------------------

OPEN = {"/healthz", "/"}  # the page and its files hold no data; /v1/analytics/… needs the token


def _open(path: str) -> bool:
    return path in OPEN or path.startswith("/static/")


def _route(path: str) -> str:
    """The route template a path matched (a bounded label set for metrics)."""
    if path.startswith("/v1/schemas/"):
        return "/v1/schemas/{name}"
    if path.startswith("/v1/reports/"):
        return "/v1/reports/{name}"
    if path.startswith("/v1/analytics/"):
        return "/v1/analytics/{panel}"
    if path == "/" or path.startswith("/static/"):
        return "/static"
    if path in ("/v1/sessions", "/v1/ledger", "/healthz", "/metrics", "/openapi.json"):
        return path
    return "other"


def _needed(method: str) -> Scope:
    return "write" if method in ("POST", "PUT", "PATCH", "DELETE") else "read"


class Guard:
    """Bearer auth, request metrics and one JSON access-log line per request (never a token)."""

    def __init__(self, app: Callable[[Scope_, Receive, Send], Awaitable[None]], server: Server) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope_, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path, method = scope["path"], scope["method"]
        status = 500
        sent = 0
        token: Token | None = None

        async def send_(message: MutableMapping[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            denied: Response | None = None
            if not _open(path):
                token, denied = self._authorize(scope, method)
            if denied is not None:
                await denied(scope, receive, send_)
            else:
                await self.app(scope, receive, send_)
        finally:
            seconds = time.perf_counter() - started
            route = _route(path)
            self.server.metrics.observe(route, method, status, seconds)
            client = scope.get("client")
            _log({"ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z", "method": method,
                  "path": path, "route": route, "status": status, "ms": round(seconds * 1000, 2),
                  "bytes": sent, "client": client[0] if client else None,
                  "token": token.name if token else None})  # fmt: skip

    def _authorize(self, scope: Scope_, method: str) -> tuple[Token | None, Response | None]:
        keyring = self.server.keyring
        if not keyring.configured and not self.server.auth_required:
            return None, None  # loopback without tokens: the machine's own users only
        challenge = {"WWW-Authenticate": 'Bearer realm="burn"'}
        header = ""
        for k, v in scope["headers"]:
            if k == b"authorization":
                header = v.decode("latin-1")
        kind, _, presented = header.partition(" ")
        if kind.lower() != "bearer" or not presented.strip():
            return None, problem(401, "unauthorized", "send Authorization: Bearer <token>", challenge)
        token = keyring.check(presented.strip())
        if token is None:
            return None, problem(401, "unauthorized", "unknown or revoked token", challenge)
        needed = _needed(method)
        if scope["path"] == "/metrics":
            needed = "read"
        if not token.allows(needed):
            return token, problem(
                403, "forbidden", f"this token's scope is {token.scope}; this needs {needed}"
            )
        return token, None


_log_lock = threading.Lock()


def _log(event: dict[str, Any]) -> None:
    line = orjson.dumps(event) + b"\n"
    with _log_lock:
        try:
            sys.stderr.buffer.write(line)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass  # a closed stderr must not fail requests


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem(404, "not_found", f"no route {request.url.path} (see /openapi.json)")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return problem(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")


def create_app(server: Server) -> Guard:
    routes = [
        Route("/v1/sessions", sessions, methods=["GET"]),
        Route("/v1/reports/{name}", report, methods=["GET"]),
        Route("/v1/schemas/{name}", schema, methods=["GET"]),
        Route("/v1/ledger", ledger_post, methods=["POST"]),
        Route("/v1/ledger", ledger_get, methods=["GET"]),
        Route("/v1/analytics/{panel}", analytics, methods=["GET"]),
        Route("/", page, methods=["GET"]),
        Route("/static/{path:path}", page, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.server = server
    return Guard(app, server)
