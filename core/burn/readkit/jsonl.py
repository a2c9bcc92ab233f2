"""``read()`` of a unit that is one append-only JSONL file, written once for every such reader.

:func:`read_jsonl` opens the file at the cursor (:func:`burn.readkit.tail.open_tail`: a FIFO or a
missing file is counted and never opened, a rewritten or truncated file is read from the start,
a half-written last line waits for the next read), decodes each new complete line, hands every
JSON object to a :class:`JsonlParser`, counts the lines it cannot use, and returns the parser's
records with the new cursor — whose ``state`` is what the parser wants back on the next read.

What is counted (``diagnostics.invalid``), once for every reader: ``invalid_json``; ``wrong_type``
for a line that is JSON but not an object (and whatever the parser rejects with
:class:`WrongType`); ``unparseable`` for any other exception the parser raises. Blank lines are
passed over; a line that is JSON but for invalid UTF-8 is decoded with U+FFFD and counted in
``diagnostics.repaired``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import orjson

from burn.reader import Diagnostics, FileCursor, ReadResult, SourceUnit
from burn.readkit.tail import Tail, open_tail
from burn.records import Record


class WrongType(Exception):
    """Raised by :meth:`JsonlParser.feed` for a line whose JSON types are not what the format says
    (counted as ``wrong_type``)."""


class InvalidJson(Exception):
    """Raised by :func:`repair_json` for a line that is not JSON (counted as ``invalid_json``)."""


class JsonlParser(Protocol):
    """What :func:`read_jsonl` drives: one parser lives for one read of one file."""

    def feed(self, obj: dict[str, Any], raw: bytes, n: int, /) -> None:
        """Process ``obj``, the JSON object on ``raw``, the ``n``-th complete line of this read
        (1-based; ``raw`` ends with its newline).

        May raise :class:`WrongType` or :class:`InvalidJson`; any other exception is counted as
        ``unparseable``. None of them stops the read.
        """

    def skip(self, reason: str, n: int, /) -> None:
        """Count the ``n``-th line of this read as skipped for ``reason`` (``diagnostics.skip``
        with a location the parser can name)."""

    def finish(self) -> Sequence[Record]:
        """The records of this read, once every line was fed."""
        ...

    def state(self) -> Mapping[str, Any]:
        """The JSON-able state to keep in the cursor for the next read (small and bounded)."""
        ...


ParserFactory = Callable[[SourceUnit, Tail, Diagnostics], JsonlParser]
"""Makes the parser of one read, from the unit, the opened tail (``tail.state``: the state the
previous read kept; ``tail.start``: the byte offset this read starts at) and the read's
diagnostics."""


def read_jsonl(unit: SourceUnit, cursor: FileCursor | None, parser: ParserFactory) -> ReadResult:
    """Records of the lines appended to ``unit.path`` since ``cursor``. Never raises for bad input.

    A file that cannot be opened returns no records and the old ``cursor``; so does one that
    vanishes or becomes unreadable in the middle of the read (nothing of it is half-stored).
    """
    diag = Diagnostics()
    tail = open_tail(unit.path, cursor, diag)
    if tail is None:
        return ReadResult((), cursor, diag)
    diag.files_read = 1
    p = parser(unit, tail, diag)
    feed = p.feed
    loads = orjson.loads
    n = 0
    try:
        for _offset, raw in tail.lines():
            n += 1
            try:
                try:
                    obj = loads(raw)
                except orjson.JSONDecodeError:
                    obj = repair_json(raw, diag)
                    if obj is None:
                        continue  # a blank line
                if type(obj) is not dict:
                    raise WrongType
                feed(obj, raw, n)
            except WrongType:
                p.skip("wrong_type", n)
            except InvalidJson:
                p.skip("invalid_json", n)
            except Exception:  # a bug-level surprise on one line must not lose the file
                p.skip("unparseable", n)
    except OSError as exc:  # the file vanished or became unreadable mid-read
        diag.skip("unreadable", f"{unit.path}: {exc.strerror or exc}")
        return ReadResult((), cursor, diag)
    records = p.finish()
    tail.state.clear()
    tail.state.update(p.state())
    diag.records = len(records)
    return ReadResult(records, tail.cursor, diag)


def repair_json(raw: bytes, diagnostics: Diagnostics) -> Any:
    """The value of a line that ``orjson.loads`` rejected (call it only then: the hot path stays
    one ``orjson.loads``).

    ``None`` for a blank line (not counted); the value decoded with U+FFFD in place of invalid
    UTF-8 when that alone made the line invalid (counted in ``diagnostics.repaired``); otherwise
    raises :class:`InvalidJson`.
    """
    if not raw.strip():
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            value = orjson.loads(raw.decode("utf-8", "replace"))
        except orjson.JSONDecodeError:
            pass
        else:
            diagnostics.repaired["invalid_utf8"] += 1
            return value
    raise InvalidJson
