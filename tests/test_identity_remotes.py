"""Issue 17 identity: keys from the remotes sources report, host case rules, worktree and branch
under the profiles — through the real ingest, archive and ``burn export sessions``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from burn.cli.app import main
from burn.contract import profile as contract_profile
from burn.privacy.identity import ProjectIdentity, identify, project_key, remote_identity
from burn.privacy.remotes import canonical_remote
from burn.records import ProjectObservation
from tests.test_codex_reader import context, env_for, meta, rollout, tokens, usage

SID = "0c0de000-0000-4000-8000-0000000000aa"


@pytest.mark.parametrize(
    ("remote", "canonical"),
    [
        ("github.com/Acme/API", "github.com/acme/api"),
        ("gitlab.com/Group/Sub/Repo", "gitlab.com/group/sub/repo"),
        ("bitbucket.org/Team/Repo", "bitbucket.org/team/repo"),
        ("git.example.com/Acme/API", "git.example.com/Acme/API"),  # self-hosted: case may matter
        ("github.com:8443/Acme/API", "github.com:8443/Acme/API"),  # another server on that host
    ],
)
def test_case_rules_per_host(remote: str, canonical: str) -> None:
    assert canonical_remote(remote) == canonical
    assert remote_identity(remote).key == project_key("git_remote", canonical)


def test_one_github_repository_is_one_key_whatever_the_case() -> None:
    def observed(remote: str) -> ProjectIdentity:
        return identify(
            ProjectObservation(cwd="/r", observed_at="t", git_root="/r", remotes=(("origin", remote),))
        )

    upper, lower = observed("github.com/Acme/API"), observed("github.com/acme/api")
    assert upper.key == lower.key and upper.label == lower.label == "acme/api"
    assert observed("git.example.com/Acme/API").key != observed("git.example.com/acme/api").key


def _export(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            profile: str) -> dict[str, Any]:  # fmt: skip
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert main(["ingest", "--quiet"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["export", "sessions", "--all", "--json", "--identity", profile]) == 0
    doc: dict[str, Any] = orjson.loads(capsys.readouterr().out)
    return doc


def test_codex_repository_url_keys_a_session_whose_cwd_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    codex = tmp_path / "codex"
    git = {"repository_url": "https://ci:ghp_0123456789abcdefghij@github.com/Acme/API.git", "branch": "main"}
    rollout(codex, meta(SID, cwd="/nowhere/on/this/machine", git=git), context("gpt-5-codex", 1),
            tokens(2, total=usage(100, 0, 10)), sid=SID)  # fmt: skip
    doc = _export(env_for(tmp_path, codex), monkeypatch, capsys, "shareable")
    (row,) = doc["rows"]
    key = project_key("git_remote", "github.com/acme/api")
    assert row["project_key"] == key and row["project_label"] == "acme/api"
    assert doc["meta"]["projects"][key] == {
        "key": key, "kind": "git_remote", "resolution": "resolved", "machine_local": False,
        "label": "acme/api", "remote": "github.com/acme/api",
    }  # fmt: skip
    assert "ghp_" not in orjson.dumps(doc).decode()


@pytest.mark.parametrize("repos", [2, 12])
def test_project_labels_are_looked_up_once_per_export_whatever_the_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], repos: int
) -> None:
    """Every row's ``project_label`` comes from one lookup of the page's keys (and the meta block's
    from one more), not one lookup per project: that cost more than the rest of an export."""
    codex = tmp_path / "codex"
    for i in range(repos):
        sid = f"0c0de000-0000-4000-8000-{i:012d}"
        git = {"repository_url": f"https://github.com/acme/repo{i}.git"}
        rollout(codex, meta(sid, i, cwd=f"/nowhere/{i}", git=git), context("gpt-5-codex", 1),
                tokens(2, total=usage(100, 0, 10)), sid=sid)  # fmt: skip
    lookups: list[int] = []
    real = contract_profile.project_identities

    def counted(db: Any, keys: list[str]) -> list[ProjectIdentity]:
        lookups.append(len(keys))
        return real(db, keys)

    monkeypatch.setattr(contract_profile, "project_identities", counted)
    doc = _export(env_for(tmp_path, codex), monkeypatch, capsys, "shareable")
    assert sorted(r["project_label"] for r in doc["rows"]) == sorted(f"acme/repo{i}" for i in range(repos))
    assert lookups == [repos, repos]  # the meta block's projects, then every row's label


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_worktree_and_branch_under_each_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def git(*args: str, cwd: Path) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    main_repo = tmp_path / "src" / "api"
    main_repo.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=main_repo)
    git(
        "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x", cwd=main_repo
    )
    git("remote", "add", "origin", "git@github.com:acme/api.git", cwd=main_repo)
    wt = tmp_path / "src" / "api-login"
    git("worktree", "add", "-q", "-b", "feature/login", str(wt), cwd=main_repo)
    secret_branch = "fix-ghp_0123456789abcdefghij"
    codex = tmp_path / "codex"
    for i, (cwd, branch) in enumerate([(wt, "feature/login"), (main_repo, secret_branch)]):
        sid = f"0c0de000-0000-4000-8000-00000000000{i}"
        rollout(codex, meta(sid, i, cwd=str(cwd), git={"branch": branch}), context("gpt-5-codex", 1),
                tokens(2 + i, total=usage(100, 0, 10)), sid=sid)  # fmt: skip
    env = env_for(tmp_path, codex)
    shown = {}
    for profile in ("full", "shareable", "anonymous"):
        doc = _export(env, monkeypatch, capsys, profile)
        shown[profile] = [(r.get("worktree"), r.get("branch", "absent")) for r in doc["rows"]]
    assert shown["full"] == [(str(wt), "feature/login"), (None, "fix-[redacted]")]
    assert shown["shareable"] == [("api-login", "feature/login"), (None, None)]
    assert shown["anonymous"] == [(None, "absent"), (None, "absent")]
