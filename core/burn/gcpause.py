"""The cyclic garbage collector paused around allocation-heavy loops that make no garbage cycles.

Parsing a transcript line, encoding a record and turning ledger entries into archive rows allocate
millions of short-lived dicts and tuples. None of them form reference cycles, so reference counting
frees them all; but every 700 allocations CPython's cyclic collector still runs, and each of its
older-generation passes walks everything the process holds (an append batch, the archive's rows).
In a cold ingest that is a noticeable share of the main process's time (docs/performance.md).
Pausing it around those loops changes nothing but the time: whatever cyclic garbage a paused loop
made is collected once it ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector disabled; re-enable it after, if it was enabled
    (nested pauses and a collector disabled by the caller are left as they were)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
