"""The canonical filters every surface shares, from command-line options.

Canonical form (what the meta block shows and cursors bind): ``timezone`` (IANA name), ``since``
and ``until`` (UTC instants, ``YYYY-MM-DDTHH:MM:SS.sssZ``, or null; ``until`` exclusive),
``sources`` and ``models`` (sorted, unique), ``projects`` (sorted raw project keys: labels are
resolved once, when the export starts), then the surface's own filters. Built by
:class:`burn.query.Filters`, the one place options become filters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from burn.query.filters import Filters, iso, resolve_projects, split

__all__ = ["common", "iso", "resolve_projects", "split"]


def common(
    db: sqlite3.Connection, options: Mapping[str, Any], now: datetime, secret: bytes
) -> dict[str, Any]:
    """The shared canonical filters of parsed options (project labels resolved in ``db``)."""
    return Filters.from_options(options, now=now, db=db, secret=secret).canonical()
