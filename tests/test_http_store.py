"""The ``http`` store end to end (docs/stores.md): hosts ingest into a real ``burn serve`` on a
random loopback port. Four hosts with overlapping corpora converge on the server's ledger exactly;
a server killed mid-ingest fails the host's run cleanly, with no cursor saved, and the next run
after a restart loses nothing and duplicates nothing; an unreachable server is one line that
names it without credentials."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from burn.ledger.file import FileStore
from tests.hosts import one_host
from tests.server_fixture import Served, start
from tests.test_postgres_convergence import HOSTS, WHOLE, _write
from tests.test_postgres_store import _burn, _closed_port, _cursor_rows, _digest_and_totals
from tests.test_postgres_store import _env as _pg_env


def _host(tmp_path: Path, name: str, url: str, **extra: str) -> dict[str, str]:
    env = _env(tmp_path, name, None)
    env.update({"RELAYBURN_STORAGE": "http", "RELAYBURN_SERVER_URL": url, "RELAYBURN_HTTP_RETRIES": "3"})
    env.update(extra)
    return env


def _ingest(env: dict[str, str]) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "burn", "ingest"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _serve(env: dict[str, str], log: Path) -> Served:
    return start(env, "--refresh", "0", log=log)


def _single(tmp_path: Path) -> tuple[tuple[str, list[int]], list[str]]:
    """The whole corpus ingested by one host into its file store: digest and totals, and the
    ledger's ids (one per entry)."""
    env = _env(tmp_path, "single", None)
    _write(Path(env["CLAUDE_CONFIG_DIR"]), WHOLE)
    done = _burn(env, "ingest")
    assert done.returncode == 0, done.stderr
    return _digest_and_totals(env), sorted(e.id for e in FileStore(Path(env["RELAYBURN_HOME"])).read())


def _env(tmp_path: Path, name: str, url: str | None) -> dict[str, str]:
    """A host's environment; every home shares one local secret, so one machine key: the http store
    does not carry the sending host's machine key to the server yet (docs/stores.md), and these
    tests compare archives across homes."""
    env = _pg_env(tmp_path, name, url)
    one_host(Path(env["RELAYBURN_HOME"]))
    return env


def test_four_hosts_converge_on_the_servers_ledger(tmp_path: Path) -> None:
    expected, ids = _single(tmp_path)
    server_env = _env(tmp_path, "server", None)
    served = _serve(server_env, tmp_path / "serve.log")
    try:
        hosts = [_host(tmp_path, f"host{n}", served.url) for n in range(len(HOSTS))]
        for env, cuts in zip(hosts, HOSTS, strict=True):
            _write(Path(env["CLAUDE_CONFIG_DIR"]), cuts)
        procs = [_ingest(env) for env in reversed(hosts)]  # the partial copies first
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        # The server's archive is current after every append: its totals are the single host's.
        assert _digest_and_totals(server_env) == expected
        ledger = FileStore(Path(server_env["RELAYBURN_HOME"]))
        assert {e.id for e in ledger.read()} == set(ids)  # revisions aside, one event per id
        for env in hosts:  # each host's own archive, built from the server's ledger
            done = _burn(env, "archive", "build")
            assert done.returncode == 0, done.stderr
            assert _digest_and_totals(env) == expected
    finally:
        served.stop()


def test_server_killed_mid_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    expected, ids = _single(tmp_path)
    server_env = _env(tmp_path, "server", None)
    served = _serve(server_env, tmp_path / "serve1.log")
    # One entry per request, so that the ingest is still sending when the server dies.
    host = _host(tmp_path, "host", served.url, RELAYBURN_HTTP_BATCH="1")
    _write(Path(host["CLAUDE_CONFIG_DIR"]), WHOLE)
    proc = _ingest(host)
    try:
        deadline = time.monotonic() + 60  # a bound on waiting, not an assertion on speed
        while '"method":"POST"' not in served.log.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, served.log.read_text()
            time.sleep(0.002)
        served.proc.send_signal(signal.SIGKILL)  # mid-ingest: after the first append
        served.proc.wait()
        _, err = proc.communicate(timeout=120)
    finally:
        served.stop()
    sent = [e.id for e in FileStore(Path(server_env["RELAYBURN_HOME"])).read()]
    assert 0 < len(sent) < len(ids)
    assert proc.returncode != 0
    port = served.port
    assert err.strip().splitlines() == [
        f"burn: error: cannot append to the burn server at http://127.0.0.1:{port}: "
        "connection refused (3 attempts)"
    ]
    assert _cursor_rows(host) == 0  # no cursor past the unsent records

    again = _serve(server_env, tmp_path / "serve2.log")  # same home, a new port
    try:
        host["RELAYBURN_SERVER_URL"] = again.url
        done = _burn(host, "ingest")
        assert done.returncode == 0, done.stderr
        assert _cursor_rows(host) > 0
    finally:
        again.stop()
    # Everything arrived once: the resent entries were duplicates the server dropped.
    assert sorted(e.id for e in FileStore(Path(server_env["RELAYBURN_HOME"])).read()) == ids
    assert _digest_and_totals(server_env) == expected
    assert _digest_and_totals(host) == expected


