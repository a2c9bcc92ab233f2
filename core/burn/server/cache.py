"""The server's document cache: a report asked for again, of an archive that has not changed, is a
lookup instead of a query (issue 14's latency targets; figures in docs/performance.md).

Keyed by the request (surface, query parameters in a normal order, format) and the archive's
*stamp*: its whole ``archive_state`` (archive id, generation — bumped by a rebuild —,
``ledger_position``, pricing inputs and digest, rollup flags), the ingest-quality counters that
documents report (they grow without the ledger moving when an ingest reads only duplicates), and
the current minute, so a window relative to now (``since=7d``, today's blocks) is at most a minute
old. Any append, build, rebuild or re-pricing changes the stamp, so a stale body is never served;
the cache keeps one body per request, that of its latest stamp.

A cached body is returned as it was made, ``generated_at`` included: the document *was* generated
then, from the same archive state (docs/server.md). Only JSON documents are cached (NDJSON
streams); bounded by entries and bytes, bodies over a limit are not kept.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

MAX_ENTRIES = 256
MAX_BYTES = 64 * 1024 * 1024  # all cached bodies together
MAX_BODY = 4 * 1024 * 1024  # a larger body (an unpaged export) is rendered every time

_STAMP = (
    "SELECT (SELECT group_concat(key || '=' || value, ';') FROM"
    " (SELECT key, value FROM archive_state ORDER BY key)),"
    " (SELECT count(*) || ':' || total(value) FROM ingest_quality)"
)


class Stamper:
    """What a document depends on besides the request (module docstring), read on one read
    connection; its query run again only when another connection has
    committed to the archive since: ``PRAGMA data_version`` (a read of the WAL index, microseconds)
    against the stamp's query (~0.1 ms, a third of a cache hit's cost; docs/performance.md). The
    minute is always the current one."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._version: int | None = None
        self._value: tuple[Hashable, Hashable] = (None, None)

    def __call__(self) -> tuple[Hashable, ...]:
        # The version is read first: a commit between the two reads leaves an older version
        # beside a newer stamp, so the next call reads the stamp again; never the reverse.
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            row = self.db.execute(_STAMP).fetchone()
            self._value, self._version = (row[0], row[1]), version
        return (*self._value, int(time.time() // 60))


class _Flight:
    """A render in progress: the requests for the same document wait for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.body: bytes | None = None
        self.error: BaseException | None = None


class DocumentCache:
    """A thread-safe LRU of rendered documents, one per request: the body made at the request's
    latest stamp (bounded by :data:`MAX_ENTRIES` and :data:`MAX_BYTES`).

    A body of an older stamp is (all but) never asked for again — the stamp's minute and ledger
    position move forward — so a new stamp's body replaces it: keyed by request *and* stamp, the
    cache filled with dead bodies, one more per document every minute, up to its 64 MiB."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._bodies: OrderedDict[Hashable, tuple[Hashable, bytes]] = (
            OrderedDict()
        )  # request -> (stamp, body)
        self._flights: dict[Hashable, _Flight] = {}  # (request, stamp) -> the render in progress
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.renders = 0

    def peek(self, request: Hashable, stamp: Hashable) -> bytes | None:
        """The body for ``request`` at ``stamp`` if cached (counted as a hit), else None."""
        with self._lock:
            return self._hit(request, stamp)

    def _hit(self, request: Hashable, stamp: Hashable) -> bytes | None:
        held = self._bodies.get(request)
        if held is None or held[0] != stamp:
            return None
        self._bodies.move_to_end(request)
        self.hits += 1
        return held[1]

    def get_or_render(
        self, request: Hashable, stamp: Hashable, render: Callable[[], bytes]
    ) -> tuple[bytes, bool]:
        """The body for ``request`` at ``stamp`` and whether it was cached; ``render`` makes it
        otherwise.

        One render per (request, stamp) at a time (outside the lock): the requests that miss while
        it runs wait for its body, which they count as a hit. Without that, every client's request
        in the first second of a new minute (the stamp's minute) or after an append rendered the
        same document at once: 50 clients of the daily report on the 1 GB archive meant 50 renders
        of 270 ms, a 9.6 s p99 and 500 MB more RSS (docs/performance.md)."""
        key = (request, stamp)
        with self._lock:
            body = self._hit(request, stamp)
            if body is not None:
                return body, True
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.misses += 1
        if not leader:
            flight.done.wait()
            if flight.body is None:
                # The render failed (a usage error, a cursor reset): this request fails the same way.
                raise flight.error if flight.error is not None else RuntimeError("render failed")
            with self._lock:
                self.hits += 1
            return flight.body, True
        try:
            body = render()
        except BaseException as exc:
            flight.error = exc
            with self._lock:
                self.renders += 1
                del self._flights[key]
            flight.done.set()
            raise
        flight.body = body
        with self._lock:  # kept and no longer in flight at once: no window for a second render
            self.renders += 1
            del self._flights[key]
            old = self._bodies.pop(request, None)
            if old is not None:
                self._bytes -= len(old[1])
            if len(body) <= MAX_BODY:
                self._bodies[request] = (stamp, body)
                self._bytes += len(body)
            while self._bodies and (len(self._bodies) > self.max_entries or self._bytes > self.max_bytes):
                _, (_, evicted) = self._bodies.popitem(last=False)
                self._bytes -= len(evicted)
        flight.done.set()
        return body, False

    def __len__(self) -> int:
        return len(self._bodies)
