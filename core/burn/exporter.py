"""What an exporter plugin implements: a contract surface's query and row shape.

The core frames what exporters yield (envelope, JSON/NDJSON, pagination, validation; see
:mod:`burn.contract`). Registered through ``register_exporters``.

Two levels:

* :class:`Exporter` — ``surface``, ``schema_version`` and ``rows(archive, options)``: enough for
  ``burn export <surface>`` to frame every row in one document.
* :class:`ContractExporter` — adds the command it answers (``verb``, ``commands``), its own
  options, canonical filters and a :class:`Query` opened inside the export's read transaction:
  the meta block's facts, the rows, optional summary sections and, for ``paged`` surfaces, keyset
  pages under a watermark. burn's own sessions, usage and activity surfaces are built this way.

An exporter reads the archive through :mod:`burn.query` (filters, SQL conditions, the rollup or
``turns`` choice, named aggregates) and renders identities with :class:`Renderer`. Together with
:mod:`burn.records`, :mod:`burn.reader`, :mod:`burn.readkit` and :mod:`burn.store` these are the
public plugin API: an exporter plugin imports nothing else of burn (docs/plugin-hooks.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from burn.errors import BurnError, UsageError

if TYPE_CHECKING:
    from burn.contract.profile import Renderer
    from burn.query.view import ArchiveView
__all__ = [
    "ArchiveView",
    "BurnError",
    "ContractExporter",
    "Exporter",
    "Facts",
    "Key",
    "Page",
    "Query",
    "Renderer",
    "UsageError",
    "plain_rows",
    "positive",
]


def __getattr__(name: str) -> Any:
    # Imported on first use: every plugin module imports this one when plugins load, and a
    # command that runs no exporter (ingest) must not pay for identities or the query layer.
    if name == "Renderer":
        from burn.contract.profile import Renderer

        return Renderer
    if name == "ArchiveView":
        from burn.query.view import ArchiveView

        return ArchiveView
    raise AttributeError(f"module 'burn.exporter' has no attribute {name!r}")


@runtime_checkable
class Exporter(Protocol):
    """A contract surface's rows from the archive. Register instances with ``register_exporters``;
    exporters only read (through :mod:`burn.query`) and never frame their output: the core adds
    the envelope (docs/contracts.md).

    :ivar surface: contract surface name (``sessions``, ``usage`` …), unique.
    :ivar schema_version: integer version of the surface's contract.
    """

    surface: str
    schema_version: int

    def rows(self, archive: ArchiveView, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Yield the surface's rows from the archive."""
        ...


@attrs.frozen
class Facts:
    """What the meta block says about a payload, known before its rows are written.

    ``models``: one mapping per model in the payload with ``model``, ``unpriced`` (``{"turns":
    n}``) and ``fallback_turns`` (the pricing block lists their rates); ``project_keys``: the raw
    project keys in the payload; ``cost_source``: ``computed``, ``reported``, ``mixed`` or ``none``.
    """

    models: Sequence[Mapping[str, Any]] = ()
    project_keys: Sequence[str] = ()
    cost_source: str = "none"


Key = tuple[Any, ...]


@attrs.frozen
class Page:
    """A keyset page: rows admitted by ``watermark``, strictly after ``after``, at most ``limit``."""

    watermark: int
    after: Key | None = None
    limit: int | None = None


@runtime_checkable
class Query(Protocol):
    """One export's query over an archive connection inside a read transaction."""

    def facts(self, page: Page | None = None) -> Facts: ...

    def rows(self, page: Page | None = None) -> Iterator[tuple[Key, Mapping[str, Any]]]:
        """(order key, row) pairs in the surface's documented total order."""
        ...

    def summary(self) -> Mapping[str, Any] | None:
        """Sections after the rows (totals, rollups), or ``None``."""
        ...

    def watermark(self) -> int:
        """Paged surfaces: the archive's change sequence number now."""
        ...

    def snapshot(self, watermark: int) -> tuple[int, int]:
        """Paged surfaces: (rows admitted by ``watermark``, how many of them changed after it)."""
        ...


@runtime_checkable
class ContractExporter(Exporter, Protocol):
    """An exporter the core publishes as a validated, paged contract document (burn's own
    ``sessions``, ``usage`` and ``activity``): its options, canonical filters and a :class:`Query`
    the contract runner (:func:`burn.contract.run.export`) frames and pages.

    :ivar verb: ``export`` or ``report`` — the command group it answers.
    :ivar commands: command name → preset options (``report daily`` = ``usage`` with ``by=day``).
    :ivar paged: whether it pages with cursors (``--limit``, ``--cursor``, ``--all``).
    :ivar order: the documented total order, named in cursors and the meta block.
    """

    verb: str
    commands: Mapping[str, Mapping[str, Any]]
    paged: bool
    order: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the surface's own options (the core adds format, time, filter and identity ones)."""
        ...

    def filters(self, archive: ArchiveView, options: Mapping[str, Any]) -> dict[str, Any]:
        """The surface's own canonical filters from parsed options (JSON values, sorted lists)."""
        ...

    def open(self, archive: ArchiveView, filters: Mapping[str, Any], render: Renderer) -> Query:
        """A query for canonical ``filters`` (its own plus the core's ``since``, ``until``,
        ``sources``, ``projects``, ``models`` and ``timezone``: read them with
        :meth:`burn.query.Filters.from_canonical`)."""
        ...


def positive(text: str) -> int:
    """An argparse type for options that count (``--last N``, ``--min-turns N``): a whole number
    of at least 1; anything else is a one-line usage error."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def plain_rows(
    exp: ContractExporter, archive: ArchiveView, options: Mapping[str, Any]
) -> Iterator[Mapping[str, Any]]:
    """:meth:`Exporter.rows` for a contract exporter: every row under the shareable profile, days
    in UTC unless ``options`` names a time zone (a library call does not depend on the machine's
    zone; the commands default to the local zone, see :mod:`burn.query.filters`)."""
    from burn.contract.profile import Renderer
    from burn.privacy.identity import local_secret

    render = Renderer("shareable", local_secret(archive.path.parent), "")
    q = exp.open(archive, {"timezone": "UTC", **exp.filters(archive, options), **options}, render)
    for _key, row in q.rows(Page(q.watermark()) if exp.paged else None):
        yield row
