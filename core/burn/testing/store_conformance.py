"""What every ledger store must do (DESIGN §5–§6), as pytest tests over a ``store_factory`` fixture.

burn runs this suite against every registered store (tests/test_store_conformance.py). A
third-party store runs it in its own tests::

    import pytest
    from burn.testing.store_conformance import *  # noqa: F403  (the tests below)

    @pytest.fixture
    def store_factory():
        # home: Path -> Store, a fresh empty store for each fresh temporary directory (the same
        # directory: the same store). A store kept elsewhere maps the directory to its location.
        return lambda home: MyStore(StoreConfig(home=home))

Optional fixture ``raw_append(store, entries)``: append ledger entries ``(kind, id, record JSON)``
as a newer burn would write them, for the unknown-kinds test. The default uses the store's
``append_encoded`` fast path when it has one and skips the test otherwise.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from burn.records import ProjectObservation, Record, SessionInfo, Turn, Usage
from burn.store import Encoded, ReadStats, Store

__all__ = [
    "default_raw_append",
    "raw_append",
    "test_a_project_keeps_its_earliest_observation",
    "test_append_then_read_from_the_start_and_from_a_position",
    "test_concurrent_appenders_store_each_event_once",
    "test_in_batch_copies_fold_before_writing",
    "test_position_is_after_the_last_entry",
    "test_re_appending_the_same_records_appends_nothing",
    "test_revision_supersedes_and_keeps_the_earliest_attribution",
    "test_session_info_fills_unknown_fields_only",
    "test_unknown_kinds_are_skipped_and_counted",
]

RawAppend = Callable[[Store, Sequence[tuple[str, str, bytes]]], None]
StoreFactory = Callable[[Path], Store]  # the ``store_factory`` fixture: a store in a burn home


def turn(mid: str, output: int, *, session: str = "s1", ts: str = "2026-01-01T10:00:00.000Z") -> Turn:
    """A turn of the ``test`` source; same ``mid``: same event id."""
    usage = Usage(input=10, output=output, cache_read=100, cache_write_5m=5, cache_write_1h=0)
    return Turn("test", session, mid, f"req-{mid}", ts, "m", usage)


def _outputs(store: Store, since: int = 0) -> list[tuple[str, int]]:
    return [(e.record["message_id"], e.record["usage"]["output"]) for e in store.read(since)]


def default_raw_append(store: Store, entries: Sequence[tuple[str, str, bytes]]) -> None:
    """The default ``raw_append``: the store's ``append_encoded`` (the test is skipped without)."""
    fast = getattr(store, "append_encoded", None)
    if fast is None:
        pytest.skip("the store has no append_encoded: provide a raw_append fixture")
    with store.lock():
        fast([Encoded(kind, rid, data) for kind, rid, data in entries], None)


@pytest.fixture
def raw_append() -> RawAppend:
    return default_raw_append


