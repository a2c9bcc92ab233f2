"""Reading and encoding source units in worker processes while the main process appends them.

Parsing JSON and encoding records are CPU-bound and Python runs them on one core; a cold ingest of
gigabytes therefore reads units in ``workers`` forked processes, each of which also prepares what
it read for the ledger (see ``prepare``: sanitizing and :func:`burn.store.encode`), so that only
tuples of strings and bytes travel back. Results come back in unit order (readers rely on it:
Claude Code main transcripts before subagent files). Consecutive small units travel as one task
(up to :data:`TASK_BYTES` of source or :data:`TASK_UNITS` units): a task per unit costs a round
trip through the pool's management thread, which competes for the GIL with the main thread. At
most ``workers ×`` :data:`TASKS_PER_WORKER` tasks are in flight, so memory stays bounded however
many units there are.
One :class:`Pool` reads for every reader of an ingest, in one stream: the workers go on to the next
reader's units while the main process appends the last ones of the reader before. A unit of
:data:`AHEAD_BYTES` or more (OpenCode's database) is read ahead of its turn by one worker while
the others read for the main process; its result waits in a file in the burn home (:class:`Spilled`,
in parts of :data:`SPILL_PART` items) until its turn, so it never sits in memory all at once. Readers never
write, so running them in other processes changes nothing but the speed.

``BURN_WORKERS`` sets the number of processes (``1`` reads in-process); the default is the number
of CPUs, used only when the changed units hold more than :data:`PARALLEL_MIN_BYTES`. Workers run at
a lower priority (:data:`WORKER_NICE`) than the main process, whose appends and archive build are
a cold ingest's critical path.

Workers die with the main process (issue 11): killed by the OOM killer or ``kill PID``, it would
otherwise leave them blocked forever on the task queue (they hold its write end themselves). Each
worker asks the kernel for SIGKILL when its parent dies (Linux ``PR_SET_PDEATHSIG``) and, where
that is not available, watches its parent pid. They never hold the ledger's lock (see
:mod:`burn.ledger.file`), and leave SIGINT/SIGTERM/SIGHUP to the main process, which stops the pool.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from burn.errors import BurnError
from burn.gcpause import gc_paused
from burn.ingest.dedupe import Notes
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit
from burn.store import Encoded

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

PARALLEL_MIN_BYTES = 16 * 1024 * 1024
TASK_BYTES = 2 * 1024 * 1024
# A unit at least this large is read ahead of its turn, its result kept in a file (Pool.read)
# in parts of SPILL_PART items (burn.ingest.run.APPEND_BATCH: one append batch each).
AHEAD_BYTES = 32 * 1024 * 1024
SPILL_PART = 20_000
SPILL_PREFIX = "ingest-ahead-"  # the directory's name in the burn home (remove_stale_spills)
TASK_UNITS = 64
# Tasks in flight per worker: enough that the workers keep reading while the main process appends
# a batch and applies it to the archive; fewer left them idle (docs/performance.md, "Figures behind
# the code's constants").
TASKS_PER_WORKER = 16
# How much lower the workers' scheduling priority is than the main process's (``nice``).
WORKER_NICE = 10


@attrs.frozen
class Prepared:
    """What one unit's read gives the ledger: encoded records, the new cursor, the diagnostics, and
    the notes of the reader's dedupe rules by item index (:mod:`burn.ingest.dedupe`; most items have none)."""

    items: list[Encoded]
    cursor: FileCursor | None
    diagnostics: Diagnostics
    notes: dict[int, Notes] = attrs.field(factory=dict)

    def __reduce__(self) -> tuple[Callable[..., Prepared], tuple[object, ...]]:
        """Pickled (a worker's result, a part read ahead) with its items as three lists — kinds,
        ids, JSON — not as named tuples, which pickle calls back into Python for each way, item by
        item (a third of the time; docs/performance.md)."""
        return _prepared, (*_columns(self.items), self.cursor, self.diagnostics, self.notes)


def _columns(items: Sequence[Encoded]) -> tuple[list[str], list[str], list[bytes]]:
    return [i[0] for i in items], [i[1] for i in items], [i[2] for i in items]


def _prepared(
    kinds: list[str],
    ids: list[str],
    data: list[bytes],
    cursor: FileCursor | None,
    diagnostics: Diagnostics,
    notes: dict[int, Notes],
) -> Prepared:
    """A :class:`Prepared` from its pickled form (:meth:`Prepared.__reduce__`)."""
    new = tuple.__new__  # what Encoded(kind, id, data) does, without a Python call per item
    return Prepared(
        [new(Encoded, item) for item in zip(kinds, ids, data, strict=True)], cursor, diagnostics, notes
    )


Prepare = Callable[[ReadResult], Prepared]

# Set in the parent before forking; inherited by the workers.
_readers: dict[str, tuple[Reader, Prepare]] = {}


@attrs.frozen
class ReadFailure:
    """A reader raised; carried back as text so any exception survives the trip."""

    message: str


