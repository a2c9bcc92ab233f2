"""The meta block every contract document starts with (DESIGN §10)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from burn import __version__
from burn.archive import quality
from burn.archive.activity import CATEGORIES as ACTIVITY_CATEGORIES
from burn.archive.activity import RULES_VERSION as ACTIVITY_RULES_VERSION
from burn.exporter import Facts
from burn.query import hourly_sql

SCHEMA_BASE = "https://burn.dev/contracts/v1"


def schema_id(surface: str) -> str:
    return f"{SCHEMA_BASE}/{surface}.schema.json"


def iso_seconds(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pricing_block(home: Path, state: Mapping[str, str], facts: Facts) -> dict[str, Any]:
    """Pricing provenance bounded to the payload's models (:func:`burn.pricing.meta.pricing_meta`)."""
    from burn.pricing.load import load_pricing
    from burn.pricing.meta import pricing_meta

    return pricing_meta(load_pricing(home, state), state, facts.cost_source, facts.models)


# The archive's unpriced turns and tokens per source that has sessions: from the hourly rollup
# when it is current (the same sums as over the session rollup, without reading every session).
_UNPRICED_HOURLY = f"""
SELECT s.source, COALESCE(u.turns, 0), COALESCE(u.tokens, 0)
FROM (SELECT DISTINCT source FROM session_rollup) s
LEFT JOIN (SELECT source, SUM(unpriced_turns) AS turns, SUM(unpriced_tokens) AS tokens
           FROM ({hourly_sql()}) GROUP BY source) u
  ON u.source = s.source"""
_UNPRICED_SESSIONS = (
    "SELECT source, SUM(unpriced_turns), SUM(unpriced_tokens) FROM session_rollup GROUP BY source"
)


def quality_block(db: sqlite3.Connection, state: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Ingest counters summed over every ingest (:mod:`burn.archive.quality`) and the archive's unpriced
    turns and tokens, per source. They describe the whole archive, not the filtered payload."""
    sources = quality.read(db)
    current = state is not None and state.get("rollup") == "ok"
    for source, turns, tokens in db.execute(_UNPRICED_HOURLY if current else _UNPRICED_SESSIONS):
        entry = sources.setdefault(
            source, {"lines_read": 0, "records_kept": 0, "duplicates_dropped": {}, "invalid_skipped": {}}
        )
        entry.update(unpriced_turns=turns or 0, unpriced_tokens=tokens or 0)
    for entry in sources.values():
        entry.setdefault("unpriced_turns", 0)
        entry.setdefault("unpriced_tokens", 0)
    return {"scope": "archive", "sources": dict(sorted(sources.items()))}


def build(
    *,
    surface: str,
    schema_version: int,
    now: datetime,
    state: Mapping[str, str],
    timezone: str,
    filters: Mapping[str, Any],
    order: str | None,
    profile: str,
    pricing: Mapping[str, Any],
    projects: Mapping[str, Any],
    quality: Mapping[str, Any],
    page: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "type": "meta",
        "contract": f"burn.{surface}",
        "schema_version": schema_version,
        "schema": schema_id(surface),
        "generated_at": iso_seconds(now),
        "burn_version": __version__,
        "archive": {"id": state.get("archive_id"), "generation": int(state.get("generation", "0"))},
        "timezone": timezone,
        "filters": dict(filters),
        "order": order,
        "identity_profile": profile,
    }
    if page is not None:
        meta["page"] = dict(page)
    meta.update(pricing=dict(pricing), projects=dict(projects), quality=dict(quality))
    # Which rules made the activity categories of the rows (burn.archive.activity).
    meta["activity_rules"] = {"version": ACTIVITY_RULES_VERSION, "categories": list(ACTIVITY_CATEGORIES)}
    return meta
