"""Write the small Claude Code demo data set in examples/claude-demo (deterministic).

    python examples/make_claude_demo.py

Three projects over a week of March 2026: a main session streamed the way Claude Code writes it
(one line per content block, growing output_tokens), a Task subagent with its progress copies in
the parent transcript and a .meta.json sidecar, an auto-compaction, a resumed session that copies
earlier history, and one rate-limit <synthetic> line. Content is invented; shapes follow FORMATS.md.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent / "claude-demo"
RNG = random.Random(2026)
MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-haiku-4-5-20251001"]


def _id(prefix: str) -> str:
    return prefix + "".join(
        RNG.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789") for _ in range(24)
    )


def _uuid() -> str:
    h = f"{RNG.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


class Session:
    def __init__(self, session_id: str, cwd: str, branch: str, day: int) -> None:
        self.id, self.cwd, self.branch = session_id, cwd, branch
        self.clock = (day - 1) * 86400 + 9 * 3600 + RNG.randrange(3600)
        self.lines: list[dict[str, Any]] = []
        self.parent: str | None = None

    def ts(self, step: int = 7) -> str:
        self.clock += RNG.randrange(1, step + 1)
        s = self.clock
        day, hour, minute, sec = 1 + s // 86400, s % 86400 // 3600, s % 3600 // 60, s % 60
        return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:{sec:02d}.{RNG.randrange(1000):03d}Z"

    def envelope(self, kind: str, **extra: Any) -> dict[str, Any]:
        line = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.id,
            "version": "2.1.39",
            "gitBranch": self.branch,
            "entrypoint": "cli",
            "type": kind,
            "uuid": _uuid(),
            "timestamp": self.ts(),
            **extra,
        }
        self.parent = line["uuid"]
        return line

    def prompt(self, text: str) -> None:
        self.lines.append(self.envelope("user", message={"role": "user", "content": text}))

    def response(
        self, model: str, blocks: list[dict[str, Any]], *, cache_read: int, cache_write: int
    ) -> list[dict[str, Any]]:
        """One API response streamed as one line per block; output grows to its final value."""
        mid, rid = _id("msg_01"), _id("req_011C")
        final = RNG.randrange(80, 1400)
        usage = {
            "input_tokens": RNG.randrange(1, 12),
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": cache_write},
            "service_tier": "standard",
        }
        out = []
        for i, block in enumerate(blocks):
            last = i == len(blocks) - 1
            snapshot = final if last else RNG.choice([1, 8, 10])
            message = {
                "model": model,
                "id": mid,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": ("tool_use" if block["type"] == "tool_use" else "end_turn") if last else None,
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": snapshot},
            }
            line = self.envelope("assistant", requestId=rid, message=message)
            self.lines.append(line)
            out.append(line)
        return out

    def tool_result(self, tool_use_id: str, text: str, **extra: Any) -> None:
        content = [{"type": "tool_result", "tool_use_id": tool_use_id, "content": text, "is_error": False}]
        self.lines.append(self.envelope("user", message={"role": "user", "content": content}, **extra))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in self.lines))


def _tool(name: str, **args: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": _id("toolu_01"), "name": name, "input": args}


def _work(s: Session, model: str, turns: int, cache: int) -> int:
    for _ in range(turns):
        tool = _tool(
            RNG.choice(["Read", "Grep", "Edit"]), file_path=f"{s.cwd}/src/module_{RNG.randrange(9)}.py"
        )
        thinking = {"type": "thinking", "thinking": "Considering the next step.", "signature": "sig"}
        s.response(
            model,
            [thinking, {"type": "text", "text": "Let me look."}, tool],
            cache_read=cache,
            cache_write=900,
        )
        s.tool_result(tool["id"], "def handler():\n    return 42\n" * RNG.randrange(1, 30))
        cache += 1200
    return cache


def build() -> None:
    if ROOT.exists():
        shutil.rmtree(ROOT)
    projects = ROOT / "projects"
    api = Session(_uuid(), "/home/dev/src/acme-api", "main", day=2)
    api.prompt("Add pagination to the orders endpoint")
    cache = _work(api, MODELS[0], 6, 18_000)
    task = _tool(
        "Task", subagent_type="Explore", description="Find the pagination helpers", prompt="Find them"
    )
    api.response(
        MODELS[0], [{"type": "text", "text": "Delegating."}, task], cache_read=cache, cache_write=500
    )
    agent_id = f"{RNG.getrandbits(28):07x}"
    sub = Session(api.id, api.cwd, api.branch, day=2)
    sub.clock = api.clock
    sub.prompt("Find the pagination helpers")
    for line in sub.lines:
        line.update(isSidechain=True, agentId=agent_id)
    sub_lines = []
    for _ in range(3):
        grep = _tool("Grep", pattern="paginate")
        lines = sub.response(MODELS[2], [grep], cache_read=9_000, cache_write=300)
        sub.tool_result(grep["id"], "src/pagination.py:12: def paginate(")
        sub_lines.extend(lines)
    for line in sub.lines:
        line.update(isSidechain=True, agentId=agent_id)
    for line in sub_lines:  # Claude Code 2.1.x copies subagent responses into the parent as progress lines
        inner = {"type": "assistant", "message": line["message"], "requestId": line["requestId"],
                 "timestamp": line["timestamp"], "uuid": line["uuid"]}  # fmt: skip
        data = {"type": "agent_progress", "agentId": agent_id, "message": inner}
        link = {"toolUseID": _id("agent_msg_01"), "parentToolUseID": task["id"]}
        progress = api.envelope("progress", data=data, **link)
        api.lines.append(progress)
    api.clock = sub.clock
    api.tool_result(task["id"], f"agentId: {agent_id}\nFound paginate() in src/pagination.py",
                    toolUseResult={"agentId": agent_id, "status": "completed"})  # fmt: skip
    cache = _work(api, MODELS[0], 4, cache)
    api.lines.append(api.envelope("system", subtype="compact_boundary", content="Conversation compacted",
                                  compactMetadata={"trigger": "auto", "preTokens": cache}))  # fmt: skip
    compact = Session(api.id, api.cwd, api.branch, day=2)
    compact.clock = api.clock
    compact.response(
        MODELS[0], [{"type": "text", "text": "Summary of the conversation."}], cache_read=0, cache_write=cache
    )
    for line in compact.lines:
        line.update(isSidechain=True, agentId="acompact-5e1f2a")
    _work(api, MODELS[0], 3, 20_000)
    synthetic = {"model": "<synthetic>", "id": _id("msg_"), "role": "assistant",
                 "content": [{"type": "text", "text": "API Error: rate limited"}],
                 "usage": {"input_tokens": 0, "output_tokens": 0}}  # fmt: skip
    api.lines.append(api.envelope("assistant", message=synthetic, isApiErrorMessage=True))
    api_dir = projects / "-home-dev-src-acme-api"
    api.write(api_dir / f"{api.id}.jsonl")
    sub.write(api_dir / api.id / "subagents" / f"agent-{agent_id}.jsonl")
    (api_dir / api.id / "subagents" / f"agent-{agent_id}.meta.json").write_text(
        json.dumps(
            {"agentType": "Explore", "description": "Find the pagination helpers", "toolUseId": task["id"]}
        )
    )
    compact.write(api_dir / api.id / "subagents" / "agent-acompact-5e1f2a.jsonl")

    web = Session(_uuid(), "/home/dev/src/acme-web", "feature/login", day=4)
    web.prompt("Why does the login form flicker?")
    _work(web, MODELS[1], 5, 30_000)
    web.write(projects / "-home-dev-src-acme-web" / f"{web.id}.jsonl")
    resumed = Session(_uuid(), web.cwd, web.branch, day=6)  # `claude --resume` copies earlier history
    resumed.lines = [dict(line) for line in web.lines]
    resumed.clock = web.clock + 2 * 86400
    resumed.prompt("Now fix it")
    _work(resumed, MODELS[1], 3, 40_000)
    resumed.write(projects / "-home-dev-src-acme-web" / f"{resumed.id}.jsonl")

    notes = Session(_uuid(), "/home/dev/notes", "", day=7)
    notes.prompt("Summarize this week's changes")
    _work(notes, MODELS[2], 2, 4_000)
    notes.write(projects / "-home-dev-notes" / f"{notes.id}.jsonl")


if __name__ == "__main__":
    build()
    print(f"wrote {sum(1 for _ in ROOT.rglob('*') if _.is_file())} files under {ROOT}")
