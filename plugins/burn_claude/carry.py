"""What one read of a transcript carries to the next: the reader-owned ``state`` of its cursor.

``last_ts`` is the timestamp of the last line that had one (a line without gets it); ``prev`` the
last response id per session (a user turn's preceding response); ``pending`` the user turns still
waiting for the response that follows them, ``[link key, session, uuid, ts]``; ``primary`` the
file's first session (old ``summary`` title lines belong to it); ``prompt`` the timestamp of the
last user line per link key (what prompts the next response), ``response`` the last response per
link key with the timestamp that prompted it ``[message id, ts or ""]`` (a response whose lines span
two reads keeps its prompt), ``turn_start`` the last prompt per link key ``[session, uuid, ts]`` (a
``turn_duration`` line read later belongs to it). Loading accepts any JSON and keeps
only what has the right shape: a damaged cursor costs links, never a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

MAX_PENDING_USERS = 64  # user turns still waiting for the response that follows them
MAX_PREV_SESSIONS = 64  # sessions whose last response id is remembered across reads


@attrs.define
class Carry:
    last_ts: str | None = None
    prev: dict[str, str] = attrs.field(factory=dict)
    primary: str | None = None
    pending: list[list[str]] = attrs.field(factory=list)
    prompt: dict[str, str] = attrs.field(factory=dict)
    response: dict[str, list[str]] = attrs.field(factory=dict)
    turn_start: dict[str, list[str]] = attrs.field(factory=dict)

    @classmethod
    def load(cls, state: Mapping[str, Any]) -> Carry:
        """The carry of a cursor's ``state`` (``{}`` when reading from the start)."""
        last_ts, prev, primary, rows = (state.get(k) for k in ("last_ts", "prev", "primary", "pending"))
        return cls(
            last_ts if type(last_ts) is str else None,
            {k: v for k, v in prev.items() if type(k) is str and type(v) is str}
            if type(prev) is dict
            else {},
            primary if type(primary) is str else None,
            [
                row
                for row in (rows if type(rows) is list else ())
                if type(row) is list and len(row) == 4 and all(type(x) is str for x in row)
            ],
            _str_map(state.get("prompt")),
            _rows(state.get("response"), 2),
            _rows(state.get("turn_start"), 3),
        )

    def dump(self) -> dict[str, Any]:
        """The JSON-able state for the next read, bounded in size (the newest pending users and
        sessions are kept)."""
        pending = self.pending[-MAX_PENDING_USERS:]
        prev = dict(list(self.prev.items())[-MAX_PREV_SESSIONS:])
        out: dict[str, Any] = {}
        for name, value in (
            ("prompt", self.prompt),
            ("response", self.response),
            ("turn_start", self.turn_start),
        ):
            if value:
                out[name] = dict(list(value.items())[-MAX_PREV_SESSIONS:])
        if self.last_ts is not None:
            out["last_ts"] = self.last_ts
        if prev:
            out["prev"] = prev
        if pending:
            out["pending"] = pending
        if self.primary is not None:
            out["primary"] = self.primary
        return out


def _str_map(value: object) -> dict[str, str]:
    if type(value) is not dict:
        return {}
    return {k: v for k, v in value.items() if type(k) is str and type(v) is str}


def _rows(value: object, width: int) -> dict[str, list[str]]:
    if type(value) is not dict:
        return {}
    return {
        k: v
        for k, v in value.items()
        if type(k) is str and type(v) is list and len(v) == width and all(type(x) is str for x in v)
    }
