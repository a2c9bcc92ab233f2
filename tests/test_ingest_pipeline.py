"""A parallel ingest reads a large unit ahead of its turn and keeps its result in a file, in parts
(issue 19: the OpenCode database, read while the other workers read for the main process). That may
change neither a record of the ledger nor a row of the archive, and a file that goes missing or
cannot be read back may lose and duplicate nothing: every test compares against the in-process
ingest (``BURN_WORKERS=1``), which reads nothing ahead, on the three-agent benchmark corpus.

Each process observes the working directories it meets, so which project observations are
appended (and revised to an earlier one) depends on which process read what; the ledger's other
lines are the same, in the same order, and so is the state it gives (the archive, projects
included: the earliest observation of each directory wins, :func:`_same_as`)."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import burn.archive.database as archive_db
import burn.ingest.run as run
import burn.ingest.workers as workers
from burn.archive.database import Archive
from burn.errors import BurnError
from burn.ingest.run import IngestReport, ingest
from burn.plugins.manager import Plugins
from tests.hosts import one_host

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import gen_corpus  # noqa: E402

from tests.test_benchmark_corpus import corpus_env  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    gen_corpus.generate(out, 2_000_000, seed=5, jobs=1)
    return out


def _env(corpus: Path, tmp: Path, workers: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    one_host(tmp / "burn")
    return {**corpus_env(corpus, tmp), "BURN_WORKERS": workers}


def _ingest(corpus: Path, tmp: Path, workers: str) -> tuple[IngestReport, bytes, str]:
    return _ingest_in(_env(corpus, tmp, workers))


def _ingest_in(env: dict[str, str]) -> tuple[IngestReport, bytes, str]:
    """One ingest in ``env``: its report, the ledger's bytes and the archive's digest."""
    home = Path(env["RELAYBURN_HOME"])
    report = ingest(home, Plugins(env=env), env)
    archive = Archive.in_home(home, readonly=True)
    try:
        return report, (home / "ledger.jsonl").read_bytes(), archive.digest()
    finally:
        archive.close()


@pytest.fixture(scope="module")
def in_process(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[IngestReport, bytes, str]:
    return _ingest(corpus, tmp_path_factory.mktemp("one"), "1")


@pytest.fixture
def ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Units of 64 KB or more (the database, the larger transcripts) are large enough to be read
    ahead, each written in parts of 10 records, so that one unit's records are appended over
    several batches."""
    monkeypatch.setattr(workers, "AHEAD_BYTES", 64 * 1024)
    monkeypatch.setattr(workers, "TASK_BYTES", 1)  # a task a unit, as a unit of AHEAD_BYTES is
    monkeypatch.setattr(workers, "SPILL_PART", 10)


def _same_as(
    in_process: tuple[IngestReport, bytes, str], ledger: bytes, digest: str, ordered: bool = True
) -> None:
    """The ledger holds the in-process ledger's records (project observations aside: their
    state is in the archive), in its order unless not ``ordered``, and the archive is the same."""

    def records(ledger: bytes) -> list[bytes]:
        return [line for line in ledger.splitlines() if b'"kind":"project"' not in line]

    assert digest == in_process[2]
    if ordered:
        assert records(ledger) == records(in_process[1])
    else:
        assert sorted(records(ledger)) == sorted(records(in_process[1]))


def _large_units(corpus: Path) -> list[int]:
    """The sizes of the corpus's units of ``AHEAD_BYTES`` or more (transcripts, the database), largest first."""
    sizes = [p.stat().st_size for p in corpus.rglob("*") if p.suffix in (".jsonl", ".db") and p.is_file()]
    return sorted((n for n in sizes if n >= workers.AHEAD_BYTES), reverse=True)


