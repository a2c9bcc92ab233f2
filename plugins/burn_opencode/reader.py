"""The OpenCode reader: the :class:`~burn.reader.Reader` the plugin registers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from burn.reader import Diagnostics, FileCursor, ReadResult, SourceUnit
from burn_opencode import discover as _discover
from burn_opencode.db import read_db
from burn_opencode.ids import SOURCE
from burn_opencode.storage import read_message, read_session


class OpenCodeReader:
    """Reads ``opencode*.db`` and the JSON ``storage/`` trees of OpenCode data directories."""

    name = SOURCE
    env_var: str | None = _discover.ENV_VAR

    def locations(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return _discover.locations(env, home)

    def discover(self, roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
        return _discover.discover(roots, diagnostics)

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
