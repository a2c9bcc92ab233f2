"""The ``burn.analytics`` v1 contract documents (contracts/v1/analytics.schema.json): one panel, or
the whole page, under the meta block every contract starts with (:func:`burn.contract.meta.build`).

A request's options are the reports' (``since``/``until``, ``timezone``, ``source``, ``project``,
``model``, ``identity``) plus ``range`` (``7d``, ``30d``, ``90d`` or ``all``: a shorthand for
``since``) and, for the spend-over-time panel, ``bucket`` (``hour``, ``day``, ``week``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from burn import sqlite
from burn.analytics import queries
from burn.analytics.engine import Engine
from burn.archive.database import Archive
from burn.contract import meta as metas
from burn.contract.profile import IdentityCache, IdentityLookup, Renderer
from burn.contract.run import render_filters
from burn.errors import UsageError
from burn.exporter import Facts
from burn.pricing.totals import group_cost_source
from burn.privacy.identity import local_secret
from burn.query import Filters

SCHEMA_VERSION = 1
RANGES = ("7d", "30d", "90d", "all")
PANELS = ("summary", "spend-over-time", "projects", "models", "timing", "agents", "page")
PROFILES = ("full", "shareable", "anonymous")
# Project identities per archive file, for the life of the process (see IdentityCache).
_IDENTITIES: dict[str, IdentityCache] = {}
_STATE_KEYS = ("archive_id", "generation", "ledger_identity", "ledger_position")


def identities(archive: Archive) -> IdentityLookup:
    """The cached project identities of ``archive`` in its current state (read in the caller's
    snapshot)."""
    state = archive.state()
    cache = _IDENTITIES.setdefault(str(archive.path), IdentityCache())
    return cache.lookup(tuple(state.get(k) for k in _STATE_KEYS))


def filters_of(options: Mapping[str, Any], archive: Archive, home: Path, now: datetime) -> Filters:
    """:class:`Filters` from request options; ``range`` and ``since`` exclude each other."""
    rng = options.get("range")
    opts = dict(options)
    if rng is not None:
        if rng not in RANGES:
            raise UsageError(f"range is one of {', '.join(RANGES)}, not {rng!r}")
        if opts.get("since") is not None:
            raise UsageError("give range or since, not both")
        opts["since"] = None if rng == "all" else rng
    return Filters.from_options(opts, now=now, db=archive.db, secret=local_secret(home))


def panel(
    name: str,
    engine: Engine,
    archive: Archive,
    home: Path,
    options: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The document of one panel (``page``: all of them and the filters' choices)."""
    if name not in PANELS:
        raise UsageError(f"no analytics panel {name!r} (known: {', '.join(PANELS)})")
    now = now or datetime.now(UTC)
    profile = str(options.get("identity") or "shareable")
    if profile not in PROFILES:
        raise UsageError(f"identity is one of {', '.join(PROFILES)}, not {profile!r}")
    bucket = str(options.get("bucket") or "day")
    if bucket not in queries.BUCKETS:
        raise UsageError(f"bucket is one of {', '.join(queries.BUCKETS)}, not {bucket!r}")
    db = archive.db
    with sqlite.snapshot(db):  # one state of the archive for the sync, the labels and the meta block
        filters = filters_of(options, archive, home, now)
        engine.sync(db)
        render = Renderer(profile, local_secret(home), socket.gethostname())  # type: ignore[arg-type]
        kw, kp = queries.where(filters, ("project_key IS NOT NULL",))
        keys = [k for (k,) in engine.query(f"SELECT DISTINCT project_key FROM facts {kw}", kp)]
        lookup = identities(archive)
        shown = render.projects(db, keys, lookup)
        data = _data(name, engine, filters, bucket, shown, render.key, now, db, render, lookup)
        state = archive.state()
        meta = metas.build(
            surface="analytics",
            schema_version=SCHEMA_VERSION,
            now=now,
            state=state,
            timezone=filters.timezone,
            filters=render_filters(filters.canonical(), render),
            order=None,
            profile=profile,
            pricing=metas.pricing_block(home, state, _facts(engine, filters, keys)),
            projects=shown,
            quality=metas.quality_block(db, state),
        )
    return {"meta": meta, "panel": name, "data": data}


def _data(name: str, engine: Engine, filters: Filters, bucket: queries.Bucket, shown: dict[str, Any],
          key: Callable[[str | None], str | None], now: datetime, db: Any,
          render: Renderer, lookup: IdentityLookup) -> Any:  # fmt: skip
    if name == "summary":
        return queries.summary(engine, filters, now)
    if name == "spend-over-time":
        return queries.over_time(engine, filters, bucket)
    if name == "projects":
        return queries.by_project(engine, filters, shown, key)
    if name == "models":
        return queries.by_model(engine, filters)
    if name == "timing":
        return queries.timing(engine, filters)
    if name == "agents":
        return queries.by_agent(engine, filters)
    return {
        "summary": queries.summary(engine, filters, now),
        "spend_over_time": queries.over_time(engine, filters, bucket),
        "projects": queries.by_project(engine, filters, shown, key),
        "models": queries.by_model(engine, filters),
        "timing": queries.timing(engine, filters),
        "agents": queries.by_agent(engine, filters),
        "choices": _choices(engine, db, render, lookup),
    }


def _choices(engine: Engine, db: Any, render: Renderer, lookup: IdentityLookup) -> dict[str, Any]:
    """What the page's filters offer: every source, model and project in the copy."""
    sources = [s for (s,) in engine.query("SELECT DISTINCT source FROM facts ORDER BY 1")]
    models = [m for (m,) in engine.query("SELECT DISTINCT model FROM facts ORDER BY 1")]
    keys = [
        k for (k,) in engine.query("SELECT DISTINCT project_key FROM facts WHERE project_key IS NOT NULL")
    ]
    shown = render.projects(db, keys, lookup)
    projects = sorted(
        ({"key": k, "label": v.get("label") or k} for k, v in shown.items()),
        key=lambda p: (p["label"], p["key"]),
    )
    return {"sources": sources, "models": models, "projects": projects, "ranges": list(RANGES),
            "buckets": list(queries.BUCKETS)}  # fmt: skip


def _facts(engine: Engine, filters: Filters, keys: list[str]) -> Facts:
    w, p = queries.where(filters)
    rows = engine.query(
        "SELECT model, count(*) FILTER (WHERE price_match = 'unpriced'), "
        "count(*) FILTER (WHERE price_match = 'fallback'), count(*) FILTER (WHERE cost_source = 'computed'), "
        f"count(*) FILTER (WHERE cost_source = 'reported') FROM facts {w} GROUP BY model ORDER BY model",
        p,
    )
    models = [{"model": m, "unpriced": {"turns": int(u)}, "fallback_turns": int(f)} for m, u, f, _, _ in rows]
    computed = sum(int(r[3]) for r in rows)
    reported = sum(int(r[4]) for r in rows)
    return Facts(models=models, project_keys=keys, cost_source=group_cost_source(computed, reported))
