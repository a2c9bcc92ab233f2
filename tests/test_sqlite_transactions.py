"""Every write transaction burn makes is all or nothing (:mod:`burn.sqlite`).

A failure is injected inside each write transaction of each module, after it has written: a
function the transaction calls is wrapped so that, once it has run, it

* raises ``KeyboardInterrupt`` (the user's Ctrl-C — a :class:`BaseException`),
* raises :class:`sqlite3.OperationalError` with the transaction still open,
* ends the transaction the way SQLite itself does on a full disk (``ROLLBACK``) and then raises,
  so that a second ROLLBACK would fail with "cannot rollback - no transaction is active", or
* lets the block finish but makes SQLite refuse its ``COMMIT`` (an authorizer that denies it).

Then the database's full dump (``iterdump``) equals what a second connection saw as committed
when the failure happened (what the transaction began from), the error that propagates is the
injected one, and the connection is still usable. Real databases built by real ingests; nothing of
SQLite is mocked.

The write transactions, by module: archive.py — the batch apply (first build and incremental), the
re-pricing, the ``session_hours`` fill, the rollup refresh, the end-of-build state, and
``rebuild`` (which builds into a file of its own); ingest.py — the quality counters; cursors.py —
the cursor save; dedupe.py — the dedupe rules' facts of an append; store_file.py — the ledger index
update of an append and the index catch-up.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from burn import sqlite
from burn.archive import quality, session_rollup
from burn.archive.database import Archive, rebuild
from burn.ingest import dedupe as dedupe_mod
from burn.ingest import read_cursors as cursors_mod
from burn.ingest.read_cursors import CursorFile
from burn.ingest.run import ingest
from burn.ledger.file import FileStore
from burn.plugins.manager import Plugins
from burn.reader import FileCursor
from tests.contract_fixture import FIXTURE, env_for, run_ingest

MODES = ["interrupt", "error", "ended", "commit"]


def dump(path: Path) -> list[str]:
    """The full SQL dump of the database at ``path``, as a new connection sees it."""
    db = sqlite.connect(path, readonly=True)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def _deny_commit(action: int, arg1: str | None, *_: object) -> int:
    if action == sqlite3.SQLITE_TRANSACTION and arg1 == "COMMIT":
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class Injector:
    """Fails the first write transaction it is called in (see the module docstring)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.db: sqlite3.Connection | None = None
        self.path = Path()
        self.before: list[str] = []
        self.during: list[str] = []

    def __call__(self, db: sqlite3.Connection) -> None:
        if self.db is not None or not db.in_transaction:
            return
        self.db = db
        self.path = Path(db.execute("PRAGMA database_list").fetchone()[2])
        self.before = dump(self.path)  # committed: what the transaction began from
        self.during = list(db.iterdump())  # with the transaction's writes so far
        if self.mode == "interrupt":
            raise KeyboardInterrupt
        if self.mode == "error":
            raise sqlite3.OperationalError("injected")
        if self.mode == "ended":
            db.execute("ROLLBACK")  # what SQLite does itself after some failed writes
            raise sqlite3.OperationalError("injected")
        db.set_authorizer(_deny_commit)

    def expected(self) -> tuple[type[BaseException], str]:
        if self.mode == "interrupt":
            return KeyboardInterrupt, ""
        if self.mode == "commit":
            return sqlite3.DatabaseError, "not authorized"
        return sqlite3.OperationalError, r"^injected$"

    def check(self) -> None:
        """The transaction wrote, was undone entirely, and its connection still works."""
        assert self.db is not None, "the failure was never injected: no transaction ran"
        assert self.during != self.before, "the injection came before the transaction wrote"
        assert dump(self.path) == self.before
        try:
            self.db.set_authorizer(None)
        except sqlite3.ProgrammingError:
            return  # closed by the code that failed: the dump above is what matters
        assert not self.db.in_transaction
        with sqlite.transaction(self.db):
            assert self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        assert list(self.db.iterdump()) == self.before
        self.db.close()


