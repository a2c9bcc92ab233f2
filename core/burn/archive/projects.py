"""Which project each archived session belongs to (DESIGN §9, docs/archive.md "Projects").

A session's project is the one observed for its working directory at ingest. When that observation
found no repository (the directory is gone from this machine, or is no longer a git checkout) or
the session names no directory, but the source reported the repository itself — Codex writes
``repository_url`` in ``session_meta``, stored normalized as ``sessions.git_remote`` — the session
gets that remote's ``git_remote`` key instead of a machine-local ``path`` key, so the same
repository has the same key on every machine. A session whose directory has no observation yet
stays unresolved until one arrives, so the result never depends on how the ledger was batched.
"""

from __future__ import annotations

import sqlite3

from burn.privacy.identity import ProjectIdentity, remote_identity

_BY_CWD = """
UPDATE sessions SET project_key = (SELECT p.key FROM projects p WHERE p.cwd = sessions.cwd)
WHERE project_key IS NULL AND cwd IS NOT NULL
"""
_REPORTED = """
SELECT s.id, s.git_remote FROM sessions s WHERE s.git_remote IS NOT NULL AND (
  (s.cwd IS NULL AND s.project_key IS NULL)
  OR EXISTS (SELECT 1 FROM projects p WHERE p.cwd = s.cwd AND p.key = s.project_key
             AND p.resolution = 'unknown'))
"""


def resolve(db: sqlite3.Connection) -> None:
    """Set ``sessions.project_key`` where it can be set now (inside the caller's transaction)."""
    db.execute(_BY_CWD)
    updates = [(remote_identity(remote).key, sid) for sid, remote in db.execute(_REPORTED).fetchall()]
    db.executemany("UPDATE sessions SET project_key = ? WHERE id = ?", updates)


def reported_identities(db: sqlite3.Connection, keys: list[str]) -> list[ProjectIdentity]:
    """Identities of keys no observation has, from the remotes their sessions reported."""
    found: dict[str, ProjectIdentity] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for (remote,) in db.execute(
            f"SELECT DISTINCT git_remote FROM sessions WHERE project_key IN ({marks}) "
            "AND git_remote IS NOT NULL ORDER BY git_remote",
            chunk,
        ):
            identity = remote_identity(remote)
            if identity.key in chunk:
                found.setdefault(identity.key, identity)
    return [found[k] for k in keys if k in found]
