"""Credentials in git remotes and branch names never reach the ledger, the archive or any output.

Property tests (hypothesis) over every URL shape a remote comes in — https with userinfo, tokens in
the query or fragment, percent-encoded (and double-encoded) variants, scp-like ``user:pw@host:path``
with ``@``, ``/`` and ``:`` in the password, IPv6 hosts, ``ssh://``, ``git://``, ports, file paths —
each carrying a random secret; and branch names carrying well-known token shapes. First through
:func:`normalize_remote` alone (the only thing kept is host and owner/repo, or nothing), then end
to end: a git repository with that remote is the working directory of a Claude session, which is
ingested; the ledger, the archive, ``burn summary`` and the ``sessions`` export (default
``shareable`` profile and ``full``) must not hold the secret in any spelling.
"""

from __future__ import annotations

import shutil
import string
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from burn.archive.database import Archive
from burn.privacy.identity import observe
from burn.privacy.redact import redact
from burn.privacy.remotes import clean_remote, normalize_remote
from burn.query import Filters
from burn.query.summary import summarize
from tests.claude_lines import assistant, write_session
from tests.contract_fixture import env_for, run, run_ingest

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

# Any printable non-space character, the URL delimiters above all; "Zq" makes a secret distinct
# from every host and path below, so "the secret is not in the output" means something.
_SECRET_CHARS = string.ascii_letters + string.digits + "@/:#?%&=+!$'()*,;~-._[]"
secrets = st.text(_SECRET_CHARS, min_size=6, max_size=30).map(lambda s: "Zq" + s)


def q(text: str) -> str:
    return quote(text, safe="")


# url template → the only normalized form it may have (None: it must be dropped)
GH = "github.com/acme/api"
EX = "example.org/acme/api"
SHAPES: dict[str, tuple[Callable[[str], str], str | None]] = {
    "https-userinfo-encoded": (lambda s: f"https://deploy:{q(s)}@github.com/acme/api.git", GH),
    "https-userinfo-raw": (lambda s: f"https://deploy:{s}@github.com/acme/api.git", GH),
    "https-token-as-user": (lambda s: f"https://{s}@github.com/acme/api", GH),
    "https-user-encoded-whole": (lambda s: f"https://{q('deploy:' + s)}@github.com/acme/api.git", GH),
    "https-port-userinfo": (lambda s: f"https://u:{q(s)}@GitHub.com:8443/acme/api.git", "github.com:8443/acme/api"),
    "x-access-token": (lambda s: f"https://x-access-token:{q(s)}@github.com/acme/api", GH),
    "query": (lambda s: f"https://github.com/acme/api.git?private_token={s}", GH),
    "query-no-key": (lambda s: f"https://github.com/acme/api?{s}", GH),
    "fragment": (lambda s: f"https://github.com/acme/api.git#{s}", GH),
    "query-percent": (lambda s: f"https://github.com/acme/api.git%3Ftoken%3D{q(s)}", GH),
    "fragment-percent": (lambda s: f"https://github.com/acme/api%23{q(s)}", GH),
    "query-double-percent": (lambda s: f"https://github.com/acme/api.git%253Ftoken%253D{q(q(s))}", GH),
    "scp-password": (lambda s: f"frank:{s}@github.com:acme/api.git", GH),
    "scp-user": (lambda s: f"{s}@github.com:acme/api.git", GH),
    "scp-ipv6": (lambda s: f"frank:{s}@[::1]:acme/api.git", "[::1]/acme/api"),
    "ssh-password": (lambda s: f"ssh://deploy:{q(s)}@git.example.com:2222/acme/api.git",
                     "git.example.com:2222/acme/api"),
    "ssh-raw-password": (lambda s: f"ssh://deploy:{s}@github.com/acme/api.git", GH),
    "ssh-ipv6": (lambda s: f"ssh://git:{q(s)}@[fe80::1]:22/acme/api.git", "[fe80::1]/acme/api"),
    "git-query": (lambda s: f"git://example.org/acme/api.git?{q(s)}", EX),
    "ftp-userinfo": (lambda s: f"ftp://u:{q(s)}@example.org/acme/api.git", EX),
    "file-path": (lambda s: f"/srv/git/{s}/api.git", None),
    "file-url": (lambda s: f"file:///srv/git/{q(s)}/api.git", None),
    "relative-path": (lambda s: f"./clones/{s}:x/api", None),
    "token-as-path": (lambda s: "https://github.com/acme/ghp_" + "a1" * 10 + "/api", None),
}  # fmt: skip
# Shapes that may also be dropped as ambiguous: what is still escaped after one decoding; and a raw
# "@" after the host, read as the end of a userinfo (the only safe reading).
MAY_DROP = {"query-double-percent"}
MAY_DROP_WITH_AT = {"query", "query-no-key", "fragment"}
# A raw userinfo holding "/", "?" or "#" cannot be told from an "@" in the path, query or fragment:
# such a URL is dropped, whichever it is.
RAW_USERINFO = {"https-userinfo-raw", "https-token-as-user", "ssh-raw-password"}


