"""The Claude Code reader: the :class:`~burn.reader.Reader` the plugin registers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from burn.reader import Diagnostics, FileCursor, ReadResult, Retention, SourceUnit, UnitStat
from burn.readkit import LayoutReader, read_jsonl
from burn.readkit.tail import Tail
from burn_claude import discover as _discover
from burn_claude import retention as _retention
from burn_claude.dedupe import BtwReplayRule
from burn_claude.ids import SOURCE
from burn_claude.parse import TranscriptParser
from burn_claude.sidecar import read_meta


class ClaudeReader(LayoutReader):
    """Reads ``~/.claude/projects/**/*.jsonl`` (and ``CLAUDE_CONFIG_DIR`` entries) into records."""

    name = SOURCE
    layout = _discover

    def read(self, unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
        """Records of the lines appended since ``cursor``. Never raises for bad input."""
        return read_jsonl(unit, cursor, _parser)

    def dedupe_rules(self) -> tuple[BtwReplayRule]:
        """Claude Code's ``/btw`` replay rule (:mod:`burn_claude.dedupe`)."""
        return (BtwReplayRule(),)

    def retention(self, roots: Sequence[Path], units: Sequence[UnitStat], now: datetime) -> Retention:
        """Claude Code's ``cleanupPeriodDays`` against what is not ingested yet
        (:mod:`burn_claude.retention`)."""
        return _retention.retention(roots, units, now)


def _parser(unit: SourceUnit, tail: Tail, diag: Diagnostics) -> TranscriptParser:
    """The parser of one read, given the subagent's ``.meta.json`` sidecar when there is one."""
    path = unit.path
    hints = unit.hints
    meta_path = hints.get("meta_path")
    if meta_path is None and "agent_id" in hints:
        probe = path.with_name(path.name[: -len(".jsonl")] + ".meta.json")
        if probe.is_file():
            meta_path = str(probe)
    meta = read_meta(Path(meta_path), diag) if meta_path else (None, None)
    return TranscriptParser(unit, diag, tail.state, tail.start, meta)
