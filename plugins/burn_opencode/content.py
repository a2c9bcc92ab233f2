"""Sizes, hashes and short hints of message content. Content itself is never kept."""

from __future__ import annotations

from urllib.parse import urlsplit

import orjson

from burn.records import UserBlock
from burn_opencode.ids import s, sha32

TARGET_MAX = 200

# OpenCode's built-in tools (lower-case) and the input fields that name what they touch.
_PATH_TOOLS = frozenset({"read", "edit", "write", "multiedit", "patch", "list", "ls", "lsp_diagnostics"})
_PATTERN_TOOLS = frozenset({"grep", "glob"})


def _command_head(command: str) -> str | None:
    """The program a shell command runs: its first word, skipping ``VAR=value`` assignments
    (which may hold secrets)."""
    for word in command.split():
        if "=" not in word:
            return word
    return None


def tool_target(name: str, args: object) -> str | None:
    """A short, non-secret hint of what a tool call touched (≤ 200 characters), or ``None``.

    read/edit/write/…: the file path (``filePath``); bash: the program (first word); grep/glob:
    the pattern; webfetch: the URL's host only; task: the subagent type. Other tools: ``None``.
    """
    if type(args) is not dict:
        return None
    target: str | None = None
    if name in _PATH_TOOLS:
        target = s(args.get("filePath")) or s(args.get("path")) or s(args.get("file_path"))
    elif name == "bash":
        command = s(args.get("command"))
        target = _command_head(command) if command else None
    elif name in _PATTERN_TOOLS:
        target = s(args.get("pattern"))
    elif name == "webfetch":
        url = s(args.get("url"))
        if url:
            try:
                target = urlsplit(url).hostname
            except ValueError:
                target = None
    elif name == "task":
        target = s(args.get("subagent_type")) or s(args.get("agent"))
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


def block(kind: str, value: object) -> UserBlock:
    """Kind, size, approximate tokens and hash of one piece of user content."""
    data = content_bytes(value)
    n = len(data)
    return UserBlock(kind=kind, byte_length=n, approx_tokens=(n + 3) // 4, content_hash=sha32(data))


def size_and_hash(value: object) -> tuple[int, str | None]:
    """Byte length and hash of a tool output (``None`` hash when there is no output)."""
    if value is None:
        return 0, None
    data = content_bytes(value)
    return len(data), sha32(data)
