"""Typed getters for values parsed from JSON: the value when it has the wanted type, else ``None``.

Types are checked exactly (``type(v) is str``): JSON has no subclasses, and ``True`` is not a count.
"""

from __future__ import annotations


def nonempty_str(value: object) -> str | None:
    """``value`` if it is a non-empty string, else ``None``."""
    return value if type(value) is str and value else None
