"""The Codex CLI reader: the :class:`~burn.reader.Reader` the plugin registers."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from burn.reader import Diagnostics, FileCursor, ReadResult, SourceUnit
from burn.tail import open_tail
from burn_codex import discover as _discover
from burn_codex.ids import SOURCE
from burn_codex.parse import RolloutParser
from burn_codex.usage import WrongType


class CodexReader:
    """Reads ``$CODEX_HOME/{sessions,archived_sessions}/**/*.jsonl`` rollouts into records."""

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
        parser = RolloutParser(unit, diag, tail.state)
        feed = parser.feed
        n = 0
        try:
            for _offset, raw in tail.lines():
                n += 1
                try:
                    feed(raw, n)
                except WrongType:
                    diag.skip("wrong_type", f"{path} (line {n} of this read)")
                except Exception:  # a bug-level surprise on one line must not lose the file
                    diag.skip("unparseable", f"{path} (line {n} of this read)")
        except OSError as exc:  # the file vanished or became unreadable mid-read
            diag.skip("unreadable", f"{path}: {exc.strerror or exc}")
            return ReadResult((), cursor, diag)
        records = parser.finish()
        tail.state.clear()
        tail.state.update(parser.state())
        diag.records = len(records)
        return ReadResult(records, tail.cursor, diag)
