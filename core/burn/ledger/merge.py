"""How a new sighting of a known event combines with what the ledger already holds.

Events are keyed by content-addressed id. Most kinds are immutable: a second sighting is a
duplicate. Two kinds can learn more over time:

* a :class:`~burn.records.Turn` can be read mid-stream, so a later snapshot of the same response
  may carry more output. The usage of the snapshot with the most output (tie: largest total) wins;
  the turn stays attributed to the earliest sighting (timestamp, then session id), so a resumed
  session that copies history does not steal its turns (DESIGN §5). Its timing keeps what each
  sighting knows: the longest duration (a later snapshot saw the response's later lines) and the
  shortest latency (the earliest sighting saw its first line); unknown never replaces known.
* a :class:`~burn.records.SessionInfo` or :class:`~burn.records.UserTurn` fills fields it did not
  know yet (a slug written later, the agent type from a ``.meta.json`` sidecar, the id of the
  response that followed a prompt read at the end of a file); a
  :class:`~burn.records.ProjectObservation` too, and it keeps the earliest ``observed_at``.

:func:`merge` returns the merged record, or ``None`` when the new sighting adds nothing — the
ledger then appends nothing, which is what makes re-reading unchanged data free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import orjson

from burn.records import ProjectObservation, Record, SessionInfo, Turn, UserTurn
from burn.store import Encoded, encode

# Kinds whose later sightings can supersede the stored state (every other kind is immutable).
MERGEABLE = frozenset({"turn", "session", "user_turn", "project"})

_TURN_ATTRIBUTION = ("session_id", "ts", "is_sidechain", "agent_id")
_Fillable = SessionInfo | UserTurn | ProjectObservation
# Times where the earliest sighting wins, whichever order the sightings come in: a session's first
# line, a working directory's first session (each process that prepares records observes it anew;
# with the earliest winning, the ledger's state does not depend on which process read what).
_EARLIEST = frozenset({"first_seen_ts", "observed_at"})


def merge(old: Record, new: Record) -> Record | None:
    """Combine two sightings of the same event id; ``None`` when ``new`` adds nothing."""
    if isinstance(old, Turn) and isinstance(new, Turn):
        return _merge_turn(old, new)
    if isinstance(old, SessionInfo) and isinstance(new, SessionInfo):
        return _fill_unknown(old, new)
    if isinstance(old, UserTurn) and isinstance(new, UserTurn):
        return _fill_unknown(old, new)
    if isinstance(old, ProjectObservation) and isinstance(new, ProjectObservation):
        return _fill_unknown(old, new)
    return None


def _merge_turn(old: Turn, new: Turn) -> Turn | None:
    usage_from = new if new.usage.rank() > old.usage.rank() else old
    attribution_from = new if (new.ts, new.session_id) < (old.ts, old.session_id) else old
    duration = _known(max, old.duration_ms, new.duration_ms)
    latency = _known(min, old.latency_ms, new.latency_ms)
    if (
        usage_from is old
        and attribution_from is old
        and (duration, latency) == (old.duration_ms, old.latency_ms)
    ):
        return None
    merged = attrs.evolve(
        usage_from,
        duration_ms=duration,
        latency_ms=latency,
        **{f: getattr(attribution_from, f) for f in _TURN_ATTRIBUTION},
    )
    return None if merged == old else merged


def _known(pick: Callable[[int, int], int], a: int | None, b: int | None) -> int | None:
    """``pick(a, b)`` of two timings, either of which may be unknown (``None``)."""
    if a is None:
        return b
    return a if b is None else pick(a, b)


def _fill_unknown(old: _Fillable, new: _Fillable) -> Record | None:
    changes: dict[str, Any] = {}
    for field in attrs.fields(type(old)):
        mine, theirs = getattr(old, field.name), getattr(new, field.name)
        if field.name in _EARLIEST:
            if theirs is not None and (mine is None or theirs < mine):
                changes[field.name] = theirs
        elif mine is None and theirs is not None:
            changes[field.name] = theirs
        elif field.name == "relationship" and mine == "root" and theirs != "root":
            # A session first seen without its lineage (e.g. from a progress copy) learns it later.
            changes[field.name] = theirs
    return attrs.evolve(old, **changes) if changes else None


def merge_encoded(old: Encoded, new: Encoded) -> Encoded | None:
    """:func:`merge` for encoded records; ``None`` when ``new`` adds nothing."""
    if old.kind not in MERGEABLE or old.data == new.data:
        return None
    from burn.convert import from_dict

    merged = merge(from_dict(old.kind, orjson.loads(old.data)), from_dict(new.kind, orjson.loads(new.data)))
    return None if merged is None else encode(merged)
