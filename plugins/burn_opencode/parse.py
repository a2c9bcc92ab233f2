"""One OpenCode message and its parts → records; one session object → :class:`SessionInfo`.

The JSON files of ``storage/`` and the ``data`` column of ``opencode.db`` hold the same objects
(the database drops the id fields, which the caller puts back), so this one parser serves both
(FORMATS §3.2–3.5).

**Turns: one per API request.** burn prices each turn on its own prompt (the long-context tier is
decided per request, docs/pricing.md), so the turns of an assistant message are its requests:

* one :class:`Turn` per ``step-finish`` part with non-zero tokens (each step is one request),
  keyed ``(message id, part id)``, with that part's tokens and its own ``cost`` (a single step
  without one takes the message's); the message's own ``tokens`` (only its *last* step's) are
  then not used;
* otherwise one message-level Turn (``request_id`` ``None``) from the message's ``tokens`` and
  ``cost`` — but, when the message has ``step-start``/``step-finish`` parts, only once it is
  final (``time.completed`` or ``error`` set). Without non-zero tokens: no turn
  (``dropped["no_usage"]`` / ``dropped["zero_usage"]``).

Why this cannot count a request twice: a message's step turns and its message-level turn have
different event ids, so the rule must never emit both for one message. A step turn is emitted as
soon as its part exists (a ``step-finish`` part is written once, final). The message-level turn is
emitted only from a snapshot that has no step usage and either (a) is final — OpenCode writes every
``step-finish`` part before it marks the message completed or failed, so a final message without
one never gets one — or (b) has no step part at all — builds that write steps write ``step-start``
before the step has any tokens, so tokens without any step part mean a build that writes none. An
unfinished message with a step under way waits: its usage arrives as the ``step-finish`` part.
Both facts hold for one snapshot: the database is read in one read transaction, and for JSON
storage the part files are listed again after the message file is read when none has step usage
(storage.py). The database and a leftover JSON copy give the same ids (part ids are kept). Not
covered: a copy of a stepped message stripped of its part files, which neither OpenCode nor its
migration produces.

Records that would be frozen in an unfinished state are deferred until the data is final: a tool
call once its input is known (``running``/``completed``/``error``), a tool result once the tool
finished, a user turn once the message has content parts, a compaction once the summary message
completed. Their files or rows change when that happens, so the next ingest sees them.

A user turn's wall time comes with the assistant message that ends the turn: see
:mod:`burn_opencode.prompts`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from burn.reader import Diagnostics
from burn.readkit import args_hash, ms_to_iso, size_and_hash, tool_target
from burn.readkit import nonempty_str as s
from burn.records import (
    Compaction,
    Fidelity,
    Record,
    SessionInfo,
    ToolCall,
    ToolResultEvent,
    Turn,
    span_ms,
)
from burn_opencode.content import TOOL_TARGETS
from burn_opencode.ids import SOURCE, ms_value
from burn_opencode.ids import times as _time
from burn_opencode.prompts import Prompts, user_turn
from burn_opencode.tokens import Counts, cost_decimal, cost_string, parse_tokens, to_usage

MODEL_UNKNOWN = "model_unknown"
PARTIAL = "output_may_be_partial"
TS_FALLBACK = "timestamp_fallback"
ABORTED_ERROR = "MessageAbortedError"

# Looks up the parts of another message (the user message a compaction summary answers).
PartsLookup = Callable[[str], Sequence[dict[str, Any]]]


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
    prompts: Prompts | None = None,
) -> list[Record]:
    """Records of one message (``msg``: the message object, ``parts``: its part objects).

    ``prompts``: the read's prompts, for the wall time of the user turn an assistant message ends
    (:mod:`burn_opencode.prompts`); without it no wall time is derived.

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
        turns = _turns(msg, parts, message_id, session_id, ts, notes, diag)
        records.extend(turns)
        if msg.get("summary") is True:
            compaction = _compaction(msg, message_id, session_id, ts, turns, parent_parts)
            if compaction is not None:
                records.append(compaction)
        _tool_records(parts, message_id, session_id, ts, records)
        ended = prompts.ended_by(msg, session_id) if prompts is not None else None
        if ended is not None:
            records.append(ended)
    elif role == "user":
        user = user_turn(parts, message_id, session_id, ts)
        if user is not None:
            records.append(user)
            if prompts is not None:
                prompts.saw(msg, user)
    else:
        diag.dropped["not_a_message"] += 1
    return records


def has_step_usage(parts: Sequence[dict[str, Any]]) -> bool:
    """Whether ``parts`` hold a ``step-finish`` part with non-zero tokens (per-step turns)."""
    for p in parts:
        if p.get("type") == "step-finish":
            t = p.get("tokens")
            if type(t) is dict and not parse_tokens(t).is_zero():
                return True
    return False


def _is_final(msg: dict[str, Any]) -> bool:
    return _time(msg).get("completed") is not None or msg.get("error") is not None


