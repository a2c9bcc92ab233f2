"""The Codex CLI reader: the :class:`~burn.reader.Reader` the plugin registers."""

from __future__ import annotations

from burn.reader import Diagnostics, FileCursor, ReadResult, SourceUnit
from burn.readkit import LayoutReader, read_jsonl
from burn.readkit.tail import Tail
from burn_codex import discover as _discover
from burn_codex.ids import SOURCE
from burn_codex.parse import RolloutParser


class CodexReader(LayoutReader):
    """Reads ``$CODEX_HOME/{sessions,archived_sessions}/**/*.jsonl`` rollouts into records."""

    name = SOURCE
    layout = _discover

    def read(self, unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
        """Records of the lines appended since ``cursor``. Never raises for bad input."""
        return read_jsonl(unit, cursor, _parser)


def _parser(unit: SourceUnit, tail: Tail, diag: Diagnostics) -> RolloutParser:
    return RolloutParser(unit, diag, tail.state)
