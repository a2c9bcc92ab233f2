"""OpenCode reader plugin for burn (FORMATS §3).

Registered through the ``burn`` entry-point group exactly as a third-party plugin would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from burn import hookimpl

if TYPE_CHECKING:
    from burn.reader import Reader
    from burn_opencode.reader import OpenCodeReader

__all__ = ["OpenCodeReader", "register_readers"]


@hookimpl
def register_readers(register: Callable[[Reader], None]) -> None:
    # Imported here: commands that read no agent data (reports, exports) never pay for it.
    from burn_opencode.reader import OpenCodeReader

    register(OpenCodeReader())


def __getattr__(name: str) -> Any:
    if name == "OpenCodeReader":
        from burn_opencode.reader import OpenCodeReader

        return OpenCodeReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
