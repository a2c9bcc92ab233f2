"""The ``activity`` contract surface: ``burn report activity`` (DESIGN §10).

Registered through the ``burn`` entry-point group exactly as a third-party exporter would be.
"""

from __future__ import annotations

from collections.abc import Callable

from burn import hookimpl
from burn.exporter import Exporter
from burn_export_activity.exporter import ActivityExporter

__all__ = ["ActivityExporter", "register_exporters"]


@hookimpl
def register_exporters(register: Callable[[Exporter], None]) -> None:
    register(ActivityExporter())
