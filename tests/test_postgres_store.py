"""The ``postgres`` store on a real server (tests/pg.py): positions that never let a reader skip a
row that commits late, migrations, the machine key, and faults (unreachable, terminated backend)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from burn.archive.database import Archive
from burn.ledger.file import FileStore
from burn.ledger.postgres import SCHEMA_VERSION, PostgresStore
from burn.privacy.identity import local_secret, machine_key
from burn.store import StoreConfig
from burn.testing.store_conformance import turn
from tests.claude_lines import assistant, user, write_session
from tests.hosts import one_host
from tests.pg import fresh_database, pg_url, reset  # noqa: F401  (pg_url: a fixture)

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def url(pg_url: str) -> str:  # noqa: F811  (the imported fixture)
    reset(pg_url)
    return pg_url


def _wait_until(conn: Any, sql: str, *args: Any) -> None:
    """Poll the server's own view (pg_locks) until ``sql`` holds: the explicit ordering of the
    interleaving tests (no sleeps stand in for it). Gives up after 120 s of polling (a loaded
    machine starts four interpreters slowly)."""
    import time

    deadline = time.monotonic() + 120
    while not conn.execute(sql, args).fetchone()[0]:
        assert time.monotonic() < deadline, f"never reached: {sql}"
        time.sleep(0.01)


def _blocked_by(conn: Any, blocker_pid: int) -> None:
    """Wait until some backend waits for a lock ``blocker_pid`` holds."""
    _wait_until(
        conn,
        "SELECT count(*) > 0 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
        blocker_pid,
    )


def _hold_id(url: str, rid: str, pos: int) -> Any:
    """A connection holding an uncommitted row of event ``rid``: a writer of the same id waits on
    the primary key (inside its append, after it took its positions) until this rolls back."""
    conn = psycopg.connect(url)
    conn.execute(
        "INSERT INTO burn_events (id, kind, v, pos, record, machine) VALUES (%s, 'turn', 1, %s, '{}', 'x')",
        (rid, pos),
    )
    return conn


def test_a_reader_never_skips_a_row_that_commits_late(url: str, tmp_path: Path) -> None:
    """Writer A starts first and stalls inside its transaction; writer B starts while A is open.
    With a sequence, B's later number could commit first and a reader's high-water mark would skip
    A's rows. Here positions are handed out in commit order: whatever the reader reads in between,
    its incremental reads add up to the whole ledger, each strictly after the last mark."""
    a = PostgresStore(tmp_path / "a", url)
    b = PostgresStore(tmp_path / "b", url)
    reader = PostgresStore(tmp_path / "r", url)
    reader.ping()  # migrates the fresh database before the writers race
    admin = psycopg.connect(url, autocommit=True)
    hold_a = _hold_id(url, turn("a1", 1).event_id(), -1)
    hold_b = _hold_id(url, turn("b1", 1).event_id(), -2)
    seen: list[tuple[int, str]] = []
    marks: list[int] = []

    def read_more() -> None:
        since = marks[-1] if marks else 0
        got = [(e.position, e.record["message_id"]) for e in reader.read(since)]
        assert all(pos > since for pos, _ in got)
        seen.extend(got)
        marks.append(got[-1][0] if got else since)

    def append(store: PostgresStore, mids: list[str]) -> Callable[[], Any]:
        def run() -> Any:
            with store.lock():
                return store.append([turn(m, 5) for m in mids])

        return run

    with ThreadPoolExecutor(2) as pool:
        read_more()
        fa: Future[Any] = pool.submit(append(a, ["a1", "a2"]))
        _blocked_by(admin, hold_a.info.backend_pid)  # A holds the head, waits on a1
        read_more()
        fb: Future[Any] = pool.submit(append(b, ["b1", "b2"]))
        # B waits for A's head lock (A is open, uncommitted): B cannot take a position yet.
        _blocked_by(admin, a_pid := _pid_waited_on_by(admin, hold_a.info.backend_pid))
        read_more()
        hold_a.rollback()  # A goes on and commits; B takes the head and stalls on b1
        assert fa.result(60).appended["turn"] == 2
        _blocked_by(admin, hold_b.info.backend_pid)
        read_more()  # A's rows, while B is open
        hold_b.rollback()
        assert fb.result(60).appended["turn"] == 2
        read_more()
    assert a_pid
    whole = [(e.position, e.record["message_id"]) for e in reader.read(0)]
    assert seen == whole == [(1, "a1"), (2, "a2"), (3, "b1"), (4, "b2")]
    assert marks == [0, 0, 0, 2, 4]  # nothing visible while A was open; then A; then B
    for conn in (hold_a, hold_b, admin):
        conn.close()


class _AppendsWhenReadEnds(PostgresStore):
    """A host's store whose change feed, once exhausted, lets another host append (through its own
    connection, committed) before the archive asks anything else: the row commits between the
    read and whatever the build does next, every time, with no timing involved."""

    def __init__(self, home: Path, url: str, other: PostgresStore, late: Any) -> None:
        super().__init__(home, url)
        self.other, self.late = other, late

    def read(self, since: int = 0, stats: Any = None) -> Iterator[Any]:
        yield from super().read(since, stats)
        if self.late is not None:
            with self.other.lock():
                self.other.append([self.late])
            self.late = None


def test_an_archive_build_never_skips_a_row_another_host_commits_after_its_read(
    url: str, tmp_path: Path
) -> None:
    """Build._finish takes the store's position before reading: the archive never claims a
    position past what it read, so a row another host commits after the read is applied by the
    next build instead of being skipped (with the position taken after the read, it would be)."""
    writer = PostgresStore(tmp_path / "w", url)
    with writer.lock():
        writer.append([turn("early", 1)])
    late = turn("late", 2)
    reader = _AppendsWhenReadEnds(tmp_path / "r", url, PostgresStore(tmp_path / "o", url), late)
    archive = Archive.in_home(tmp_path / "r")

    def turn_ids() -> set[str]:
        return {r[0] for r in archive.db.execute("SELECT message_id FROM turns")}

    archive.build(reader)
    assert reader.late is None and reader.position() == 2  # the other host did append
    assert turn_ids() == {"early"}
    assert archive.state()["ledger_position"] == "1"  # what was read, not the head
    assert archive.build(reader).entries == 1
    assert turn_ids() == {"early", "late"}
    assert archive.state()["ledger_position"] == "2"
    archive.close()


def _pid_waited_on_by(admin: Any, blocker_pid: int) -> int:
    """The backend waiting for ``blocker_pid`` (writer A, waiting on its held id)."""
    row = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (blocker_pid,)
    ).fetchone()
    return int(row[0])


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    with fresh_database("migrate") as url:
        _check_migrations(url, tmp_path)


def _check_migrations(url: str, tmp_path: Path) -> None:
    store = PostgresStore(tmp_path, url)
    assert store.migrate() == [f"schema version {n}" for n in range(1, SCHEMA_VERSION + 1)]
    assert store.migrate() == []  # current: nothing to do
    assert PostgresStore(tmp_path / "other", url).migrate() == []
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT max(version) FROM burn_schema").fetchone()[0] == SCHEMA_VERSION
    assert store.identity().startswith("postgres:")
    assert store.identity() == PostgresStore(tmp_path / "x", url).identity()
    store.close()


def test_every_row_carries_the_machine_key_of_the_host_that_first_saw_it(url: str, tmp_path: Path) -> None:
    first, second = PostgresStore(tmp_path / "h1", url), PostgresStore(tmp_path / "h2", url)
    with first.lock():
        first.append([turn("a", 1)])
    with second.lock():
        res = second.append([turn("a", 50), turn("b", 2)])  # a revision of a, and a new b
    assert res.revised["turn"] == 1 and res.appended["turn"] == 1
    key1 = machine_key(local_secret(tmp_path / "h1"))
    key2 = machine_key(local_secret(tmp_path / "h2"))
    assert key1 != key2 and first.machine() == key1
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute("SELECT record->>'message_id', machine FROM burn_events").fetchall())
    assert rows == {"a": key1, "b": key2}


def test_a_newer_schema_is_refused_with_one_line(url: str, tmp_path: Path) -> None:
    PostgresStore(tmp_path, url).migrate()
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO burn_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(Exception, match=f"version {SCHEMA_VERSION + 1}, newer than this burn"):
        PostgresStore(tmp_path, url).position()
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM burn_schema WHERE version > %s", (SCHEMA_VERSION,))


# -- faults through the CLI --------------------------------------------------------------------


def _corpus(claude: Path) -> None:
    for s in range(3):
        session = f"{s}1111111-1111-4111-8111-111111111111"
        lines: list[dict[str, Any]] = [user(f"u{s}", "hello", session=session)]
        for t in range(4):
            ts = f"2026-03-0{s + 1}T10:0{t}:00.000Z"
            lines.append(assistant(f"msg_{s}_{t}", 2, ts=ts, session=session))
            lines.append(assistant(f"msg_{s}_{t}", 30 + t, ts=ts, session=session))
        write_session(claude, lines, session=session)


def _env(tmp_path: Path, name: str, url: str | None) -> dict[str, str]:
    dirs = {k: tmp_path / name / k for k in ("home", "claude", "burn")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(dirs["home"]),
        "CLAUDE_CONFIG_DIR": str(dirs["claude"]),
        "RELAYBURN_HOME": str(dirs["burn"]),
        "CODEX_HOME": str(dirs["home"] / "codex"),
        "OPENCODE_DATA_DIR": str(dirs["home"] / "opencode"),
        "PATH": os.environ.get("PATH", ""),
        "TZ": "UTC",
        "BURN_STRICT_PLUGINS": "1",
    }
    if url is not None:
        env.update(RELAYBURN_STORAGE="postgres", RELAYBURN_DATABASE_URL=url)
    return env


def _burn(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "burn", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _cursor_rows(env: dict[str, str]) -> int:
    import sqlite3

    path = Path(env["RELAYBURN_HOME"]) / "cursors.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM cursors").fetchone()[0])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on return: nothing listens there


def test_unreachable_database_is_one_line_naming_host_and_database(tmp_path: Path) -> None:
    url = f"postgresql://burn:hunter2secret@127.0.0.1:{_closed_port()}/teamledger"
    env = _env(tmp_path, "h", url)
    _corpus(Path(env["CLAUDE_CONFIG_DIR"]))
    done = _burn(env, "ingest")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "'teamledger' on 127.0.0.1:" in lines[0] and "Traceback" not in done.stderr
    assert "hunter2secret" not in done.stderr + done.stdout
    assert _cursor_rows(env) == 0  # no cursor advanced: the next run reads everything again


def _digest_and_totals(env: dict[str, str]) -> tuple[str, list[int]]:
    archive = Archive.in_home(Path(env["RELAYBURN_HOME"]), readonly=True)
    try:
        digest = archive.digest()
        sums = archive.db.execute(
            "SELECT count(*), sum(input), sum(output), sum(cache_read), sum(cache_write_5m),"
            " sum(cache_write_1h), sum(cost_usd_micros) FROM turns"
        ).fetchone()
    finally:
        archive.close()
    return digest, list(sums)


@pytest.fixture
def uninterrupted(tmp_path: Path) -> tuple[tuple[str, list[int]], str]:
    """The corpus ingested once into the file store: the result every run must converge to, and
    the id of a turn it holds."""
    env = _env(tmp_path, "reference", None)
    one_host(Path(env["RELAYBURN_HOME"]), tmp_path / "h" / "burn")  # the host of the test below
    _corpus(Path(env["CLAUDE_CONFIG_DIR"]))
    assert _burn(env, "ingest").returncode == 0
    entries = list(FileStore(Path(env["RELAYBURN_HOME"])).read())
    return _digest_and_totals(env), next(e.id for e in entries if e.kind == "turn")


def _failed_cleanly_then_converges(
    proc: subprocess.Popen[str], env: dict[str, str], url: str, expected: tuple[str, list[int]]
) -> str:
    """The interrupted ingest ``proc`` failed with one line, rolled back and moved no cursor; the
    next run converges to ``expected``. Returns the line."""
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "cannot append to PostgreSQL database" in err
    assert _cursor_rows(env) == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM burn_events").fetchone()[0] == 0  # rolled back
    again = _burn(env, "ingest")
    assert again.returncode == 0, again.stderr
    assert _digest_and_totals(env) == expected
    return err.strip()


def test_backend_terminated_mid_ingest_fails_cleanly_and_the_next_run_converges(
    url: str, tmp_path: Path, uninterrupted: tuple[tuple[str, list[int]], str]
) -> None:
    expected, turn_id = uninterrupted
    env = _env(tmp_path, "h", url)
    _corpus(Path(env["CLAUDE_CONFIG_DIR"]))
    PostgresStore(tmp_path / "x", url).migrate()
    admin = psycopg.connect(url, autocommit=True)
    # Stall the ingest inside its append transaction, then terminate its backend there.
    held = _hold_id(url, turn_id, -1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "burn", "ingest"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _blocked_by(admin, held.info.backend_pid)
    victim = _pid_waited_on_by(admin, held.info.backend_pid)
    assert admin.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone()[0]
    held.rollback()
    _failed_cleanly_then_converges(proc, env, url, expected)
    admin.close()


def test_every_backend_terminated_repeatedly_mid_ingest_fails_cleanly_and_the_next_run_converges(
    url: str, tmp_path: Path, uninterrupted: tuple[tuple[str, list[int]], str]
) -> None:
    """What a server restart looks like to burn, without restarting the shared server: another
    connection terminates every backend of the database, again and again, while an ingest is in
    its append (held there by a lock the test takes first, so the kill always lands mid-ingest)."""
    expected, _ = uninterrupted
    env = _env(tmp_path, "h", url)
    _corpus(Path(env["CLAUDE_CONFIG_DIR"]))
    PostgresStore(tmp_path / "x", url).migrate()
    admin = psycopg.connect(url, autocommit=True)
    gate = psycopg.connect(url)
    gate.execute("SELECT pos FROM burn_head FOR UPDATE")
    proc = subprocess.Popen(
        [sys.executable, "-m", "burn", "ingest"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _blocked_by(admin, gate.info.backend_pid)
    terminated = 0
    while proc.poll() is None:
        terminated += admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    assert terminated >= 2  # the ingest's backend and the gate's, at least
    assert "terminat" in _failed_cleanly_then_converges(proc, env, url, expected)
    admin.close()


def test_statement_timeout_is_honoured_with_one_line(url: str, tmp_path: Path) -> None:
    """RELAYBURN_PG_STATEMENT_TIMEOUT bounds every statement: an append waiting on a lock another
    connection holds is cancelled by the server, and the run ends with one line saying so."""
    env = {**_env(tmp_path, "h", url), "RELAYBURN_PG_STATEMENT_TIMEOUT": "100ms"}
    _corpus(Path(env["CLAUDE_CONFIG_DIR"]))
    PostgresStore(tmp_path / "x", url).migrate()
    holder = psycopg.connect(url)
    holder.execute("SELECT pos FROM burn_head FOR UPDATE")  # held until the ingest has given up
    done = _burn(env, "ingest")
    holder.rollback()
    holder.close()
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "cannot append to PostgreSQL database" in lines[0]
    assert "canceling statement due to statement timeout" in lines[0]
    assert _cursor_rows(env) == 0


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("RELAYBURN_DATABASE_URL", raising=False)
    yield


def test_factory_opens_no_connection(tmp_path: Path) -> None:
    """Opening a store is free: the first read or append connects (a no-op ingest connects nowhere)."""
    from burn.ledger.postgres import open_postgres_store

    store = open_postgres_store(
        StoreConfig(home=tmp_path, url=f"postgresql://x@127.0.0.1:{_closed_port()}/db")
    )
    with store.lock():
        pass
    assert store._conn is None
