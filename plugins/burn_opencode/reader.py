"""The OpenCode reader: the :class:`~burn.reader.Reader` the plugin registers."""

from __future__ import annotations

from burn.reader import FileCursor, ReadResult, SourceUnit
from burn.readkit import LayoutReader
from burn_opencode import discover as _discover
from burn_opencode.db import read_db
from burn_opencode.ids import SOURCE
from burn_opencode.storage import read_message, read_session


class OpenCodeReader(LayoutReader):
    """Reads ``opencode*.db`` and the JSON ``storage/`` trees of OpenCode data directories."""

    name = SOURCE
    layout = _discover

    def read(self, unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
        """Records of what changed in ``unit`` since ``cursor``. Never raises for bad input."""
        kind = unit.hints.get("kind")
        if kind is None:  # a unit built by hand: tell it by its name
            name = unit.path.name
            kind = _discover.KIND_DB if _discover.is_database_name(name) else _discover.KIND_MESSAGE
            if kind == _discover.KIND_MESSAGE and unit.path.parent.parent.name == "session":
                kind = _discover.KIND_SESSION
        if kind == _discover.KIND_DB:
            return read_db(unit, cursor)
        if kind == _discover.KIND_SESSION:
            return read_session(unit, cursor)
        return read_message(unit, cursor)
