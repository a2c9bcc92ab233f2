"""Opaque, signed keyset cursors, and the reset that replaces an impossible continuation.

Token: ``base64url(payload) + "." + base64url(HMAC-SHA256(secret, payload))``, unpadded, where
``payload`` is the canonical JSON of the cursor's fields (archive id and generation, surface,
filters, order, watermark, snapshot size, rows emitted, last key, page size …). The payload is
signed, not encrypted: it is only meaningful to the burn home that issued it.

The secret is per archive: ``cursor-keys/<archive id>.key`` in the burn home (32 random bytes,
hex, created 0600 on first use). A rebuilt archive keeps its id (and so its key) but not its
generation; a cursor from another archive does not verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from burn.contract.canonical import jcs
from burn.errors import BurnError

CURSOR_RESET_EXIT = 4


class CursorReset(BurnError):
    """The cursor cannot continue exactly: restart the export without ``--cursor``."""

    exit_code = CURSOR_RESET_EXIT

    def __init__(self, reason: str, message: str, archive_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.archive_id = archive_id

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": "cursor_reset", "reason": self.reason, "message": str(self)}
        if self.archive_id is not None:
            out["archive_id"] = self.archive_id
        return out


def secret(home: Path, archive_id: str) -> bytes:
    """The archive's cursor key, created (0600) on first use."""
    safe = "".join(c for c in archive_id if c.isalnum()) or "archive"
    path = home / "cursor-keys" / f"{safe}.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = os.urandom(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another export created it first: use theirs
            return bytes.fromhex(path.read_text().strip())
        with os.fdopen(fd, "w") as f:
            f.write(key.hex())
        return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(payload: Mapping[str, Any], key: bytes) -> str:
    body = jcs(payload)
    return _b64(body) + "." + _b64(hmac.new(key, body, hashlib.sha256).digest())


def decode(token: str, archive_id: str, key: bytes) -> dict[str, Any]:
    """The payload of a cursor issued by this archive, or :class:`CursorReset`."""
    try:
        body_text, sig_text = token.strip().split(".")
        body, sig = _unb64(body_text), _unb64(sig_text)
        payload = orjson.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise CursorReset("invalid_cursor", "the cursor is not a burn cursor; restart the export",
                          archive_id) from exc  # fmt: skip
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), sig):
        if payload.get("archive") != archive_id:
            raise CursorReset("foreign_archive", "the cursor was issued by another archive; "
                              "restart the export", archive_id)  # fmt: skip
        raise CursorReset("tampered", "the cursor's signature does not match; restart the export", archive_id)
    return payload
