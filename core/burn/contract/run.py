"""One export: an exporter plugin's query inside one read transaction, framed and paged.

Paged surfaces follow one protocol (docs/contracts.md, "Cursors"):

1. The first page fixes the **watermark**: the archive's session change sequence number. Rows
   created after it are outside this export, consistently, on every page.
2. Each page re-counts the rows the watermark admits under the filters and how many of them
   changed after it. A changed row, or a count that differs from the first page's (a row left
   the filters), means the pages could no longer add up to one snapshot: ``cursor_reset``.
3. The cursor binds archive id and generation, surface, order, canonical filters, identity
   profile, time zone, watermark, snapshot size, rows emitted and the last key, and is signed.

Every check happens before the first byte is written, so a reset leaves stdout empty.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from burn import sqlite
from burn.archive.database import Archive
from burn.contract import meta as metas
from burn.contract import page_cursor as cursors
from burn.contract.framing import Format, Framer
from burn.contract.profile import Renderer
from burn.errors import UsageError, storage_error
from burn.exporter import ContractExporter, Page
from burn.privacy.identity import Profile, local_secret

CURSOR_VERSION = 1
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


@attrs.frozen
class Context:
    """What an export takes from its surroundings (injectable for goldens)."""

    home: Path
    now: datetime
    hostname: str


@attrs.frozen
class Request:
    fmt: Format = "json"
    profile: Profile = "shareable"
    filters: Mapping[str, Any] = attrs.field(factory=dict)  # canonical, timezone included
    cursor: str | None = None
    limit: int | None = None  # None: the default (or the cursor's)
    all: bool = False


def export(
    exporter: ContractExporter, archive: Archive, request: Request, out: BinaryIO, ctx: Context
) -> int:
    """Write one contract document of ``exporter``'s surface to ``out``: the contract runner behind
    ``burn export`` and ``burn report``. Returns the number of rows written.

    Everything is read in one read transaction, so the meta block, the cursor's snapshot checks and
    the rows see one state of the archive. The runtime, not the exporter, frames the document
    (meta, filters as rendered under the identity profile, pagination and the next cursor, JSON
    or NDJSON; docs/contracts.md); the exporter only answers its query. Raises
    :class:`~burn.contract.page_cursor.CursorReset` before writing anything when a cursor cannot
    continue exactly (another archive, a rebuilt one, other filters).
    """
    with sqlite.snapshot(archive.db):  # meta, snapshot checks and rows see one state
        return _export(exporter, archive, request, out, ctx)


def _export(exporter: ContractExporter, archive: Archive, req: Request, out: BinaryIO, ctx: Context) -> int:
    state = archive.state()
    archive_id = state.get("archive_id", "")
    generation = int(state.get("generation", "0"))
    filters, profile, limit = dict(req.filters), req.profile, req.limit
    payload: dict[str, Any] | None = None
    if req.cursor is not None:
        if not exporter.paged:
            raise UsageError(f"{exporter.surface} is not paged: --cursor does not apply")
        payload = cursors.decode(req.cursor, archive_id, cursors.secret(ctx.home, archive_id))
        _check_cursor(payload, exporter, archive_id, generation)
        filters, profile = payload["filters"], payload["profile"]
        limit = limit if limit is not None else int(payload["limit"])
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}")
    render = Renderer(profile, local_secret(ctx.home), ctx.hostname)
    query = exporter.open(archive, filters, render)

    page: Page | None = None
    page_meta: dict[str, Any] | None = None
    if exporter.paged:
        watermark = int(payload["watermark"]) if payload else query.watermark()
        admitted, changed = query.snapshot(watermark)
        if payload is not None:
            if changed:
                raise _reset("rows_changed", f"{changed} sessions changed since the first page", archive_id)
            if admitted != int(payload["snapshot"]):
                raise _reset("rows_changed", "sessions left the filters since the first page", archive_id)
        after = tuple(payload["last"]) if payload else None
        page = Page(watermark, after, None if req.all else limit)
        emitted_before = int(payload["emitted"]) if payload else 0
        page_meta = {
            "limit": None if req.all else limit,
            "watermark": watermark,
            "snapshot_rows": admitted,
            "rows_before": emitted_before,
        }
    facts = query.facts(page)
    meta = metas.build(
        surface=exporter.surface,
        schema_version=exporter.schema_version,
        now=ctx.now,
        state=state,
        timezone=str(filters.get("timezone", "UTC")),
        filters=render_filters(filters, render),
        order=exporter.order,
        profile=profile,
        pricing=metas.pricing_block(ctx.home, state, facts),
        projects=render.projects(archive.db, facts.project_keys),
        quality=metas.quality_block(archive.db, state),
        page=page_meta,
    )
    # The cursor key is made before a byte is written, if a next page may need it. Where it cannot
    # be made (a read-only home) the page (at most MAX_LIMIT rows) is held until it is known to
    # need no cursor: a command writes all of its document or nothing.
    cursor_key: bytes | None = b""
    missing: OSError | None = None
    sink = out
    if page is not None and page.limit is not None:
        try:
            cursor_key = cursors.secret(ctx.home, archive_id)
        except OSError as exc:
            cursor_key, missing, sink = None, exc, io.BytesIO()
    framer = Framer(sink, req.fmt)
    framer.meta(meta)
    more = False
    last: tuple[Any, ...] | None = None
    limit = None if page is None else page.limit
    fetch = None if page is None or limit is None else attrs.evolve(page, limit=limit + 1)
    emit = framer.row
    for key, row in query.rows(fetch or page):
        if limit is not None and framer.count == limit:
            more = True
            break
        emit(row)
        last = key
    token = None
    if more and missing is not None:
        raise storage_error(missing, missing.filename) or missing
    if more and cursor_key is not None and page is not None and page_meta is not None and last is not None:
        token = cursors.encode(
            {
                "v": CURSOR_VERSION,
                "surface": exporter.surface,
                "archive": archive_id,
                "generation": generation,
                "order": exporter.order,
                "filters": filters,
                "profile": profile,
                "watermark": page.watermark,
                "snapshot": page_meta["snapshot_rows"],
                "emitted": page_meta["rows_before"] + framer.count,
                "last": list(last),
                "limit": limit,
            },
            cursor_key,
        )
    framer.end(token, query.summary())
    if isinstance(sink, io.BytesIO) and sink is not out:  # the held page: complete, so written
        out.write(sink.getvalue())
    return framer.count


def _check_cursor(payload: Mapping[str, Any], exporter: ContractExporter, archive_id: str, gen: int) -> None:
    if payload.get("archive") != archive_id:
        raise _reset("foreign_archive", "the cursor was issued by another archive", archive_id)
    if payload.get("generation") != gen:
        raise _reset("archive_rebuilt", "the archive was rebuilt since the first page", archive_id)
    if (
        payload.get("v") != CURSOR_VERSION
        or payload.get("surface") != exporter.surface
        or payload.get("order") != exporter.order
    ):
        raise _reset("incompatible_cursor", f"the cursor is not a {exporter.surface} cursor of this burn",
                     archive_id)  # fmt: skip


def _reset(reason: str, what: str, archive_id: str) -> cursors.CursorReset:
    return cursors.CursorReset(reason, f"{what}; restart the export without --cursor", archive_id)


def render_filters(filters: Mapping[str, Any], render: Renderer) -> dict[str, Any]:
    """Filters as the meta block shows them: project keys under the profile."""
    out = dict(filters)
    if out.get("projects"):
        out["projects"] = sorted(render.key(k) or k for k in out["projects"])
    return out
