"""Four hosts, one PostgreSQL ledger (DESIGN §6): hosts with their own burn homes (and machine keys)
ingest overlapping copies of one generated corpus — some sessions cut mid-stream, right after a
partial snapshot of a turn, on one host and whole on another — concurrently, as four processes.
The database holds exactly one row per event id, the totals equal one host ingesting the whole
corpus, to the token and the micro-dollar, and every host's archive digest is the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from burn.archive.database import Archive
from burn.ledger.file import FileStore
from burn.ledger.postgres import PostgresStore
from burn.privacy.identity import local_secret, machine_key
from tests.claude_lines import assistant, user, write_session
from tests.pg import pg_url, reset  # noqa: F401  (pg_url: a fixture)
from tests.test_postgres_store import _burn, _digest_and_totals, _env, _wait_until

psycopg = pytest.importorskip("psycopg")

SESSIONS, TURNS = 6, 5


def _session(s: int) -> tuple[str, list[dict[str, Any]]]:
    """Session ``s``: a prompt, then each turn streamed as a partial snapshot and the final one."""
    session = f"{s}2222222-2222-4222-8222-222222222222"
    lines: list[dict[str, Any]] = [user(f"u{s}", "go", session=session)]
    for t in range(TURNS):
        ts = f"2026-04-0{1 + s % 7}T1{t}:00:00.000Z"
        model = "claude-sonnet-4-5-20250929" if (s + t) % 3 else "claude-opus-4-1-20250805"
        lines.append(assistant(f"msg_{s}_{t}", 3, ts=ts, session=session, model=model, cache_5m=t))
        lines.append(
            assistant(f"msg_{s}_{t}", 100 + 7 * s + t, ts=ts, session=session, model=model, cache_5m=t)
        )
    return session, lines


def _write(claude: Path, cuts: dict[int, int | None]) -> None:
    """The sessions in ``cuts``: whole (``None``) or cut after turn ``k``'s partial snapshot."""
    for s, cut in cuts.items():
        session, lines = _session(s)
        write_session(claude, lines if cut is None else lines[: 2 + 2 * cut], session=session)


WHOLE = dict.fromkeys(range(SESSIONS))
HOSTS: list[dict[int, int | None]] = [
    WHOLE,
    {0: None, 1: None, 2: None, 3: 1, 4: 0, 5: 4},
    {s: s % TURNS for s in range(SESSIONS)},
    {0: 2, 1: 0, 2: 3, 3: None, 4: None, 5: None},
]


def test_four_hosts_converge_on_one_ledger(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    reset(pg_url)
    single = _env(tmp_path, "single", None)
    _write(Path(single["CLAUDE_CONFIG_DIR"]), WHOLE)
    assert _burn(single, "ingest").returncode == 0
    _, expected_totals = _digest_and_totals(single)
    ids = {e.id for e in FileStore(Path(single["RELAYBURN_HOME"])).read()}

    hosts = [_env(tmp_path, f"host{n}", pg_url) for n in range(len(HOSTS))]
    for env, cuts in zip(hosts, HOSTS, strict=True):
        _write(Path(env["CLAUDE_CONFIG_DIR"]), cuts)
    PostgresStore(tmp_path, pg_url).migrate()
    # The starting gate: the test holds the head row, so all four ingests open their append
    # transactions and queue on it; released together, they interleave on the server.
    gate = psycopg.connect(pg_url)
    gate.execute("SELECT pos FROM burn_head FOR UPDATE")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "burn", "ingest"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for env in reversed(hosts)  # the partial copies first
    ]
    admin = psycopg.connect(pg_url, autocommit=True)
    _wait_until(
        admin,
        # queued behind the gate, directly or behind another waiter (a row's lock queue)
        "SELECT count(*) = %s FROM pg_stat_activity"
        " WHERE application_name = 'burn' AND cardinality(pg_blocking_pids(pid)) > 0",
        len(hosts),
    )
    gate.rollback()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err

    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT id FROM burn_events").fetchall()
        machines = {r[0] for r in conn.execute("SELECT DISTINCT machine FROM burn_events")}
    assert sorted(r[0] for r in rows) == sorted(ids)  # exactly one row per event id
    keys = {machine_key(local_secret(Path(env["RELAYBURN_HOME"]))) for env in hosts}
    assert len(keys) == len(hosts) and machines <= keys  # each row: the host that saw it first
    admin.close()
    gate.close()

    results = []
    for env in hosts:
        done = _burn(env, "archive", "build")
        assert done.returncode == 0, done.stderr
        results.append(_digest_and_totals(env))
    # One digest for every host (the machine of each turn comes from the shared rows, so it is
    # the same everywhere); the single host's differs only in that column (its file ledger
    # records no machine), so its totals are the reference.
    assert len({digest for digest, _ in results}) == 1
    assert all(totals == expected_totals for _, totals in results)
    # The archive groups by machine: each turn's machine is its row's, and --by machine adds up.
    with psycopg.connect(pg_url) as conn:
        first_seen = dict(conn.execute("SELECT id, machine FROM burn_events WHERE kind = 'turn'").fetchall())
    archive = Archive.in_home(Path(hosts[0]["RELAYBURN_HOME"]), readonly=True)
    try:
        assert dict(archive.db.execute("SELECT id, machine FROM turns").fetchall()) == first_seen
    finally:
        archive.close()
    report = _burn(hosts[0], "report", "usage", "--by", "machine", "--ndjson")
    assert report.returncode == 0, report.stderr
    rows = [json.loads(line) for line in report.stdout.splitlines()]
    usage = [r for r in rows if r.get("type") == "usage"]
    # (How many machines there are depends on which host the server let commit first.)
    assert {r["key"] for r in usage} == set(first_seen.values())
    assert sum(r["turns"] for r in usage) == expected_totals[0]
    one = usage[0]["key"]
    only = _burn(hosts[0], "report", "usage", "--by", "machine", "--machine", one[:15], "--ndjson")
    assert only.returncode == 0, only.stderr
    lines = [json.loads(line) for line in only.stdout.splitlines()]
    assert [r["key"] for r in lines if r.get("type") == "usage"] == [one]
    assert next(r for r in lines if r.get("type") == "meta")["filters"]["machines"] == [one]
