"""A real PostgreSQL for the tests, never a mock.

:func:`server_url` finds a server: ``BURN_TEST_PG_DSN`` when set, else the one on 127.0.0.1:5432
(trust authentication), else a throwaway cluster started with ``initdb``/``pg_ctl`` from the PATH
or Debian's ``/usr/lib/postgresql/*/bin`` (as the ``postgres`` user when running as root: the
server refuses root) and stopped when the tests end. With none of these the tests skip with the
reason — except under ``BURN_TEST_POSTGRES=required`` (``.ci/run`` sets it), where they fail, so
CI cannot pass by skipping them.

:func:`fresh_database` creates a uniquely named database (dropped by the fixture that made it).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import pytest

DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"


def _unavailable(reason: str) -> None:
    if os.environ.get("BURN_TEST_POSTGRES") == "required":
        pytest.fail(f"BURN_TEST_POSTGRES=required but {reason}")
    pytest.skip(reason)


def _answers(url: str) -> str | None:
    """``None`` when a server answers at ``url``, else why not."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3, autocommit=True).close()
    except psycopg.Error as exc:
        return " ".join(str(exc).split())
    return None


@cache
def _server() -> tuple[str | None, str]:
    """(the admin URL of a server, or None; why none)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed (pip install 'burn[postgres]')"
    dsn = os.environ.get("BURN_TEST_PG_DSN")
    if dsn:
        why = _answers(dsn)
        return (dsn, "") if why is None else (None, f"BURN_TEST_PG_DSN does not answer: {why}")
    why = _answers(DEFAULT)
    if why is None:
        return DEFAULT, ""
    return _throwaway_cluster(f"no server on 127.0.0.1:5432 ({why})")


def _throwaway_cluster(why: str) -> tuple[str | None, str]:
    bins = [os.path.dirname(p) for p in [shutil.which("initdb") or ""] if p]
    bins += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    bindir = next((b for b in bins if os.access(os.path.join(b, "pg_ctl"), os.X_OK)), None)
    if bindir is None:
        return None, f"{why}, and no initdb/pg_ctl to start one"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        runuser = shutil.which("runuser")
        if runuser is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            return None, f"{why}; running as root without runuser and a postgres user to start one"
        as_user = [runuser, "-u", "postgres", "--"]
    tmp = tempfile.mkdtemp(prefix="burn-pg-")
    if as_user:
        shutil.chown(tmp, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = os.path.join(tmp, "data")
    pg_ctl = [*as_user, os.path.join(bindir, "pg_ctl"), "-D", data]
    init = [*as_user, os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust"]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c fsync=off"
    start = [*pg_ctl, "-l", os.path.join(tmp, "server.log"), "-w", "-t", "30", "-o", options, "start"]
    for cmd in (init, start):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            shutil.rmtree(tmp, ignore_errors=True)
            return None, f"{why}; starting a throwaway cluster failed: {done.stderr.strip()[-300:]}"

    def stop() -> None:
        subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", ""


def server_url() -> str:
    """The admin URL of a PostgreSQL server for the tests (skips or fails when there is none)."""
    url, why = _server()
    if url is None:
        _unavailable(why)
    assert url is not None
    return url


def _with_db(url: str, name: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = name
    return make_conninfo(**params)


def as_url(conninfo: str) -> str:
    """A ``postgresql://`` URL for a conninfo string (``burn store copy --to`` takes URLs)."""
    from urllib.parse import quote

    from psycopg.conninfo import conninfo_to_dict

    p = {k: str(v) for k, v in conninfo_to_dict(conninfo).items()}
    auth = quote(p.get("user", ""), safe="") + (
        ":" + quote(p["password"], safe="") if "password" in p else ""
    )
    host = p.get("host", "127.0.0.1")
    return f"postgresql://{auth}{'@' if auth else ''}{host}:{p.get('port', '5432')}/{p.get('dbname', '')}"


@cache
def _run_id() -> str:
    return uuid.uuid4().hex[:8]


@contextmanager
def fresh_database(label: str) -> Iterator[str]:
    """Create a uniquely named database; give its URL; drop it afterwards."""
    import psycopg

    admin = server_url()
    name = f"burn_test_{label}_{_run_id()}_{uuid.uuid4().hex[:6]}"[:63]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield _with_db(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def reset(url: str) -> None:
    """Empty a burn ledger database (its schema stays): a fresh store for the next test."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('burn_events') IS NOT NULL").fetchone()
        if exists and exists[0]:
            conn.execute("TRUNCATE burn_revisions, burn_events")
            conn.execute("UPDATE burn_head SET pos = 0")


@pytest.fixture(scope="module")
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of this test module's own (dropped after it)."""
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with fresh_database(label) as url:
        yield url
