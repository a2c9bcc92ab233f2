"""A contract document written by the runner in a thread and streamed as it is written.

The runner writes to a file object; :class:`Pipe` hands its bytes to the response in 64 KB chunks
through a bounded queue, so a stream of any length holds a few chunks in memory (flat memory
however many rows), and the runner waits when the client reads slowly. The runner raises a cursor
reset before it writes a byte, so the status is known from the first item of the queue.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

CHUNK = 64 * 1024
_DONE = object()


class Cancelled(Exception):
    """The client went away: the runner stops at its next write."""


class Pipe:
    def __init__(self, depth: int = 8) -> None:
        self.q: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.buf = bytearray()
        self.cancelled = threading.Event()

    # -- the writer side (a BinaryIO as far as the runner is concerned) --------------------------

    def write(self, data: bytes) -> int:
        self.buf += data
        if len(self.buf) >= CHUNK:
            self._put(bytes(self.buf))
            self.buf.clear()
        return len(data)

    def flush(self) -> None:
        pass  # chunks go out when full or at the end

    def _put(self, item: Any) -> None:
        while True:
            if self.cancelled.is_set():
                raise Cancelled
            try:
                self.q.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def run(self, produce: Callable[[Pipe], None]) -> None:
        try:
            produce(self)
            if self.buf:
                self._put(bytes(self.buf))
            self._put(_DONE)
        except Cancelled:
            pass
        except BaseException as exc:  # handed to the response, which maps it to a status
            with contextlib.suppress(Cancelled):
                self._put(exc)

    # -- the reader side -------------------------------------------------------------------------

    async def first(self) -> bytes | BaseException | None:
        """The first chunk, the runner's exception, or ``None`` for an empty document."""
        item = await run_in_threadpool(self.q.get)
        return None if item is _DONE else item

    async def rest(self, first: bytes) -> AsyncIterator[bytes]:
        try:
            yield first
            while True:
                item = await run_in_threadpool(self.q.get)
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    return  # the status is sent; a truncated stream has no `end` line, which readers detect
                yield item
        finally:
            self.cancelled.set()


def start(produce: Callable[[Pipe], None]) -> Pipe:
    pipe = Pipe()
    threading.Thread(target=pipe.run, args=(produce,), name="burn-stream", daemon=True).start()
    return pipe
