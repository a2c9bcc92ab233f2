"""The ``agent-<id>.meta.json`` sidecar of a 2.1.x subagent transcript."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson

from burn.reader import Diagnostics

MAX_META_BYTES = 1024 * 1024


def read_meta(path: Path, diagnostics: Diagnostics) -> tuple[str | None, str | None]:
    """``(agentType, toolUseId)`` from a sidecar; ``(None, None)`` (with a warning) if it is broken."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a FIFO: it would block
            raise OSError(f"{path} is not a regular file")
        with open(path, "rb") as f:
            data = orjson.loads(f.read(MAX_META_BYTES))
    except (OSError, orjson.JSONDecodeError) as exc:
        diagnostics.warn(f"ignored subagent sidecar {path}: {exc}")
        return None, None
    if type(data) is not dict:
        diagnostics.warn(f"ignored subagent sidecar {path}: not a JSON object")
        return None, None
    agent_type = data.get("agentType")
    tool_use_id = data.get("toolUseId")
    return (
        agent_type if type(agent_type) is str and agent_type else None,
        tool_use_id if type(tool_use_id) is str and tool_use_id else None,
    )
