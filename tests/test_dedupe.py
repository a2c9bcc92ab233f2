"""Source dedupe rules in ingest (burn.ingest.dedupe): Claude Code's /btw replay rule, declared by the
Claude reader and applied before the append, with its facts kept in ``dedupe.sqlite``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import burn.ingest.run
from burn.ingest.dedupe import Deduper
from burn.ingest.run import ingest
from burn.ledger.file import FileStore
from burn.plugins.manager import Plugins
from burn.store import LedgerEntry, ReadStats
from tests.claude_lines import SESSION, assistant, dumps, write_session
from tests.test_ingest import env, run

__all__ = ["env"]  # the fixture, shared with test_ingest

AGENT = "aside_question-1"


def main_session(env: dict[str, str]) -> Path:
    return write_session(Path(env["CLAUDE_CONFIG_DIR"]), [assistant("msg_M", 200, request="req_1")])


def aside(env: dict[str, str], main: Path) -> None:
    """A /btw side question: the main chain's last message replayed under a new request id, then
    the side question's own answer."""
    side = dict(isSidechain=True, agentId=AGENT, ts="2026-03-01T10:05:00.000Z")
    path = main.parent / SESSION / "subagents" / f"agent-{AGENT}.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        dumps([assistant("msg_M", 200, request="req_2", **side), assistant("msg_Q", 30, **side)])
    )


def ledger_turns(env: dict[str, str]) -> list[tuple[str, str, bool]]:
    store = FileStore(Path(env["RELAYBURN_HOME"]))
    return sorted(
        (e.record["message_id"], e.record["request_id"], bool(e.record.get("is_sidechain")))
        for e in store.read()
        if e.kind == "turn"
    )


KEPT = [("msg_M", "req_1", False), ("msg_Q", "req_msg_Q", True)]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_btw_replay_in_the_same_run_is_dropped_before_the_ledger(env: dict[str, str], workers: str) -> None:
    aside(env, main_session(env))
    first = run({**env, "BURN_WORKERS": workers})
    assert first["duplicates_dropped"] == {"btw_replay": 1}
    assert ledger_turns(env) == KEPT
    again = run(env)
    assert (again["lines_read"], again["records_appended"], again["duplicates_dropped"]) == (0, 0, {})


def test_btw_replay_in_a_later_run_is_dropped_by_what_the_cache_remembers(env: dict[str, str]) -> None:
    main = main_session(env)
    assert run(env)["duplicates_dropped"] == {}
    aside(env, main)
    assert run(env)["duplicates_dropped"]["btw_replay"] == 1
    assert ledger_turns(env) == KEPT


@pytest.mark.parametrize("damage", ["deleted", "ahead_of_the_ledger", "other_format"])
def test_a_lost_or_wrong_cache_is_rebuilt_from_the_ledger(env: dict[str, str], damage: str) -> None:
    main = main_session(env)
    run(env)
    cache = Path(env["RELAYBURN_HOME"]) / "dedupe.sqlite"
    assert cache.exists()
    if damage == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
    else:
        import sqlite3

        db = sqlite3.connect(cache)
        db.execute("DELETE FROM facts")  # what a rebuild from the ledger must restore
        key, value = ("covered", "999999999") if damage == "ahead_of_the_ledger" else ("format", "0")
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        db.commit()
        db.close()
    aside(env, main)
    assert run(env)["duplicates_dropped"]["btw_replay"] == 1
    assert ledger_turns(env) == KEPT


def test_a_cache_behind_the_ledger_catches_up_from_the_store(env: dict[str, str]) -> None:
    """Entries appended by a run that never updated the cache (another host on a shared store, a
    crash after the append) are read from the store's change feed."""
    main = main_session(env)
    home = Path(env["RELAYBURN_HOME"])
    run({**env, "CLAUDE_CONFIG_DIR": str(home / "nothing")})  # creates the cache, covering nothing
    store = FileStore(home)
    other = ingest(home, Plugins(env=env), env)  # appends the main turn
    assert other.totals()["records_appended"] > 0
    import sqlite3

    db = sqlite3.connect(home / "dedupe.sqlite")
    db.execute("DELETE FROM facts")
    db.execute("UPDATE meta SET value = '0' WHERE key = 'covered'")
    db.commit()
    db.close()
    assert store.position() > 0
    aside(env, main)
    assert run(env)["duplicates_dropped"]["btw_replay"] == 1