def _expected(shape: str, secret: str) -> tuple[str | None, bool]:
    """The normalized form ``shape`` may have, and whether it must have it (else it may be None)."""
    may_drop = (
        shape in MAY_DROP
        or (shape in MAY_DROP_WITH_AT and "@" in secret)
        or (shape in RAW_USERINFO and any(c in secret for c in "/?#"))
    )
    return SHAPES[shape][1], not may_drop


def _spellings(secret: str) -> list[str]:
    return [secret, q(secret), q(q(secret))]


@given(shape=st.sampled_from(sorted(SHAPES)), secret=secrets)
@example(shape="query-percent", secret="Zqxoxb-1234567890-abcdefghij")
@example(shape="scp-password", secret="Zqp@ss/w:rd@host:acme")
@example(shape="scp-ipv6", secret="Zq:@/")
@example(shape="query", secret="Zq00@0/0")  # an "@" in the query once made "0/0" the repository
def test_a_remote_keeps_only_host_and_repository(shape: str, secret: str) -> None:
    expected, exact = _expected(shape, secret)
    url = SHAPES[shape][0](secret)
    normalized = normalize_remote(url)
    assert normalized == expected if exact else normalized in (None, expected), url
    assert clean_remote(url) == normalized
    assert normalized is None or clean_remote(normalized) == normalized  # a normalized remote stays


def test_regressions_of_issue_11() -> None:
    """The reported shapes: an encoded query (finding 8), scp-like passwords holding ``@``/``/`` and
    IPv6 hosts (finding 9)."""
    token = "xoxb-1234567890-abcdefghijklmnop"
    assert normalize_remote(f"https://github.com/acme/api.git%3Ftoken%3D{token}") == GH
    assert normalize_remote("frank:pa@ss@github.com:acme/api.git") == GH
    assert normalize_remote("frank:pa/ss@github.com:acme/api.git") == GH
    assert normalize_remote("frank:pw@[::1]:acme/api.git") == "[::1]/acme/api"
    assert normalize_remote("ssh://frank:pw@[::1]:2222/acme/api.git") == "[::1]:2222/acme/api"
    assert clean_remote("https://user:secret@github.com/acme/api") == GH
    assert clean_remote("frank:pa@ss@host") is None  # a reader's raw, unparseable remote is dropped


# -- branch names ----------------------------------------------------------------------------------

