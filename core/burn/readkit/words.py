"""Counts and sizes in messages, written the same way by the core and by readers (``burn ingest``,
``burn doctor`` and a reader's retention warnings)."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    """``1 unit``, ``2 units``, ``1,024 units``."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def human_bytes(n: int) -> str:
    """``812 B``, ``148.2 kB``, ``3.6 MB``, ``1.2 GB`` (decimal units, as ``burn ingest`` prints)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"
