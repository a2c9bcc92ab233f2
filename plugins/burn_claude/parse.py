"""Transcript lines → records, for one read of one file (FORMATS §1.2–1.6, DESIGN §5).

One :class:`TranscriptParser` lives for one ``read()``: it is fed each new complete line, keeps what
it needs to collapse the streaming split and to link user turns to the responses around them, and
hands back the records plus the small state to carry into the next incremental read.

Every line is parsed once with orjson (by :func:`burn.readkit.read_jsonl`) and dispatched on its
top-level ``type``. There is no byte pre-filter: lines are JSON written by different encoders
(compact or ``"usage": {`` spaced), and a filter that skipped lines unparsed would also stop
invalid lines from being counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from burn.readkit import WrongType, normalize_ts, sha32
from burn.readkit import nonempty_str as _s
from burn.records import Compaction, Record, ToolResultEvent, Turn, UserTurn, span_ms, ts_to_ms
from burn_claude.content import TOOL_BLOCKS, add_tool_calls, user_blocks
from burn_claude.ids import SOURCE, session_ids
from burn_claude.parser_base import _SIDECHAIN_KEY, ParserBase
from burn_claude.session import SessionFacts
from burn_claude.usage import cost_string, fidelity, parse_usage

PROVIDER = "anthropic"
SYNTHETIC = "<synthetic>"
MODEL_UNKNOWN = "model_unknown"
_TITLE_FIELDS = {"custom-title": ("customTitle", 3), "ai-title": ("aiTitle", 2), "summary": ("summary", 1)}


class TranscriptParser(ParserBase):
    """Records of the new lines of one transcript file, for one read.

    :param unit: the source unit (its ``hints`` say which session/agent the layout implies).
    :param state: reader state from the previous read of this file (``{}`` when reading from the
        start), see :class:`~burn_claude.carry.Carry`.
    :param start: byte offset the read starts at (only used to put line numbers in warnings).
    :param meta: ``(agentType, toolUseId)`` from the subagent's ``.meta.json`` sidecar.
    """

    # ------------------------------------------------------------------------------------ lines

    def feed(self, d: dict[str, Any], raw: bytes, n: int) -> None:
        """Process ``d``, the object on ``raw``, the ``n``-th complete line of this read (fed by
        :func:`burn.readkit.read_jsonl`). Raises :class:`WrongType`."""
        t = d.get("type")
        if t == "progress":
            data = d.get("data")
            if type(data) is not dict or data.get("type") != "agent_progress":
                self._plain_progress(d)  # the bulk of 2.1.x lines: hook and bash progress
                return
        ts = normalize_ts(d.get("timestamp"))
        if ts is None:
            ts = self._previous_ts()
        else:
            self.last_ts = ts
            self.raw_ts = None
        if t == "assistant":
            self._assistant_line(d, raw, ts, n)
        elif t == "user":
            self._user_line(d, ts, n)
        elif t == "progress":
            self._progress_line(d, d["data"], raw, ts, n)
        elif t == "system":
            self._system_line(d, ts, n)
        elif type(t) is str and t in _TITLE_FIELDS:
            self._title_line(d, t)
        elif t is None and type(d.get("message")) is dict and type(d["message"].get("usage")) is dict:
            self._assistant_line(d, raw, ts, n)  # untyped usage lines (ccusage fixtures)

    def _line_session(self, d: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
        """``(session_id, parent_session_id, agent_id)`` of a transcript line."""
        agent: str | None = None
        if self.subagent_file:
            agent = _s(d.get("agentId")) or self.file_agent
        elif d.get("isSidechain") is True:
            agent = _s(d.get("agentId"))
        sid, parent = session_ids(_s(d.get("sessionId")), agent, self.parent_hint, self.fallback)
        return sid, parent, agent

    def _envelope(self, d: Mapping[str, Any], ts: str | None) -> tuple[str, str | None]:
        """``(session_id, agent_id)`` of a line, its session taking the envelope fields it brings."""
        sid, parent, agent = self._line_session(d)
        s = self._session(sid, parent, agent, ts)
        if s.missing:
            s.fill(d)
        return sid, agent

    def _session(self, sid: str, parent: str | None, agent: str | None, ts: str | None) -> SessionFacts:
        s = self.sessions.get(sid)
        if s is None:
            s = self.sessions[sid] = SessionFacts(parent, agent)
            if agent is not None and agent == self.file_agent:
                s.agent_type = self.file_agent_type
                s.parent_tool_use_id = self.file_tool_use_id
            if self.primary is None:
                self.primary = sid
        if ts is not None and (s.first_ts is None or ts < s.first_ts):
            s.first_ts = ts
        return s

    def _assistant_line(self, d: dict[str, Any], raw: bytes, ts: str | None, n: int) -> None:
        sid, agent = self._envelope(d, ts)
        self._assistant(d, raw, ts, n, sid, agent, d.get("isSidechain") is True, True)

    def _assistant(
        self,
        rec: dict[str, Any],
        raw: bytes,
        ts: str | None,
        n: int,
        sid: str,
        agent: str | None,
        is_sidechain: bool,
        link: bool,
    ) -> None:
        """A response line (or a progress copy's inner line): Turn, ToolCalls, response links."""
        msg = rec.get("message")
        if type(msg) is not dict:
            raise WrongType
        usage = msg.get("usage")
        content = msg.get("content")
        if (usage is not None and type(usage) is not dict) or (
            content is not None and type(content) is not list and type(content) is not str
        ):
            raise WrongType
        model = msg.get("model")
        if model == SYNTHETIC:
            if usage is not None:
                self.diag.dropped["synthetic"] += 1
            return
        mid = _s(msg.get("id"))
        if ts is None:
            if usage is not None or (
                type(content) is list
                and any(type(b) is dict and b.get("type") in TOOL_BLOCKS for b in content)
            ):
                self.skip("missing_timestamp", n)
            return
        key = sid + _SIDECHAIN_KEY if is_sidechain and agent is None else sid
        prompt_ts: str | None = None
        if link:
            # The line that prompted this response: the last user line before its first line (a
            # response's lines can interleave with the results of its own tool calls).
            current = self.response.get(key)
            if current is not None and current[0] == mid:
                prompt_ts = current[1] or None
            else:
                prompt_ts = self.prompt.get(key)
                if mid is not None:
                    self.response[key] = [mid, prompt_ts or ""]
        if usage is not None:
            self._turn(rec, msg, usage, model, mid, raw, ts, n, sid, agent, is_sidechain, prompt_ts)
        if type(content) is list:
            add_tool_calls(self.tool_calls, sid, mid, ts, content)
        if link and mid is not None:
            self.prev[key] = mid
            rows = self.waiting.pop(key, None)
            if rows:
                for row in rows:
                    row[4] = mid
            if self.carried:
                self._resolve_carried(key, mid)

    def _turn(
        self,
        rec: dict[str, Any],
        msg: dict[str, Any],
        u: dict[str, Any],
        model: object,
        mid: str | None,
        raw: bytes,
        ts: str,
        n: int,
        sid: str,
        agent: str | None,
        is_sidechain: bool,
        prompt_ts: str | None,
    ) -> None:
        usage, fid, notes, wrong = parse_usage(u)
        if wrong:  # the line is kept, its wrongly typed counts are unknown (None), never 0
            if not self.diag.invalid["wrong_type"]:
                self.diag.warn(f"wrongly typed token counts kept as unknown: {self.path}:{self._lineno(n)}")
            self.diag.invalid["wrong_type"] += 1
        rid = _s(rec.get("requestId"))
        line_hash: str | None = None
        key: tuple[str | None, str | None]
        if mid is None and rid is None:
            line_hash = sha32(raw.rstrip(b"\r\n"))
            key = ("\x00" + sid, line_hash)
        else:
            key = (mid, rid)
        rank = usage.rank()
        slot = self.turn_slots.get(key)
        old: Turn | None = None
        if slot is not None:
            # The same response again in this read (the streaming split). Combine as the core's
            # merge combines sightings across reads — usage of the snapshot with the most output
            # (tie: largest total), attribution (session, ts, sidechain, agent) of the earliest —
            # so results do not depend on where reads stop.
            self.diag.dropped["streaming_split" if line_hash is None else "duplicate_line"] += 1
            old = self.turns[slot]
            times = self.turn_times[slot]
            if times[0] is None:
                times[0] = prompt_ts
            times[1] = min(times[1] or ts, ts)
            times[2] = max(times[2] or ts, ts)
            earlier = (ts, sid) < (old.ts, old.session_id)
            if rank <= self.turn_ranks[slot]:
                if earlier:
                    self.turns[slot] = attrs.evolve(
                        old, session_id=sid, ts=ts, is_sidechain=is_sidechain, agent_id=agent
                    )
                return
            if not earlier:
                sid, ts, is_sidechain, agent = old.session_id, old.ts, old.is_sidechain, old.agent_id
        if type(model) is not str or not model:
            model = "unknown"
            notes = (*notes, MODEL_UNKNOWN)
        turn = Turn(
            source=SOURCE,
            session_id=sid,
            message_id=mid,
            request_id=rid,
            ts=ts,
            model=model,
            usage=usage,
            provider=PROVIDER,
            reported_cost_usd=cost_string(rec.get("costUSD")),
            speed=_s(u.get("speed")),
            service_tier=_s(u.get("service_tier")),
            stop_reason=_s(msg.get("stop_reason")),
            is_sidechain=is_sidechain,
            agent_id=agent,
            fidelity=fidelity(fid, notes),
            line_hash=line_hash,
        )
        if slot is None:
            self.turn_slots[key] = len(self.turns)
            self.turns.append(turn)
            self.turn_ranks.append(rank)
            self.turn_times.append([prompt_ts, ts, ts])
        else:
            self.turns[slot] = turn
            self.turn_ranks[slot] = rank

    def _resolve_carried(self, key: str, mid: str) -> None:
        """User turns of earlier reads learn the response that followed them (a minimal
        UserTurn; the core's merge fills the field it did not know)."""
        keep: list[list[str]] = []
        for row in self.carried:
            if row[0] == key:
                self.users.append([row[1], row[2], row[3], None, mid, (), False, False, True, None])
            else:
                keep.append(row)
        self.carried = keep

    def _user_line(self, d: dict[str, Any], ts: str | None, n: int) -> None:
        msg = d.get("message")
        if type(msg) is not dict:
            raise WrongType
        content = msg.get("content")
        if content is not None and type(content) is not list and type(content) is not str:
            raise WrongType
        sid, agent = self._envelope(d, ts)
        uuid = _s(d.get("uuid"))
        if ts is None:
            if uuid is not None or type(content) is list:
                self.skip("missing_timestamp", n)
            return
        blocks = user_blocks(content)  # sizes and hashes, computed once per block
        results = [(b, b.tool_use_id) for b in blocks if b.tool_use_id is not None]
        link = sid + _SIDECHAIN_KEY if d.get("isSidechain") is True and agent is None else sid
        self.prompt[link] = ts
        if results:
            subagent_session: str | None = None
            duration: int | None = None
            tur = d.get("toolUseResult")
            if len(results) == 1 and type(tur) is dict:
                ms = tur.get("durationMs")
                duration = ms if type(ms) is int and ms >= 0 else None
                linked = _s(tur.get("agentId"))
                if linked is not None:
                    subagent_session = session_ids(
                        _s(d.get("sessionId")), linked, self.parent_hint, self.fallback
                    )[0]
            for block, tool_use_id in results:
                key = (sid, tool_use_id)
                if key not in self.tool_results:
                    self.tool_results[key] = ToolResultEvent(
                        source=SOURCE,
                        session_id=sid,
                        tool_use_id=tool_use_id,
                        ts=ts,
                        status="error" if block.is_error else "ok",
                        content_length=block.byte_length,
                        content_hash=block.content_hash,
                        subagent_session_id=subagent_session,
                        duration_ms=duration,
                    )
        if uuid is None:
            return
        row: list[Any] = [
            sid,
            uuid,
            ts,
            self.prev.get(link),
            None,
            blocks,
            d.get("isMeta") is True,
            d.get("isCompactSummary") is True,
            False,
            None,
        ]
        if not results and not row[6] and not row[7]:
            # A prompt starts a user turn; the ``turn_duration`` line at its end belongs to it.
            self.start_rows[link] = row
            self.turn_start[link] = [sid, uuid, ts]
        self.users.append(row)
        self.waiting.setdefault(link, []).append(row)

    def _plain_progress(self, d: dict[str, Any]) -> None:
        """A progress line with nothing to count: remember its timestamp unparsed, and note its
        session only when it differs from the previous such line's (a session-start hook runs
        before the first prompt, so it can be the session's first line)."""
        raw_ts = d.get("timestamp")
        if raw_ts is not None:
            self.raw_ts = raw_ts
        session = d.get("sessionId")
        if session != self.progress_session:
            self.progress_session = session
            self._envelope(d, normalize_ts(raw_ts))

    def _progress_line(
        self, d: dict[str, Any], data: dict[str, Any], raw: bytes, ts: str | None, n: int
    ) -> None:
        if d.get("sessionId") != self.progress_session:
            self.progress_session = d.get("sessionId")
            self._envelope(d, ts)
        inner = data.get("message")
        if type(inner) is not dict:
            raise WrongType
        agent = _s(data.get("agentId"))
        line_session = _s(d.get("sessionId"))
        if agent is not None:
            sid, parent = session_ids(line_session, agent, self.parent_hint, self.fallback)
            is_sidechain = True
        else:
            sid, parent, agent = self._line_session(d)
            is_sidechain = inner.get("isSidechain") is True or d.get("isSidechain") is True
        its = normalize_ts(inner.get("timestamp")) or ts
        s = self._session(sid, parent, agent, its)
        if s.missing:
            s.fill(d)
        if agent is not None and s.parent_tool_use_id is None:
            s.parent_tool_use_id = _s(d.get("parentToolUseID"))
        if inner.get("type") == "assistant":
            self._assistant(inner, raw, its, n, sid, agent, is_sidechain, False)

    def _system_line(self, d: dict[str, Any], ts: str | None, n: int) -> None:
        sid, agent = self._envelope(d, ts)
        if d.get("subtype") == "turn_duration":
            self._turn_duration(d, sid, agent)
            return
        if d.get("subtype") != "compact_boundary":
            return
        if ts is None:
            self.skip("missing_timestamp", n)
            return
        meta = d.get("compactMetadata")
        if type(meta) is not dict:
            meta = {}
        before = meta.get("preTokens")
        after = meta.get("postTokens")
        self.compactions.append(
            Compaction(
                source=SOURCE,
                session_id=sid,
                ts=ts,
                trigger=_s(meta.get("trigger")),
                tokens_before=before if type(before) is int else None,
                tokens_after=after if type(after) is int else None,
                uuid=_s(d.get("uuid")),
            )
        )

    def _turn_duration(self, d: dict[str, Any], sid: str, agent: str | None) -> None:
        """Claude Code's own wall time of a user turn: the wall time of the prompt that started it
        (in this read, or carried from an earlier one as a minimal user turn the merge fills)."""
        ms = d.get("durationMs")
        if type(ms) is not int or ms < 0:
            return
        link = sid + _SIDECHAIN_KEY if d.get("isSidechain") is True and agent is None else sid
        start = self.turn_start.pop(link, None)
        row = self.start_rows.pop(link, None)
        if row is not None:
            row[9] = ms
        elif start is not None:
            self.users.append([start[0], start[1], start[2], None, None, (), False, False, True, ms])

    def _title_line(self, d: dict[str, Any], t: str) -> None:
        field, rank = _TITLE_FIELDS[t]
        title = _s(d.get(field))
        if title is None:
            return
        if t == "summary":
            self.summary_title = title  # old builds: no session id; belongs to the file's session
            return
        sid, parent, agent = self._line_session(d)
        s = self._session(sid, parent, agent, None)
        if rank >= s.title_rank:
            s.title, s.title_rank = title, rank

    # ----------------------------------------------------------------------------------- result

    def finish(self) -> list[Record]:
        """All records of this read. Titles: ``custom-title`` over ``ai-title`` over ``summary``,
        the last of each kind in the read wins."""
        if self.summary_title is not None and self.primary is not None:
            s = self.sessions.get(self.primary)
            if s is None:
                s = self.sessions[self.primary] = SessionFacts(None, None)
                s.missing = False
            if s.title_rank <= 1:
                s.title, s.title_rank = self.summary_title, 1
        if (
            self.primary is not None
            and self.primary not in self.sessions
            and (self.file_agent_type or self.file_tool_use_id)
        ):
            # Nothing new in the file, but its sidecar may be: say what it says about the agent.
            s = self.sessions[self.primary] = SessionFacts(self.parent_hint, self.file_agent)
            s.agent_type, s.parent_tool_use_id = self.file_agent_type, self.file_tool_use_id
            s.missing = False
        records: list[Record] = []
        for turn, (prompt, first, last) in zip(self.turns, self.turn_times, strict=True):
            if prompt is None or first is None or last is None:
                records.append(turn)
                continue
            start = ts_to_ms(prompt)
            records.append(
                attrs.evolve(
                    turn,
                    duration_ms=span_ms(start, ts_to_ms(last)),
                    latency_ms=span_ms(start, ts_to_ms(first)),
                )
            )
        records.extend(self.tool_calls.values())
        records.extend(self.tool_results.values())
        for sid, uuid, ts, preceding, following, blocks, is_meta, compact, _minimal, wall in self.users:
            records.append(
                UserTurn(
                    source=SOURCE,
                    session_id=sid,
                    user_uuid=uuid,
                    ts=ts,
                    preceding_message_id=preceding,
                    following_message_id=following,
                    blocks=blocks,
                    is_meta=is_meta,
                    is_compact_summary=compact,
                    wall_ms=wall,
                )
            )
        records.extend(self.compactions)
        records.extend(s.info(sid) for sid, s in self.sessions.items())
        return records
