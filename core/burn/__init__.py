"""burn: exact, deduplicated token and cost accounting for AI coding agents.

Plugins write ``from burn import hookimpl``; see docs/plugins.md.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `from typing import …`: `burn statusline` must not pay typing's import

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]

if TYPE_CHECKING:
    from typing import Any

    from burn.plugins.hookspecs import hookimpl


def __getattr__(name: str) -> Any:
    # Imported on first use: reports and exports that load no plugin skip pluggy's import cost.
    if name == "hookimpl":
        from burn.plugins.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'burn' has no attribute {name!r}")
