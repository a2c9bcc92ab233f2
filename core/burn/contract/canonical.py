"""Canonical JSON (RFC 8785, JCS) of contract rows, and the ``rows_digest`` over them.

Rows hold only strings, integers (below 2^53), booleans, nulls, arrays and objects — never
floats — so orjson with sorted keys writes exactly the JCS bytes (no whitespace, the same string
escapes), except for key order: orjson sorts by code point, JCS by UTF-16 code unit, which differ
only for keys with characters from U+E000 up. Such bytes (UTF-8 lead byte 0xEE or above) send
the value through the ``rfc8785`` package instead. A test compares the two on generated values.

``rows_digest`` = ``"sha256:" + hex(sha256(JCS(row_1) + "\\n" + JCS(row_2) + "\\n" + …))`` over
the rows of one document in output order (``"sha256:" + hex(sha256(b""))`` for no rows).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson

_HIGH = re.compile(rb"[\xee-\xf4]")  # UTF-8 lead bytes of U+E000 and above


def jcs(value: Mapping[str, Any]) -> bytes:
    """The RFC 8785 bytes of a float-free JSON value."""
    data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if not data.isascii() and _HIGH.search(data):  # a character >= U+E000: key order may differ
        import rfc8785

        out: bytes = rfc8785.dumps(value)
        return out
    return data


class RowsDigest:
    """Accumulates ``rows_digest`` row by row (flat memory)."""

    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def add(self, row: Mapping[str, Any]) -> None:
        # jcs(row) + "\n", inlined: this runs once per exported row
        data = orjson.dumps(row, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        if not data.isascii() and _HIGH.search(data):
            data = jcs(row) + b"\n"
        self._h.update(data)

    def hexdigest(self) -> str:
        return "sha256:" + self._h.hexdigest()
