"""``POST /v1/ledger`` (a host's batch, appended through the keeper) and ``GET /v1/ledger`` (the
change feed hosts page through to build their own archive); docs/server.md."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import anyio
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from burn.server import batch
from burn.server.keeper import count
from burn.server.problems import Problem, problem
from burn.store import ReadStats, store_identity

if TYPE_CHECKING:
    from burn.server.app import Server

LEDGER_PAGE_DEFAULT = 1000
LEDGER_PAGE_MAX = 10_000


def server_of(request: Request) -> Server:
    """The :class:`~burn.server.app.Server` the application was made with."""
    s: Server = request.app.state.server
    return s


async def ledger_post(request: Request) -> Response:
    server = server_of(request)
    cfg = server.config
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cfg.max_body_bytes:
        return problem(413, "body_too_large", f"{declared} bytes; at most {cfg.max_body_bytes} per request")
    try:
        body = await _read_body(request, cfg.max_body_bytes, cfg.body_timeout)
        items, rejected = await run_in_threadpool(batch.parse, body, cfg.max_batch)
    except Problem as exc:
        return problem(exc.status, exc.code, str(exc))
    except batch.BatchError as exc:
        return problem(exc.status, exc.code, str(exc))
    result = await run_in_threadpool(server.keeper.append, items) if items else None
    appended = count(result) if result is not None else Counter()
    server.metrics.count_entries(appended, Counter(r.error for r in rejected))
    report_ = {
        "received": len(items) + len(rejected),
        "accepted": len(items),
        "appended": dict(sorted(result.appended.items())) if result else {},
        "revised": dict(sorted(result.revised.items())) if result else {},
        "duplicates": sum(result.dropped.values()) if result else 0,
        "rejected": [r.as_json() for r in rejected],
        "position": server.keeper.store.position(),
    }
    if rejected and not items:
        return problem(422, "no_valid_entries", f"all {len(rejected)} entries were refused",
                       rejected=report_["rejected"])  # fmt: skip
    return Response(orjson.dumps(report_) + b"\n", media_type="application/json")


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Problem(
                        413, "body_too_large", f"more than {limit} bytes; at most {limit} per request"
                    )
                chunks.append(chunk)
    except TimeoutError as exc:
        raise Problem(408, "body_timeout", f"the body did not arrive within {timeout:g} s") from exc
    return b"".join(chunks)


async def ledger_get(request: Request) -> Response:
    server = server_of(request)
    try:
        after = _int_param(request, "after", 0, 0, None)
        limit = _int_param(request, "limit", LEDGER_PAGE_DEFAULT, 1, LEDGER_PAGE_MAX)
    except Problem as exc:
        return problem(exc.status, exc.code, str(exc))

    def page() -> bytes:
        store = server.keeper.store
        end = store.position()
        entries: list[dict[str, Any]] = []
        nxt = after
        stats = ReadStats()
        # What the page passed over (kinds this server does not know, invalid lines), counted up
        # to its last entry, so that a host's read sees each skip once (DESIGN §3).
        skipped = _skips(stats)
        exhausted = True
        for entry in store.read(after, stats):
            if len(entries) == limit:
                exhausted = False
                break
            entries.append(
                {"position": entry.position, "kind": entry.kind, "id": entry.id, "record": entry.record}
            )
            nxt = entry.position
            skipped = _skips(stats, len(entries))
        if exhausted:
            # Read to the end: what lay past the last entry was skipped, and the next page starts
            # after it (everything up to ``end`` was read).
            skipped, nxt = _skips(stats, len(entries)), max(nxt, end)
        body = {"entries": entries, "next": nxt, "end": max(end, nxt), "skipped": skipped,
                "ledger": store_identity(store)}  # fmt: skip
        return orjson.dumps(body) + b"\n"

    return Response(await run_in_threadpool(page), media_type="application/json")


def _skips(stats: ReadStats, kept: int = 0) -> dict[str, Any]:
    """A ledger page's skipped entries so far: lines read that were not handed out (``kept``)."""
    return {"lines": stats.lines - kept, "invalid": stats.invalid,
            "unknown_kinds": dict(stats.unknown_kinds)}  # fmt: skip


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise Problem(400, "usage", f"{name} must be an integer {bound}, not {raw[:40]!r}")
    return int(raw)
