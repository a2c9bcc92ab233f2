"""Short hints of what OpenCode's tools touched. Content itself is never kept.

Sizes and hashes are the reader kit's (:mod:`burn.readkit`); this module says how OpenCode's
built-in tools (lower-case) map onto :func:`burn.readkit.tool_target`.
"""

from __future__ import annotations

from burn.readkit import TargetKind, TargetRules

_PATH: tuple[TargetKind, tuple[str, ...]] = ("text", ("filePath", "path", "file_path"))
_PATTERN: tuple[TargetKind, tuple[str, ...]] = ("text", ("pattern",))

TOOL_TARGETS: TargetRules = {
    **dict.fromkeys(("read", "edit", "write", "multiedit", "patch", "list", "ls", "lsp_diagnostics"), _PATH),
    "bash": ("command", ("command",)),
    **dict.fromkeys(("grep", "glob"), _PATTERN),
    "webfetch": ("host", ("url",)),
    "task": ("text", ("subagent_type", "agent")),
}
"""The target of a tool call: read/edit/write/…: the file path (``filePath``); bash: the program
(first word); grep/glob: the pattern; webfetch: the URL's host only; task: the subagent type.
Other tools: none."""
