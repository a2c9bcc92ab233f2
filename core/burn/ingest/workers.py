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
reader's units while the main process appends the last ones of the reader before. Readers never
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
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from burn.ingest.dedupe import Notes
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit
from burn.store import Encoded

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

PARALLEL_MIN_BYTES = 16 * 1024 * 1024
TASK_BYTES = 2 * 1024 * 1024
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
    return [_safe_read(reader, prepare, *job) for job in task]


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

    def __init__(self, readers: Mapping[str, tuple[Reader, Prepare]]) -> None:
        self.readers = dict(readers)
        self.executor: ProcessPoolExecutor | None = None
        self.workers = 1

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
    ) -> Iterator[tuple[SourceUnit, Prepared | ReadFailure]]:
        """``(unit, prepared result)`` for every job of every reader (``plan``: reader name and
        its jobs), in plan order; in ``workers`` processes (forked at the first parallel read)."""
        if workers <= 1 or sum(len(jobs) for _, jobs in plan) < 2:
            for name, jobs in plan:
                reader, prepare = self.readers[name]
                for unit, cursor in jobs:
                    yield unit, _safe_read(reader, prepare, unit, cursor)
            return
        pending = ((name, task) for name, jobs in plan for task in _tasks(jobs))
        window: deque[tuple[list[Job], Future[list[Prepared | ReadFailure]]]] = deque()

        def submit() -> None:
            item = next(pending, None)
            if item is not None:
                assert self.executor is not None
                window.append((item[1], self.executor.submit(_read, *item)))

        # The first submit forks the workers. A signal handler that raises (SIGTERM, SIGHUP and
        # Ctrl-C stop burn that way) must not run in the middle of a fork: its at-fork hooks
        # swallow the exception, or leave the pool half made. The signals wait until it is done.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            if self.executor is None:
                self._start(workers)
            for _ in range(self.workers * TASKS_PER_WORKER):
                submit()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        while window:
            task, future = window.popleft()
            submit()
            yield from zip((unit for unit, _ in task), future.result(), strict=True)


def _tasks(jobs: Sequence[Job]) -> Iterator[list[Job]]:
    """Consecutive jobs grouped into tasks of at most :data:`TASK_BYTES` (a larger unit alone)."""
    task: list[Job] = []
    size = 0
    for job in jobs:
        n = unit_size(job[0])
        if task and (size + n > TASK_BYTES or len(task) >= TASK_UNITS):
            yield task
            task, size = [], 0
        task.append(job)
        size += n
    if task:
        yield task


def unit_size(unit: SourceUnit) -> int:
    """The unit's size in bytes (0 when it cannot be stat'ed: the reader reports why)."""
    try:
        return os.stat(unit.path).st_size
    except OSError:
        return 0
