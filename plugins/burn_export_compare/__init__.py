"""The ``compare`` contract surface: ``burn compare`` / ``burn report compare``.

Registered through the ``burn`` entry-point group exactly as a third-party exporter would be.
"""

from __future__ import annotations

from collections.abc import Callable

from burn import hookimpl
from burn.exporter import Exporter

__all__ = ["register_exporters"]


@hookimpl
def register_exporters(register: Callable[[Exporter], None]) -> None:
    # Imported here: commands that need no exporter (ingest, summary) never pay for it.
    from burn_export_compare.exporter import CompareExporter

    register(CompareExporter())
