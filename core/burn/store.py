"""The ledger ``Store`` seam (DESIGN §6).

A store is the canonical, append-only record of every event burn has seen. The built-in ``file``
store is a JSONL file; later stores (``sqlite``, ``postgres``, ``http``) implement the same
protocol and are selected with ``RELAYBURN_STORAGE``. Host-local state (cursors, secrets) stays as
files in the burn home whatever the store.

Ledger line (every store keeps this shape): ``{"v": 1, "kind": …, "id": …, "record": {…}}``.
Readers of the ledger skip kinds they do not know, so new kinds never break old code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import attrs
import orjson

from burn.records import Record

LEDGER_VERSION = 1


@attrs.frozen
class LedgerEntry:
    """One ledger line as read back: ``position`` is where the next entry starts. ``machine``: the
    machine key of the host that first saw the event, for stores that record it (postgres);
    ``None`` elsewhere: the entry is this host's (the archive uses the local machine key)."""

    position: int
    kind: str
    id: str
    record: dict[str, Any]
    machine: str | None = None


class Encoded(NamedTuple):
    """A record ready for the ledger: its kind, event id and JSON.

    Encoding is the expensive part of appending (unstructuring, hashing, serializing) and needs no
    ledger state, so ingest does it in the worker processes that read the sources; a tuple of
    strings and bytes also crosses the process boundary far cheaper than a record object.
    """

    kind: str
    id: str
    data: bytes  # orjson of the record's dict form (defaults omitted)


def encode(record: Record) -> Encoded:
    from burn.convert import to_dict  # its compiled encoders are built when something is encoded

    # A copy of exactly the JSON's size: orjson (3.13) hands back its output buffer, kilobytes even
    # for a small record, and encoded records wait in lists (a unit's records in a worker, a batch
    # before it is appended), so their memory would be ten times the ledger's bytes
    # (docs/performance.md, "Figures behind the code's constants").
    return Encoded(record.KIND, record.event_id(), bytes(memoryview(orjson.dumps(to_dict(record)))))


def decode(item: Encoded) -> Record:
    from burn.convert import from_dict

    return from_dict(item.kind, orjson.loads(item.data))


# Told what an append wrote: the position of its first entry and the entries, exactly as
# ``Store.read(position)`` would give them (the archive applies them without reading them back).
# The entries are decoded as the sink iterates them: a sink that does not want them costs nothing.
Sink = Callable[[int, Iterable[LedgerEntry]], object]


def append_encoded(store: Store, items: Sequence[Encoded], sink: Sink | None = None) -> AppendResult:
    """Append encoded records to any store, through its fast path when it has one. A store whose
    fast path writes entries tells ``sink``; other stores never do (their readers read them)."""
    fast = getattr(store, "append_encoded", None)
    if fast is not None:
        result: AppendResult = fast(items, sink)
        return result
    return store.append([decode(i) for i in items])


@attrs.define
class AppendResult:
    """What one :meth:`Store.append` wrote: new events and superseding revisions by record kind,
    and the records it dropped by reason (``duplicate``: a known id whose new sighting adds
    nothing). Results add up over batches (:meth:`add`) into ``burn ingest``'s counts."""

    appended: Counter[str] = attrs.field(factory=Counter)  # kind -> new events
    revised: Counter[str] = attrs.field(factory=Counter)  # kind -> superseding revisions
    dropped: Counter[str] = attrs.field(factory=Counter)  # rule -> records dropped

    def add(self, other: AppendResult) -> None:
        self.appended.update(other.appended)
        self.revised.update(other.revised)
        self.dropped.update(other.dropped)

    @property
    def lines_written(self) -> int:
        return sum(self.appended.values()) + sum(self.revised.values())


@attrs.define
class ReadStats:
    """What a :meth:`Store.read` went over: entries read, and what it skipped — entries of kinds
    this burn does not know, by kind (a newer burn wrote them; never fatal), and invalid ones."""

    lines: int = 0
    unknown_kinds: Counter[str] = attrs.field(factory=Counter)
    invalid: int = 0


class Store(Protocol):
    """What every ledger store does."""

    name: str

    def lock(self) -> AbstractContextManager[None]:
        """Exclusive writer lock, held by ``burn ingest`` for its whole run (re-entrant in-process)."""
        ...

    def append(self, records: Sequence[Record]) -> AppendResult:
        """Append records idempotently by event id; a known id appends only a superseding revision
        (see :mod:`burn.ledger.merge`). Must be called with :meth:`lock` held."""
        ...

    # Optional: ``append_encoded(items: Sequence[Encoded], sink: Sink | None) -> AppendResult``,
    # :meth:`append` for records already passed through :func:`encode`, which also tells ``sink``
    # (when given) the entries it wrote. Ingest uses it when a store has it (the file store does: it
    # writes the encoded bytes as they are) and calls :meth:`append` otherwise.

    def read(self, since: int = 0, stats: ReadStats | None = None) -> Iterator[LedgerEntry]:
        """Change feed: every complete entry after ``since``, in append order."""
        ...

    def position(self) -> int:
        """The position after the last complete entry."""
        ...

    def describe(self) -> dict[str, Any]:
        """Facts for ``burn archive status`` / ``burn doctor`` (paths, sizes)."""
        ...

    # Optional, for stores that have them (``burn store status|migrate``, ``burn doctor``):
    # ``ping() -> None``: connect and check the store is usable, raising ``burn.errors.BurnError``
    #   with a one-line reason (no password) when it is not; stores without it are probed with
    #   :meth:`position`.
    # ``migrate() -> list[str]``: bring the store's schema up to date, idempotently; returns what
    #   was done (empty: already current). ``burn store migrate`` says a store without it has none.
    # ``identity() -> str``: names this ledger (not the connection): the archive remembers it and
    #   is rebuilt when it is built from another ledger, whose positions mean something else.
    #   Default: the store's name.
    # ``close() -> None``: release connections; called by commands that open several stores.
    # ``connects: bool`` (attribute): opening the store costs a connection (sqlite, postgres); a
    #   no-op ingest then does not ask its position, so it opens none.
    # ``shared: bool`` (attribute): other hosts append to it; reads build the local archive first.


@attrs.frozen
class StoreConfig:
    """What a store factory is given to open a store.

    ``home`` is the burn home (``RELAYBURN_HOME``): host-local state, and where a local store keeps
    its files unless ``url`` says otherwise. ``url`` is the store's location when one was given:
    ``RELAYBURN_DATABASE_URL`` for the selected store, or the ``--to``/``--from`` URL of
    ``burn store copy`` (``None``: the store's default). ``env`` is the environment burn runs in,
    for a store's own settings (libpq's ``PG*`` variables, a token). A factory must not connect:
    opening is cheap, the first read or append connects (a no-op ingest opens no connection).
    """

    home: Path
    url: str | None = None
    env: Mapping[str, str] = attrs.field(factory=dict)


StoreFactory = Callable[[StoreConfig], Store]
"""Opens a store from its :class:`StoreConfig`; registered with ``register_stores``."""


def store_identity(store: Store) -> str:
    """The ledger a store reads (its optional ``identity()``, else its name)."""
    identity = getattr(store, "identity", None)
    return str(identity()) if identity is not None else store.name
