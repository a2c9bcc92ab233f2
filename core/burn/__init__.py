"""burn: exact, deduplicated token and cost accounting for AI coding agents.

Plugins write ``from burn import hookimpl``; see docs/plugins.md.
"""

from __future__ import annotations

from burn.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