def wrap(
    monkeypatch: pytest.MonkeyPatch,
    owner: object,
    name: str,
    inject: Injector,
    db_of: Callable[..., sqlite3.Connection],
    when: Callable[..., bool] = lambda *a, **k: True,
) -> None:
    """Replace ``owner.name`` by a version that runs it, then calls ``inject`` with the
    connection ``db_of(*args, **kwargs)`` when ``when(*args, **kwargs)``."""
    real = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        if when(*args, **kwargs):
            inject(db_of(*args, **kwargs))
        return out

    monkeypatch.setattr(owner, name, wrapped)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A burn home after one ingest of the contract fixture (Claude Code and Codex)."""
    env = env_for(tmp_path_factory.mktemp("base"), FIXTURE / "claude", FIXTURE / "codex")
    run_ingest(env)
    return env


@pytest.fixture
def home(ingested: dict[str, str], tmp_path: Path) -> Path:
    dst = tmp_path / "burn"
    shutil.copytree(ingested["RELAYBURN_HOME"], dst)
    return dst


def _fails(inject: Injector, action: Callable[[], object]) -> None:
    kind, match = inject.expected()
    with pytest.raises(kind, match=match or None):
        action()
    inject.check()


def _build(home: Path) -> None:
    store = FileStore(home)
    with store.lock():
        archive = Archive.in_home(home)
        archive.build(store)  # left open when it fails: the injector checks the connection
        archive.close()


def fail_at_state(
    monkeypatch: pytest.MonkeyPatch, inject: Injector, when: Callable[[dict[str, str]], bool]
) -> None:
    """Inject once the archive has written state values ``when`` accepts, inside a transaction."""
    wrap(monkeypatch, Archive, "_set_state", inject, lambda self, **_: self.db, lambda _, **v: when(v))


def _set_archive_state(home: Path, **values: str) -> None:
    db = sqlite.connect(home / "archive.sqlite")
    with sqlite.transaction(db):
        db.executemany(
            "UPDATE archive_state SET value = ? WHERE key = ?", [(v, k) for k, v in values.items()]
        )
    db.close()


# -- archive.py ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_first_build_batch_apply(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch of a build from an empty archive (rows and ledger position in one transaction)."""
    (home / "archive.sqlite").unlink()
    for stale in ("-wal", "-shm"):
        (home / f"archive.sqlite{stale}").unlink(missing_ok=True)
    Archive.in_home(home).close()  # an empty archive: the batch is its first content
    inject = Injector(mode)
    fail_at_state(monkeypatch, inject, lambda v: "ledger_position" in v)
    _fails(inject, lambda: _build(home))