def test_unreachable_server_is_one_line_without_credentials(tmp_path: Path) -> None:
    url = f"http://ci:hunter2secret@127.0.0.1:{_closed_port()}/burn/"
    host = _host(tmp_path, "host", url, RELAYBURN_TOKEN="tok-sup3r-s3cret", RELAYBURN_HTTP_RETRIES="2")
    _write(Path(host["CLAUDE_CONFIG_DIR"]), WHOLE)
    done = _burn(host, "ingest")
    assert done.returncode != 0
    assert "hunter2secret" not in done.stderr + done.stdout
    assert "tok-sup3r-s3cret" not in done.stderr + done.stdout
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert done.stderr.strip().splitlines() == [
        # (the dedupe state asks the ledger before the first append)
        f"burn: error: cannot read the burn server at http://127.0.0.1:{port}/burn/: "
        "connection refused (2 attempts)"
    ]
    assert _cursor_rows(host) == 0


def test_a_refused_token_is_one_line_and_is_not_retried(tmp_path: Path) -> None:
    server_env = _env(tmp_path, "server", None)
    made = _burn(server_env, "serve", "token", "create", "--name", "reader", "--scope", "read")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[0].split()[-1]
    served = _serve(server_env, tmp_path / "serve.log")
    try:
        host = _host(tmp_path, "host", served.url, RELAYBURN_TOKEN=token)
        _write(Path(host["CLAUDE_CONFIG_DIR"]), WHOLE)
        done = _burn(host, "ingest")
        log = served.stop()
    finally:
        served.stop()
    assert done.returncode != 0 and token not in done.stderr + done.stdout and token not in log
    assert done.stderr.strip().splitlines() == [
        f"burn: error: cannot append to the burn server at {served.url}: "
        "403 forbidden: this token's scope is read; this needs write"
    ]
    assert log.count('"method":"POST"') == 1  # refused, not retried
    assert _cursor_rows(host) == 0


def test_commands_on_another_store_do_not_load_the_http_client(tmp_path: Path) -> None:
    # Every command loads the store plugins; the http store's client (http.client, ssl, email …)
    # loads only when it sends a request. The same probe shows it loaded by a read through it.
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"RELAYBURN_HOME": str(tmp_path / "burn"), "HOME": str(empty), "PATH": "/usr/bin:/bin",
           "CLAUDE_CONFIG_DIR": str(empty), "CODEX_HOME": str(empty), "OPENCODE_DATA_DIR": str(empty)}  # fmt: skip
    probe = (
        "import sys; from burn.entry import main; main({argv!r}); "
        "sys.stderr.write('HTTP=%s\\n' % ('http.client' in sys.modules))"
    )
    for argv in (["ingest", "--quiet"], ["report", "usage", "--json"]):
        r = subprocess.run(
            [sys.executable, "-c", probe.format(argv=argv)], env=env, capture_output=True, text=True
        )
        assert "HTTP=False" in r.stderr, (argv, r.stderr)
    http_env = {
        **env,
        "RELAYBURN_STORAGE": "http",
        "RELAYBURN_SERVER_URL": f"http://127.0.0.1:{_closed_port()}",
    }
    r = subprocess.run([sys.executable, "-c", probe.format(argv=["report", "usage", "--json"])], env=http_env,
                       capture_output=True, text=True)  # fmt: skip
    assert "HTTP=True" in r.stderr, r.stderr
