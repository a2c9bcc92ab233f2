"""OpenCode reader plugin for burn (FORMATS §3).

Registered through the ``burn`` entry-point group exactly as a third-party plugin would be.
"""

from __future__ import annotations

from collections.abc import Callable

from burn import hookimpl
from burn.reader import Reader
from burn_opencode.reader import OpenCodeReader

__all__ = ["OpenCodeReader", "register_readers"]


@hookimpl
def register_readers(register: Callable[[Reader], None]) -> None:
    register(OpenCodeReader())
