"""What every store does with a batch of encoded records before it writes, and its writer lock.

Store-neutral, shared by the ``file`` and ``sqlite`` stores (and open to other stores): fold the
copies of one event within the batch (:func:`fold`), then decide against what the store already
holds which items to write — a new event, or a revision that supersedes the stored state
(:func:`plan`, DESIGN §5 via :func:`burn.ledger.merge.merge`) — counting the rest as duplicates.
:class:`RunLock` is the exclusive, re-entrant ``flock`` that ``burn ingest`` holds for its whole
run; the kernel releases it when the process dies, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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


class RunLock:
    """An exclusive ``flock`` on ``path``, re-entrant within the process; ``on_release`` runs when
    the outermost holder lets go (a store closes its connections then)."""

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
            fcntl.flock(fd, fcntl.LOCK_EX)
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
                    assert self._fd is not None
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None
