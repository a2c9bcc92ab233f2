"""What an identity profile (DESIGN §9) lets a document show, for rows and the meta block.

* ``full``: everything, including working directories, branches, titles and the host name;
* ``shareable`` (the default): stable keys, repository labels and normalized remotes; no local
  paths, branch names, titles or host names;
* ``anonymous``: every key (project, machine, session) is an HMAC under the burn home's local
  secret (``secret.key``); no labels, remotes, paths or names.

``machine`` is ``sha256:`` + hex sha256 of ``burn.machine.v1 \\x1f <local secret>``: stable for a
burn home, revealing nothing about the host.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from burn.archive.projects import reported_identities
from burn.privacy.identity import Profile, ProjectIdentity, anonymous_key, machine_key, render
from burn.privacy.redact import REDACTED, looks_secret


@attrs.frozen
class Renderer:
    profile: Profile
    secret: bytes
    hostname: str

    @property
    def full(self) -> bool:
        return self.profile == "full"

    @property
    def machine(self) -> str:
        key = machine_key(self.secret)
        return self.key(key) or key

    def key(self, key: str | None) -> str | None:
        """A stable key (project, machine) as the profile shows it."""
        if key is None or self.profile != "anonymous":
            return key
        return anonymous_key(key, self.secret)

    def session(self, source: str, session_id: str | None) -> str | None:
        """A session id as the profile shows it (an HMAC of source and id under ``anonymous``)."""
        if session_id is None or self.profile != "anonymous":
            return session_id
        return anonymous_key(f"burn.session.v1\x1f{source}\x1f{session_id}", self.secret)

    def branch(self, branch: str | None) -> str | None:
        """A session's branch as the profile shows it: under ``full`` as stored, under ``shareable``
        only when it carries no secret (branches are redacted at ingest; one that needed it is
        withheld whole), under ``anonymous`` never."""
        if branch is None or self.profile == "anonymous":
            return None
        if self.profile == "full":
            return branch
        return None if REDACTED in branch or looks_secret(branch) else branch

    def worktree(self, root: str | None) -> str | None:
        """The linked git worktree a session ran in: its root under ``full``, the root's directory
        name under ``shareable`` (no local path), nothing under ``anonymous``."""
        if root is None or self.profile == "anonymous":
            return None
        if self.profile == "full":
            return root
        name = root.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
        return None if not name or REDACTED in name or looks_secret(name) else name

    def projects(
        self, db: sqlite3.Connection, keys: Iterable[str], identities: IdentityLookup | None = None
    ) -> dict[str, dict[str, Any]]:
        """The meta block's ``projects``: rendered key → identity under the profile. ``identities``
        finds the keys' identities (default :func:`project_identities`; an
        :class:`IdentityCache`'s lookup for a reader that asks again and again)."""
        wanted = sorted(set(keys))
        out: dict[str, dict[str, Any]] = {}
        for identity in (identities or project_identities)(db, wanted):
            shown = render(identity, self.profile, self.secret)
            out[shown["key"]] = shown
        return dict(sorted(out.items()))

    def labels(self, db: sqlite3.Connection, keys: Iterable[str]) -> dict[str, str | None]:
        """Raw project key → its label under the profile (``meta.projects[key].label``), for many
        keys in one lookup; keys without an identity, and every key under ``anonymous``, map to
        ``None``."""
        wanted = sorted(set(keys))
        out: dict[str, str | None] = dict.fromkeys(wanted)
        if self.profile != "anonymous":
            for identity in project_identities(db, wanted):
                out[identity.key] = render(identity, self.profile, self.secret).get("label")
        return out


IdentityLookup = Callable[[sqlite3.Connection, list[str]], list[ProjectIdentity]]


@attrs.define
class IdentityCache:
    """Project identities of one archive, kept while the archive's state stays the same: a
    long-running reader (the dashboard of ``burn serve``) asks for the same keys on every request,
    and finding them (observations, then the remotes sessions reported) cost more than a panel's
    own query. ``state`` is what any change of identities changes (the archive's id, generation
    and ledger position: observations and reported remotes arrive only through the ledger)."""

    state: tuple[Any, ...] | None = None
    known: dict[str, ProjectIdentity | None] = attrs.field(factory=dict)
    lookups: int = 0  # keys looked up in the archive, for tests
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def lookup(self, state: tuple[Any, ...]) -> IdentityLookup:
        """A :data:`IdentityLookup` answering from the cache for ``state`` (emptied when the
        archive's state is another)."""

        def identities(db: sqlite3.Connection, keys: list[str]) -> list[ProjectIdentity]:
            with self._lock:
                if self.state != state:
                    self.state, self.known = state, {}
                missing = [k for k in keys if k not in self.known]
                if missing:
                    self.lookups += len(missing)
                    found = {i.key: i for i in project_identities(db, missing)}
                    self.known.update((k, found.get(k)) for k in missing)
                return [i for k in keys if (i := self.known[k]) is not None]

        return identities


def project_identities(db: sqlite3.Connection, keys: list[str]) -> list[ProjectIdentity]:
    """One identity per key from the archive's observations: the latest observation's branch and
    root (several working directories can share a key)."""
    found: dict[str, ProjectIdentity] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"""SELECT key, kind, value, label, resolution, machine_local, remote, git_root, cwd, branch
            FROM projects WHERE key IN ({marks}) ORDER BY key, observed_at, id""",
            chunk,
        )
        for key, kind, value, label, resolution, local, remote, root, cwd, branch in rows:
            found[key] = ProjectIdentity(key, kind, value, label, resolution, bool(local), remote=remote,
                                         path=root or cwd, branch=branch)  # fmt: skip
    missing = [k for k in keys if k not in found]
    if missing:  # keys from the remotes sessions reported (burn.archive.projects)
        found.update((i.key, i) for i in reported_identities(db, missing))
    return [found[k] for k in keys if k in found]