@pytest.mark.usefixtures("ahead")
@pytest.mark.parametrize("count", [2, 3])
def test_the_largest_units_are_read_ahead_into_files_in_the_burn_home_that_are_removed(
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_process: tuple[IngestReport, bytes, str],
    count: int,
) -> None:
    """One unit fewer than there are workers is read ahead, the largest: the other workers read
    for the main process from the start. The ledger and the archive are those of an in-process run."""
    home = tmp_path / "burn"
    parts: list[int] = []
    sizes: list[int] = []
    read_back = workers.Spilled.parts

    def counted(self: workers.Spilled) -> Iterator[workers.Prepared]:
        assert Path(self.path).parent.parent == home
        assert Path(self.path).parent.name.startswith(workers.SPILL_PREFIX)
        sizes.append(self.diagnostics.bytes_read)
        for part in read_back(self):
            parts.append(len(part.items))
            yield part

    monkeypatch.setattr(workers.Spilled, "parts", counted)
    _, ledger, digest = _ingest(corpus, tmp_path, str(count))
    _same_as(in_process, ledger, digest)
    large = _large_units(corpus)
    assert len(large) >= count  # enough large units that the limit is what is tested
    assert sorted(sizes, reverse=True) == large[: count - 1]
    assert len(parts) > 2 and max(parts) == workers.SPILL_PART
    assert not list(home.glob(f"{workers.SPILL_PREFIX}*"))  # the pool removed its directory


def test_what_a_killed_ingest_read_ahead_is_removed_by_the_next(corpus: Path, tmp_path: Path) -> None:
    home = tmp_path / "burn"
    stale = home / f"{workers.SPILL_PREFIX}x1y2"
    stale.mkdir(parents=True)
    (stale / "tmp1.pickle").write_bytes(b"\x80\x05half a result")
    _ingest(corpus, tmp_path, "1")
    assert not stale.exists()


@pytest.mark.usefixtures("ahead")
def test_a_result_file_that_vanished_is_read_again_in_the_main_process(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_process: tuple[IngestReport, bytes, str]
) -> None:
    present = workers.Spilled.present
    lost: list[str] = []

    def vanished(self: workers.Spilled) -> bool:
        Path(self.path).unlink()  # removed by hand, or by a cleaner
        lost.append(self.path)
        return present(self)

    monkeypatch.setattr(workers.Spilled, "present", vanished)
    report, ledger, digest = _ingest(corpus, tmp_path, "2")
    assert lost
    _same_as(in_process, ledger, digest)
    # (Not every count: each process observes each working directory once, so how many repeated
    # observations are dropped as duplicates depends on which process prepared which unit.)
    kept = ("records_appended", "appended_by_kind", "lines_read", "invalid_skipped")
    assert {k: report.totals()[k] for k in kept} == {k: in_process[0].totals()[k] for k in kept}


@pytest.mark.usefixtures("ahead")
def test_a_result_file_cut_short_stops_the_run_and_the_next_one_loses_nothing(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_process: tuple[IngestReport, bytes, str]
) -> None:
    read_back = workers.Spilled.parts

    def cut(self: workers.Spilled) -> Iterator[workers.Prepared]:
        path = Path(self.path)
        if self.count > 2:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return read_back(self)

    monkeypatch.setattr(workers.Spilled, "parts", cut)
    env = _env(corpus, tmp_path, "2")
    with pytest.raises(BurnError, match="could not read back the records a worker read ahead"):
        _ingest_in(env)
    monkeypatch.setattr(workers.Spilled, "parts", read_back)
    _, ledger, digest = _ingest_in(env)  # the next run, in the same home
    _same_as(in_process, ledger, digest, ordered=False)  # each record once, none missing


