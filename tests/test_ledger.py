"""The file ledger: idempotent appends, superseding revisions, torn lines, locking, index recovery."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import attrs
import orjson
import pytest

from burn.errors import LedgerError
from burn.ledger.file import FileStore
from burn.records import ToolCall, Turn, Usage
from burn.store import ReadStats, encode


def turn(
    mid: str, output: int, *, session: str = "s1", ts: str = "2026-01-01T10:00:00.000Z", **kw: object
) -> Turn:
    usage = Usage(input=10, output=output, cache_read=100, cache_write_5m=5, cache_write_1h=0)
    return Turn(
        source="test",
        session_id=session,
        message_id=mid,
        request_id=f"req-{mid}",
        ts=ts,
        model="m",
        usage=usage,
        **kw,  # type: ignore[arg-type]
    )


def ledger_lines(store: FileStore) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in store.path.read_bytes().splitlines() if line.strip()]


# What every store does (append, read from a position, revisions, idempotence, unknown kinds,
# concurrent appenders) is the conformance suite's (tests/test_store_conformance.py); this module
# tests what is the file store's own: its line format, index, torn lines and lock.


def test_append_is_idempotent_by_event_id(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with store.lock():
        first = store.append([turn("a", 5), turn("b", 7)])
        again = store.append([turn("a", 5), turn("b", 7)])
    assert sum(first.appended.values()) == 2
    assert again.lines_written == 0
    assert again.dropped["duplicate"] == 2
    lines = ledger_lines(store)
    assert [(ln["v"], ln["kind"]) for ln in lines] == [(1, "turn"), (1, "turn")]
    assert len({ln["id"] for ln in lines}) == 2


def test_store_stores_what_it_is_given_and_knows_no_source_rule(tmp_path: Path) -> None:
    """The /btw replay rule is Claude Code's and runs in ingest (tests/test_ingest.py); the store
    appends a sidechain copy of a main-chain message like any other new event."""
    store = FileStore(tmp_path)
    main = turn("m1", 10)
    replay = attrs.evolve(main, session_id="s1/agent-btw", request_id="req-other", is_sidechain=True)
    with store.lock():
        store.append([main])
        res = store.append([replay])
    assert res.appended["turn"] == 1 and not res.dropped


def test_torn_last_line_is_never_merged_with_the_next_append(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with store.lock():
        store.append([turn("a", 1)])
    with open(store.path, "ab") as f:  # a crash mid-write
        f.write(b'{"v":1,"kind":"turn","id":"dead')
    stats = ReadStats()
    assert len(list(store.read(0, stats))) == 1  # the torn tail is not an entry yet
    with store.lock():
        store.append([turn("b", 2)])
    stats = ReadStats()
    entries = list(store.read(0, stats))
    assert [e.record["message_id"] for e in entries] == ["a", "b"]
    assert stats.invalid == 1
    assert store.path.read_bytes().endswith(b"\n")


def test_unknown_kinds_and_versions_are_skipped(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with store.lock():
        store.append([turn("a", 1)])
    with open(store.path, "ab") as f:
        f.write(
            b'{"v":1,"kind":"future_kind","id":"x","record":{}}\n{"v":2,"kind":"turn","id":"y","record":{}}\n'
        )
    stats = ReadStats()
    assert len(list(store.read(0, stats))) == 1
    assert stats.unknown_kinds == {"future_kind@v1": 1, "turn@v2": 1}


def test_index_is_rebuilt_when_deleted(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with store.lock():
        store.append([turn("a", 5), ToolCall("test", "s1", "toolu_1", "a", "2026-01-01T10:00:00Z", "Read")])
    for suffix in ("", "-wal", "-shm"):
        Path(str(store.index_path) + suffix).unlink(missing_ok=True)
    store = FileStore(tmp_path)
    with store.lock():
        res = store.append(
            [turn("a", 5), ToolCall("test", "s1", "toolu_1", "a", "2026-01-01T10:00:00Z", "Read")]
        )
        grown = store.append([turn("a", 6)])
    assert res.lines_written == 0
    assert grown.revised["turn"] == 1


def test_index_catches_up_with_lines_it_never_saw(tmp_path: Path) -> None:
    """A writer that crashed after writing the ledger but before committing the index."""
    a, b = FileStore(tmp_path / "a"), FileStore(tmp_path / "b")
    with a.lock():
        a.append([turn("x", 1)])
    with b.lock():
        b.append([turn("x", 1), turn("y", 1)])
    # Graft b's ledger onto a's: a's index has never seen "y".
    a.path.write_bytes(b.path.read_bytes())
    with a.lock():
        res = a.append([turn("y", 1)])
    assert res.lines_written == 0


def test_append_requires_the_lock(tmp_path: Path) -> None:
    with pytest.raises(LedgerError):
        FileStore(tmp_path).append([turn("a", 1)])


def test_index_keeps_offsets_not_bodies(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with store.lock():
        store.append([turn("a", 5), ToolCall("test", "s1", "toolu_1", "a", "2026-01-01T10:00:00Z", "Read")])
        store.append([turn("a", 9)])
    db = sqlite3.connect(store.index_path)
    rows = db.execute("SELECT id, pos, len FROM event_lines").fetchall()
    db.close()
    data = store.path.read_bytes()
    lines = {e.id: e for e in store.read()}
    assert len(rows) == 2
    for key, pos, n in rows:
        assert isinstance(key, bytes) and len(key) == 16
        if pos is None:  # the tool call: not mergeable
            continue
        line = orjson.loads(data[pos : pos + n])
        assert line["id"] == key.hex() and line["record"] == lines[key.hex()].record
        assert line["record"]["usage"]["output"] == 9


def test_index_of_an_older_format_is_rebuilt(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    with store.lock():
        store.append([turn("a", 5)])
    store.index_path.unlink()
    db = sqlite3.connect(store.index_path)  # a format-1 index: full bodies keyed by text ids
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE events (id TEXT PRIMARY KEY, kind TEXT NOT NULL, body BLOB) WITHOUT ROWID;"
        "CREATE TABLE main_messages (message_id TEXT PRIMARY KEY, request_id TEXT) WITHOUT ROWID;"
    )
    db.execute("INSERT INTO meta VALUES ('ledger_bytes', ?)", (str(store.path.stat().st_size),))
    db.commit()
    db.close()
    with store.lock():
        again = store.append([turn("a", 5)])
        grown = store.append([turn("a", 6)])
    assert again.dropped["duplicate"] == 1 and grown.revised["turn"] == 1


def test_index_pointing_at_other_lines_is_rebuilt(tmp_path: Path) -> None:
    """The ledger was replaced by a longer one: the index's offsets point at other lines."""
    a, b = FileStore(tmp_path / "a"), FileStore(tmp_path / "b")
    with a.lock():
        a.append([turn("x", 1), turn("y", 1)])
    with b.lock():
        b.append([turn("y", 1), turn("x", 1), turn("z", 1)])
    a.path.write_bytes(b.path.read_bytes())
    with a.lock():
        same = a.append([turn("x", 1), turn("y", 1)])
        grown = a.append([turn("x", 2)])
    assert same.lines_written == 0 and same.dropped["duplicate"] == 2
    assert grown.revised["turn"] == 1
    assert [e.record["message_id"] for e in a.read()] == ["y", "x", "z", "x"]


