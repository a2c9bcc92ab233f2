"""What every reader must do, as pytest tests over a ``reader_case`` fixture (a :class:`ReaderCase`).

burn runs this suite against every registered reader (tests/test_reader_conformance.py). A
third-party reader runs it in its own tests::

    import pytest
    from burn.testing.reader_conformance import *  # noqa: F403  (the tests below)
    from burn.testing.reader_conformance import ReaderCase
    @pytest.fixture
    def reader_case():
        return ReaderCase(MyReader(), write=write_two_sessions, grow=append_a_third)

``write(root)`` lays out a small valid fixture under ``root`` (what the reader's ``env_var``
points at); ``grow(root)`` adds to it as the agent would (appends lines, adds files). Leaving a
half-written last line in ``write`` that ``grow`` completes also tests that no half line is ever
consumed. The checks: garbage never raises; a second ingest reads and appends nothing; reading
``write`` then ``grow`` through the cursors gives the records of one read of both.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from burn.ledger.merge import merge
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit
from burn.records import Record

__all__ = [
    "ReaderCase",
    "test_garbage_never_raises",
    "test_reading_in_two_pieces_equals_one_read",
    "test_second_ingest_reads_and_appends_nothing",
]


@attrs.frozen
class ReaderCase:
    """A reader and a small valid fixture for it, in two pieces."""

    reader: Reader
    write: Callable[[Path], None]
    grow: Callable[[Path], None]


GARBAGE: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "random_bytes_appended": lambda data: data + random.Random(1).randbytes(300),
    "random_bytes": lambda data: random.Random(2).randbytes(max(len(data), 64)),
    "wrong_types": lambda data: (
        b'[1,2]\n{"type": 5, "message": "x", "payload": []}\n"text"\nnull\n'
        b'{"timestamp": {}, "message": {"usage": "many"}, "type": "assistant"}\n{"id": 7}\n'
    ),
    "invalid_utf8": lambda data: data.replace(b'"', b'"\xff', 3),
    "empty": lambda data: b"",
}


def _units(case: ReaderCase, root: Path) -> list[SourceUnit]:
    reader = case.reader
    env = {reader.env_var: str(root)} if reader.env_var else {}
    roots = reader.locations(env, root)
    return sorted(reader.discover(roots, Diagnostics()), key=lambda u: (u.order, u.key))


def _read_all(case: ReaderCase, root: Path, cursors: dict[str, FileCursor | None]) -> list[ReadResult]:
    out = []
    for unit in _units(case, root):
        result = case.reader.read(unit, cursors.get(unit.key))
        cursors[unit.key] = result.cursor
        out.append(result)
    return out


def _fold(results: list[ReadResult]) -> dict[str, Record]:
    """What the ledger ends with: every record by id, later sightings merged (burn.ledger.merge)."""
    best: dict[str, Record] = {}
    for result in results:
        for record in result.records:
            rid = record.event_id()
            old = best.get(rid)
            merged = record if old is None else merge(old, record)
            if merged is not None:
                best[rid] = merged
    return best


def test_reading_in_two_pieces_equals_one_read(reader_case: ReaderCase, tmp_path: Path) -> None:
    pieces, whole = tmp_path / "pieces", tmp_path / "whole"
    for root in (pieces, whole):
        root.mkdir()
        reader_case.write(root)
    cursors: dict[str, FileCursor | None] = {}
    first = _read_all(reader_case, pieces, cursors)
    assert _fold(first), "write() must lay out a fixture with records"
    reader_case.grow(pieces)
    second = _read_all(reader_case, pieces, cursors)
    reader_case.grow(whole)
    once = _read_all(reader_case, whole, {})
    # Paths differ between the two roots; ids never contain them, records may (session paths).
    assert _fold(first + second).keys() == _fold(once).keys()
    assert len(_fold(second)) > 0, "grow() must add records"
    for result in first + second:
        assert not result.diagnostics.invalid, "a valid fixture read in pieces skips nothing"


def test_second_ingest_reads_and_appends_nothing(reader_case: ReaderCase, tmp_path: Path) -> None:
    from burn import hookimpl
    from burn.ingest.run import ingest
    from burn.ledger import file as store_file
    from burn.plugins.manager import Plugins

    reader = reader_case.reader
    root, home = tmp_path / "source", tmp_path / "burn"
    root.mkdir()
    reader_case.write(root)
    reader_case.grow(root)

    class Only:
        @hookimpl
        def register_readers(self, register: Callable[[Reader], None]) -> None:
            register(reader)

    env = {"HOME": str(tmp_path), "RELAYBURN_HOME": str(home), "BURN_STRICT_PLUGINS": "1", "TZ": "UTC"}
    if reader.env_var:
        env[reader.env_var] = str(root)
    plugins = Plugins(env=env, load_entrypoints=False)
    plugins.register(store_file, "file_store")
    plugins.register(Only(), "reader_under_test")
    first = ingest(home, plugins, env).totals()
    assert first["records_appended"] > 0
    again = ingest(home, plugins, env).totals()
    assert (again["files_changed"], again["lines_read"], again["records_appended"]) == (0, 0, 0)


@pytest.mark.parametrize("damage", sorted(GARBAGE))
def test_garbage_never_raises(reader_case: ReaderCase, tmp_path: Path, damage: str) -> None:
    """Every file of the fixture, damaged: reading it from the start and from the valid file's
    cursor returns a result (skips counted), never an exception."""
    reader_case.write(tmp_path)
    units = _units(reader_case, tmp_path)
    cursors = {u.key: reader_case.reader.read(u, None).cursor for u in units}
    damaged = 0
    for unit in units:
        if not unit.path.is_file():
            continue
        unit.path.write_bytes(GARBAGE[damage](unit.path.read_bytes()))
        os.utime(unit.path)
        damaged += 1
        for cursor in (None, cursors[unit.key]):
            result = reader_case.reader.read(unit, cursor)
            assert isinstance(result, ReadResult)
            assert all(isinstance(r, Record) for r in result.records)
    assert damaged > 0
