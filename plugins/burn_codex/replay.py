"""The parent history replayed at the top of fork and subagent rollouts (FORMATS §2.4 problem 4).

A forked thread (``session_meta.forked_from_id``) or a spawned subagent
(``source.subagent.thread_spawn.parent_thread_id``) starts its rollout with its own
``session_meta`` and then **copies the parent's lines** — the parent's ``session_meta``, turns,
tool calls and ``token_count`` events — before its own lines begin. The copied ``token_count``
events carry the parent's cumulative totals; counting them would count the parent twice.

:class:`ReplayGate` decides, line by line, whether a line of such a file is replayed parent history.
Replayed lines produce no records; replayed ``token_count`` events still advance the running
totals (they are the baseline the child's own totals continue from), and replayed
``turn_context`` lines still set the current model (the child inherits it). The gate is armed by
the file's first ``session_meta`` when it names a parent, with the child's creation instant ``C``
(from its UUIDv7 id, else ``payload.timestamp``, else the line's timestamp; no anchor: not armed).
While armed, in this order:

1. a further ``session_meta`` is replayed (it is the parent's: it never touches the child's
   :class:`~burn.records.SessionInfo`);
2. a ``turn_context`` whose ``turn_id`` is a UUIDv7 decides: minted at or after ``C`` it is the
   child's first own turn and the gate opens for good; minted before, it is replayed (agentsview's
   rule: turn ids are minted when the turn originally ran, whatever the line's timestamp says);
3. a line without a timestamp is replayed;
4. a line stamped before ``C`` is replayed (history copied with its original timestamps);
5. once a replayed ``turn_id`` was seen, every other line is replayed until rule 2 opens the gate
   (the file is from a build that stamps turn ids, and copied lines are re-stamped at fork time);
6. after a replayed line stamped before ``C``, the first line stamped at or after ``C`` is the
   child's own and opens the gate;
7. otherwise the copy was re-stamped at fork time (Codex writes the copied items in one burst
   right after the child's ``session_meta``): lines within :data:`BURST_MS` of the first line
   stamped at or after ``C`` are replayed, and the first line after that window opens the gate
   (ccusage's "same-second burst" rule, widened to a window so a burst crossing a second boundary
   is still caught).

Errors lean towards keeping the gate closed: a child line taken for replay loses a little of the
child's activity (its first turn's prompt, at worst), while a replayed line taken for the child's
would count parent usage twice. A child that replays nothing and has no turn ids loses its own
lines of the first :data:`BURST_MS` only; its first ``token_count`` follows a model call and lands
after the window.
"""

from __future__ import annotations

from typing import Any

from burn.readkit import nonempty_str as _s
from burn.readkit import normalize_ts
from burn.records import Relationship
from burn_codex.timefmt import plus_ms, uuid7_ts

BURST_MS = 1000


def lineage(payload: dict[str, Any]) -> tuple[Relationship | None, str | None, str | None]:
    """``(relationship, parent_session_id, agent_type)`` named by a ``session_meta`` payload.

    ``source: {"subagent": {"thread_spawn": {"parent_thread_id": …, "agent_role"|"agent_type": …}}}``
    is a subagent of that thread; ``source: {"subagent": "review"}`` (or ``{"other": …}``) is a
    subagent whose parent the file does not name; a top-level ``forked_from_id`` is a fork of it.
    """
    source = payload.get("source")
    sub = source.get("subagent") if type(source) is dict else None
    if sub is not None:
        parent: str | None = None
        agent_type: str | None = None
        if type(sub) is dict:
            spawn = sub.get("thread_spawn")
            if type(spawn) is dict:
                parent = _s(spawn.get("parent_thread_id"))
                agent_type = _s(spawn.get("agent_role")) or _s(spawn.get("agent_type"))
            else:
                other = _s(sub.get("other"))
                agent_type = other or next((k for k in sub if type(k) is str), None)
        elif type(sub) is str:
            agent_type = sub or None
        parent = parent or _s(payload.get("parent_thread_id"))
        return "subagent", parent, agent_type
    fork = _s(payload.get("forked_from_id"))
    if fork is not None:
        return "fork", fork, None
    return None, None, None


class ReplayGate:
    """Whether each line of a fork/subagent rollout is replayed parent history (module docstring).
    :meth:`state` carries it across reads."""

    __slots__ = ("active", "burst_end", "created", "ids", "old")

    def __init__(self, state: dict[str, Any]) -> None:
        created = state.get("created")
        self.created: str | None = created if type(created) is str else None
        self.active: bool = self.created is not None
        burst_end = state.get("burst_end")
        self.burst_end: str | None = burst_end if type(burst_end) is str else None
        self.ids: bool = state.get("ids") is True
        self.old: bool = state.get("old") is True

    def state(self) -> dict[str, Any]:
        if not self.active:
            return {}
        out: dict[str, Any] = {"created": self.created}
        if self.burst_end is not None:
            out["burst_end"] = self.burst_end
        if self.ids:
            out["ids"] = True
        if self.old:
            out["old"] = True
        return out

    def arm(self, payload: dict[str, Any], line_ts: str | None) -> None:
        """Arm the gate for the file's own ``session_meta`` if it names a parent."""
        _, parent, _ = lineage(payload)
        if parent is None and _s(payload.get("forked_from_id")) is None:
            return  # a root, or a subagent that names no parent (review, compact …): no copy
        created = uuid7_ts(payload.get("id")) or normalize_ts(payload.get("timestamp")) or line_ts
        if created is not None:
            self.created = created
            self.active = True

    def replayed(self, kind: str, ts: str | None, payload: dict[str, Any] | None) -> bool:
        """Whether a line of type ``kind`` stamped ``ts`` is replayed history (call while
        :attr:`active`; the gate closes itself for good at the child's first own line)."""
        created = self.created
        assert created is not None
        if kind == "session_meta":
            return True
        if kind == "turn_context" and payload is not None:
            minted = uuid7_ts(payload.get("turn_id"))
            if minted is not None:
                if minted >= created:
                    self._open()
                    return False
                self.ids = True
                return True
        if ts is None:
            return True
        if ts < created:
            self.old = True
            return True
        if self.ids:
            return True
        if self.old:
            self._open()
            return False
        if self.burst_end is None:
            self.burst_end = plus_ms(ts, BURST_MS)
            return True
        if ts <= self.burst_end:
            return True
        self._open()
        return False

    def _open(self) -> None:
        self.active = False
        self.created = None
        self.burst_end = None
        self.ids = False
        self.old = False
