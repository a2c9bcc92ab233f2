"""User messages (prompts) as :class:`UserTurn` records, and the wall time of each user turn.

**Wall time** (docs/accounting.md "Timing"): from the prompt's ``time.created`` until the assistant
message that ended its turn completed. An assistant message names the prompt it answers
(``parentID``); it ends the turn when it is complete (``time.completed``) and OpenCode's loop stops
after it — its ``finish`` is not ``tool-calls`` or ``unknown`` (the loop's own test; builds that
write no ``finish`` ran one message per prompt), or it carries an ``error``. Every assistant
message of a turn answers the same prompt and the loop runs them one after another, so the one
that ends the turn is the last to complete. Unknown (no record) when the prompt has no
``time.created`` (its timestamp is then a fallback, not OpenCode's), when the reply that ended the
turn has no completion time (aborted), when no reply names its prompt (older builds and the
shared samples write no ``parentID``), or when the span would be negative.

The reply is usually read after its prompt (a later message, often a later ingest): it then emits
its prompt's user turn again, whole, with ``wall_ms`` set, and the ledger fills the unknown field
in (``burn.ledger.merge``: unknown fields of a user turn are filled from a later sighting; the
turn ends once, so the first wall time is the one). :class:`Prompts` keeps the user turns a read
has already built, and fetches the others from the database or the storage files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from burn.readkit import ms_to_iso, user_block
from burn.readkit import nonempty_str as s
from burn.records import UserBlock, UserTurn, span_ms
from burn_opencode.ids import SOURCE, ms_value
from burn_opencode.ids import times as _time

# A message by id: ``(message, its parts)``, or ``None`` when there is none (or it is unreadable,
# which its own read counts).
MessageFetch = Callable[[str], tuple[dict[str, Any], Sequence[dict[str, Any]]] | None]

_USER_BLOCK_PARTS = frozenset({"text", "file", "agent", "subtask"})
_CONTINUES = frozenset({"tool-calls", "unknown"})  # finish reasons after which the loop goes on


def user_turn(parts: Sequence[dict[str, Any]], message_id: str, session_id: str, ts: str) -> UserTurn | None:
    """The user turn of a user message from its parts (their sizes and hashes, never content);
    ``None`` while no part is written yet (the message is read again when they are)."""
    blocks: list[UserBlock] = []
    synthetic = 0
    texts = 0
    meta = False
    for p in parts:
        kind = p.get("type")
        if kind == "compaction":
            meta = True
        if kind not in _USER_BLOCK_PARTS:
            continue
        if kind == "text":
            texts += 1
            synthetic += p.get("synthetic") is True
            blocks.append(user_block("text", p.get("text")))
        elif kind == "file":
            mime = s(p.get("mime")) or ""
            blocks.append(user_block("image" if mime.startswith("image/") else "file", p.get("url")))
        else:  # agent / subtask mentions: their size as sent
            body = {k: v for k, v in p.items() if k not in ("id", "messageID", "sessionID")}
            blocks.append(user_block(str(kind), body))
    if not blocks and not meta:
        return None
    return UserTurn(
        source=SOURCE,
        session_id=session_id,
        user_uuid=message_id,
        ts=ts,
        blocks=tuple(blocks),
        is_meta=meta or (texts > 0 and synthetic == texts),
    )


def ends_turn(msg: dict[str, Any]) -> bool:
    """Whether an assistant message is complete and the last of its user turn (module docstring)."""
    if ms_value(_time(msg).get("completed")) is None:
        return False
    return msg.get("error") is not None or msg.get("finish") not in _CONTINUES


@attrs.define
class Prompts:
    """The prompts of one read by message id — their creation time (ms) and user turn, ``None``
    for a message that is no timed prompt — and how to fetch one the read has not seen."""

    fetch: MessageFetch
    seen: dict[str, tuple[int, UserTurn] | None] = attrs.field(factory=dict)

    def saw(self, msg: dict[str, Any], turn: UserTurn) -> None:
        """Note a user turn this read built, when its prompt's creation time is OpenCode's own."""
        created = ms_value(_time(msg).get("created"))
        if created is not None:
            self.seen[turn.user_uuid] = (created, turn)

    def _get(self, message_id: str, session_id: str) -> tuple[int, UserTurn] | None:
        if message_id not in self.seen:
            found = self.fetch(message_id)
            entry = None
            if found is not None and found[0].get("role") == "user":
                created = ms_value(_time(found[0]).get("created"))
                if created is not None:
                    turn = user_turn(found[1], message_id, session_id, ms_to_iso(created))
                    entry = None if turn is None else (created, turn)
            self.seen[message_id] = entry
        return self.seen[message_id]

    def ended_by(self, msg: dict[str, Any], session_id: str) -> UserTurn | None:
        """The user turn ``msg`` ends, with its wall time; ``None`` when ``msg`` ends none or the
        wall time is unknown."""
        parent = s(msg.get("parentID"))
        if parent is None or not ends_turn(msg):
            return None
        prompt = self._get(parent, session_id)
        if prompt is None:
            return None
        created, turn = prompt
        wall = span_ms(created, ms_value(_time(msg).get("completed")))
        return None if wall is None else attrs.evolve(turn, wall_ms=wall)
