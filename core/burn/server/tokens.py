"""Bearer tokens of ``burn serve``: created once, stored only as hashes.

The file ``server-tokens.json`` in the burn home (0600) lists each token's id, name, scope and the
SHA-256 of the token. A token is 32 random bytes (``burn_`` + url-safe base64), so a plain SHA-256
is enough: there is nothing to guess that a slow hash would protect. The server re-reads the file
when it changes, so ``token revoke`` takes effect without a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import attrs
import orjson

from burn.errors import BurnError

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")  # each includes the ones before it
FILENAME = "server-tokens.json"
PREFIX = "burn_"


@attrs.frozen
class Token:
    id: str
    name: str
    scope: Scope
    hash: str
    created_at: str

    def allows(self, needed: Scope) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)

    def public(self) -> dict[str, Any]:
        """What ``token list`` shows: never the hash."""
        return {"id": self.id, "name": self.name, "scope": self.scope, "created_at": self.created_at}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def path_in(home: Path) -> Path:
    return home / FILENAME


def load(home: Path) -> list[Token]:
    path = path_in(home)
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return []
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BurnError(f"cannot read the token file {path}: {exc}") from exc
    try:
        return [Token(**t) for t in data["tokens"]]
    except (KeyError, TypeError) as exc:
        raise BurnError(f"the token file {path} is not a burn token file") from exc


def _save(home: Path, tokens: list[Token]) -> None:
    path = path_in(home)
    home.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    # Created 0600 before a byte is written: the hashes are not secrets, but the names of hosts are
    # nobody else's business either.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps({"tokens": [attrs.asdict(t) for t in tokens]}, option=orjson.OPT_INDENT_2))
        f.write(b"\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def create(home: Path, name: str, scope: Scope) -> tuple[str, Token]:
    """A new token: returns the token itself (shown once) and what is stored of it."""
    if not name or any(c.isspace() for c in name):
        raise BurnError(f"a token name is one word (got {name!r})")
    tokens = load(home)
    if any(t.name == name for t in tokens):
        raise BurnError(f"a token named {name!r} exists: revoke it first")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = Token(
        id=secrets.token_hex(4),
        name=name,
        scope=scope,
        hash=digest(secret),
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    _save(home, [*tokens, token])
    return secret, token


def revoke(home: Path, name_or_id: str) -> Token:
    tokens = load(home)
    gone = [t for t in tokens if name_or_id in (t.name, t.id)]
    if not gone:
        raise BurnError(f"no token named {name_or_id!r} (see `burn serve token list`)")
    _save(home, [t for t in tokens if t not in gone])
    return gone[0]


class Keyring:
    """The tokens the server accepts, re-read when the file changes (revocation without restart)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._stamp: tuple[int, int, int] | None = None
        self._tokens: list[Token] = []
        self.refresh()

    def refresh(self) -> None:
        try:
            st = path_in(self.home).stat()
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            self._tokens = load(self.home) if stamp is not None else []
            self._stamp = stamp

    @property
    def configured(self) -> bool:
        self.refresh()
        return bool(self._tokens)

    def check(self, presented: str) -> Token | None:
        self.refresh()
        h = digest(presented)
        found = None
        for t in self._tokens:  # compare every one in constant time: no early exit to time
            if hmac.compare_digest(t.hash, h):
                found = t
        return found