def test_no_op_ingest_does_not_open_the_cache(env: dict[str, str]) -> None:
    main_session(env)
    run(env)
    cache = Path(env["RELAYBURN_HOME"]) / "dedupe.sqlite"
    before = os.stat(cache).st_mtime_ns
    assert run(env)["lines_read"] == 0
    assert os.stat(cache).st_mtime_ns == before


class _CountingReads(Deduper):
    """A Deduper that counts the ledger entries its catch-up reads back from the store."""

    entries = 0

    def _catch_up(self, db: sqlite3.Connection, covered: int) -> None:
        read = self.store.read

        def counted(since: int = 0, stats: ReadStats | None = None) -> Iterator[LedgerEntry]:
            for entry in read(since, stats):
                _CountingReads.entries += 1
                yield entry

        self.store.read = counted  # type: ignore[method-assign]  # this store object only
        try:
            super()._catch_up(db, covered)
        finally:
            del self.store.read


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_first_run_reads_no_entry_back_into_the_cache(
    env: dict[str, str], workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache is caught up before the run appends anything (work count): opened at Claude's first
    batch, it read back every entry the run had appended for the readers before it (Codex)."""
    codex = Path(__file__).parent / "fixtures" / "codex" / "accounting"
    shutil.copytree(codex, env["CODEX_HOME"], dirs_exist_ok=True)
    lines = [assistant(f"msg_{i}", 10 + i, request=f"req_{i}") for i in range(40)]
    claude = write_session(Path(env["CLAUDE_CONFIG_DIR"]), lines)
    # The premise: Claude's unit is the larger, so its reader goes after Codex's.
    assert claude.stat().st_size > max(f.stat().st_size for f in codex.rglob("*.jsonl"))
    monkeypatch.setattr(burn.ingest.run, "Deduper", _CountingReads)
    _CountingReads.entries = 0
    first = run({**env, "BURN_WORKERS": workers})
    assert first["appended_by_kind"]["turn"] > 40  # Codex's turns and Claude's
    assert _CountingReads.entries == 0
    # A cache left behind the ledger (covering nothing) catches up over the whole of it, once.
    home = Path(env["RELAYBURN_HOME"])
    db = sqlite3.connect(home / "dedupe.sqlite")
    db.execute("UPDATE meta SET value = '0' WHERE key = 'covered'")
    db.commit()
    db.close()
    before = sum(1 for _ in FileStore(home).read())
    _CountingReads.entries = 0
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), [*lines, assistant("msg_new", 5, request="req_new")])
    assert run(env)["appended_by_kind"] == {"turn": 1}
    assert _CountingReads.entries == before


_COMMIT_PAST_THE_LIMIT = """
import resource, sqlite3, sys
from pathlib import Path
from burn.ingest.dedupe import Deduper, _connect

db = _connect(Path(sys.argv[1]))
# Python ignores SIGXFSZ: a write past the limit fails (EFBIG), as on a full disk. The facts fit
# in SQLite's page cache, so the first write to the file is the COMMIT's.
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))
rows = [("rule", f"key-{i}", "v" * 40) for i in range(4000)]
try:
    Deduper._remember(db, rows, 1)
except sqlite3.Error as exc:
    print(f"{type(exc).__name__}: {exc}")
"""


def test_a_commit_that_fails_on_a_full_disk_raises_its_own_error(tmp_path: Path) -> None:
    """The dedupe cache's facts are committed through burn.sqlite.transaction: a COMMIT that fails
    (the disk is full) has already ended the transaction, and the error the user is shown is the
    full disk's (past a file-size limit SQLite says "disk I/O error"), not a failed ROLLBACK's
    ("cannot rollback - no transaction is active")."""
    r = subprocess.run(
        [sys.executable, "-c", _COMMIT_PAST_THE_LIMIT, str(tmp_path / "dedupe.sqlite")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in (
        "OperationalError: database or disk is full",
        "OperationalError: disk I/O error",
    )
