"""The 5-hour billing block rule (ccusage's), free of imports so ``burn statusline`` can use it
without loading the query layer: :mod:`burn.query.blocks` and :mod:`burn.cli.statusline` share it.

A block starts at its first turn's time floored to the UTC hour and lasts five hours; a turn at
or after the block's end, or five hours or more after the previous turn, starts a new block.
"""

BLOCK_MS = 5 * 3_600_000
HOUR_MS = 3_600_000


def starts_block(ts_ms: int, end_ms: int | None, last_ms: int | None) -> bool:
    """Whether a turn at ``ts_ms`` starts a new block after the block ending at ``end_ms`` whose
    last turn was at ``last_ms`` (``None``: there is no block yet)."""
    return end_ms is None or last_ms is None or ts_ms >= end_ms or ts_ms - last_ms >= BLOCK_MS


def block_start(ts_ms: int) -> int:
    """The start of a block whose first turn is at ``ts_ms``: floored to the UTC hour."""
    return ts_ms - ts_ms % HOUR_MS
