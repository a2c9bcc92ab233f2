"""Sizes, hashes and short hints of message content. Content itself is never kept.

The pieces (:func:`~burn.readkit.user_block`, :func:`~burn.readkit.tool_target` …) are the reader
kit's; this module says how Claude Code's content blocks and tools map onto them.
"""

from __future__ import annotations

from typing import Any

from burn.readkit import TargetKind, TargetRules, args_hash, nonempty_str, tool_target
from burn.readkit import user_block as _block
from burn.records import ToolCall, UserBlock
from burn_claude.ids import SOURCE

_PATH: tuple[TargetKind, tuple[str, ...]] = ("text", ("file_path", "path", "notebook_path"))
_PATTERN: tuple[TargetKind, tuple[str, ...]] = ("text", ("pattern",))
_AGENT: tuple[TargetKind, tuple[str, ...]] = ("text", ("subagent_type",))

TOOL_TARGETS: TargetRules = {
    **dict.fromkeys(("Read", "Edit", "Write", "MultiEdit", "NotebookEdit", "NotebookRead", "LS"), _PATH),
    "Bash": ("command", ("command",)),
    **dict.fromkeys(("Grep", "Glob"), _PATTERN),
    "WebFetch": ("host", ("url",)),
    **dict.fromkeys(("Task", "Agent"), _AGENT),
}
"""The target of a tool call (:func:`burn.readkit.tool_target`): Read/Edit/Write/…: the file path;
Bash: the program (first word); Grep/Glob: the pattern; WebFetch: the URL's host only;
Task/Agent: the subagent type. Other tools: none."""


def user_block(block: object) -> UserBlock:
    """Kind, size, approximate tokens and hash of one user content block."""
    if type(block) is str:
        return _block("text", block)
    if type(block) is not dict:
        return _block("unknown", block)
    kind = nonempty_str(block.get("type")) or "unknown"
    if kind == "text":
        return _block(kind, block.get("text"))
    if kind == "tool_result":
        tool_use_id = nonempty_str(block.get("tool_use_id"))
        return _block(kind, block.get("content"), tool_use_id, block.get("is_error") is True)
    return _block(kind, block)  # image, document …: the size of what was sent


def user_blocks(content: Any) -> tuple[UserBlock, ...]:
    """One :class:`UserBlock` per content block; string content is one text block."""
    if type(content) is str:
        return (user_block(content),)
    if type(content) is list:
        return tuple(user_block(b) for b in content)
    return ()


TOOL_BLOCKS = ("tool_use", "server_tool_use")
"""The content blocks of a response that are tool calls."""


def add_tool_calls(
    calls: dict[tuple[str, str], ToolCall], sid: str, mid: str | None, ts: str, content: list[Any]
) -> None:
    """Add a response's tool calls to ``calls`` (by session and tool use id; the first sighting of
    a call is kept: later streaming snapshots repeat it)."""
    for block in content:
        if type(block) is not dict or block.get("type") not in TOOL_BLOCKS:
            continue
        tool_use_id = nonempty_str(block.get("id"))
        if tool_use_id is None or (sid, tool_use_id) in calls:
            continue
        name = nonempty_str(block.get("name")) or "unknown"
        args = block.get("input")
        calls[(sid, tool_use_id)] = ToolCall(
            source=SOURCE,
            session_id=sid,
            tool_use_id=tool_use_id,
            message_id=mid,
            ts=ts,
            name=name,
            target=tool_target(TOOL_TARGETS, name, args),
            args_hash=args_hash(args),
        )
