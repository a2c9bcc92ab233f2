"""Project identity on real git repositories (built with git; burn itself never spawns git),
remote normalization, profiles, and the promise that credentials never leak."""

from __future__ import annotations

import shutil
import string
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.privacy.identity import identify, local_secret, observe, project_key, render
from burn.privacy.redact import redact
from burn.privacy.remotes import normalize_remote
from burn.query import Filters
from burn.query.summary import summarize
from tests.claude_lines import assistant, user, write_session

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")
TS = "2026-03-01T10:00:00.000Z"


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:Acme/api.git", "github.com/Acme/api"),
        ("https://github.com/acme/api.git", "github.com/acme/api"),
        ("https://user:ghp_abcdefghijklmnop1234@GitHub.COM/acme/api.git", "github.com/acme/api"),
        ("https://x-access-token:tok3n@github.com/acme/api", "github.com/acme/api"),
        (
            "https://gitlab.com/group/sub/repo.git?private_token=glpat-xxxxxxxxxxxxxxxxxxxx#frag",
            "gitlab.com/group/sub/repo",
        ),
        ("ssh://git@github.com:22/acme/api.git", "github.com/acme/api"),
        ("ssh://git@git.example.com:2222/acme/api.git", "git.example.com:2222/acme/api"),
        ("git://example.org/acme/api.git", "example.org/acme/api"),
        ("https://github.com:443/acme/api/", "github.com/acme/api"),
        ("/srv/git/api.git", None),
        ("file:///srv/git/api.git", None),
        ("", None),
    ],
)
def test_normalize_remote(url: str, expected: str | None) -> None:
    assert normalize_remote(url) == expected


@needs_git
def test_remote_identity_is_stable_across_clones_and_worktrees(tmp_path: Path) -> None:
    a, b = tmp_path / "machine-a" / "api", tmp_path / "machine-b" / "code" / "api"
    for repo, url in ((a, "git@github.com:acme/api.git"), (b, "https://bob:s3cret@github.com/acme/api")):
        repo.mkdir(parents=True)
        git("init", "-q", "-b", "main", cwd=repo)
        git("remote", "add", "origin", url, cwd=repo)
    (a / "src").mkdir()
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x", cwd=a)
    git("worktree", "add", "-q", "-b", "feature", str(tmp_path / "wt"), cwd=a)
    ids = [identify(observe(str(p), TS)) for p in (a / "src", b, tmp_path / "wt")]
    assert {i.key for i in ids} == {project_key("git_remote", "github.com/acme/api")}
    assert all(i.resolution == "resolved" and not i.machine_local for i in ids)
    assert ids[0].label == "acme/api"
    wt = observe(str(tmp_path / "wt"), TS)
    assert wt.is_worktree and wt.branch == "feature"
    assert observe(str(a), TS).branch == "main"
    assert "s3cret" not in repr(observe(str(b), TS))


@needs_git
def test_local_repositories_and_plain_directories_get_machine_local_path_keys(tmp_path: Path) -> None:
    repo = tmp_path / "local"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    local = identify(observe(str(repo), TS))
    assert (local.kind, local.resolution, local.machine_local) == ("path", "resolved", True)
    git("remote", "add", "upstream", "git@github.com:a/one.git", cwd=repo)
    git("remote", "add", "fork", "git@github.com:b/one.git", cwd=repo)
    assert identify(observe(str(repo), TS)).resolution == "ambiguous"
    plain = identify(observe(str(tmp_path), TS))
    gone = identify(observe(str(tmp_path / "deleted"), TS))
    assert (plain.kind, plain.resolution) == ("path", "unknown")
    assert gone.resolution == "unknown" and gone.label == "deleted"


