"""``burn serve --certfile/--keyfile`` with a certificate from a freshly made private CA, and the
clients that verify it against that CA: ``burn report --server https://…`` and the ``http`` store
(``RELAYBURN_CA_FILE``, or OpenSSL's own ``SSL_CERT_FILE``); docs/server.md, "TLS"."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from burn.ledger.file import FileStore
from tests.contract_fixture import build_fixture, env_for
from tests.server_fixture import Served, cli, start
from tests.test_http_store import _env, _host, _single
from tests.test_postgres_convergence import WHOLE, _write
from tests.test_postgres_store import _burn, _cursor_rows
from tests.test_server import _same

_TRUST = ("SSL_CERT_FILE", "SSL_CERT_DIR", "RELAYBURN_CA_FILE")  # the tests say which CA is trusted


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA and a server certificate it signed for 127.0.0.1 and localhost (openssl CLI)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a certificate")
    d = tmp_path_factory.mktemp("pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        done = subprocess.run(
            [openssl, *args], cwd=d, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=burn test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (d / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "server.ext")  # fmt: skip
    return {"ca": d / "ca.pem", "cert": d / "server.pem", "key": d / "server.key"}


def _serve_tls(env: dict[str, str], pki: dict[str, Path], log: Path) -> Served:
    trust = ssl.create_default_context(cafile=str(pki["ca"]))
    return start(env, "--refresh", "0", "--certfile", str(pki["cert"]), "--keyfile", str(pki["key"]),
                 log=log, tls=trust)  # fmt: skip


@pytest.fixture
def untrusting(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _TRUST:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fixture_tls(
    tmp_path: Path, pki: dict[str, Path], untrusting: None
) -> Iterator[tuple[Served, dict[str, str]]]:
    build_fixture(tmp_path)
    env = {**env_for(tmp_path), "TZ": "UTC"}
    served = _serve_tls(env, pki, tmp_path / "serve.log")
    yield served, env
    served.stop()


def test_report_over_https_is_verified_against_the_ca(
    fixture_tls: tuple[Served, dict[str, str]], pki: dict[str, Path]
) -> None:
    served, env = fixture_tls
    assert served.url.startswith("https://127.0.0.1:")
    local = cli(env, "report", "usage", "--by", "day", "--json")
    assert local.returncode == 0, local.stderr
    args = ("report", "usage", "--by", "day", "--json", "--server", served.url)
    for trust in ({"RELAYBURN_CA_FILE": str(pki["ca"])}, {"SSL_CERT_FILE": str(pki["ca"])}):
        remote = cli({**env, **trust}, *args)
        assert remote.returncode == 0, (trust, remote.stderr)
        assert _same(remote.stdout) == _same(local.stdout)

    # Not trusted: refused, in one line that says what to set; nothing on stdout.
    refused = cli(env, *args)
    assert refused.returncode != 0 and refused.stdout == b""
    lines = refused.stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"burn: error: cannot reach the burn server at {served.url}: ")
    assert "not trusted" in lines[0] and "RELAYBURN_CA_FILE" in lines[0]

    # A CA file that is not one: one line naming the variable.
    bad = cli({**env, "RELAYBURN_CA_FILE": str(pki["ca"].with_name("missing.pem"))}, *args)
    assert bad.returncode != 0
    assert bad.stderr.decode().strip().splitlines() == [
        f"burn: error: RELAYBURN_CA_FILE={pki['ca'].with_name('missing.pem')}: cannot load it "
        "(No such file or directory)"
    ]


def test_http_store_over_https(tmp_path: Path, pki: dict[str, Path], untrusting: None) -> None:
    _expected, ids = _single(tmp_path)
    server_env = _env(tmp_path, "server", None)
    served = _serve_tls(server_env, pki, tmp_path / "serve.log")
    try:
        # Not trusted: the run fails at once in one line, and no cursor is saved.
        host = _host(tmp_path, "refused", served.url)
        _write(Path(host["CLAUDE_CONFIG_DIR"]), WHOLE)
        done = _burn(host, "ingest")
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "not trusted" in lines[0] and "RELAYBURN_CA_FILE" in lines[0], lines
        assert "attempts" not in lines[0]  # not retried: the certificate would be the same
        assert _cursor_rows(host) == 0

        host = _host(tmp_path, "trusting", served.url, RELAYBURN_CA_FILE=str(pki["ca"]))
        _write(Path(host["CLAUDE_CONFIG_DIR"]), WHOLE)
        done = _burn(host, "ingest")
        assert done.returncode == 0, done.stderr
    finally:
        served.stop()
    assert sorted(e.id for e in FileStore(Path(server_env["RELAYBURN_HOME"])).read()) == ids