def test_append_then_read_from_the_start_and_from_a_position(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    store = store_factory(tmp_path)
    assert list(store.read()) == [] and store.position() == 0
    with store.lock():
        first = store.append([turn("a", 1), turn("b", 2)])
        mid = store.position()
        store.append([turn("c", 3)])
    assert first.appended["turn"] == 2
    assert _outputs(store) == [("a", 1), ("b", 2), ("c", 3)]
    assert _outputs(store, mid) == [("c", 3)]
    entries = list(store.read())
    assert entries[1].position == mid  # an entry's position is where the next one starts
    assert [e.id for e in entries] == [turn(m, 0).event_id() for m in "abc"]
    assert _outputs(store_factory(tmp_path)) == _outputs(store)  # what a second opener sees


def test_position_is_after_the_last_entry(store_factory: StoreFactory, tmp_path: Path) -> None:
    store = store_factory(tmp_path)
    with store.lock():
        store.append([turn("a", 1)])
        end = store.position()
        nothing = store.append([])
    assert nothing.lines_written == 0
    assert list(store.read())[-1].position == end == store.position()
    assert list(store.read(end)) == []


def test_re_appending_the_same_records_appends_nothing(store_factory: StoreFactory, tmp_path: Path) -> None:
    store = store_factory(tmp_path)
    records: list[Record] = [
        turn("a", 5),
        turn("b", 7),
        SessionInfo(source="test", session_id="s1", cwd="/a"),
    ]
    with store.lock():
        first = store.append(records)
        end = store.position()
        again = store.append(records)
    assert first.lines_written == 3
    assert again.lines_written == 0 and again.dropped["duplicate"] == 3
    assert store.position() == end and len(list(store.read())) == 3


def test_revision_supersedes_and_keeps_the_earliest_attribution(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    """A later sighting with more output is a revision (burn.ledger.merge): a new entry of the same id,
    keeping the earliest sighting's attribution; one with less output adds nothing."""
    store = store_factory(tmp_path)
    with store.lock():
        store.append([turn("a", 8, session="resumed")])
        grown = store.append([turn("a", 780, session="zz-later", ts="2026-01-02T10:00:00.000Z")])
        shrunk = store.append([turn("a", 8)])
    assert grown.revised["turn"] == 1 and shrunk.lines_written == 0
    entries = list(store.read())
    assert [e.record["usage"]["output"] for e in entries] == [8, 780]
    assert entries[0].id == entries[1].id
    assert (entries[1].record["session_id"], entries[1].record["ts"]) == (
        "resumed",
        "2026-01-01T10:00:00.000Z",
    )


def test_session_info_fills_unknown_fields_only(store_factory: StoreFactory, tmp_path: Path) -> None:
    store = store_factory(tmp_path)
    with store.lock():
        store.append([SessionInfo(source="test", session_id="s", cwd="/a")])
        filled = store.append([SessionInfo(source="test", session_id="s", cwd="/b", slug="happy-cat")])
        nothing = store.append([SessionInfo(source="test", session_id="s", cwd="/c")])
    assert filled.revised["session"] == 1 and nothing.lines_written == 0
    last = list(store.read())[-1].record
    assert (last["cwd"], last["slug"]) == ("/a", "happy-cat")


def test_a_project_keeps_its_earliest_observation(store_factory: StoreFactory, tmp_path: Path) -> None:
    """Each process that prepares records observes a directory anew: whichever order the
    observations come in, the stored one is the earliest (a later one adds nothing)."""
    store = store_factory(tmp_path)

    def seen(ts: str) -> ProjectObservation:
        return ProjectObservation(cwd="/w/app", observed_at=ts, exists=False)

    with store.lock():
        store.append([seen("2026-02-01T00:00:00.000Z")])
        earlier = store.append([seen("2026-01-15T00:00:00.000Z")])
        later = store.append([seen("2026-03-01T00:00:00.000Z")])
    assert earlier.revised["project"] == 1 and later.lines_written == 0
    assert list(store.read())[-1].record["observed_at"] == "2026-01-15T00:00:00.000Z"


def test_in_batch_copies_fold_before_writing(store_factory: StoreFactory, tmp_path: Path) -> None:
    store = store_factory(tmp_path)
    with store.lock():
        res = store.append([turn("a", 1), turn("a", 9), turn("a", 3)])
    assert res.appended["turn"] == 1 and res.dropped["duplicate"] == 1
    assert _outputs(store) == [("a", 9)]


def test_unknown_kinds_are_skipped_and_counted(
    store_factory: StoreFactory, raw_append: RawAppend, tmp_path: Path
) -> None:
    """Entries of a kind this burn does not know (written by a newer one) are skipped by readers
    of the ledger and counted, and never break what comes after them."""
    store = store_factory(tmp_path)
    with store.lock():
        store.append([turn("a", 1)])
    raw_append(store, [("from_the_future", "f" * 32, b'{"x":1}')])
    with store.lock():
        store.append([turn("b", 2)])
    stats = ReadStats()
    assert _outputs(store) == [("a", 1), ("b", 2)]
    list(store.read(0, stats))
    assert stats.unknown_kinds == {"from_the_future@v1": 1}
    assert stats.lines == 3


def _append_many(factory: StoreFactory, home: str, offset: int) -> None:
    """One of several processes: 20 events, half shared with the next process, in small locked
    appends; shared events carry different outputs, so that some appends are revisions."""
    store = factory(Path(home))
    for i in range(offset, offset + 20, 4):
        with store.lock():
            store.append([turn(f"m{j}", 1 + j + offset) for j in range(i, i + 4)])


def test_concurrent_appenders_store_each_event_once(store_factory: StoreFactory, tmp_path: Path) -> None:
    """Processes appending overlapping records, each under the store's lock: every id is stored
    once, plus only revisions that supersede what was there."""
    fork = "fork" in multiprocessing.get_all_start_methods()  # spawn: the factory must pickle
    ctx = multiprocessing.get_context("fork") if fork else multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(store_factory, str(tmp_path), k * 10)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    best: dict[str, int] = {}
    for e in store_factory(tmp_path).read():
        out = e.record["usage"]["output"]
        assert out > best.get(e.id, 0), "a revision must supersede what was there"
        best[e.id] = out
    assert len(best) == 40  # m0 … m39
