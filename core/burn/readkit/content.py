"""Sizes, hashes and short hints of content: what records keep instead of the content itself.

Every content hash in a record is :func:`sha32` (the first 128 bits of sha256, hex) of
:func:`content_bytes`; tool arguments are hashed as canonical JSON (:func:`args_hash`). A tool
call's ``target`` is a short hint that never carries a secret: a path, a pattern, the program a
command runs (not its arguments), the host of a URL (not its path or query).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

import orjson

from burn.records import UserBlock

TARGET_MAX = 200  # characters of a tool call's target

TargetKind = Literal["text", "command", "host"]
TargetRules = Mapping[str, tuple[TargetKind, tuple[str, ...]]]
"""Per tool name, how :func:`tool_target` reads the target from the call's arguments."""


def sha32(data: bytes) -> str:
    """First 128 bits of sha256, hex: the content hash used in every record."""
    return hashlib.sha256(data).hexdigest()[:32]


def content_bytes(value: object) -> bytes:
    """The bytes a content value stands for: text as UTF-8, ``None`` as nothing, anything else as
    compact JSON (its ``repr`` if JSON cannot express it, e.g. an integer beyond 64 bits)."""
    if type(value) is str:
        return value.encode("utf-8", "surrogatepass")
    if value is None:
        return b""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return repr(value).encode("utf-8", "surrogatepass")


def size_and_hash(value: object) -> tuple[int, str]:
    """Byte length and :func:`sha32` of :func:`content_bytes` of ``value`` (a tool result …)."""
    data = content_bytes(value)
    return len(data), sha32(data)


def user_block(
    kind: str, value: object, tool_use_id: str | None = None, is_error: bool | None = None
) -> UserBlock:
    """The :class:`~burn.records.UserBlock` of one piece of user content: its kind, size,
    approximate tokens (4 bytes a token, rounded up) and hash — never the content."""
    data = content_bytes(value)
    n = len(data)
    return UserBlock(kind, n, (n + 3) // 4, sha32(data), tool_use_id, is_error)


def args_hash(args: object) -> str | None:
    """:func:`sha32` of tool arguments as canonical JSON (sorted keys); ``None`` if absent or not
    expressible as JSON."""
    if args is None:
        return None
    try:
        return sha32(orjson.dumps(args, option=orjson.OPT_SORT_KEYS))
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits
        return None


def command_head(command: str) -> str | None:
    """The program a shell command runs: its first word, skipping ``VAR=value`` assignments
    (which may hold secrets); ``None`` when there is none."""
    for word in command.split():
        if "=" not in word:
            return word
    return None


def url_host(url: str) -> str | None:
    """The host of a URL (never its path or query, which may hold secrets), or ``None``."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def tool_target(rules: TargetRules, name: str, args: object) -> str | None:
    """A short, non-secret hint of what a tool call touched (≤ :data:`TARGET_MAX` characters).

    ``rules[name]`` is ``(kind, keys)``: the first non-empty string among ``args[key]`` for
    ``key`` in ``keys`` is the target — as it is for ``"text"`` (a path, a pattern, an agent
    type), its program for ``"command"`` (:func:`command_head`), its host for ``"host"``
    (:func:`url_host`). ``None`` for a tool without a rule, arguments that are not an object, or
    no such string.
    """
    if type(args) is not dict:
        return None
    rule = rules.get(name)
    if rule is None:
        return None
    kind, keys = rule
    for key in keys:
        value = args.get(key)
        if type(value) is str and value:  # the first non-empty string
            break
    else:
        return None
    text: str = value
    target = command_head(text) if kind == "command" else url_host(text) if kind == "host" else text
    return target[:TARGET_MAX] if target else None
