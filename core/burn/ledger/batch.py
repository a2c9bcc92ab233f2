"""What every store does with a batch of encoded records before it writes, and its writer lock.

Store-neutral, shared by the ``file`` and ``sqlite`` stores (and open to other stores): fold the
copies of one event within the batch (:func:`fold`), then decide against what the store already
holds which items to write — a new event, or a revision that supersedes the stored state
(:func:`plan`, DESIGN §5 via :func:`burn.ledger.merge.merge`) — counting the rest as duplicates.
:class:`RunLock` is the exclusive, re-entrant ``flock`` that ``burn ingest`` holds for its whole
run; the kernel releases it when the process dies, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from burn.errors import LedgerError
from burn.ledger.merge import merge_encoded
from burn.store import AppendResult, Encoded


def fold(items: Sequence[Encoded], result: AppendResult) -> dict[str, Encoded]:
    """The batch with the copies of each event merged into one item (first-seen order)."""
    pending: dict[str, Encoded] = {}
    for item in items:
        old = pending.get(item.id)
        if old is None:
            pending[item.id] = item
        else:
            merged = merge_encoded(old, item)
            if merged is None:
                result.dropped["duplicate"] += 1
            else:
                pending[item.id] = merged
    return pending


def plan(
    pending: Mapping[str, Encoded], known: Mapping[str, bytes | None], result: AppendResult
) -> list[Encoded]:
    """The items to write: new events, and revisions of known ones (``known``: the stored record
    JSON of each known id, ``None`` for a kind that is never revised); counts each in ``result``."""
    written: list[Encoded] = []
    for rid, item in pending.items():
        if rid in known:
            old_body = known[rid]
            merged = None if old_body is None else merge_encoded(item._replace(data=old_body), item)
            if merged is None:
                result.dropped["duplicate"] += 1
                continue
            item = merged
            result.revised[item.kind] += 1
        else:
            result.appended[item.kind] += 1
        written.append(item)
    return written


# Descriptors of the locks this process holds (or waits for). A forked child (an ingest worker)
# closes them at once, so a worker never holds the ledger's lock after its parent dies.
_held_locks: set[int] = set()


def _close_held_locks() -> None:
    for fd in _held_locks:
        with suppress(OSError):
            os.close(fd)
    _held_locks.clear()


os.register_at_fork(after_in_child=_close_held_locks)

LOCK_NOTICE_SECONDS = 1.0  # a writer that has waited this long says on stderr whom it waits for
_LOCK_POLL_SECONDS = 0.05


class RunLock:
    """An exclusive ``flock`` on ``path``, re-entrant within the process; ``on_release`` runs when
    the outermost holder lets go (a store closes its connections then).

    The holder writes its pid into the file; a writer that has waited :data:`LOCK_NOTICE_SECONDS`
    says once on stderr whom it waits for. Forked children close the descriptor (see
    ``_held_locks``), and the kernel releases the lock when the holder dies, so a crash or a killed
    run never leaves a stale lock."""

    def __init__(self, path: Path, on_release: Callable[[], None] = lambda: None) -> None:
        self.path = path
        self.depth = 0
        self._fd: int | None = None
        self._on_release = on_release

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self.depth == 0:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise LedgerError(f"cannot open the ledger lock {self.path}: {exc.strerror}") from exc
            _held_locks.add(fd)  # before it is locked: a fork while waiting must not inherit it
            try:
                self._acquire(fd)
            except BaseException:
                _held_locks.discard(fd)
                os.close(fd)
                raise
            self._fd = fd
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            if self.depth == 0:
                try:
                    self._on_release()
                finally:
                    held, self._fd = self._fd, None
                    if held is not None and held in _held_locks:  # not in a forked child: closed there
                        _held_locks.discard(held)
                        fcntl.flock(held, fcntl.LOCK_UN)
                        os.close(held)

    def _acquire(self, fd: int) -> None:
        """Take the lock on ``fd``, saying once on stderr whom we wait for; then record our pid."""
        waited = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise LedgerError(f"cannot lock the ledger {self.path}: {exc.strerror}") from exc
            if waited >= LOCK_NOTICE_SECONDS:
                holder = _lock_holder(fd)
                who = f" (pid {holder})" if holder else ""
                sys.stderr.write(f"burn: waiting for another burn ingest{who} to finish — {self.path}\n")
                sys.stderr.flush()
                fcntl.flock(fd, fcntl.LOCK_EX)
                break
            time.sleep(_LOCK_POLL_SECONDS)
            waited += _LOCK_POLL_SECONDS
        try:  # who holds it, for the next writer's message; the lock works without it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass


def _lock_holder(fd: int) -> int | None:
    """The pid the lock's holder wrote into the lock file (``None``: none, or not readable)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
