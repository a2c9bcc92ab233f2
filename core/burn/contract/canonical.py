"""Canonical JSON (RFC 8785, JCS) of contract rows, and the ``rows_digest`` over them.

Rows hold only strings, integers (below 2^53), booleans, nulls, arrays and objects — never
floats — so orjson with sorted keys writes exactly the JCS bytes: keys in code-point order (equal
to UTF-16 order for the ASCII keys contracts use), no whitespace, the same string escapes. A test
compares the two on generated rows.

``rows_digest`` = ``"sha256:" + hex(sha256(JCS(row_1) + "\\n" + JCS(row_2) + "\\n" + …))`` over
the rows of one document in output order (``"sha256:" + hex(sha256(b""))`` for no rows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson


def jcs(value: Mapping[str, Any]) -> bytes:
    """The RFC 8785 bytes of a float-free JSON value."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class RowsDigest:
    """Accumulates ``rows_digest`` row by row (flat memory)."""

    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def add(self, row: Mapping[str, Any]) -> None:
        self._h.update(jcs(row) + b"\n")

    def hexdigest(self) -> str:
        return "sha256:" + self._h.hexdigest()