def _turns(
    msg: dict[str, Any],
    parts: Sequence[dict[str, Any]],
    message_id: str,
    session_id: str,
    ts: str,
    notes: set[str],
    diag: Diagnostics,
) -> list[Turn]:
    """The turns of one assistant message: one per API request (see the module docstring)."""
    steps: list[tuple[str, dict[str, Any], Counts]] = []
    step_parts = False
    for i, p in enumerate(parts):
        kind = p.get("type")
        if kind == "step-start" or kind == "step-finish":
            step_parts = True
        if kind == "step-finish":
            t = p.get("tokens")
            if type(t) is dict:
                c = parse_tokens(t)
                if c.wrong_type:
                    diag.skip("wrong_type", f"message {message_id}: step tokens")
                if not c.is_zero():
                    steps.append((s(p.get("id")) or f"step-{i}", p, c))
    created = ms_value(_time(msg).get("created"))
    if steps:
        single = cost_decimal(msg.get("cost")) if len(steps) == 1 else None
        out = []
        timings = _step_timings(parts, created, ms_value(_time(msg).get("completed")))
        for part_id, p, counts in steps:
            cost = cost_decimal(p.get("cost"))
            reason = s(p.get("reason"))
            turn = _make_turn(
                msg,
                message_id,
                part_id,
                session_id,
                ts,
                counts,
                single if cost is None else cost,
                notes,
                reason,
                False,
            )
            duration, latency = timings.get(id(p), (None, None))
            out.append(attrs.evolve(turn, duration_ms=duration, latency_ms=latency))
        return out
    tokens = msg.get("tokens")
    if type(tokens) is not dict:
        if tokens is not None:
            diag.skip("wrong_type", f"message {message_id}: tokens")
        else:
            diag.dropped["no_usage"] += 1
        return []
    counts = parse_tokens(tokens)
    if counts.wrong_type:
        diag.skip("wrong_type", f"message {message_id}: tokens")
    if counts.is_zero():
        diag.dropped["zero_usage"] += 1
        return []
    if step_parts and not _is_final(msg):
        return []  # a step is under way: its usage arrives as a step-finish part (never both)
    turn = _make_turn(
        msg, message_id, None, session_id, ts, counts, cost_decimal(msg.get("cost")), notes, None, True
    )
    first = min((t for p in parts if (t := _part_time(p, "start")) is not None), default=None)
    return [
        attrs.evolve(
            turn,
            duration_ms=span_ms(created, ms_value(_time(msg).get("completed"))),
            latency_ms=span_ms(created, first),
        )
    ]


def _part_time(p: dict[str, Any], edge: str) -> int | None:
    """``time.start``/``time.end`` of a text/reasoning part, or of a tool part's state (ms)."""
    t = p.get("time")
    if type(t) is not dict:
        state = p.get("state")
        t = state.get("time") if type(state) is dict else None
    return ms_value(t.get(edge)) if type(t) is dict else None


def _step_timings(
    parts: Sequence[dict[str, Any]], created: int | None, completed: int | None
) -> dict[int, tuple[int | None, int | None]]:
    """Timing of each ``step-finish`` part (keyed by ``id()``): a step starts when the message was
    created (the first) or when the previous step's last part ended; its latency runs to its first
    part's start, its duration to its last part's end (the last step: to ``time.completed``);
    ``(duration_ms, latency_ms)``."""
    out: dict[int, tuple[int | None, int | None]] = {}
    start, first, last = created, None, None
    finishes = [p for p in parts if p.get("type") == "step-finish"]
    for p in parts:
        if p.get("type") == "step-finish":
            end = completed if p is finishes[-1] and completed is not None else last
            out[id(p)] = (span_ms(start, end), span_ms(start, first))
            start, first, last = last, None, None
            continue
        a, b = _part_time(p, "start"), _part_time(p, "end")
        if a is not None and (first is None or a < first):
            first = a
        if b is not None and (last is None or b > last):
            last = b
    return out


def _make_turn(
    msg: dict[str, Any],
    message_id: str,
    request_id: str | None,
    session_id: str,
    ts: str,
    counts: Counts,
    cost: Decimal | None,
    message_notes: set[str],
    step_reason: str | None,
    whole_message: bool,
) -> Turn:
    usage, fidelity = to_usage(counts)
    notes = set(message_notes)
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
    if aborted and whole_message:  # a finished step's own usage is complete
        notes.add(PARTIAL)
    stop = (
        step_reason or s(msg.get("finish")) or ("aborted" if aborted else ("error" if error_name else None))
    )
    return Turn(
        source=SOURCE,
        session_id=session_id,
        message_id=message_id,
        request_id=request_id,
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
    turns: Sequence[Turn],
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
    if turns:  # the prompt of the summary request, and everything it wrote
        u = turns[0].usage
        before = (u.input or 0) + (u.cache_read or 0) + (u.cache_write_5m or 0)
        outputs = [t.usage.output for t in turns if t.usage.output is not None]
        after = sum(outputs) if outputs else None
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
                duration_ms=span_ms(ms_value(st.get("start")), ms_value(st.get("end"))),
            )
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
