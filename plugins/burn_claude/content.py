"""Sizes, hashes and short hints of message content. Content itself is never kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson

from burn.records import UserBlock
from burn_claude.ids import sha32

TARGET_MAX = 200

_PATH_TOOLS = frozenset({"Read", "Edit", "Write", "MultiEdit", "NotebookEdit", "NotebookRead", "LS"})
_PATTERN_TOOLS = frozenset({"Grep", "Glob"})
_AGENT_TOOLS = frozenset({"Task", "Agent"})


def _str(value: object) -> str | None:
    return value if type(value) is str and value else None


def _command_head(command: str) -> str | None:
    """The program a shell command runs: its first word, skipping ``VAR=value`` assignments
    (which may hold secrets)."""
    for word in command.split():
        if "=" not in word:
            return word
    return None


def tool_target(name: str, args: object) -> str | None:
    """A short, non-secret hint of what a tool call touched (≤ 200 characters), or ``None``.

    Read/Edit/Write/…: the file path; Bash: the program (first word); Grep/Glob: the pattern;
    WebFetch: the URL's host only; Task/Agent: the subagent type. Other tools: ``None``.
    """
    if type(args) is not dict:
        return None
    target: str | None = None
    if name in _PATH_TOOLS:
        target = _str(args.get("file_path")) or _str(args.get("path")) or _str(args.get("notebook_path"))
    elif name == "Bash":
        command = _str(args.get("command"))
        target = _command_head(command) if command else None
    elif name in _PATTERN_TOOLS:
        target = _str(args.get("pattern"))
    elif name == "WebFetch":
        url = _str(args.get("url"))
        if url:
            try:
                target = urlsplit(url).hostname
            except ValueError:
                target = None
    elif name in _AGENT_TOOLS:
        target = _str(args.get("subagent_type"))
    return target[:TARGET_MAX] if target else None


def args_hash(args: object) -> str | None:
    """sha256 (first 128 bits) of the arguments as canonical JSON (sorted keys); ``None`` if absent."""
    if args is None:
        return None
    try:
        return sha32(orjson.dumps(args, option=orjson.OPT_SORT_KEYS))
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        return None


def content_bytes(value: object) -> bytes:
    """The bytes a content value stands for: text as UTF-8, anything else as compact JSON."""
    if type(value) is str:
        return value.encode("utf-8", "surrogatepass")
    if value is None:
        return b""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return repr(value).encode("utf-8", "surrogatepass")


def user_block(block: object) -> UserBlock:
    """Kind, size, approximate tokens and hash of one user content block."""
    tool_use_id: str | None
    is_error: bool | None
    if type(block) is str:
        kind, data, tool_use_id, is_error = "text", content_bytes(block), None, None
    elif type(block) is dict:
        kind = _str(block.get("type")) or "unknown"
        tool_use_id = None
        is_error = None
        if kind == "text":
            data = content_bytes(block.get("text"))
        elif kind == "tool_result":
            data = content_bytes(block.get("content"))
            tool_use_id = _str(block.get("tool_use_id"))
            is_error = block.get("is_error") is True
        else:  # image, document …: the size of what was sent
            data = content_bytes(block)
    else:
        kind, data, tool_use_id, is_error = "unknown", content_bytes(block), None, None
    n = len(data)
    return UserBlock(
        kind=kind,
        byte_length=n,
        approx_tokens=(n + 3) // 4,
        content_hash=sha32(data),
        tool_use_id=tool_use_id,
        is_error=is_error,
    )


def user_blocks(content: Any) -> tuple[UserBlock, ...]:
    """One :class:`UserBlock` per content block; string content is one text block."""
    if type(content) is str:
        return (user_block(content),)
    if type(content) is list:
        return tuple(user_block(b) for b in content)
    return ()