def test_profiles_hide_what_they_promise_to(tmp_path: Path) -> None:
    from burn.records import ProjectObservation

    obs = ProjectObservation(
        cwd="/home/alice/api", observed_at=TS, git_root="/home/alice/api", branch="alice/secret-feature",
        remotes=(("origin", "github.com/acme/api"),),
    )  # fmt: skip
    ident = identify(obs)
    full = render(ident, "full")
    shareable = render(ident, "shareable")
    anon = render(ident, "anonymous", local_secret(tmp_path))
    assert full["path"] == "/home/alice/api" and full["branch"] == "alice/secret-feature"
    assert "/home/alice" not in str(shareable) and "secret-feature" not in str(shareable)
    assert shareable["remote"] == "github.com/acme/api" and shareable["label"] == "acme/api"
    assert set(anon) == {"key", "kind", "resolution"} and anon["key"].startswith("hmac-sha256:")
    assert anon["key"] != ident.key
    assert local_secret(tmp_path) == local_secret(tmp_path)  # created once, then reused
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


# -- secrets never leak ------------------------------------------------------------------------------

_TOKEN_CHARS = string.ascii_letters + string.digits
tokens = st.one_of(
    st.text(_TOKEN_CHARS, min_size=36, max_size=36).map(lambda s: "ghp_" + s),
    st.text(_TOKEN_CHARS, min_size=20, max_size=20).map(lambda s: "glpat-" + s),
    st.text(_TOKEN_CHARS, min_size=12, max_size=24).map(lambda s: "Zq" + s),  # opaque password
)


@st.composite
def credentialed_remote(draw: st.DrawFn) -> tuple[str, str]:
    secret = draw(tokens)
    form = draw(st.sampled_from(["userinfo", "x-access", "query", "percent", "ssh-pass"]))
    url = {
        "userinfo": f"https://deploy:{secret}@github.com/acme/api.git",
        "x-access": f"https://x-access-token:{secret}@github.com/acme/api",
        "query": f"https://gitlab.com/acme/api.git?private_token={secret}",
        "percent": f"https://deploy%3A{secret}@github.com/acme/api.git",
        "ssh-pass": f"ssh://deploy:{secret}@git.example.com/acme/api.git",
    }[form]
    return url, secret


@given(credentialed_remote())
def test_normalized_remotes_never_carry_credentials(case: tuple[str, str]) -> None:
    url, secret = case
    normalized = normalize_remote(url)
    assert normalized is not None and secret not in normalized and "deploy" not in normalized


@given(tokens)
def test_redact_removes_tokens_from_paths(secret: str) -> None:
    for path in (
        f"/home/u/clones/https:/deploy:{secret}@github.com/acme/api",
        f"/tmp/x-access-token:{secret}@github.com/api",
        f"/srv/build?token={secret}&x=1",
    ):
        assert secret not in (redact(path) or "")
    if secret.startswith(("ghp_", "glpat-")):
        assert secret not in (redact(f"/work/{secret}/repo") or "")


@needs_git
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=credentialed_remote())
def test_credentials_never_reach_ledger_archive_or_output(tmp_path_factory: pytest.TempPathFactory,
                                                          case: tuple[str, str]) -> None:  # fmt: skip
    url, secret = case
    tmp = tmp_path_factory.mktemp("leak")
    repo = tmp / f"clone-deploy:{secret}@github.com" / "api"
    repo.mkdir(parents=True)
    git("init", "-q", cwd=repo)
    git("remote", "add", "origin", url, cwd=repo)
    claude = tmp / "claude"
    line = assistant("msg_1", 5, ts=TS)
    line["cwd"] = str(repo)
    line["message"]["content"] = [
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "WebFetch",
            "input": {"url": f"https://u:{secret}@example.com/x"},
        },
        {"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"file_path": f"{repo}/README.md"}},
    ]
    prompt = user("u1", f"my token is {secret}")
    prompt["cwd"] = str(repo)
    write_session(claude, [prompt, line])
    home = tmp / "burn"
    env = {"HOME": str(tmp), "CLAUDE_CONFIG_DIR": str(claude), "RELAYBURN_HOME": str(home)}
    ingest(home, Plugins(env=env), env)
    archive = Archive.in_home(home, readonly=True)
    summary = summarize(archive, Filters.for_zone("UTC"))
    dump = "\n".join(archive.db.iterdump())
    archive.close()
    assert summary["totals"]["output"] == 5
    for blob in (home / "ledger.jsonl").read_bytes(), dump.encode(), str(summary).encode():
        assert secret.encode() not in blob
    assert (
        "github.com/acme/api" in dump or "gitlab.com/acme/api" in dump or "git.example.com/acme/api" in dump
    )