def test_non_hex_ids_are_indexed_as_text(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    hexid = "ab" * 16
    with store.lock():
        store.append([turn("a", 1)])
    with open(store.path, "ab") as f:  # lines from another writer, with ids that are not our hex
        for rid in ("x", hexid.upper()):
            f.write(orjson.dumps({"v": 1, "kind": "tool_call", "id": rid, "record": {}}) + b"\n")
    with store.lock():
        store.append([turn("b", 1)])
    db = sqlite3.connect(store.index_path)
    keys = {k for (k,) in db.execute("SELECT id FROM event_lines")}
    db.close()
    assert {"x", hexid.upper()} <= keys and len(keys) == 4


def test_index_is_rebuilt_when_the_ledger_shrank(tmp_path: Path) -> None:
    a, b = FileStore(tmp_path / "a"), FileStore(tmp_path / "b")
    with a.lock():
        a.append([turn("x", 1), turn("y", 1), turn("z", 1)])
    with b.lock():
        b.append([turn("y", 1)])
    a.path.write_bytes(b.path.read_bytes())  # a shorter ledger: the index covers more than it holds
    with a.lock():
        res = a.append([turn("x", 1), turn("y", 1), turn("y", 2)])
    assert res.appended["turn"] == 1 and res.revised["turn"] == 1
    assert [(e.record["message_id"], e.record["usage"]["output"]) for e in a.read()] == [  # type: ignore[index]
        ("y", 1),
        ("x", 1),
        ("y", 2),
    ]


def test_an_older_burn_writing_the_index_does_not_corrupt_it(tmp_path: Path) -> None:
    """Format 1 code opening a format-2 index adds its own ``events`` table and byte count."""
    store = FileStore(tmp_path)
    with store.lock():
        store.append([turn("a", 5)])
    with open(store.path, "ab") as f:  # an older burn appends a line and indexes it its own way
        f.write(store.path.read_bytes().replace(b'"output":5', b'"output":7'))
    db = sqlite3.connect(store.index_path)
    db.execute("CREATE TABLE events (id TEXT PRIMARY KEY, kind TEXT NOT NULL, body BLOB) WITHOUT ROWID")
    db.execute("INSERT OR REPLACE INTO meta VALUES ('ledger_bytes', ?)", (str(store.path.stat().st_size),))
    db.commit()
    db.close()
    with store.lock():
        same = store.append([turn("a", 7)])
        grown = store.append([turn("a", 8)])
    assert same.dropped["duplicate"] == 1 and grown.revised["turn"] == 1
    db = sqlite3.connect(store.index_path)
    assert db.execute("SELECT name FROM sqlite_master WHERE name='events'").fetchall() == []
    db.close()


@pytest.mark.parametrize("kind", ["turn", "session", "user_turn", "not_a_kind", 'a"kind'])
@pytest.mark.parametrize(
    "rid", ["0123456789abcdef0123456789abcdef", "ABCdef012", "x", "", "a b", 'a"b', "a\\b", "é", "\x1f"]
)
def test_line_head_is_what_orjson_writes(kind: str, rid: str) -> None:
    # The head is spliced from a per-kind prefix for plain ids, and serialized for any other id.
    from burn.ledger.file import _head

    assert _head(kind, rid) == orjson.dumps({"v": 1, "kind": kind, "id": rid})[:-1] + b',"record":'


def test_gc_paused_restores_the_collector_and_nests() -> None:
    import gc

    from burn.gcpause import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause leaves the outer one in force
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector the caller disabled stays disabled
    finally:
        gc.enable()


def test_append_pauses_the_collector_only_while_it_runs(tmp_path: Path) -> None:
    import gc

    seen: list[bool] = []
    store = FileStore(tmp_path)
    with store.lock():
        store.append_encoded([encode(turn("m1", 1))], lambda _start, _entries: seen.append(gc.isenabled()))
    assert seen == [False] and gc.isenabled()
