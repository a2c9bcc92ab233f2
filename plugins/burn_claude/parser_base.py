"""The state and diagnostics of one read of one transcript (:class:`ParserBase`), apart from how
each kind of line is parsed (:class:`burn_claude.parse.TranscriptParser`): what is carried between
incremental reads (:class:`~burn_claude.carry.Carry`), what this read collects, and line numbers
for warnings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from burn.reader import Diagnostics, SourceUnit
from burn.readkit import normalize_ts
from burn.readkit.tail import lines_before
from burn.records import Compaction, ToolCall, ToolResultEvent, Turn
from burn_claude.carry import Carry
from burn_claude.session import SessionFacts

_SIDECHAIN_KEY = "\x1fsidechain"  # suffix of the link key of sidechain lines in a main transcript


class ParserBase:
    """What one read of one transcript holds, and the state it hands to the next read."""

    def __init__(
        self,
        unit: SourceUnit,
        diagnostics: Diagnostics,
        state: Mapping[str, Any],
        start: int = 0,
        meta: tuple[str | None, str | None] = (None, None),
    ) -> None:
        hints = unit.hints
        self.path = unit.path
        self.start = start
        self.diag = diagnostics
        name = unit.path.name
        self.fallback = hints.get("session_id") or (name[:-6] if name.endswith(".jsonl") else name)
        self.parent_hint = hints.get("parent_session_id")
        self.file_agent = hints.get("agent_id")
        self.subagent_file = "agent_id" in hints or "parent_session_id" in hints
        self.file_agent_type = meta[0] or hints.get("agent_type")
        self.file_tool_use_id = meta[1]
        self.turns: list[Turn] = []
        self.turn_slots: dict[tuple[str | None, str | None], int] = {}
        self.turn_ranks: list[tuple[int, int]] = []
        # Per turn slot: [prompting line's ts or None, earliest line ts, latest line ts].
        self.turn_times: list[list[str | None]] = []
        self.tool_calls: dict[tuple[str, str], ToolCall] = {}
        self.tool_results: dict[tuple[str, str], ToolResultEvent] = {}
        self.compactions: list[Compaction] = []
        # [sid, uuid, ts, preceding, following, blocks, meta, compact, minimal, wall_ms]
        self.users: list[list[Any]] = []
        self.start_rows: dict[str, list[Any]] = {}  # link key -> the row of the turn's prompt
        self.waiting: dict[str, list[list[Any]]] = {}  # link key -> user rows awaiting a response
        self.sessions: dict[str, SessionFacts] = {}
        self.summary_title: str | None = None
        self._line_base: int | None = None
        self._load_state(state)

    # ----------------------------------------------------------------------------------- state

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.raw_ts: object = None  # a newer, not yet normalised timestamp (of a skipped line)
        self.progress_session: object = None
        carry = Carry.load(state)
        self.last_ts: str | None = carry.last_ts
        self.prev: dict[str, str] = carry.prev
        self.primary: str | None = carry.primary
        self.carried: list[list[str]] = carry.pending  # pending users of earlier reads: [key, sid, uuid, ts]
        self.prompt: dict[str, str] = carry.prompt
        self.response: dict[str, list[str]] = carry.response
        self.turn_start: dict[str, list[str]] = carry.turn_start

    def state(self) -> dict[str, Any]:
        """The JSON-able state to store in the cursor for the next read (bounded in size)."""
        pending = [
            [key, row[0], row[1], row[2]]
            for key, rows in self.waiting.items()
            for row in rows
            if row[4] is None
        ]
        self._previous_ts()
        return Carry(
            self.last_ts,
            self.prev,
            self.primary,
            self.carried + pending,
            self.prompt,
            self.response,
            self.turn_start,
        ).dump()

    # ------------------------------------------------------------------------------ diagnostics

    def skip(self, reason: str, lineno: int) -> None:
        """Count a skipped line; the first one of each reason gets a warning with its line number."""
        if self.diag.invalid[reason]:
            self.diag.skip(reason)
        else:
            self.diag.skip(reason, f"{self.path}:{self._lineno(lineno)}")

    def _lineno(self, n: int) -> int:
        """Line number in the file of the ``n``-th line of this read (counts lines before the
        start offset only when a warning needs it)."""
        if self._line_base is None:
            self._line_base = lines_before(self.path, self.start) if self.start else 0
        return self._line_base + n

    def _previous_ts(self) -> str | None:
        """Timestamp of the latest earlier line that had a valid one."""
        if self.raw_ts is not None:
            ts = normalize_ts(self.raw_ts)
            self.raw_ts = None
            if ts is not None:
                self.last_ts = ts
        return self.last_ts
