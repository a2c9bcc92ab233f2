"""Builders for Claude Code transcript lines in the shapes of FORMATS.md §1 (compact JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

SESSION = "11111111-1111-4111-8111-111111111111"
CWD = "/home/dev/projects/demo"


def assistant(
    mid: str,
    output: int,
    *,
    session: str = SESSION,
    ts: str = "2026-03-01T10:00:00.000Z",
    model: str = "claude-sonnet-4-5-20250929",
    input_tokens: int = 3,
    cache_read: int = 1000,
    cache_5m: int = 0,
    cache_1h: int = 200,
    request: str | None = None,
    uuid: str | None = None,
    content: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": CWD,
        "sessionId": session,
        "version": "2.1.39",
        "gitBranch": "main",
        "type": "assistant",
        "uuid": uuid or f"u-{mid}-{output}",
        "timestamp": ts,
        "requestId": request or f"req_{mid}",
        "message": {
            "model": model,
            "id": mid,
            "type": "message",
            "role": "assistant",
            "content": content or [{"type": "text", "text": "ok"}],
            "stop_reason": None,
            "usage": {
                "input_tokens": input_tokens,
                "cache_creation_input_tokens": cache_5m + cache_1h,
                "cache_read_input_tokens": cache_read,
                "cache_creation": {
                    "ephemeral_5m_input_tokens": cache_5m,
                    "ephemeral_1h_input_tokens": cache_1h,
                },
                "output_tokens": output,
                "service_tier": "standard",
            },
        },
        **extra,
    }


def user(
    uuid: str, text: str, *, session: str = SESSION, ts: str = "2026-03-01T09:59:59.000Z"
) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": CWD,
        "sessionId": session,
        "version": "2.1.39",
        "type": "user",
        "uuid": uuid,
        "timestamp": ts,
        "message": {"role": "user", "content": text},
    }


def dumps(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def write_session(config_dir: Path, lines: list[dict[str, Any]], *, session: str = SESSION) -> Path:
    path = config_dir / "projects" / "-home-dev-projects-demo" / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps(lines))
    return path


def claude_only_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: Path) -> Path:
    """Point burn at ``config`` as the only agent directory (Codex and OpenCode at an empty path)
    and at a fresh home, ``tmp_path / "burn"``, which it returns."""
    home = tmp_path / "burn"
    monkeypatch.setenv("RELAYBURN_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    for var in ("CODEX_HOME", "OPENCODE_DATA_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "none"))
    return home