def workers_for(env: Mapping[str, str], total_bytes: int) -> int:
    value = env.get("BURN_WORKERS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    if total_bytes < PARALLEL_MIN_BYTES:
        return 1
    # Imported here: an incremental ingest reads in-process and should not pay for importing it.
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


Job = tuple[SourceUnit, FileCursor | None]


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
PARENT_POLL_SECONDS = 1.0


def _worker_init(parent: int) -> None:
    """Run first in every worker: die with the parent ``parent``, leave signals to it."""
    # The main process (appends, the archive) is the critical path of a cold ingest; at equal
    # priority the workers took a third of its CPU time on two cores. Lower, they still use every
    # cycle it leaves (docs/performance.md, "Figures behind the code's constants").
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICE)
    # Ctrl-C reaches the whole process group; the main process stops the pool (a worker's
    # KeyboardInterrupt would only print a traceback). SIGTERM/SIGHUP kill a worker outright:
    # the main process's handlers, inherited over fork, are not for it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked while the pool forked
    if not _die_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    """The fallback where there is no ``PR_SET_PDEATHSIG``: exit once the parent is gone."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _read(name: str, task: list[Job]) -> list[Prepared | ReadFailure]:
    reader, prepare = _readers[name]
    # A task's records are millions of short-lived dicts, but no garbage cycles worth a collector
    # pass every 700 allocations (burn.gcpause); what cycles a reader makes go at the next one.
    with gc_paused():
        return [_safe_read(reader, prepare, *job) for job in task]


def remove_stale_spills(home: Path) -> None:
    """Delete the read-ahead directories a killed ingest left in ``home`` (call it with the ledger
    lock held: the ingest that made one holds it while it lives)."""
    for stale in home.glob(f"{SPILL_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


def split(prepared: Prepared, size: int) -> Iterator[Prepared]:
    """``prepared`` in parts of at most ``size`` items, each dropped from it once taken (its items
    list is emptied): a unit of a hundred thousand records (OpenCode's database) is appended, or
    written, part by part, and their memory freed as they go, not all at once."""
    items = prepared.items
    if len(items) <= size:
        yield prepared
        return
    start = 0
    while items:
        n = min(size, len(items))
        notes = {i - start: v for i, v in prepared.notes.items() if start <= i < start + n}
        yield attrs.evolve(prepared, items=items[:n], notes=notes)
        del items[:n]
        start += n


@attrs.frozen
class Spilled:
    """The result of a unit read ahead of its turn (:meth:`Pool.read`), written to a file in
    ``count`` parts of at most :data:`SPILL_PART` items, which :meth:`parts` reads back."""

    path: str
    cursor: FileCursor | None
    diagnostics: Diagnostics
    count: int

    def present(self) -> bool:
        """Whether the file is still there (removed by hand, or by a cleaner)."""
        return os.path.exists(self.path)

    def parts(self) -> Iterator[Prepared]:
        """The unit's records, part by part, then the file removed. Raises
        :class:`~burn.errors.BurnError` when the file cannot be read back to its end: nothing of
        the unit was kept then (its cursor is not moved), and the next ingest reads it again."""
        try:
            with open(self.path, "rb") as f:
                for _ in range(self.count):
                    kinds, ids, data, notes = pickle.load(f)
                    yield _prepared(kinds, ids, data, self.cursor, self.diagnostics, notes)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
            raise BurnError(
                f"could not read back the records a worker read ahead ({self.path}): {exc}; "
                "run `burn ingest` again"
            ) from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self.path)


def _read_ahead(name: str, task: list[Job], directory: str) -> list[Prepared | ReadFailure] | Spilled:
    """:func:`_read` for a task of one unit read ahead of its turn: its result waits in a file in
    ``directory``, not in the main process's memory (sent back as usual when it cannot be written)."""
    results = _read(name, task)
    if len(results) != 1 or not isinstance(results[0], Prepared):
        return results
    result = results[0]
    fd, path = tempfile.mkstemp(dir=directory, suffix=".pickle")
    count = 0
    try:
        with os.fdopen(fd, "wb") as f:
            # Parts of a copy: a write that fails half-way still has every item to send back.
            for part in split(attrs.evolve(result, items=list(result.items)), SPILL_PART):
                pickle.dump((*_columns(part.items), part.notes), f, protocol=pickle.HIGHEST_PROTOCOL)
                count += 1
    except OSError:  # a full disk: the pool's pipe still works
        with contextlib.suppress(OSError):
            os.unlink(path)
        return results
    return Spilled(path, result.cursor, result.diagnostics, count)


def _safe_read(
    reader: Reader, prepare: Prepare, unit: SourceUnit, cursor: FileCursor | None
) -> Prepared | ReadFailure:
    try:
        result = reader.read(unit, cursor)
    except Exception as exc:  # a reader plugin's bug must not take ingest down
        return ReadFailure(f"{type(exc).__name__}: {exc}")
    return prepare(result)


class Pool:
    """The worker processes of one ingest, shared by its readers (``readers``: name → reader and
    its ``prepare``). They are forked at the first parallel read, while the main process is still
    small: forked later, each would start with a copy of everything the main process holds by
    then (its append batch, the archive's page cache), and their peak memory would be its."""

    def __init__(self, readers: Mapping[str, tuple[Reader, Prepare]], scratch: Path | None = None) -> None:
        self.readers = dict(readers)
        self.executor: ProcessPoolExecutor | None = None
        self.workers = 1
        self.scratch = scratch  # where the results read ahead wait (None: the temporary directory)
        self.spill: str | None = None  # their directory in it, once there are any

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        global _readers
        if self.executor is not None:
            # Interrupted (SIGTERM, SIGHUP, Ctrl-C, an error): drop the queued tasks; the workers
            # finish the ones they hold (a few MB at most) and exit.
            self.executor.shutdown(cancel_futures=exc_type is not None)
            self.executor = None
            _readers = {}
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)
            self.spill = None

    def _start(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        global _readers
        _readers = self.readers
        self.workers = workers
        self.executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )

    def read(
        self, plan: Sequence[tuple[str, Sequence[Job]]], workers: int
    ) -> Iterator[tuple[SourceUnit, Prepared | ReadFailure | Spilled]]:
        """``(unit, prepared result)`` for every job of every reader (``plan``: reader name and
        its jobs), in plan order; in ``workers`` processes (forked at the first parallel read)."""
        if workers <= 1 or sum(len(jobs) for _, jobs in plan) < 2:
            for name, jobs in plan:
                reader, prepare = self.readers[name]
                for unit, cursor in jobs:
                    yield unit, _safe_read(reader, prepare, unit, cursor)
            return
        tasks = [(name, task, size) for name, jobs in plan for task, size in _tasks(jobs)]
        # A unit of AHEAD_BYTES or more (the OpenCode database) is read first, whatever its turn:
        # one worker reads it while the others read for the main process, and its results wait
        # in a file until its turn comes (put it last: ingest orders readers by their largest unit).
        # Only the largest such units are, one fewer than there are workers: with as many read
        # ahead as workers (the database and a large transcript), no worker read for the main
        # process at the start, and it waited (docs/performance.md). Others are read in turn.
        large = [i for i, (_, _, size) in enumerate(tasks) if size >= AHEAD_BYTES]
        ahead = sorted(large, key=lambda i: -tasks[i][2])[: max(1, workers - 1)]  # the largest first
        if ahead and self.spill is None:
            self.spill = tempfile.mkdtemp(prefix=SPILL_PREFIX, dir=self.scratch)
        later = iter([i for i in range(len(tasks)) if i not in ahead])
        futures: dict[int, Future[list[Prepared | ReadFailure] | Spilled]] = {}

        def submit(i: int) -> None:
            assert self.executor is not None
            name, task, _ = tasks[i]
            if i in ahead:
                assert self.spill is not None
                futures[i] = self.executor.submit(_read_ahead, name, task, self.spill)
            else:
                futures[i] = self.executor.submit(_read, name, task)

        def top_up() -> None:
            while len(futures) < self.workers * TASKS_PER_WORKER + len(ahead):
                i = next(later, None)
                if i is None:
                    return
                submit(i)

        # The first submit forks the workers. A signal handler that raises (SIGTERM, SIGHUP and
        # Ctrl-C stop burn that way) must not run in the middle of a fork: its at-fork hooks
        # swallow the exception, or leave the pool half made. The signals wait until it is done.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            if self.executor is None:
                self._start(workers)
            for i in ahead:
                submit(i)
            top_up()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for i, (name, task, _) in enumerate(tasks):
            got = futures.pop(i).result()
            if i in ahead:
                ahead.remove(i)
            top_up()
            if isinstance(got, Spilled) and not got.present():
                got = _read(name, task)  # the file was removed under us: read the unit again, here
            results: Sequence[Prepared | ReadFailure | Spilled] = [got] if isinstance(got, Spilled) else got
            yield from zip((unit for unit, _ in task), results, strict=True)


def _tasks(jobs: Sequence[Job]) -> Iterator[tuple[list[Job], int]]:
    """Consecutive jobs grouped into tasks of at most :data:`TASK_BYTES` (a larger unit alone),
    with their size in bytes."""
    task: list[Job] = []
    size = 0
    for job in jobs:
        n = unit_size(job[0])
        if task and (size + n > TASK_BYTES or len(task) >= TASK_UNITS):
            yield task, size
            task, size = [], 0
        task.append(job)
        size += n
    if task:
        yield task, size


def unit_size(unit: SourceUnit) -> int:
    """The unit's size in bytes (0 when it cannot be stat'ed: the reader reports why)."""
    try:
        return os.stat(unit.path).st_size
    except OSError:
        return 0