@pytest.mark.parametrize("mode", MODES)
def test_incremental_batch_apply(tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch an ingest applies while it appends, with its hourly and session rollups."""
    env = env_for(tmp_path, FIXTURE / "claude", None)
    run_ingest(env)  # Claude Code only: the Codex sessions are new to the next ingest
    env["CODEX_HOME"] = str(FIXTURE / "codex")
    inject = Injector(mode)
    wrap(monkeypatch, session_rollup, "refresh", inject, lambda db, sessions: db)
    _fails(inject, lambda: run_ingest(env))


@pytest.mark.parametrize("mode", MODES)
def test_repricing(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-pricing every turn when the pricing table changed."""
    _set_archive_state(home, pricing_digest="sha256:another-table")
    inject = Injector(mode)
    fail_at_state(monkeypatch, inject, lambda v: "priced_at" in v)
    _fails(inject, lambda: _build(home))


@pytest.mark.parametrize("mode", MODES)
def test_session_hours_fill(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Filling the per-session hours of an archive built by a burn that had none."""
    db = sqlite.connect(home / "archive.sqlite")
    with sqlite.transaction(db):
        db.execute("DELETE FROM archive_state WHERE key = 'session_hours'")
    db.close()
    inject = Injector(mode)
    fail_at_state(monkeypatch, inject, lambda v: v.get("session_hours") == "ok" and "rollup" not in v)
    _fails(inject, lambda: _build(home))


@pytest.mark.parametrize("mode", MODES)
def test_rollup_refresh(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recomputing the hourly and session rollups once at the end of a build."""
    _set_archive_state(home, rollup="stale")
    inject = Injector(mode)
    fail_at_state(monkeypatch, inject, lambda v: v.get("rollup") == "ok")
    _fails(inject, lambda: _build(home))


@pytest.mark.parametrize("mode", MODES)
def test_end_of_build_state(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger position, build time and pricing inputs a build records when it ends."""
    _set_archive_state(home, pricing_inputs="another")
    inject = Injector(mode)
    fail_at_state(monkeypatch, inject, lambda v: "pricing_inputs" in v)
    _fails(inject, lambda: _build(home))


@pytest.mark.parametrize("mode", MODES)
def test_rebuild_leaves_the_archive_it_replaces(
    home: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild that fails inside a batch leaves the old archive as it was and nothing beside it."""
    old = dump(home / "archive.sqlite")
    inject = Injector(mode)
    fail_at_state(monkeypatch, inject, lambda v: "ledger_position" in v)
    store = FileStore(home)
    kind, match = inject.expected()
    with store.lock(), pytest.raises(kind, match=match or None):
        rebuild(home, store)
    assert inject.during != inject.before
    assert dump(home / "archive.sqlite") == old
    assert sorted(p.name for p in home.iterdir() if ".rebuild" in p.name) == []


# -- ingest.py -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_quality_counters(tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-source counters an ingest adds to the archive after building it."""
    env = env_for(tmp_path, FIXTURE / "claude", None)
    run_ingest(env)  # the archive exists: the next ingest builds on it (a first build: below)
    env["CODEX_HOME"] = str(FIXTURE / "codex")
    inject = Injector(mode)
    wrap(monkeypatch, quality, "add", inject, lambda db, rows: db)
    _fails(inject, lambda: ingest(Path(env["RELAYBURN_HOME"]), Plugins(env=env), env))


@pytest.mark.parametrize("mode", MODES)
def test_a_first_build_that_fails_leaves_no_archive(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first ingest builds its archive in a file of its own, without a journal (nothing there
    can be rolled back): a failure in its last transaction deletes that file, leaves no archive
    half made, and the next ingest builds the archive the whole ledger gives."""
    env = env_for(tmp_path / "failed", FIXTURE / "claude", FIXTURE / "codex")
    home = Path(env["RELAYBURN_HOME"])
    inject = Injector(mode)
    wrap(monkeypatch, quality, "add", inject, lambda db, rows: db)
    kind, match = inject.expected()
    with pytest.raises(kind, match=match or None):
        ingest(home, Plugins(env=env), env)
    assert inject.db is not None and inject.during != inject.before
    assert inject.path.name == "archive.sqlite.rebuild"
    assert sorted(p.name for p in home.iterdir() if p.name.startswith("archive.sqlite")) == []
    monkeypatch.undo()
    run_ingest(env)
    archive = Archive.in_home(home, readonly=True)
    built, counts = archive.digest(), archive.counts()
    archive.close()
    store = FileStore(home)
    with store.lock():
        rebuilt, _ = rebuild(home, store)
    assert (rebuilt.digest(), rebuilt.counts()) == (built, counts) and counts["turns"] > 0
    rebuilt.close()
    assert sorted(p.name for p in home.iterdir() if ".rebuild" in p.name) == []


# -- cursors.py ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_cursor_save(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saving readers' cursors: deletions of vanished units and new positions, together."""
    cursors = CursorFile.load(home)
    (reader, gone), *_ = sorted(cursors._conn().execute("SELECT reader, key FROM cursors"))
    cursors.prune(reader, set(cursors.fingerprints(reader)) - {gone})
    cursors.set(
        reader, "new-unit", FileCursor(inode=1, size=7, mtime_ns=1, offset=7, head="h", fingerprint="fp")
    )
    inject = Injector(mode)
    wrap(monkeypatch, cursors_mod, "_dump", inject, lambda cursor: cursors._conn())
    try:
        _fails(inject, cursors.save)
    finally:
        cursors.close()


# -- dedupe.py -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_dedupe_facts(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The facts the dedupe rules keep of an append and the ledger position they cover, together
    (the cache an ingest of Claude Code's transcripts made)."""
    db = dedupe_mod._connect(home / "dedupe.sqlite")
    assert db.execute("SELECT count(*) FROM facts").fetchone()[0] > 0
    inject = Injector(mode)
    wrap(monkeypatch, dedupe_mod, "_write_facts", inject, lambda db, *_: db)
    _fails(inject, lambda: dedupe_mod.Deduper._remember(db, [("rule", "new-key", "value")], 10**9))


# -- store_file.py -------------------------------------------------------------------------------


def _index_db(self: FileStore, db: sqlite3.Connection, items: object) -> sqlite3.Connection:
    return db


def _new_records() -> list[Any]:
    from burn.records import Compaction

    return [Compaction(source="codex", session_id="s-new", ts="2026-03-01T00:00:00.000Z", uuid="c-new")]


def _index_commit_refused(store: FileStore, inject: Injector) -> None:
    """The index's writes stay in one transaction for the whole run, committed when the lock is
    released (:func:`burn.sqlite.held`): a refused COMMIT fails nothing and loses nothing — the
    index stays as committed, and the next append catches it up from the ledger."""
    records = _new_records()
    with store.lock():
        assert store.append(records).lines_written == 1
    assert inject.db is not None and inject.during != inject.before
    assert dump(inject.path) == inject.before
    again = FileStore(store.home)
    with again.lock():
        assert again.append(records).lines_written == 0  # caught up: the id is known
    assert dump(inject.path) != inject.before


@pytest.mark.parametrize("mode", MODES)
def test_ledger_index_append(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index rows and byte count of an append (the ledger itself is a file, not SQLite)."""
    store = FileStore(home)
    inject = Injector(mode)
    wrap(monkeypatch, FileStore, "_index_items", inject, _index_db)
    if mode == "commit":
        _index_commit_refused(store, inject)
        return
    with store.lock():
        _fails(inject, lambda: store.append(_new_records()))


@pytest.mark.parametrize("mode", MODES)
def test_ledger_index_catch_up(home: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexing what the ledger holds beyond the index (a writer crashed between the two)."""
    db = sqlite.connect(home / "ledger.index.sqlite", pragmas=sqlite.LEDGER_INDEX)
    with sqlite.transaction(db):
        db.execute("DELETE FROM event_lines")
        db.execute("UPDATE meta SET value = '0' WHERE key = 'indexed_bytes'")
    db.close()
    store = FileStore(home)
    inject = Injector(mode)
    wrap(monkeypatch, FileStore, "_index_items", inject, _index_db)
    if mode == "commit":
        _index_commit_refused(store, inject)
        return
    with store.lock():
        _fails(inject, lambda: store.append(_new_records()))


# -- burn.sqlite itself --------------------------------------------------------------------------


def _table(path: Path) -> sqlite3.Connection:
    db = sqlite.connect(path)
    db.execute("CREATE TABLE t (x INTEGER)")
    db.execute("INSERT INTO t VALUES (1)")
    return db


def test_a_transaction_sqlite_ended_reraises_the_error_not_a_failed_rollback(tmp_path: Path) -> None:
    """An unconditional ROLLBACK here would raise ``cannot rollback - no transaction is active``
    in place of the error that ended the transaction."""
    db = _table(tmp_path / "t.sqlite")
    with pytest.raises(sqlite3.OperationalError, match=r"^disk full$"), sqlite.transaction(db):
        db.execute("INSERT INTO t VALUES (2)")
        db.execute("ROLLBACK")
        raise sqlite3.OperationalError("disk full")
    assert [r[0] for r in db.execute("SELECT x FROM t")] == [1]


def test_snapshot_sees_one_state_and_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite"
    writer = _table(path)
    writer.execute("PRAGMA journal_mode=WAL")
    reader = sqlite.connect(path, readonly=True)
    with sqlite.snapshot(reader):
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 1
        writer.execute("INSERT INTO t VALUES (2)")
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    assert not reader.in_transaction
    assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 2


@pytest.mark.parametrize("name", ["a#b", "a?b", "a%41b", "sp ace"])
def test_readonly_connect_opens_the_file_its_path_names(tmp_path: Path, name: str) -> None:
    """Before: ``file:{path}?mode=ro`` was built by pasting the path, so a burn home under
    ``/tmp/a#b`` opened ``/tmp/a`` (the rest is a URI fragment) read-write, creating an empty
    database there, and ``a%41b`` named ``aAb``: "unable to open database file"."""
    home = tmp_path / name
    home.mkdir()
    _table(home / "x.sqlite").close()
    for kw in ({"readonly": True}, {"immutable": True}):
        db = sqlite.connect(home / "x.sqlite", **kw)  # type: ignore[arg-type]
        assert db.execute("SELECT x FROM t").fetchall() == [(1,)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("INSERT INTO t VALUES (2)")
        db.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_pragmas_of_each_database(home: Path) -> None:
    """The settings each database had before :mod:`burn.sqlite` existed."""

    def settings(db: sqlite3.Connection) -> tuple[Any, ...]:
        return tuple(
            db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "synchronous", "cache_size")
        )

    for path, pragmas, expected in [
        (home / "archive.sqlite", sqlite.ARCHIVE, ("wal", 1, -8192)),
        (home / "ledger.index.sqlite", sqlite.LEDGER_INDEX, ("wal", 0, -65536)),
        (home / "cursors.sqlite", sqlite.CURSORS, ("delete", 2, -2000)),
    ]:
        db = sqlite.connect(path, pragmas=pragmas)
        assert settings(db) == expected, path.name
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 0
        db.close()


def test_a_home_under_a_hash_reads_its_own_archive(tmp_path: Path) -> None:
    """Before: ``burn summary`` in ``RELAYBURN_HOME=/tmp/x/a#b`` failed with "internal error:
    OperationalError: no such table: turns" after creating an empty database ``/tmp/x/a``."""
    env = env_for(tmp_path / "a#b", FIXTURE / "claude", None)
    run_ingest(env)
    archive = Archive.in_home(Path(env["RELAYBURN_HOME"]), readonly=True)
    assert archive.counts()["turns"] > 0
    archive.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a#b"]
