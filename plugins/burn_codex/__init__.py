"""Codex CLI reader plugin for burn.

Registered through the ``burn`` entry-point group exactly as a third-party plugin would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from burn import hookimpl

if TYPE_CHECKING:
    from burn.reader import Reader
    from burn_codex.reader import CodexReader

__all__ = ["CodexReader", "register_readers"]


@hookimpl
def register_readers(register: Callable[[Reader], None]) -> None:
    # Imported here: commands that read no agent data (reports, exports) never pay for it.
    from burn_codex.reader import CodexReader

    register(CodexReader())


def __getattr__(name: str) -> Any:
    if name == "CodexReader":
        from burn_codex.reader import CodexReader

        return CodexReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
