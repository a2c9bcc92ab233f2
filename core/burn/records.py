"""Normalized records: what readers produce and what the ledger stores.

One meaning for every source (DESIGN §5):

* ``input`` excludes cache reads and cache writes;
* ``reasoning`` is the part of ``output`` spent reasoning, never added on top;
* a count that the source did not report is ``None`` — unknown is never zero.

Every record has a content-addressed :meth:`event_id` over its identity fields, so writing the same
event twice (from two processes, or after a transcript was rewritten) stores it once.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import ClassVar, Literal

import attrs

Relationship = Literal["root", "subagent", "fork", "continuation"]
Classification = Literal["interactive", "automated"]
UsageFidelity = Literal["full", "partial", "none"]


def event_id(domain: str, *fields: str | None) -> str:
    """Content-addressed id: hex sha256 (first 128 bits) of a domain tag and identity fields.

    Fields are joined with a unit separator so that ("ab", "c") and ("a", "bc") differ; a missing
    field is spelled ``\\x00`` so that it differs from an empty string.
    """
    raw = "\x1f".join([domain, *("\x00" if f is None else f for f in fields)])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@attrs.frozen
class Usage:
    """Token counts of one billed model response. ``None`` means the source did not say."""

    input: int | None = None
    output: int | None = None
    reasoning: int | None = None
    cache_read: int | None = None
    cache_write_5m: int | None = None
    cache_write_1h: int | None = None
    web_search_requests: int | None = None

    def rank(self) -> tuple[int, int]:
        """Order of streamed snapshots of one response: most output, then largest total."""
        return (self.output or 0, self.total())

    def total(self) -> int:
        """The total tokens: the sum of the :data:`TOTAL_FIELDS` (reasoning is inside output)."""
        return sum(getattr(self, f) or 0 for f in TOTAL_FIELDS)


USAGE_FIELDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(Usage))
# The token fields "total tokens" adds, everywhere: input + output + cache reads + cache writes.
# Reasoning is part of output; web searches are requests, not tokens.
TOTAL_FIELDS: tuple[str, ...] = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


def ts_to_ms(ts: str) -> int:
    """Milliseconds since the epoch of an ISO-8601 timestamp (naive values are taken as UTC)."""
    dt = datetime.fromisoformat(ts)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def span_ms(start_ms: int | None, end_ms: int | None) -> int | None:
    """``end_ms - start_ms``, or ``None`` when either is unknown or the end is before the start
    (out-of-order timestamps): a duration is never negative and never a made-up zero."""
    if start_ms is None or end_ms is None or end_ms < start_ms:
        return None
    return end_ms - start_ms


def iso_seconds(ms: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of UTC milliseconds: an instant to the second, as ``burn summary``
    and ``burn doctor`` show it."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen
class Fidelity:
    """How much of the truth a record carries.

    ``usage``: ``full`` when every token field the source has was reported, ``partial`` when some
    are unknown, ``none`` when the source wrote no usage at all. ``notes`` name specific gaps
    (``cache_write_split_assumed_5m``, ``output_may_be_partial``, ``model_fallback`` …).
    """

    usage: UsageFidelity = "full"
    notes: tuple[str, ...] = ()


@attrs.frozen
class Turn:
    """One billed model response (one API request)."""

    KIND: ClassVar[str] = "turn"

    source: str
    session_id: str
    message_id: str | None
    request_id: str | None
    ts: str  # ISO-8601 UTC, e.g. 2026-02-11T21:24:22.960Z
    model: str
    usage: Usage
    provider: str | None = None
    reported_cost_usd: str | None = None  # decimal string, as the source wrote it
    speed: str | None = None  # "standard" | "fast" …
    service_tier: str | None = None
    stop_reason: str | None = None
    is_sidechain: bool = False
    agent_id: str | None = None
    fidelity: Fidelity = Fidelity()
    # Identity of a line that has neither message id nor request id: a hash of its bytes.
    line_hash: str | None = None
    # Timing (docs/accounting.md "Timing"), milliseconds, None when the source does not say:
    # prompt -> the response's end, and prompt -> its first output.
    duration_ms: int | None = None
    latency_ms: int | None = None

    def event_id(self) -> str:
        if self.message_id is None and self.request_id is None:
            return event_id("turn.line", self.source, self.session_id, self.line_hash)
        return event_id("turn", self.source, self.message_id, self.request_id)


@attrs.frozen
class ToolCall:
    """A tool invocation requested by a model response. Arguments are hashed, never stored."""

    KIND: ClassVar[str] = "tool_call"

    source: str
    session_id: str
    tool_use_id: str
    message_id: str | None
    ts: str
    name: str
    target: str | None = None  # file path, command head, URL host … (never full arguments)
    args_hash: str | None = None

    def event_id(self) -> str:
        return event_id("tool_call", self.source, self.session_id, self.tool_use_id)


@attrs.frozen
class ToolResultEvent:
    """The result of a tool call as the agent recorded it: sizes and hashes, never content."""

    KIND: ClassVar[str] = "tool_result"

    source: str
    session_id: str
    tool_use_id: str
    ts: str
    status: Literal["ok", "error"] = "ok"
    content_length: int = 0
    content_hash: str | None = None
    subagent_session_id: str | None = None
    duration_ms: int | None = None  # the tool's run time as the agent recorded it

    def event_id(self) -> str:
        return event_id("tool_result", self.source, self.session_id, self.tool_use_id)


@attrs.frozen
class UserBlock:
    """One content block of a user message: its kind and size, never its content."""

    kind: str  # text | tool_result | image | document | …
    byte_length: int
    approx_tokens: int
    content_hash: str | None = None
    tool_use_id: str | None = None
    is_error: bool | None = None


@attrs.frozen
class UserTurn:
    """A user message (prompt or tool results) with the ids of the messages around it."""

    KIND: ClassVar[str] = "user_turn"

    source: str
    session_id: str
    user_uuid: str
    ts: str
    preceding_message_id: str | None = None
    following_message_id: str | None = None
    blocks: tuple[UserBlock, ...] = ()
    is_meta: bool = False
    is_compact_summary: bool = False
    wall_ms: int | None = None  # prompt until the agent stopped (docs/accounting.md "Timing")

    def event_id(self) -> str:
        return event_id("user_turn", self.source, self.session_id, self.user_uuid)


@attrs.frozen
class Compaction:
    """A context compaction (manual or automatic)."""

    KIND: ClassVar[str] = "compaction"

    source: str
    session_id: str
    ts: str
    trigger: str | None = None  # auto | manual
    tokens_before: int | None = None
    tokens_after: int | None = None
    uuid: str | None = None

    def event_id(self) -> str:
        return event_id("compaction", self.source, self.session_id, self.uuid or self.ts)


@attrs.frozen
class SessionInfo:
    """What is known about a session. Later sightings fill unknown fields (see :func:`merge`)."""

    KIND: ClassVar[str] = "session"

    source: str
    session_id: str
    cwd: str | None = None
    git_branch: str | None = None
    git_remote: str | None = None  # normalized by burn.privacy.remotes.normalize_remote: never credentials
    git_commit: str | None = None
    harness_version: str | None = None
    slug: str | None = None
    title: str | None = None
    parent_session_id: str | None = None
    relationship: Relationship = "root"
    agent_id: str | None = None
    agent_type: str | None = None
    parent_tool_use_id: str | None = None
    originator: str | None = None
    classification: Classification | None = None
    first_seen_ts: str | None = None
    # "none" when the source recorded no usage for this session (e.g. Codex rollouts written before
    # token counts existed): its turns are unknown, not zero.
    usage_fidelity: UsageFidelity | None = None

    def event_id(self) -> str:
        return event_id("session", self.source, self.session_id)


@attrs.frozen
class ProjectObservation:
    """What burn saw of a working directory at ingest (see :mod:`burn.privacy.identity`).

    Stored because the directory may be gone later. Paths are redacted and remotes normalized, so
    no credential is ever stored. Keys and labels are derived from this, not stored.
    """

    KIND: ClassVar[str] = "project"

    cwd: str
    observed_at: str
    exists: bool | None = None
    git_root: str | None = None
    is_worktree: bool | None = None
    branch: str | None = None
    remotes: tuple[tuple[str, str], ...] | None = None  # (remote name, host/owner/repo)

    def event_id(self) -> str:
        return event_id("project", self.cwd)


STAMP_FIELDS = ("workflow", "agent", "persona", "tier")


@attrs.frozen
class Stamp:
    """Enrichment of a session (``burn stamp``, or ``RELAYBURN_STAMP_*`` at ingest): a workflow,
    agent, persona and tier an orchestrator attaches. ``None`` fields leave what earlier stamps
    set; per field the latest stamp (by ``ts``, then event id) wins. ``source`` ``None`` stamps
    the session of that id in every source. Readers that do not know the kind skip it."""

    KIND: ClassVar[str] = "stamp"

    session_id: str
    ts: str
    source: str | None = None
    workflow: str | None = None
    agent: str | None = None
    persona: str | None = None
    tier: str | None = None
    origin: str | None = None  # "cli" or "env"

    def event_id(self) -> str:
        return event_id("stamp", self.source, self.session_id, self.ts, self.workflow, self.agent,
                        self.persona, self.tier)  # fmt: skip


Record = Turn | ToolCall | ToolResultEvent | UserTurn | Compaction | SessionInfo | ProjectObservation | Stamp

RECORD_TYPES: dict[str, type[Record]] = {
    cls.KIND: cls
    for cls in (Turn, ToolCall, ToolResultEvent, UserTurn, Compaction, SessionInfo, ProjectObservation, Stamp)
}
