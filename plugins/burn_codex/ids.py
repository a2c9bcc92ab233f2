"""Identity helpers: the session id of a rollout file, event hashes and content hashes.

Codex writes no message or request ids, so every record id is derived from what the rollout itself
says (see :mod:`burn_codex.usage` for the identity of a token-count event). Derivations use only
the file's content and its name, never its path, so the same rollout in ``sessions/`` and in
``archived_sessions/`` yields the same ids and the ledger stores its events once.
"""

from __future__ import annotations

import re

from burn.readkit import sha32

SOURCE = "codex"

_UUID_TAIL = re.compile(r"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")


def hash_fields(*fields: object) -> str:
    """:func:`sha32` of fields joined by a unit separator (``("ab", "c")`` ≠ ``("a", "bc")``)."""
    return sha32("\x1f".join(str(f) for f in fields).encode("utf-8", "surrogatepass"))


def file_session_id(name: str) -> str:
    """The session (thread) id a rollout file name carries: the trailing uuid of
    ``rollout-<local time>-<uuid>.jsonl``, else the file stem. Used when the file has no
    ``session_meta`` (or before it)."""
    stem = name[: -len(".jsonl")] if name.endswith(".jsonl") else name
    m = _UUID_TAIL.search(stem)
    return m.group(1).lower() if m else stem
