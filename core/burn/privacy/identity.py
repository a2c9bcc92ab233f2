"""Project identity (DESIGN §9): observe a working directory's git facts, derive a stable key.

Observation happens at ingest, because the directory may be gone later; it reads git's own files
(``.git`` directories and ``gitdir:`` files of worktrees and submodules, ``commondir``, ``config``,
``HEAD``) and never spawns git. Remotes are normalized to ``host/owner/repo`` and carry no
credentials; the observation is stored in the ledger as a ``project`` record.

Keys are ``sha256:`` + hex sha256 of ``burn.project.v1 \\x1f kind \\x1f value``:

* ``git_remote`` — value ``host/owner/repo`` of ``origin`` (or of the only remote): the same on
  every machine that has a clone, so teams can join their numbers;
* ``path`` — value the git root or, outside git, the directory: machine-local, flagged as such.

Resolution: ``resolved`` (a remote, or a local repository without remotes), ``ambiguous`` (several
remotes and none named ``origin``: the git root's path is used), ``unknown`` (not a git
repository, or the directory no longer exists).
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import os
from pathlib import Path
from typing import Any, Literal

import attrs

from burn.errors import writing
from burn.privacy.redact import redact
from burn.privacy.remotes import canonical_remote, normalize_remote
from burn.records import ProjectObservation

Profile = Literal["full", "shareable", "anonymous"]
_MAX_DEPTH = 64


@attrs.frozen
class ProjectIdentity:
    key: str
    kind: Literal["git_remote", "path"]
    value: str
    label: str
    resolution: Literal["resolved", "unknown", "ambiguous"]
    machine_local: bool
    remote: str | None = None
    path: str | None = None
    branch: str | None = None


def project_key(kind: str, value: str) -> str:
    return "sha256:" + hashlib.sha256(f"burn.project.v1\x1f{kind}\x1f{value}".encode()).hexdigest()


# -- observation ------------------------------------------------------------------------------------


def _git_dir(start: Path) -> tuple[Path, Path] | None:
    """(work tree root, git dir) for ``start``, following ``.git`` files (worktrees, submodules)."""
    here = start
    for _ in range(_MAX_DEPTH):
        dotgit = here / ".git"
        try:
            if dotgit.is_dir():
                return here, dotgit
            if dotgit.is_file():
                text = dotgit.read_text(errors="replace").strip()
                if text.startswith("gitdir:"):
                    target = Path(text[len("gitdir:") :].strip())
                    return here, target if target.is_absolute() else (here / target).resolve()
        except OSError:
            return None
        if here.parent == here:
            return None
        here = here.parent
    return None


def _common_dir(git_dir: Path) -> Path:
    """A worktree's git dir names the main repository's git dir in ``commondir``."""
    try:
        text = (git_dir / "commondir").read_text().strip()
    except OSError:
        return git_dir
    target = Path(text)
    return target if target.is_absolute() else (git_dir / target).resolve()


def _remotes(common: Path) -> dict[str, str]:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string((common / "config").read_text(errors="replace"))
    except (OSError, configparser.Error):
        return {}
    out: dict[str, str] = {}
    for section in parser.sections():
        if section.startswith('remote "') and section.endswith('"'):
            raw = parser.get(section, "url", fallback=None)
            normalized = normalize_remote(None if raw is None else _config_value(raw))
            if normalized:
                out[section[8:-1]] = normalized
    return out


_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "\\": "\\", '"': '"'}


def _config_value(raw: str) -> str | None:
    """A git config value as git reads it: double quotes group, backslash escapes, an unquoted
    ``#`` or ``;`` starts a comment. ``None`` for an escape git would refuse (a remote that does
    not read cleanly is dropped, never guessed at)."""
    out: list[str] = []
    quoted = False
    chars = iter(raw.strip())
    for c in chars:
        if c == '"':
            quoted = not quoted
        elif c == "\\":
            escaped = _ESCAPES.get(next(chars, ""))
            if escaped is None:
                return None
            out.append(escaped)
        elif c in "#;" and not quoted:
            break
        else:
            out.append(c)
    return None if quoted else "".join(out).strip()


def _branch(git_dir: Path) -> str | None:
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head[len(prefix) :] if head.startswith(prefix) else None


def observe(cwd: str, ts: str) -> ProjectObservation:
    """Observe ``cwd`` now. Never raises: an unreadable or missing directory is ``unknown``."""
    path = Path(cwd)
    found = _git_dir(path) if path.is_absolute() and path.is_dir() else None
    if found is None:
        return ProjectObservation(cwd=redact(cwd) or cwd, observed_at=ts, exists=path.is_dir())
    root, git_dir = found
    common = _common_dir(git_dir)
    remotes = _remotes(common)
    return ProjectObservation(
        cwd=redact(cwd) or cwd,
        observed_at=ts,
        exists=True,
        git_root=redact(str(root)),
        is_worktree=common != git_dir and (common / "worktrees") in git_dir.parents,
        branch=redact(_branch(git_dir)),  # people do name branches after tickets and paste tokens
        remotes=tuple(sorted(remotes.items())),
    )


# -- identity ---------------------------------------------------------------------------------------


def identify(obs: ProjectObservation) -> ProjectIdentity:
    remotes = dict(obs.remotes or ())
    branch = obs.branch
    if obs.git_root is not None:
        chosen = remotes.get("origin") or (next(iter(remotes.values())) if len(remotes) == 1 else None)
        if chosen:
            return remote_identity(chosen, path=obs.git_root, branch=branch)
        resolution: Literal["resolved", "ambiguous"] = "ambiguous" if remotes else "resolved"
        root = obs.git_root
        return ProjectIdentity(
            project_key("path", root),
            "path",
            root,
            _basename(root),
            resolution,
            True,
            path=root,
            branch=branch,
        )
    return ProjectIdentity(
        project_key("path", obs.cwd), "path", obs.cwd, _basename(obs.cwd), "unknown", True, path=obs.cwd
    )


def remote_identity(remote: str, path: str | None = None, branch: str | None = None) -> ProjectIdentity:
    """The ``git_remote`` identity of a normalized remote (``host/owner/repo``): from the remotes
    git's config names, or from the remote a source reported itself (Codex ``session_meta``) when
    the working directory is not a repository on this machine. Case is folded per host
    (:func:`~burn.privacy.remotes.canonical_remote`), so one repository has one key."""
    value = canonical_remote(remote)
    label = "/".join(value.split("/")[-2:])
    return ProjectIdentity(
        project_key("git_remote", value), "git_remote", value, label, "resolved", False,
        remote=value, path=path, branch=branch,
    )  # fmt: skip


def _basename(path: str) -> str:
    return path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] or path


# -- profiles ---------------------------------------------------------------------------------------


def local_secret(home: Path) -> bytes:
    """The per-installation secret for anonymous keys, created (0600) on first use."""
    path = home / "secret.key"
    try:
        secret = bytes.fromhex(path.read_text().strip())
        if len(secret) == 32:
            return secret
    except (OSError, ValueError):
        pass
    home.mkdir(parents=True, exist_ok=True)
    secret = os.urandom(32)
    # Written beside and renamed into place: a full disk leaves no empty or short key to be used.
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with writing(path), os.fdopen(fd, "w") as f:
            f.write(secret.hex())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return secret


def machine_key(secret: bytes) -> str:
    """The machine key of a burn home: ``sha256:`` + hex sha256 of ``burn.machine.v1 \\x1f`` and the
    hex of its local secret. Stable for the home, revealing nothing about the host; shared stores
    record it on every row as the host that first saw the event."""
    return "sha256:" + hashlib.sha256(b"burn.machine.v1\x1f" + secret.hex().encode()).hexdigest()


def anonymous_key(key: str, secret: bytes) -> str:
    return "hmac-sha256:" + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def render(identity: ProjectIdentity, profile: Profile, secret: bytes | None = None) -> dict[str, Any]:
    """What a profile may show of a project: ``full`` everything; ``shareable`` keys, repository
    labels and normalized remotes (no local paths, no branch names); ``anonymous`` an HMAC key only.
    """
    if profile == "anonymous":
        if secret is None:
            raise ValueError("the anonymous profile needs the local secret")
        return {
            "key": anonymous_key(identity.key, secret),
            "kind": identity.kind,
            "resolution": identity.resolution,
        }
    out: dict[str, Any] = {
        "key": identity.key,
        "kind": identity.kind,
        "resolution": identity.resolution,
        "machine_local": identity.machine_local,
    }
    if profile == "full":
        out.update(label=identity.label, remote=identity.remote, path=identity.path, branch=identity.branch)
    else:
        out.update(label=identity.label if identity.kind == "git_remote" else None, remote=identity.remote)
    return out
