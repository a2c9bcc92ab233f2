"""The meta block every contract document starts with (DESIGN §10)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from burn import __version__, quality
from burn.exporter import Facts

SCHEMA_BASE = "https://burn.dev/contracts/v1"


def schema_id(surface: str) -> str:
    return f"{SCHEMA_BASE}/{surface}.schema.json"


def iso_seconds(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pricing_block(home: Path, state: Mapping[str, str], facts: Facts) -> dict[str, Any]:
    """Pricing provenance bounded to the payload's models (:func:`burn.pricing.meta.pricing_meta`)."""
    from burn.pricing.load import load_pricing
    from burn.pricing.meta import pricing_meta

    return pricing_meta(load_pricing(home), state, facts.cost_source, facts.models)


def quality_block(db: sqlite3.Connection) -> dict[str, Any]:
    """Ingest counters summed over every ingest (:mod:`burn.quality`) and the archive's unpriced
    turns and tokens, per source. They describe the whole archive, not the filtered payload."""
    sources = quality.read(db)
    for source, turns, tokens in db.execute(
        "SELECT source, SUM(unpriced_turns), SUM(unpriced_tokens) FROM session_rollup GROUP BY source"
    ):
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
    return meta
