"""The Claude Code reader: the :class:`~burn.reader.Reader` the plugin registers."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from burn.reader import Diagnostics, FileCursor, ReadResult, SourceUnit
from burn.tail import open_tail
from burn_claude import discover as _discover
from burn_claude.ids import SOURCE
from burn_claude.parse import TranscriptParser, WrongType
from burn_claude.sidecar import read_meta


class ClaudeReader:
    """Reads ``~/.claude/projects/**/*.jsonl`` (and ``CLAUDE_CONFIG_DIR`` entries) into records."""

    name = SOURCE
    env_var: str | None = _discover.ENV_VAR

    def locations(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return _discover.locations(env, home)

    def discover(self, roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
        return _discover.discover(roots, diagnostics)

    def read(self, unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
        """Records of the lines appended since ``cursor``. Never raises for bad input."""
        diag = Diagnostics()
        path = unit.path
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                diag.skip("not_a_file", str(path))  # a FIFO would block open()
                return ReadResult((), cursor, diag)
        except OSError as exc:
            diag.skip("unreadable", f"{path}: {exc.strerror or exc}")
            return ReadResult((), cursor, diag)
        tail = open_tail(path, cursor, diag)
        if tail is None:
            return ReadResult((), cursor, diag)
        diag.files_read = 1
        hints = unit.hints
        meta_path = hints.get("meta_path")
        if meta_path is None and "agent_id" in hints:
            probe = path.with_name(path.name[: -len(".jsonl")] + ".meta.json")
            if probe.is_file():
                meta_path = str(probe)
        meta = read_meta(Path(meta_path), diag) if meta_path else (None, None)
        parser = TranscriptParser(unit, diag, tail.state, tail.start, meta)
        feed = parser.feed
        n = 0
        try:
            for _offset, raw in tail.lines():
                n += 1
                try:
                    feed(raw, n)
                except WrongType:
                    parser.skip("wrong_type", n)
                except Exception:  # a bug-level surprise on one line must not lose the file
                    parser.skip("unparseable", n)
        except OSError as exc:  # the file vanished or became unreadable mid-read
            diag.skip("unreadable", f"{path}: {exc.strerror or exc}")
            return ReadResult((), cursor, diag)
        records = parser.finish()
        tail.state.clear()
        tail.state.update(parser.state())
        diag.records = len(records)
        return ReadResult(records, tail.cursor, diag)