def test_an_archive_that_fails_while_fed_stops_the_run_and_the_next_loses_nothing(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive build fed by the appends meets a full disk at its third batch: the run stops
    with burn's error naming the full disk, nothing is applied after it, the fresh archive is deleted,
    the ledger keeps what was appended, and the next run builds the archive of a run that never
    failed, with each record once. (Small append batches: their size decides which revisions fold
    in a batch, so the reference run appends in batches as small.)"""
    monkeypatch.setattr(run, "APPEND_BATCH", 200)
    monkeypatch.setattr(archive_db, "BATCH", 100)
    reference = _ingest(corpus, tmp_path / "reference", "2")
    apply = Archive._apply
    calls = 0

    def full(self: Archive, *args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        apply(self, *args)

    monkeypatch.setattr(Archive, "_apply", full)
    env = _env(corpus, tmp_path / "failing", "2")
    with pytest.raises(BurnError, match="disk full"):
        _ingest_in(env)
    assert calls == 3  # nothing applied after the failure
    home = Path(env["RELAYBURN_HOME"])
    assert (home / "ledger.jsonl").stat().st_size > 0
    assert not list(home.glob("archive.sqlite*"))  # the fresh archive that failed is deleted
    monkeypatch.setattr(Archive, "_apply", apply)
    _, ledger, digest = _ingest_in(env)
    _same_as(reference, ledger, digest, ordered=False)


@pytest.mark.usefixtures("ahead")
def test_a_full_disk_sends_the_result_back_through_the_pool(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_process: tuple[IngestReport, bytes, str]
) -> None:
    """The workers are forked after this patch: every write of a part fails as on a full disk, and
    each result read ahead comes back as if it had not been (no file is left)."""

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workers.pickle, "dump", full)
    spilled: list[str] = []
    monkeypatch.setattr(workers.Spilled, "parts", lambda self: spilled.append(self.path) or iter(()))
    _, ledger, digest = _ingest(corpus, tmp_path, "2")
    assert spilled == []
    _same_as(in_process, ledger, digest)
    assert not list((tmp_path / "burn").glob(f"{workers.SPILL_PREFIX}*"))


@pytest.mark.parametrize("count", [0, 1, 3])
def test_a_prepared_result_crosses_the_process_boundary_unchanged(count: int) -> None:
    """A worker's result is pickled as columns (Prepared.__reduce__): it must come back equal, its
    items still Encoded named tuples in their order, with its cursor, counters and notes."""
    import pickle

    from burn.reader import Diagnostics, FileCursor, Note, Notes
    from burn.store import Encoded

    diag = Diagnostics()
    diag.skip("invalid_json")
    items = [Encoded("turn" if i % 2 else "tool_call", f"{i:032x}", b'{"n":%d}' % i) for i in range(count)]
    cursor = FileCursor(inode=7, size=10, mtime_ns=3, offset=10, head="h", state={"total": 5})
    notes: dict[int, Notes] = {
        i: (Note(f"message-{i}", "request", False), None) for i in range(count) if i % 2
    }
    prepared = workers.Prepared(list(items), cursor, diag, notes)
    back = pickle.loads(pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == prepared
    assert all(type(item) is Encoded for item in back.items)
    assert [item.id for item in back.items] == [item.id for item in items]
    assert back.diagnostics.invalid == {"invalid_json": 1}


def test_enriching_every_session_by_name_gives_the_cold_builds_derived_columns(
    corpus: Path, tmp_path: Path
) -> None:
    """The cold build derives its columns by scanning whole tables (``enrich.refresh(db, None)``);
    an incremental batch derives them for the sessions it names. On the three-agent corpus both
    must give every row the same values."""
    import sqlite3

    from burn.archive import enrich

    _ingest(corpus, tmp_path, "1")
    db = sqlite3.connect(tmp_path / "burn" / "archive.sqlite", isolation_level=None)
    derived = {
        "turns": "turn_index, activity",
        "tool_calls": "turn_id, call_index",
        "tool_result_events": "message_id, call_index, event_index, agent_id, event_source",
        "sessions": "message_count, has_content, activity",
    }

    def values() -> dict[str, list[tuple[object, ...]]]:
        return {
            t: db.execute(f"SELECT id, {cols} FROM {t} ORDER BY id").fetchall() for t, cols in derived.items()
        }

    def cleared() -> None:
        for table, cols in derived.items():
            db.execute(f"UPDATE {table} SET " + ", ".join(f"{c} = NULL" for c in cols.split(", ")))

    cold = values()
    assert all(cold.values()) and any(row[3] is not None for row in cold["tool_result_events"])
    sessions = db.execute("SELECT source, session_id FROM sessions").fetchall()
    db.execute("BEGIN")
    cleared()
    enrich.refresh(db, sessions)
    assert values() == cold
    cleared()
    enrich.refresh(db, None)
    assert values() == cold
    db.execute("ROLLBACK")
    db.close()
