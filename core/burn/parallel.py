"""Reading and encoding source units in worker processes while the main process appends them.

Parsing JSON and encoding records are CPU-bound and Python runs them on one core; a cold ingest of
gigabytes therefore reads units in ``workers`` forked processes, each of which also prepares what
it read for the ledger (see ``prepare``: sanitizing and :func:`burn.store.encode`), so that only
tuples of strings and bytes travel back. Results come back in unit order (readers rely on it:
Claude Code main transcripts before subagent files), and at most ``workers × 4`` units are in
flight, so memory stays bounded however many units there are. Readers never write, so running
them in other processes changes nothing but the speed.

``BURN_WORKERS`` sets the number of processes (``1`` reads in-process); the default is the number
of CPUs, used only when the changed units hold more than :data:`PARALLEL_MIN_BYTES`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

import attrs

from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit
from burn.store import Encoded

PARALLEL_MIN_BYTES = 16 * 1024 * 1024


@attrs.frozen
class Prepared:
    """What one unit's read gives the ledger: encoded records, the new cursor, the diagnostics."""

    items: list[Encoded]
    cursor: FileCursor | None
    diagnostics: Diagnostics


Prepare = Callable[[ReadResult], Prepared]

# Set in the parent before forking; inherited by the workers.
_reader: Reader | None = None
_prepare: Prepare | None = None


@attrs.frozen
class ReadFailure:
    """A reader raised; carried back as text so any exception survives the trip."""

    message: str


def workers_for(env: Mapping[str, str], total_bytes: int) -> int:
    value = env.get("BURN_WORKERS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    if total_bytes < PARALLEL_MIN_BYTES or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _read(job: tuple[SourceUnit, FileCursor | None]) -> Prepared | ReadFailure:
    assert _reader is not None and _prepare is not None
    return _safe_read(_reader, _prepare, *job)


def _safe_read(
    reader: Reader, prepare: Prepare, unit: SourceUnit, cursor: FileCursor | None
) -> Prepared | ReadFailure:
    try:
        result = reader.read(unit, cursor)
    except Exception as exc:  # a reader plugin's bug must not take ingest down
        return ReadFailure(f"{type(exc).__name__}: {exc}")
    return prepare(result)


def read_units(
    reader: Reader, jobs: Sequence[tuple[SourceUnit, FileCursor | None]], workers: int, prepare: Prepare
) -> Iterator[tuple[SourceUnit, Prepared | ReadFailure]]:
    """``(unit, prepared result)`` for every job, in job order."""
    if workers <= 1 or len(jobs) < 2:
        for unit, cursor in jobs:
            yield unit, _safe_read(reader, prepare, unit, cursor)
        return
    global _reader, _prepare
    _reader, _prepare = reader, prepare
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            pending = iter(jobs)
            window: deque[tuple[SourceUnit, Future[Prepared | ReadFailure]]] = deque()

            def submit() -> None:
                job = next(pending, None)
                if job is not None:
                    window.append((job[0], pool.submit(_read, job)))

            for _ in range(workers * 4):
                submit()
            while window:
                unit, future = window.popleft()
                submit()
                yield unit, future.result()
    finally:
        _reader = _prepare = None