_B64 = string.ascii_letters + string.digits + "_-"
_ALNUM = string.ascii_letters + string.digits
tokens = st.one_of(
    st.text(_ALNUM, min_size=36, max_size=36).map(lambda s: "ghp_" + s),
    st.text(_ALNUM + "_", min_size=22, max_size=40).map(lambda s: "github_pat_" + s),
    st.text(_ALNUM, min_size=20, max_size=20).map(lambda s: "glpat-" + s),
    st.text(_ALNUM, min_size=10, max_size=30).map(lambda s: "xoxb-" + s),
    st.text(_ALNUM, min_size=20, max_size=40).map(lambda s: "sk-ant-" + s),
    st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16).map(lambda s: "AKIA" + s),
    st.tuples(st.text(_B64, min_size=8, max_size=30), st.text(_B64, min_size=8, max_size=60),
              st.text(_B64, min_size=0, max_size=43))
    .map(lambda t: f"eyJ{t[0]}.eyJ{t[1]}.{t[2]}"),
)  # fmt: skip
branch_shapes = st.sampled_from(["{}", "feature/{}", "fix-{}", "fix_{}", "{}.wip", "u/{}/x", "{}_tmp"])


@given(token=tokens, shape=branch_shapes)
def test_branch_names_lose_their_tokens(token: str, shape: str) -> None:
    branch = shape.format(token)
    assert token not in (redact(branch) or "")


@needs_git
def test_a_repository_branch_is_observed_redacted(tmp_path: Path) -> None:
    token = "ghp_" + "Ab1" * 12
    repo = tmp_path / "api"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    git("symbolic-ref", "HEAD", f"refs/heads/feature/{token}", cwd=repo)
    obs = observe(str(repo), "2026-03-01T10:00:00.000Z")
    assert obs.branch == "feature/[redacted]"


# -- end to end ------------------------------------------------------------------------------------


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _outputs(tmp: Path, url: str, branch: str) -> tuple[list[bytes], bytes]:
    """Ingest one Claude session whose working directory is a git repository with ``url`` as its
    origin, checked out on ``branch``; return every byte burn keeps or shows, and the archive dump."""
    repo = tmp / "repo" / "api"
    repo.mkdir(parents=True)
    git("init", "-q", cwd=repo)
    git("remote", "add", "origin", url, cwd=repo)
    (repo / ".git" / "HEAD").write_text(f"ref: refs/heads/{branch}\n")  # git may refuse the name
    claude = tmp / "claude"
    line = assistant("msg_1", 5, ts="2026-03-01T10:00:00.000Z", gitBranch=branch)
    line["cwd"] = str(repo)
    write_session(claude, [line])
    env = env_for(tmp, claude)
    run_ingest(env)
    home = Path(env["RELAYBURN_HOME"])
    archive = Archive.in_home(home, readonly=True)
    try:
        summary = summarize(archive, Filters.for_zone("UTC"))
        dump = "\n".join(archive.db.iterdump()).encode()
    finally:
        archive.close()
    assert summary["totals"]["output"] == 5  # the session itself was kept
    blobs = [(home / "ledger.jsonl").read_bytes(), dump, repr(summary).encode()]
    for profile in ("shareable", "full"):
        blobs.append(run(home, "export", ["sessions", "--all", "--identity", profile]))
    return blobs, dump


@needs_git
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.sampled_from(sorted(SHAPES)), secret=secrets, token=tokens, branch=branch_shapes)
@example(shape="query-percent", secret="Zqxoxb-1234567890-abcdefghij", token="xoxb-1234567890abc",
         branch="feature/{}")  # fmt: skip
@example(shape="scp-password", secret="Zqpa@ss/w:rd", token="ghp_" + "x" * 36, branch="{}")
def test_no_secret_reaches_ledger_archive_or_output(
    tmp_path_factory: pytest.TempPathFactory, shape: str, secret: str, token: str, branch: str
) -> None:
    expected, exact = _expected(shape, secret)
    blobs, dump = _outputs(tmp_path_factory.mktemp("leak"), SHAPES[shape][0](secret), branch.format(token))
    for blob in blobs:
        for spelling in [*_spellings(secret), token]:
            assert spelling.encode() not in blob
    if expected is not None and exact:
        assert expected.encode() in dump
