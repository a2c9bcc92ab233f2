"""A session's timing summary (the ``timing`` of a ``sessions`` row; docs/accounting.md "Timing").

The aggregates are kept per session in the archive's ``session_rollup``
(:data:`burn.archive.session_rollup.TIMING_COLUMNS`), maintained with the session's other sums, so
an export reads them in its one ordered scan instead of grouping every turn. This module names
those columns for a read and turns one row's values into the contract's object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from burn.archive.session_rollup import TIMING_COLUMNS

# The rollup's timing columns of ``session_rollup r``, in the order :func:`session_timing` takes.
SESSION_TIMING_SQL = ", ".join(f"r.{c}" for c in TIMING_COLUMNS)
TIMING_WIDTH = len(TIMING_COLUMNS)


def per_second(amount: int | None, ms: int | None) -> str | None:
    """``amount × 1000 / ms`` as a decimal string to one place, rounded half-even, exact from
    integers (integer arithmetic: a Decimal per session row was a visible share of an export);
    ``None`` when either is unknown or ``ms`` is not positive."""
    if amount is None or ms is None or ms <= 0:
        return None
    tenths, rest = divmod(amount * 10_000, ms)
    if 2 * rest > ms or (2 * rest == ms and tenths % 2):
        tenths += 1
    whole, tenth = divmod(tenths, 10)
    return f"{whole}.{tenth}"


def session_timing(values: Sequence[Any]) -> dict[str, Any]:
    """The ``timing`` object of a session row from its :data:`SESSION_TIMING_SQL` values: counts
    are integers, every measure is ``None`` when no turn of the session had it (never 0)."""
    (turns_timed, duration_total, duration_median, latency_turns, latency_median, rate_output, rate_ms,
     user_turns_timed, wall_total) = values  # fmt: skip
    return {
        "turns_timed": turns_timed,
        "duration_ms_total": duration_total,
        "duration_ms_median": duration_median,
        "latency_turns": latency_turns,
        "latency_ms_median": latency_median,
        "output_tokens_per_s": per_second(rate_output, rate_ms),
        "user_turns_timed": user_turns_timed,
        "wall_ms_total": wall_total,
    }
