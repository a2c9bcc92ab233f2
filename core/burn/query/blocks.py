"""5-hour billing blocks (``burn blocks``, ``burn statusline``): ccusage's definition.

A block starts at its first turn's time floored to the UTC hour and lasts five hours; a turn at
or after the block's end, or five hours or more after the previous turn, starts a new block.
A block is *active* when it has not ended and its last turn is less than five hours ago. The burn
rate is the block's tokens and cost per minute between its first and last turn; the projection
extends that rate to the block's end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import attrs

from burn.blockrule import BLOCK_MS, HOUR_MS, block_start, starts_block
from burn.query.base import turns_where
from burn.query.filters import Filters
from burn.query.view import ArchiveView
from burn.records import TOTAL_FIELDS

__all__ = ["BLOCK_MS", "HOUR_MS", "Block", "blocks"]


@attrs.define
class Block:
    """One billing window: ``start_ms``/``end_ms`` (UTC ms, end exclusive), first and last turn,
    turns, total tokens, exact cost (``None`` when no turn was priced), the models used."""

    start_ms: int
    end_ms: int
    first_ms: int
    last_ms: int
    turns: int = 0
    tokens: int = 0
    cost_micros: int | None = None
    models: set[str] = attrs.field(factory=set)

    def active(self, now_ms: int) -> bool:
        """Not ended, and the last turn less than five hours ago."""
        return now_ms < self.end_ms and now_ms - self.last_ms < BLOCK_MS

    def minutes(self) -> float:
        """Minutes between the first and the last turn (at least one)."""
        return max(1.0, (self.last_ms - self.first_ms) / 60_000)

    def tokens_per_minute(self) -> float:
        return self.tokens / self.minutes()

    def cost_per_hour_micros(self) -> int | None:
        """Cost per hour at the block's burn rate (integer micro-USD)."""
        return None if self.cost_micros is None else round(self.cost_micros * 60 / self.minutes())

    def projection(self, now_ms: int) -> tuple[int, int | None]:
        """Tokens and cost (micro-USD) at the block's end if the burn rate holds."""
        left = max(0.0, (self.end_ms - now_ms) / 60_000)
        tokens = self.tokens + round(self.tokens_per_minute() * left)
        cost = (
            None
            if self.cost_micros is None
            else self.cost_micros + round(self.cost_micros / self.minutes() * left)
        )
        return tokens, cost

    def as_json(self, now_ms: int) -> dict[str, object]:
        """The block as JSON (times ISO UTC; money integer micro-USD)."""
        out: dict[str, object] = {
            "start": _iso(self.start_ms),
            "end": _iso(self.end_ms),
            "first_activity": _iso(self.first_ms),
            "last_activity": _iso(self.last_ms),
            "active": self.active(now_ms),
            "turns": self.turns,
            "tokens": self.tokens,
            "cost_usd_micros": self.cost_micros,
            "models": sorted(self.models),
        }
        if self.active(now_ms):
            tokens, cost = self.projection(now_ms)
            out["burn_rate"] = {
                "tokens_per_minute": round(self.tokens_per_minute()),
                "cost_per_hour_usd_micros": self.cost_per_hour_micros(),
            }
            out["projection"] = {
                "tokens": tokens,
                "cost_usd_micros": cost,
                "remaining_minutes": (self.end_ms - now_ms) // 60_000,
            }
        return out


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _turns(archive: ArchiveView, filters: Filters) -> Iterator[tuple[int, str, int, int | None]]:
    where = turns_where(filters)
    total = " + ".join(f"COALESCE(t.{f}, 0)" for f in TOTAL_FIELDS)
    sql = (
        f"SELECT t.ts_ms, t.model, {total}, t.cost_usd_micros FROM turns t "
        "LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id "
        f"{where.sql()} ORDER BY t.ts_ms"
    )
    yield from archive.db.execute(sql, where.params)


def blocks(archive: ArchiveView, filters: Filters) -> list[Block]:
    """The billing blocks of the turns the filters select, oldest first."""
    out: list[Block] = []
    current: Block | None = None
    for ts, model, tokens, cost in _turns(archive, filters):
        if current is None or starts_block(ts, current.end_ms, current.last_ms):
            start = block_start(ts)
            current = Block(start, start + BLOCK_MS, ts, ts)
            out.append(current)
        current.last_ms = ts
        current.turns += 1
        current.tokens += tokens
        current.models.add(model)
        if cost is not None:
            current.cost_micros = (current.cost_micros or 0) + cost
    return out
