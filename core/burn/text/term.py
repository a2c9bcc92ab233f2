"""The terminal: its width, display widths of text, colour, and fitting text into columns.

Colour is on only when the stream is a terminal, ``NO_COLOR`` is unset or empty
(https://no-color.org) and ``--no-color`` was not given; ``FORCE_COLOR`` turns it on for a pipe.
Widths are measured in terminal cells: East Asian wide and fullwidth characters take two,
combining marks none (:func:`cell_width`).
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from collections.abc import Mapping
from typing import IO

ELLIPSIS = "…"


def width(stream: IO[str] | None = None, env: Mapping[str, str] | None = None) -> int | None:
    """Columns to fit output in: ``COLUMNS`` if set, else the terminal's when ``stream`` is one,
    else ``None`` (a pipe or a file: no limit, nothing is cut)."""
    env = os.environ if env is None else env
    columns = env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(20, int(columns))
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return max(20, shutil.get_terminal_size((100, 24)).columns)
    return None


def _cells(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """How many terminal cells ``text`` takes."""
    if text.isascii():
        return len(text)
    return sum(_cells(ch) for ch in text)


def truncate(text: str, cells: int) -> str:
    """``text`` cut to at most ``cells`` cells, ending in an ellipsis when cut."""
    if cell_width(text) <= cells:
        return text
    if cells <= 1:
        return ELLIPSIS[:cells]
    out, used = [], 0
    for ch in text:
        w = _cells(ch)
        if used + w > cells - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, cells: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``cells`` cells (on the left when ``right``-aligned)."""
    fill = " " * max(0, cells - cell_width(text))
    return fill + text if right else text + fill


def use_color(stream: IO[str], no_color: bool = False, env: Mapping[str, str] | None = None) -> bool:
    """Whether to colour output written to ``stream``."""
    env = os.environ if env is None else env
    if no_color or env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and env.get("TERM") != "dumb"


_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def paint(text: str, style: str, on: bool) -> str:
    """``text`` in ``style`` (bold, dim, red, green, yellow, cyan) when ``on``."""
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m" if on and text else text
