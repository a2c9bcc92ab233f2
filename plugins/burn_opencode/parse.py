"""One OpenCode message and its parts → records; one session object → :class:`SessionInfo`.

The JSON files of ``storage/`` and the ``data`` column of ``opencode.db`` hold the same objects
(the database drops the id fields, which the caller puts back), so this one parser serves both
(FORMATS §3.2–3.5).

Per assistant message, one :class:`Turn` keyed by the message id (``request_id`` is ``None``), so
a message seen in the database and in a leftover JSON file is one event. Its usage is the sum of
its ``step-finish`` parts when at least one has non-zero tokens (a message's ``tokens`` are only
its *last* step's), otherwise the message's own ``tokens``; the reported cost follows the same
choice. Messages without ``tokens`` or with all-zero tokens bill nothing and make no turn
(counted as ``dropped["no_usage"]`` / ``dropped["zero_usage"]``).

Records that would be frozen in an unfinished state are deferred until the data is final: a tool
call once its input is known (``running``/``completed``/``error``), a tool result once the tool
finished, a user turn once the message has content parts, a compaction once the summary message
completed. Their files or rows change when that happens, so the next ingest sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from burn.reader import Diagnostics
from burn.readkit import args_hash, ms_to_iso, size_and_hash, tool_target, user_block
from burn.readkit import nonempty_str as s
from burn.records import (
    Compaction,
    Fidelity,
    Record,
    SessionInfo,
    ToolCall,
    ToolResultEvent,
    Turn,
    UserBlock,
    UserTurn,
)
from burn_opencode.content import TOOL_TARGETS
from burn_opencode.ids import SOURCE, ms_value
from burn_opencode.tokens import Counts, combine, cost_decimal, cost_string, parse_tokens, to_usage

MODEL_UNKNOWN = "model_unknown"
PARTIAL = "output_may_be_partial"
TS_FALLBACK = "timestamp_fallback"
ABORTED_ERROR = "MessageAbortedError"

# Looks up the parts of another message (the user message a compaction summary answers).
PartsLookup = Callable[[str], Sequence[dict[str, Any]]]

_USER_BLOCK_PARTS = frozenset({"text", "file", "agent", "subtask"})


def _time(d: dict[str, Any]) -> dict[str, Any]:
    t = d.get("time")
    return t if type(t) is dict else {}


def _ts(ms: object, fallback: str) -> str:
    v = ms_value(ms)
    return ms_to_iso(v) if v is not None else fallback


def message_records(
    msg: dict[str, Any],
    parts: Sequence[dict[str, Any]],
    *,
    message_id: str,
    session_id: str,
    diag: Diagnostics,
    fallback_ms: int | None = None,
    parent_parts: PartsLookup | None = None,
    session_cwd: bool = False,
) -> list[Record]:
    """Records of one message (``msg``: the message object, ``parts``: its part objects).

    ``session_cwd``: also emit a :class:`SessionInfo` with the message's ``path.cwd`` — for the
    legacy layout, whose session objects have no ``directory``. (Elsewhere the session object or
    row has it, and one SessionInfo per message would only make duplicates.)
    """
    role = s(msg.get("role"))
    tokens = msg.get("tokens")
    created = ms_value(_time(msg).get("created"))
    notes: set[str] = set()
    if created is None:
        if fallback_ms is None:
            diag.skip("no_timestamp", f"message {message_id}")
            return []
        created = fallback_ms
        notes.add(TS_FALLBACK)
    ts = ms_to_iso(created)
    records: list[Record] = []
    path = msg.get("path")
    if session_cwd and type(path) is dict:
        cwd = s(path.get("cwd")) or s(path.get("root"))
        if cwd is not None:
            records.append(SessionInfo(source=SOURCE, session_id=session_id, cwd=cwd, first_seen_ts=ts))
    # The toktrack fixture's messages carry no ``role``: usage fields make them assistant messages.
    if role == "assistant" or (role is None and (type(tokens) is dict or s(msg.get("modelID")))):
        turn = _turn(msg, parts, message_id, session_id, ts, notes, diag)
        if turn is not None:
            records.append(turn)
        if msg.get("summary") is True:
            compaction = _compaction(msg, message_id, session_id, ts, turn, parent_parts)
            if compaction is not None:
                records.append(compaction)
        _tool_records(parts, message_id, session_id, ts, records)
    elif role == "user":
        user = _user_turn(parts, message_id, session_id, ts)
        if user is not None:
            records.append(user)
    else:
        diag.dropped["not_a_message"] += 1
    return records


def _turn(
    msg: dict[str, Any],
    parts: Sequence[dict[str, Any]],
    message_id: str,
    session_id: str,
    ts: str,
    notes: set[str],
    diag: Diagnostics,
) -> Turn | None:
    steps: list[Counts] = []
    step_costs: list[Decimal] = []
    for p in parts:
        if p.get("type") == "step-finish":
            t = p.get("tokens")
            if type(t) is dict:
                steps.append(parse_tokens(t))
                c = cost_decimal(p.get("cost"))
                if c is not None:
                    step_costs.append(c)
    counts: Counts | None = None
    cost: Decimal | None = None
    if any(not c.is_zero() for c in steps):
        counts = combine(steps)
        cost = sum(step_costs, Decimal(0)) if step_costs else cost_decimal(msg.get("cost"))
    else:
        tokens = msg.get("tokens")
        if type(tokens) is dict:
            counts = parse_tokens(tokens)
            cost = cost_decimal(msg.get("cost"))
        elif tokens is not None:
            diag.skip("wrong_type", f"message {message_id}: tokens")
            return None
    if counts is None:
        diag.dropped["no_usage"] += 1
        return None
    if counts.wrong_type:
        diag.skip("wrong_type", f"message {message_id}: tokens")
    if counts.is_zero():
        diag.dropped["zero_usage"] += 1
        return None
    usage, fidelity = to_usage(counts)
    notes.update(counts.notes)
    model = s(msg.get("modelID"))
    provider = s(msg.get("providerID"))
    m = msg.get("model")
    if type(m) is dict:  # newer user-message shape, also seen on some assistant messages
        model = model or s(m.get("modelID")) or s(m.get("id"))
        provider = provider or s(m.get("providerID"))
    if model is None:
        model = "unknown"
        notes.add(MODEL_UNKNOWN)
    error = msg.get("error")
    error_name = s(error.get("name")) if type(error) is dict else None
    aborted = error_name == ABORTED_ERROR or _time(msg).get("completed") is None
    if aborted:
        notes.add(PARTIAL)
    stop = s(msg.get("finish")) or ("aborted" if aborted else ("error" if error_name else None))
    return Turn(
        source=SOURCE,
        session_id=session_id,
        message_id=message_id,
        request_id=None,
        ts=ts,
        model=model,
        usage=usage,
        provider=provider,
        reported_cost_usd=cost_string(cost),
        stop_reason=stop,
        fidelity=Fidelity(usage=fidelity, notes=tuple(sorted(notes))),
    )


def _compaction(
    msg: dict[str, Any],
    message_id: str,
    session_id: str,
    ts: str,
    turn: Turn | None,
    parent_parts: PartsLookup | None,
) -> Compaction | None:
    """A compaction, from the assistant message that wrote the summary (``summary: true``).

    Keyed by the user message it answers (the one that holds the ``compaction`` part in current
    builds), whose part says whether it was automatic. Deferred until the summary call finished.
    """
    t = _time(msg)
    if t.get("completed") is None and msg.get("error") is None:
        return None
    parent = s(msg.get("parentID"))
    trigger = None
    if parent is not None and parent_parts is not None:
        for p in parent_parts(parent):
            if p.get("type") == "compaction":
                trigger = "auto" if p.get("auto") is True else "manual"
                break
    before = after = None
    if turn is not None:
        u = turn.usage
        before = (u.input or 0) + (u.cache_read or 0) + (u.cache_write_5m or 0)
        after = u.output
    return Compaction(
        source=SOURCE,
        session_id=session_id,
        ts=ts,
        trigger=trigger,
        tokens_before=before,
        tokens_after=after,
        uuid=parent or message_id,
    )


def _tool_records(
    parts: Sequence[dict[str, Any]], message_id: str, session_id: str, ts: str, out: list[Record]
) -> None:
    for p in parts:
        if p.get("type") != "tool":
            continue
        state = p.get("state")
        if type(state) is not dict:
            continue
        status = state.get("status")
        if status not in ("running", "completed", "error"):
            continue  # "pending": the input is not known yet
        call_id = s(p.get("callID")) or s(p.get("id"))
        name = s(p.get("tool"))
        if call_id is None or name is None:
            continue
        st = _time(state)
        args = state.get("input")
        out.append(
            ToolCall(
                source=SOURCE,
                session_id=session_id,
                tool_use_id=call_id,
                message_id=message_id,
                ts=_ts(st.get("start"), ts),
                name=name,
                target=tool_target(TOOL_TARGETS, name, args),
                args_hash=args_hash(args),
            )
        )
        if status == "running":
            continue
        result = state.get("output") if status == "completed" else state.get("error")
        length, digest = size_and_hash(result) if result is not None else (0, None)
        meta = state.get("metadata")
        child = (s(meta.get("sessionId")) or s(meta.get("sessionID"))) if type(meta) is dict else None
        out.append(
            ToolResultEvent(
                source=SOURCE,
                session_id=session_id,
                tool_use_id=call_id,
                ts=_ts(st.get("end"), _ts(st.get("start"), ts)),
                status="ok" if status == "completed" else "error",
                content_length=length,
                content_hash=digest,
                subagent_session_id=child,
            )
        )


def _user_turn(parts: Sequence[dict[str, Any]], message_id: str, session_id: str, ts: str) -> UserTurn | None:
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
        return None  # parts not written yet: the message is read again when they are
    return UserTurn(
        source=SOURCE,
        session_id=session_id,
        user_uuid=message_id,
        ts=ts,
        blocks=tuple(blocks),
        is_meta=meta or (texts > 0 and synthetic == texts),
    )


def session_info(d: dict[str, Any], fallback_id: str | None = None) -> SessionInfo | None:
    """A session object (``session/<projectID>/<id>.json`` or a ``session`` row) → SessionInfo."""
    session_id = s(d.get("id")) or fallback_id
    if session_id is None:
        return None
    parent = s(d.get("parentID"))
    created = ms_value(_time(d).get("created"))
    return SessionInfo(
        source=SOURCE,
        session_id=session_id,
        cwd=s(d.get("directory")),
        harness_version=s(d.get("version")),
        slug=s(d.get("slug")),
        title=s(d.get("title")),
        parent_session_id=parent,
        relationship="subagent" if parent else "root",
        agent_type=s(d.get("agent")) if parent else None,
        first_seen_ts=ms_to_iso(created) if created is not None else None,
    )
