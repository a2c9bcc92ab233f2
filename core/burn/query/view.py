"""What a read needs of an archive: its connection, its state and where it lives.

:class:`burn.archive.database.Archive` is one; readers (exporters, reports) depend on this protocol, not on
the archive's builder.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Protocol


class ArchiveView(Protocol):
    """An open archive as readers see it. ``db``: its connection (read inside the caller's
    transaction); ``path``: the archive file (its directory is the burn home)."""

    db: sqlite3.Connection
    path: Path

    def state(self) -> dict[str, str]:
        """The ``archive_state`` table: schema version, archive id, generation, rollup and
        pricing state."""
        ...
