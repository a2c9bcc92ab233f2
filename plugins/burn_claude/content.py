"""Sizes, hashes and short hints of message content. Content itself is never kept.

The pieces (:func:`~burn.readkit.user_block`, :func:`~burn.readkit.tool_target` …) are the reader
kit's; this module says how Claude Code's content blocks and tools map onto them.
"""

from __future__ import annotations

from typing import Any

from burn.readkit import TargetKind, TargetRules, nonempty_str
from burn.readkit import user_block as _block
from burn.records import UserBlock

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
