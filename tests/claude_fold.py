"""An in-memory stand-in for the ledger, for Claude Code reader tests.

Folds records through the core's merge rule (``best[id] = merge(best[id], rec) or best[id]``),
reading main transcripts before subagent files, then applies the ``/btw`` rule: a sidechain Turn
whose message id is known from a non-sidechain Turn with a different request id is a replay of the
parent's message and is dropped (FORMATS §1.6). The core's end-to-end tests can compare against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import attrs

from burn.ledger.merge import merge
from burn.reader import Diagnostics, FileCursor, Reader, SourceUnit
from burn.records import Record, Turn

R = TypeVar("R")


@attrs.define
class Folded:
    """Deduplicated records by event id, plus the merged diagnostics of every read."""

    records: dict[str, Record]
    diagnostics: Diagnostics
    cursors: dict[str, FileCursor | None]

    def of(self, cls: type[R]) -> list[R]:
        """The folded records of one class."""
        return [r for r in self.records.values() if isinstance(r, cls)]

    def turns(self) -> list[Turn]:
        return [r for r in self.records.values() if isinstance(r, Turn)]

    def totals(self) -> tuple[int, int, int, int]:
        """(input, output, cache writes 5m+1h, cache reads) over all Turns; unknown counts as 0."""
        t = self.turns()
        return (
            sum(x.usage.input or 0 for x in t),
            sum(x.usage.output or 0 for x in t),
            sum((x.usage.cache_write_5m or 0) + (x.usage.cache_write_1h or 0) for x in t),
            sum(x.usage.cache_read or 0 for x in t),
        )


def fold_records(best: dict[str, Record], records: Iterable[Record]) -> None:
    """Fold records into ``best`` with the core's merge rule."""
    for rec in records:
        key = rec.event_id()
        old = best.get(key)
        if old is None:
            best[key] = rec
        else:
            best[key] = merge(old, rec) or old


def drop_btw_replays(best: dict[str, Record]) -> int:
    """Drop sidechain Turns replaying a main-chain message under another request id."""
    main: dict[str, set[str | None]] = {}
    for rec in best.values():
        if isinstance(rec, Turn) and not rec.is_sidechain and rec.message_id is not None:
            main.setdefault(rec.message_id, set()).add(rec.request_id)
    drop = [
        key
        for key, rec in best.items()
        if isinstance(rec, Turn)
        and rec.is_sidechain
        and rec.message_id in main
        and main[rec.message_id] - {rec.request_id}
    ]
    for key in drop:
        del best[key]
    return len(drop)


def fold_units(
    reader: Reader,
    units: Sequence[SourceUnit],
    best: dict[str, Record] | None = None,
    cursors: dict[str, FileCursor | None] | None = None,
) -> Folded:
    """Read every unit (main transcripts first) from its cursor and fold the records."""
    best = {} if best is None else best
    cursors = {} if cursors is None else cursors
    diag = Diagnostics()
    for unit in sorted(units, key=lambda u: (u.order, str(u.path))):
        result = reader.read(unit, cursors.get(unit.key))
        cursors[unit.key] = result.cursor
        diag.add(result.diagnostics)
        fold_records(best, result.records)
    diag.dropped["btw_replay"] += drop_btw_replays(best)
    return Folded(best, diag, cursors)


def fold_tree(reader: Reader, *roots: Path) -> Folded:
    """Discover every unit under ``roots`` and fold them."""
    diag = Diagnostics()
    units = list(reader.discover(list(roots), diag))
    folded = fold_units(reader, units)
    folded.diagnostics.add(diag)
    return folded
