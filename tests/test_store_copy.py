"""``burn store copy|status|migrate`` through the real CLI: file → sqlite → file and file → postgres
→ sqlite → file give the same archive, a second copy adds nothing, status names the store without
its password. PostgreSQL is a real server (tests/pg.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.claude_lines import assistant, user, write_session
from tests.hosts import one_host
from tests.pg import as_url, pg_url, reset  # noqa: F401  (pg_url: a fixture)


def burn(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "burn", *args], env=env, capture_output=True, text=True)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def as_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(burn(env, *args, "--json").stdout)


@pytest.fixture
def base(tmp_path: Path) -> dict[str, str]:
    claude = tmp_path / "claude"
    lines = [user("u1", "hi"), assistant("msg_a", 7), assistant("msg_a", 90)]
    write_session(claude, [*lines, assistant("msg_b", 3, ts="2026-03-01T10:02:00.000Z")])
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TZ": "UTC",
        "CLAUDE_CONFIG_DIR": str(claude),
        "CODEX_HOME": str(tmp_path / "none"),
        "OPENCODE_DATA_DIR": str(tmp_path / "none"),
    }


def test_copy_file_to_sqlite_to_file_gives_the_same_archive(base: dict[str, str], tmp_path: Path) -> None:
    a = {**base, "RELAYBURN_HOME": str(tmp_path / "a")}
    db = tmp_path / "vol" / "burn.sqlite"
    b = {**base, "RELAYBURN_HOME": str(tmp_path / "b"), "RELAYBURN_STORAGE": "sqlite",
         "RELAYBURN_DATABASE_URL": f"sqlite://{db}"}  # fmt: skip
    c = {**base, "RELAYBURN_HOME": str(tmp_path / "c")}
    one_host(*(Path(env["RELAYBURN_HOME"]) for env in (a, b, c)))  # one host moving its ledger
    burn(a, "ingest", "-q")
    first = as_json(a, "store", "copy", "--to", f"sqlite://{db}")
    assert first["entries"] > 0 and first["appended"] + first["revised"] == first["entries"]
    again = as_json(a, "store", "copy", "--to", f"sqlite://{db}")
    assert (again["appended"], again["revised"], again["already_there"]) == (0, 0, first["entries"])
    burn(b, "archive", "build")
    burn(b, "store", "copy", "--to", str(tmp_path / "c"))
    burn(c, "archive", "build")
    digests = {as_json(env, "archive", "status")["digest"] for env in (a, b, c)}
    assert len(digests) == 1
    status = as_json(b, "store", "status")
    assert status == {"store": "sqlite", "where": str(db), "reachable": True, "entries": first["entries"],
                      "position": first["entries"]}  # fmt: skip


def test_copy_file_to_postgres_to_sqlite_to_file_gives_the_same_archive(
    base: dict[str, str],
    tmp_path: Path,
    pg_url: str,  # noqa: F811  (the imported fixture)
) -> None:
    pytest.importorskip("psycopg")
    reset(pg_url)
    url = as_url(pg_url)
    a = {**base, "RELAYBURN_HOME": str(tmp_path / "a")}
    pg = {**base, "RELAYBURN_HOME": str(tmp_path / "pg"), "RELAYBURN_STORAGE": "postgres",
          "RELAYBURN_DATABASE_URL": url}  # fmt: skip
    db = tmp_path / "vol" / "burn.sqlite"
    sq = {**base, "RELAYBURN_HOME": str(tmp_path / "sq"), "RELAYBURN_STORAGE": "sqlite",
          "RELAYBURN_DATABASE_URL": f"sqlite://{db}"}  # fmt: skip
    back = {**base, "RELAYBURN_HOME": str(tmp_path / "back")}
    one_host(*(Path(env["RELAYBURN_HOME"]) for env in (a, pg, sq, back)))  # one host moving its ledger
    burn(a, "ingest", "-q")
    first = as_json(a, "store", "copy", "--to", url)
    assert first["entries"] > 0 and first["appended"] + first["revised"] == first["entries"]
    again = as_json(a, "store", "copy", "--to", url)
    assert (again["appended"], again["revised"], again["already_there"]) == (0, 0, first["entries"])
    burn(pg, "archive", "build")
    burn(pg, "store", "copy", "--to", f"sqlite://{db}")
    burn(sq, "archive", "build")
    burn(sq, "store", "copy", "--to", back["RELAYBURN_HOME"])
    burn(back, "archive", "build")
    digests = [as_json(env, "archive", "status")["digest"] for env in (a, pg, sq, back)]
    assert len(set(digests)) == 1, digests
    entries = [as_json(env, "store", "status")["entries"] for env in (a, pg, sq, back)]
    assert entries == [first["entries"]] * 4


def test_status_and_errors_never_print_the_password(base: dict[str, str], tmp_path: Path) -> None:
    env = {**base, "RELAYBURN_HOME": str(tmp_path / "h")}
    bad = burn(env, "store", "copy", "--to", "nosuch://burn:hunter2@db.example/burn", ok=False)
    assert bad.returncode != 0 and "hunter2" not in bad.stderr
    assert bad.stderr.strip() == (
        "burn: error: no store 'nosuch' for nosuch://burn:[redacted]@db.example/burn (available: file, http, postgres, sqlite)"
    )
    unknown = burn({**env, "RELAYBURN_STORAGE": "nope"}, "store", "status", ok=False)
    assert (
        unknown.stderr.strip()
        == "burn: error: unknown RELAYBURN_STORAGE='nope' (available: file, http, postgres, sqlite)"
    )
    assert burn(env, "store", "migrate").stdout == "the file store has no schema to migrate\n"


def test_reads_and_doctor_use_the_selected_store(base: dict[str, str], tmp_path: Path) -> None:
    """Switching RELAYBURN_STORAGE after a copy: the first read rebuilds the archive from the new
    store's ledger (its positions mean something else), and later ingests build on it."""
    home = tmp_path / "h"
    file_env = {**base, "RELAYBURN_HOME": str(home)}
    burn(file_env, "ingest", "-q")
    burn(file_env, "store", "copy", "--to", f"sqlite://{home / 'burn.sqlite'}")
    before = as_json(file_env, "archive", "status")
    sqlite_env = {**file_env, "RELAYBURN_STORAGE": "sqlite"}
    switched = burn(sqlite_env, "summary", "--json")
    assert "built from another ledger store and was rebuilt" in switched.stderr
    after = as_json(sqlite_env, "archive", "status")
    assert after["digest"] == before["digest"]
    assert after["ledger_position"] == as_json(sqlite_env, "store", "status")["position"]
    assert burn(sqlite_env, "summary", "--json").stderr == ""  # rebuilt once
    doctor = burn(sqlite_env, "doctor").stdout
    assert f"store      sqlite at {home / 'burn.sqlite'} · reachable" in doctor
    unknown = burn({**file_env, "RELAYBURN_STORAGE": "redis"}, "summary", ok=False)
    assert (
        unknown.stderr.strip()
        == "burn: error: unknown RELAYBURN_STORAGE='redis' (available: file, http, postgres, sqlite)"
    )
