"""What an exporter plugin implements: a contract surface's query and row shape.

The core frames what exporters yield (envelope, JSON/NDJSON, pagination, validation); the v1
surfaces arrive with the contracts issue. Registered through ``register_exporters``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Exporter(Protocol):
    """:ivar surface: contract surface name (``sessions``, ``usage`` …), unique.
    :ivar schema_version: integer version of the surface's contract.
    """

    surface: str
    schema_version: int

    def rows(self, archive: Any, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Yield the surface's rows from the archive (a :class:`burn.archive.Archive`)."""
        ...
