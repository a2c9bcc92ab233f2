"""Per-turn cost columns of the archive, and re-pricing every turn when the pricing changes.

The ledger stores usage and reported facts, never computed cost (DESIGN §7): costs live only in the
archive, next to the digest of the table that produced them (``archive_state.pricing_digest``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from burn.pricing.columns import COST_COLUMNS
from burn.pricing.cost import TurnCost, price_turn
from burn.pricing.load import Pricing
from burn.records import USAGE_FIELDS, Usage


def cost_values(tc: TurnCost) -> tuple[Any, ...]:
    components: tuple[int | None, ...] = tc.components if tc.components is not None else (None,) * 6
    return (*components, tc.computed, tc.reported, tc.cost, tc.source, tc.match.matched, tc.kind, tc.tier,
            tc.reasoning)  # fmt: skip


def price_values(
    pricing: Pricing,
    model: str,
    usage: Usage,
    speed: str | None,
    ts: str | None,
    reported_cost_usd: str | None,
) -> tuple[Any, ...]:
    match = pricing.match(model)
    tc = price_turn(
        pricing.row_for(match), match, usage, speed=speed, ts=ts, reported_cost_usd=reported_cost_usd
    )
    return cost_values(tc)


def turn_columns(pricing: Pricing, record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The cost column values of one ledger turn record (a dict as the ledger stores it)."""
    u = record.get("usage") or {}
    g = u.get
    usage = Usage(
        g("input"),
        g("output"),
        g("reasoning"),
        g("cache_read"),
        g("cache_write_5m"),
        g("cache_write_1h"),
        g("web_search_requests"),
    )
    return price_values(
        pricing,
        record["model"],
        usage,
        record.get("speed"),
        record.get("ts"),
        record.get("reported_cost_usd"),
    )


def changed_models(db: sqlite3.Connection, previous: Pricing | None, pricing: Pricing) -> list[str] | None:
    """The archive's model ids whose match or matched row differs between two tables (``None``:
    all of them, when the previous table is unknown). Only their turns can price differently."""
    if previous is None:
        return None
    changed = []
    for (model,) in db.execute("SELECT DISTINCT model FROM turns"):
        old, new = previous.match(model), pricing.match(model)
        old_row = previous.table["models"].get(old.matched) if old.matched else None
        new_row = pricing.table["models"].get(new.matched) if new.matched else None
        if old != new or old_row != new_row:
            changed.append(model)
    return changed


def previous_pricing(table_json: str | None) -> Pricing | None:
    """The table an archive was priced with, as stored in ``archive_state`` (``None`` if unusable)."""
    if not table_json:
        return None
    try:
        return Pricing.from_table(json.loads(table_json))
    except (ValueError, KeyError, TypeError, ArithmeticError):
        return None


def reprice(db: sqlite3.Connection, pricing: Pricing, previous: Pricing | None = None) -> int:
    """Recompute the cost columns of the turns whose prices may have changed since ``previous``
    (every turn when it is ``None``), in one pass per model. The caller owns the transaction.

    Returns the number of turns priced. Rows whose cost columns do not change are not rewritten.
    """
    models = changed_models(db, previous, pricing)
    sets = ", ".join(f"{name} = ?" for name, _ in COST_COLUMNS)
    usage = ", ".join(USAGE_FIELDS)
    current = ", ".join(name for name, _ in COST_COLUMNS)
    select = f"SELECT id, model, speed, ts, reported_cost_usd, {usage}, {current} FROM turns"
    n = 0
    for model in [None] if models is None else models:
        rows = db.execute(select) if model is None else db.execute(select + " WHERE model = ?", (model,))
        n += _reprice_rows(db, pricing, rows, sets)
    return n


def _reprice_rows(db: sqlite3.Connection, pricing: Pricing, rows: Iterable[Any], sets: str) -> int:
    updates: list[tuple[Any, ...]] = []
    n = 0
    width = len(COST_COLUMNS)
    for row in rows:
        n += 1
        rid, model, speed, ts, reported = row[:5]
        usage = Usage(*row[5 : 5 + len(USAGE_FIELDS)])
        values = price_values(pricing, model, usage, speed, ts, reported)
        if values != tuple(row[5 + len(USAGE_FIELDS) : 5 + len(USAGE_FIELDS) + width]):
            updates.append((*values, rid))
    db.executemany(f"UPDATE turns SET {sets} WHERE id = ?", updates)
    return n
