"""burn: exact, deduplicated token and cost accounting for AI coding agents.

Plugins write ``from burn import hookimpl``; see docs/plugins.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]

if TYPE_CHECKING:
    from burn.plugins.hookspecs import hookimpl


def __getattr__(name: str) -> Any:
    # Imported on first use: reports and exports that load no plugin skip pluggy's import cost.
    if name == "hookimpl":
        from burn.plugins.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'burn' has no attribute {name!r}")
