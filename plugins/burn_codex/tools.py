"""Tool calls and their results: names, short targets, sizes and hashes — never arguments or
output content (FORMATS §2.2 ``response_item``)."""

from __future__ import annotations

import re
from typing import Any

import orjson

from burn import readkit
from burn.readkit import TARGET_MAX, args_hash, nonempty_str, sha32

HEAD_CHARS = 600  # how much of a result is searched for an exit code

SHELL_TOOLS = frozenset(
    {"shell", "shell_command", "container.exec", "exec_command", "local_shell", "unified_exec"}
)
_SHELLS = frozenset({"bash", "sh", "zsh", "dash", "fish", "pwsh", "powershell", "cmd"})
_PATH_KEYS = ("path", "file_path")
_PATCH_COMMANDS = frozenset({"apply_patch", "applypatch"})
_PATCH_FILE = re.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+?)\s*$", re.MULTILINE)
_EXIT_JSON = re.compile(r'"exit_code"\s*:\s*(-?\d+)')
_EXIT_TEXT = re.compile(r"(?:Process exited with code|Exit code:?)\s+(-?\d+)")


def command_head(command: object) -> str | None:
    """The program a shell command runs: its first word, skipping ``VAR=value`` assignments
    (which may hold secrets); ``bash -lc "<script>"`` is unwrapped to the script's first word."""
    if type(command) is list:
        words = [w for w in command if type(w) is str]
        if (
            len(words) >= 3
            and words[0].rsplit("/", 1)[-1] in _SHELLS
            and words[1].startswith("-")
            and "c" in words[1]
        ):
            return command_head(words[2])
        command = " ".join(words)
    if type(command) is not str:
        return None
    head = readkit.command_head(command)
    return head[:TARGET_MAX] if head is not None else None


def patch_target(patch: object) -> str | None:
    """The first file an ``apply_patch`` body touches (``*** Update File: <path>``)."""
    if type(patch) is not str:
        return None
    m = _PATCH_FILE.search(patch)
    return m.group(1)[:TARGET_MAX] if m else None


def function_target(name: str, arguments: object) -> str | None:
    """A short, non-secret hint of what a ``function_call`` touched, or ``None``.

    Shell tools: the program; ``apply_patch``: the first file; tools with a ``path``/``file_path``
    argument: that path; ``spawn_agent``: the agent role. Other tools (MCP …): ``None``.
    """
    if type(arguments) is not str or not arguments.startswith("{"):
        return patch_target(arguments) if name == "apply_patch" else None
    try:
        args = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return None
    if type(args) is not dict:
        return None
    if name in SHELL_TOOLS:
        command = args.get("command") if "command" in args else args.get("cmd")
        head = command_head(command)
        if head in _PATCH_COMMANDS:  # apply_patch run through the shell: the file it patches
            body = "\n".join(w for w in command if type(w) is str) if type(command) is list else command
            return patch_target(body) or head
        return head
    if name == "apply_patch":
        return patch_target(args.get("input") or args.get("patch"))
    if name == "spawn_agent":
        return nonempty_str(args.get("agent_role")) or nonempty_str(args.get("agent_type"))
    for key in _PATH_KEYS:
        path = nonempty_str(args.get(key))
        if path is not None:
            return path[:TARGET_MAX]
    return None


def text_hash(value: object) -> str | None:
    """sha256 (first 128 bits) of an argument string as it is, else of a JSON value in canonical
    form (:func:`~burn.readkit.args_hash`)."""
    if type(value) is str:
        return sha32(value.encode("utf-8", "surrogatepass"))
    return args_hash(value)


def output_failed(output: Any) -> bool:
    """Whether a tool output says the call failed, when that is cheap to tell.

    ``{"success": false}`` payloads; a non-zero ``metadata.exit_code`` in the JSON text shell
    results are wrapped in (``{"output": …, "metadata": {"exit_code": 1, …}}``); the plain-text
    forms ``Exit code: 1`` / ``Process exited with code 1`` near the start of a result.
    """
    if type(output) is dict:
        if output.get("success") is False:
            return True
        meta = output.get("metadata")
        code = meta.get("exit_code") if type(meta) is dict else None
        if type(code) is int:
            return code != 0
        output = output.get("content")
    if type(output) is not str:
        return False
    head = output[:HEAD_CHARS]
    m = _EXIT_JSON.search(head) if head.startswith("{") else _EXIT_TEXT.search(head)
    return m is not None and int(m.group(1)) != 0
