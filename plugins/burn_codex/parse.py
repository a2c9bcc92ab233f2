"""Rollout lines → records, for one read of one file (FORMATS §2, DESIGN §5).

One :class:`RolloutParser` lives for one ``read()``: it is fed each new complete line, dispatches
on the envelope ``type`` (``session_meta``, ``turn_context``, ``event_msg``, ``response_item``,
``compacted``; unknown types are ignored) and hands back the records plus the small state to carry
into the next incremental read: the session, the current model, the running token totals
(:mod:`burn_codex.usage`) and the replay gate (:mod:`burn_codex.replay`).

**Model.** A token delta gets the model its event names (``payload.model``/``model_name`` or
``info.model``/``model_name``, as ccusage accepts), else the model of the latest ``turn_context``
before it. Without either — early-September-2025 builds wrote ``token_count`` before
``turn_context`` existed — the model is ``gpt-5`` (the default model of those builds, ccusage's
choice too) and the turn carries the fidelity note ``model_fallback``, so reports can flag it.

Legacy rollouts (mid-2025: an untyped ``{"id", "timestamp", …}`` first line, then bare response
items) have no usage at all: they give their :class:`~burn.records.SessionInfo`, tool calls and
user turns, never a :class:`~burn.records.Turn`.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from burn.reader import Diagnostics, SourceUnit
from burn.readkit import WrongType, normalize_ts, size_and_hash, user_block
from burn.readkit import nonempty_str as _s
from burn.records import (
    Compaction,
    Fidelity,
    Record,
    ToolCall,
    ToolResultEvent,
    Turn,
    UserBlock,
    UserTurn,
    span_ms,
    ts_to_ms,
)
from burn_codex.ids import SOURCE, file_session_id, hash_fields
from burn_codex.replay import ReplayGate
from burn_codex.session import minimal_info, session_info
from burn_codex.tools import (
    command_head,
    function_target,
    output_failed,
    patch_target,
    text_hash,
)
from burn_codex.usage import BACKWARDS, Accountant, to_usage

FALLBACK_MODEL = "gpt-5"
MODEL_FALLBACK = "model_fallback"
MAX_SPAWNS = 64  # spawn calls whose subagent thread id is remembered across reads
_META_PREFIXES = ("<environment_context>", "<user_instructions>", "<INSTRUCTIONS>", "# AGENTS.md")
_ITEM_TYPES = frozenset(
    {
        "function_call",
        "custom_tool_call",
        "local_shell_call",
        "function_call_output",
        "custom_tool_call_output",
        "message",
    }
)
# Response items that feed the model (a tool's output): the next response was prompted by them.
_INPUT_ITEMS = frozenset({"function_call_output", "custom_tool_call_output"})
_ENVELOPES = frozenset({"session_meta", "turn_context", "event_msg", "response_item", "compacted"})

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_FULL = Fidelity()
_FALLBACK = Fidelity(notes=(MODEL_FALLBACK,))


def _event_model(payload: dict[str, Any], info: dict[str, Any]) -> str | None:
    return (
        _s(payload.get("model"))
        or _s(info.get("model"))
        or _s(payload.get("model_name"))
        or _s(info.get("model_name"))
    )


class RolloutParser:
    """Records of the new lines of one rollout file, for one read.

    :param unit: the source unit (its name gives the fallback session id).
    :param state: reader state from the previous read of this file (``{}`` when reading from the
        start); see :meth:`state`.
    """

    def __init__(self, unit: SourceUnit, diagnostics: Diagnostics, state: dict[str, Any]) -> None:
        self.path = unit.path
        self.diag = diagnostics
        self.fallback_sid = unit.hints.get("session_id") or file_session_id(unit.path.name)
        self.out: list[Record] = []
        sid = state.get("sid")
        self.sid: str | None = sid if type(sid) is str else None
        self.meta: bool = state.get("meta") is True
        self.info: bool = state.get("info") is True
        self.legacy: bool = state.get("legacy") is True
        self.first_ts: str | None = _s(state.get("first_ts"))
        self.last_ts: str | None = _s(state.get("last_ts"))
        self.provider: str | None = _s(state.get("provider"))
        self.model: str | None = _s(state.get("model"))
        users = state.get("users")
        self.users: int = users if type(users) is int else 0
        compactions = state.get("compactions")
        self.compactions: int = compactions if type(compactions) is int else 0
        self.cpend: str | None = _s(state.get("cpend"))
        spawn = state.get("spawn")
        self.spawn: dict[str, str] = (
            {k: v for k, v in spawn.items() if type(k) is str and type(v) is str}
            if type(spawn) is dict
            else {}
        )
        # Timing (docs/accounting.md): when the next response was prompted, and the user turn
        # still running ([user_uuid, ts]; its task_complete gives its wall time).
        self.prompt_ts: str | None = _s(state.get("pts"))
        open_user = state.get("open_user")
        self.open_user: list[str] | None = (
            open_user
            if type(open_user) is list and len(open_user) == 2 and all(type(x) is str for x in open_user)
            else None
        )
        self.open_index: int | None = None  # the open user turn's position in self.out, if this read's
        acct = state.get("acct")
        self.acct = Accountant(acct if type(acct) is dict else {})
        gate = state.get("gate")
        self.gate = ReplayGate(gate if type(gate) is dict else {})

    # ----------------------------------------------------------------------------------- state

    def state(self) -> dict[str, Any]:
        """The JSON-able state to store in the cursor for the next read (bounded in size)."""
        out: dict[str, Any] = {}
        for key, value in (
            ("sid", self.sid),
            ("meta", self.meta),
            ("info", self.info),
            ("legacy", self.legacy),
            ("first_ts", self.first_ts),
            ("last_ts", self.last_ts),
            ("provider", self.provider),
            ("model", self.model),
            ("users", self.users),
            ("compactions", self.compactions),
            ("cpend", self.cpend),
            ("pts", self.prompt_ts),
            ("open_user", self.open_user),
            ("spawn", dict(list(self.spawn.items())[-MAX_SPAWNS:])),
            ("acct", self.acct.state()),
            ("gate", self.gate.state()),
        ):
            if value:
                out[key] = value
        return out

    def finish(self) -> list[Record]:
        """The records of this read. A session seen for the first time without a ``session_meta``
        still gets a minimal :class:`SessionInfo`, first."""
        if not self.info and self.sid is not None:
            self.info = True
            self.out.insert(0, minimal_info(self.sid, self.first_ts))
        return self.out

    # ------------------------------------------------------------------------------------ lines

    def feed(self, d: dict[str, Any], raw: bytes, n: int) -> None:
        """Process ``d``, the object on the ``n``-th complete line of this read (fed by
        :func:`burn.readkit.read_jsonl`). Raises :class:`WrongType`."""
        t = d.get("type")
        payload = d.get("payload")
        if payload is None or type(t) is not str or t not in _ENVELOPES:
            if payload is None and type(t) is str and t in _ENVELOPES:
                raise WrongType  # an envelope without its payload
            self._untyped(d, t)
            return
        if type(payload) is not dict:
            raise WrongType
        ts = normalize_ts(d.get("timestamp"))
        if ts is not None:
            self.last_ts = ts
            if self.first_ts is None:
                self.first_ts = ts
        sid = self.sid
        if sid is None:
            sid = self.sid = (_s(payload.get("id")) if t == "session_meta" else None) or self.fallback_sid
        if t == "session_meta" and not self.meta:
            self._session_meta(payload, sid, ts)
            return
        if self.gate.active and self.gate.replayed(t, ts, payload):
            self._replayed(t, payload, sid)
            return
        if t == "event_msg":
            et = payload.get("type")
            if et == "token_count":
                self._token_count(payload, sid, ts, n)
            elif et == "user_message":
                self._prompted(ts)
                self._user_message(payload, sid, ts, n)
            elif et == "task_complete" or et == "turn_aborted":
                self._user_turn_end(sid, ts)
            elif et == "context_compacted":
                self._compaction("event", sid, ts, n)
            elif et == "collab_tool_call" or et == "collab_agent_spawn_end":
                call_id, thread = _s(payload.get("call_id")), _s(payload.get("new_thread_id"))
                if call_id is not None and thread is not None:
                    self.spawn[call_id] = thread
        elif t == "response_item":
            item = payload.get("type")  # any JSON value: only a string names an item kind
            if (type(item) is str and item in _INPUT_ITEMS) or payload.get("role") == "user":
                self._prompted(ts)
            self._item(payload, sid, ts, n)
        elif t == "turn_context":
            self._prompted(ts)
            model = _s(payload.get("model"))
            if model is not None:
                self.model = model
            self.cpend = None
        elif t == "compacted":
            self._compaction("line", sid, ts, n)

    def skip(self, reason: str, n: int) -> None:
        """Count the ``n``-th line of this read as skipped for ``reason``."""
        self.diag.skip(reason, f"{self.path} (line {n} of this read)")

    def _ts(self, ts: str | None, n: int) -> str | None:
        """The line's timestamp, else the previous line's (``None``, counted, when there is none)."""
        if ts is None:
            ts = self.last_ts
            if ts is None:
                self.skip("missing_timestamp", n)
        return ts

    # ------------------------------------------------------------------------------- sessions

    def _session_meta(self, payload: dict[str, Any], sid: str, ts: str | None) -> None:
        """The file's own ``session_meta`` (later ones are ignored or, in a fork, replayed)."""
        self.meta = True
        self.info = True
        self.provider = _s(payload.get("model_provider"))
        self.out.append(session_info(payload, sid, ts))
        self.gate.arm(payload, ts)

    def _untyped(self, d: dict[str, Any], t: object) -> None:
        """Lines without an envelope: the legacy layout (FORMATS §2.5), or unknown shapes."""
        ts = normalize_ts(d.get("timestamp"))
        if t is None and not self.meta and self.sid is None and type(d.get("id")) is str:
            # the legacy first line {"id", "timestamp", "instructions", "git"}
            self.sid = _s(d["id"]) or self.fallback_sid
            self.legacy = True
            if ts is not None:
                self.first_ts = self.last_ts = ts
            self.meta = self.info = True
            # Rollouts written before token counts existed: their usage is unknown, not zero.
            self.out.append(attrs.evolve(session_info(d, self.sid, ts), usage_fidelity="none"))
            return
        if self.legacy and type(t) is str and t in _ITEM_TYPES:
            assert self.sid is not None
            if ts is not None:
                self.last_ts = ts
            self._item(d, self.sid, ts, 0)

    def _replayed(self, t: object, payload: dict[str, Any], sid: str) -> None:
        """A replayed parent line: its totals become the baseline, its model the current model."""
        if t == "event_msg" and payload.get("type") == "token_count":
            info = payload.get("info")
            if type(info) is dict:
                delta, _ = self.acct.account(info, sid)
                if delta is not None:
                    self.diag.dropped["replayed"] += 1
        elif t == "turn_context":
            model = _s(payload.get("model"))
            if model is not None:
                self.model = model

    # ---------------------------------------------------------------------------------- usage

    def _token_count(self, payload: dict[str, Any], sid: str, ts: str | None, n: int) -> None:
        info = payload.get("info")
        if info is None:
            self.diag.dropped["rate_limit_only"] += 1
            return
        if type(info) is not dict:
            raise WrongType
        delta, key = self.acct.account(info, sid)
        model = _event_model(payload, info)
        if model is not None:
            self.model = model
        if delta is None:
            if key == BACKWARDS:
                self.skip(key, n)  # not a dedupe: Codex does not write these, so say so
            else:
                self.diag.dropped[key] += 1
            return
        self.cpend = None
        prompt, self.prompt_ts = self.prompt_ts, None
        ts = self._ts(ts, n)
        if ts is None:
            return
        model = self.model
        self.out.append(
            Turn(
                source=SOURCE,
                session_id=sid,
                message_id=None,
                request_id=None,
                ts=ts,
                model=model or FALLBACK_MODEL,
                usage=to_usage(delta),
                provider=self.provider,
                fidelity=_FULL if model else _FALLBACK,
                line_hash=key,
                duration_ms=None if prompt is None else span_ms(ts_to_ms(prompt), ts_to_ms(ts)),
            )
        )

    # --------------------------------------------------------------------------------- timing

    def _prompted(self, ts: str | None) -> None:
        """An input event (a prompt, a tool's output, a new turn context): the next response was
        prompted no earlier than this."""
        if ts is not None and (self.prompt_ts is None or ts > self.prompt_ts):
            self.prompt_ts = ts

    def _user_turn_end(self, sid: str, ts: str | None) -> None:
        """``task_complete``/``turn_aborted``: the open user turn's wall time (on its record when this
        read emitted it, else on a minimal copy the core's merge fills in)."""
        if self.open_user is None or ts is None:
            return
        uuid, start = self.open_user
        self.open_user = None
        wall = span_ms(ts_to_ms(start), ts_to_ms(ts))
        if wall is None:
            return
        if self.open_index is not None:
            rec = self.out[self.open_index]
            if isinstance(rec, UserTurn):
                self.out[self.open_index] = attrs.evolve(rec, wall_ms=wall)
            self.open_index = None
            return
        self.out.append(UserTurn(source=SOURCE, session_id=sid, user_uuid=uuid, ts=start, wall_ms=wall))

    # --------------------------------------------------------------------------- conversation

    def _user_message(self, payload: dict[str, Any], sid: str, ts: str | None, n: int) -> None:
        message = payload.get("message")
        images = payload.get("images")
        if (message is not None and type(message) is not str) or (
            images is not None and type(images) is not list
        ):
            raise WrongType
        ts = self._ts(ts, n)
        if ts is None:
            return
        self.cpend = None
        blocks = [user_block("text", message)] if message else []
        if images:
            blocks.extend(user_block("image", image) for image in images)
        self._user_turn(sid, ts, tuple(blocks), False)

    def _user_turn(self, sid: str, ts: str, blocks: tuple[UserBlock, ...], is_meta: bool) -> None:
        self.users += 1
        uuid = hash_fields("user", sid, ts, self.users)
        if not is_meta:
            self.open_user, self.open_index = [uuid, ts], len(self.out)
        self.out.append(
            UserTurn(
                source=SOURCE,
                session_id=sid,
                user_uuid=uuid,
                ts=ts,
                blocks=blocks,
                is_meta=is_meta,
            )
        )

    def _compaction(self, kind: str, sid: str, ts: str | None, n: int) -> None:
        """One :class:`Compaction` per compaction: Codex writes a ``compacted`` line and a
        ``context_compacted`` event for the same one; the second of a pair is not counted again."""
        if self.cpend is not None and self.cpend != kind:
            self.cpend = None
            return
        ts = self._ts(ts, n)
        if ts is None:
            return
        self.cpend = kind
        self.compactions += 1
        self.out.append(
            Compaction(
                source=SOURCE,
                session_id=sid,
                ts=ts,
                uuid=hash_fields("compaction", sid, self.compactions),
            )
        )

    def _item(self, p: dict[str, Any], sid: str, ts: str | None, n: int) -> None:
        """A ``response_item``: tool calls and results (user messages only in legacy files, where
        no ``user_message`` events exist)."""
        it = p.get("type")
        if it == "function_call_output" or it == "custom_tool_call_output":
            self._tool_result(p, sid, ts, n)
        elif it == "function_call" or it == "custom_tool_call" or it == "local_shell_call":
            self._tool_call(it, p, sid, ts, n)
        elif it == "message" and self.legacy and p.get("role") == "user":
            ts = self._ts(ts, n)
            content = p.get("content")
            if ts is None or type(content) is not list:
                return
            blocks: list[UserBlock] = []
            is_meta = False
            for b in content:
                if type(b) is dict and type(b.get("text")) is str:
                    text = b["text"]
                    is_meta = is_meta or text.lstrip().startswith(_META_PREFIXES)
                    blocks.append(user_block("text", text))
                else:
                    kind = _s(b.get("type")) if type(b) is dict else None
                    blocks.append(user_block("image" if kind == "input_image" else kind or "unknown", b))
            self._user_turn(sid, ts, tuple(blocks), is_meta)

    def _tool_call(self, it: str, p: dict[str, Any], sid: str, ts: str | None, n: int) -> None:
        call_id = _s(p.get("call_id")) or _s(p.get("id"))
        if call_id is None:
            return
        ts = self._ts(ts, n)
        if ts is None:
            return
        if it == "local_shell_call":
            action = p.get("action")
            name = "local_shell"
            target = command_head(action.get("command")) if type(action) is dict else None
            args_hash = text_hash(action)
        else:
            name = _s(p.get("name")) or "unknown"
            args = p.get("arguments") if it == "function_call" else p.get("input")
            if it == "function_call":
                target = function_target(name, args)
                if name == "spawn_agent":
                    self.spawn.setdefault(call_id, "")
            else:
                target = patch_target(args) if name == "apply_patch" else None
            args_hash = text_hash(args)
        self.out.append(
            ToolCall(
                source=SOURCE,
                session_id=sid,
                tool_use_id=call_id,
                message_id=None,
                ts=ts,
                name=name,
                target=target,
                args_hash=args_hash,
            )
        )

    def _tool_result(self, p: dict[str, Any], sid: str, ts: str | None, n: int) -> None:
        call_id = _s(p.get("call_id"))
        if call_id is None:
            return
        ts = self._ts(ts, n)
        if ts is None:
            return
        output = p.get("output")
        length, digest = size_and_hash(output)
        subagent: str | None = None
        spawned = self.spawn.get(call_id)
        if spawned is not None:
            subagent = spawned or _spawned_agent(output)
        self.out.append(
            ToolResultEvent(
                source=SOURCE,
                session_id=sid,
                tool_use_id=call_id,
                ts=ts,
                status="error" if output_failed(output) else "ok",
                content_length=length,
                content_hash=digest,
                subagent_session_id=subagent,
            )
        )


def _spawned_agent(output: object) -> str | None:
    """The thread id a ``spawn_agent`` result names (``{"agent_id": …}``), if it is JSON."""
    if type(output) is str and output.startswith("{"):
        try:
            output = _loads(output)
        except _JSONDecodeError:
            return None
    return _s(output.get("agent_id")) if type(output) is dict else None
