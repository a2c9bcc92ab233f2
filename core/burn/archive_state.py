"""Is the archive current? Its state table, read without the archive's builder.

Every ``burn ingest`` asks this once at the end; a no-op ingest asks nothing else of the archive.
Importing the builder (:mod:`burn.archive`: rollups, pricing columns, record classes) would cost a
no-op more than reading the state, so the question is answered here with :mod:`sqlite3` alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

# 5: usage_hourly rollup; 6: session_rollup, ingest_quality, user_turns.ts_ms
SCHEMA_VERSION = 6


def read_state(path: Path) -> dict[str, str] | None:
    """The ``archive_state`` table of the archive at ``path``, read-only; ``None`` when there is no
    readable archive there."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        return dict(db.execute("SELECT key, value FROM archive_state"))
    except sqlite3.Error:
        return None
    finally:
        db.close()


def is_current(state: Mapping[str, str], ledger_position: int, pricing_inputs: str) -> bool:
    """Whether an archive in ``state`` has this burn's schema, has applied the ledger up to
    ``ledger_position``, has complete rollups, and was priced from the pricing inputs whose
    fingerprint (:func:`burn.pricing.inputs.inputs_fingerprint`) is ``pricing_inputs``: then a
    build has nothing to do."""
    return (
        state.get("schema_version") == str(SCHEMA_VERSION)
        and state.get("pricing_inputs") == f"{pricing_inputs}|{state.get('pricing_digest')}"
        and state.get("rollup") == "ok"
        and state.get("session_hours") == "ok"
        and state.get("ledger_position") == str(ledger_position)
    )
