#!/usr/bin/env python3
"""Deterministic generator of realistic Codex CLI rollout corpora, for burn benchmarks.

    python benchmarks/gen_codex.py --out DIR --size 100MB [--seed 1]

writes a Codex home (what ``CODEX_HOME=DIR`` points a reader at) and ``DIR/expected.json``::

    DIR/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<uuid7>.jsonl
    DIR/archived_sessions/rollout-….jsonl      some moved here, some also still in sessions/

Line shapes follow FORMATS.md §2 (Codex CLI ≥ 0.4x, ``{"timestamp","type","payload"}`` envelopes):
``session_meta`` (with the bulky ``base_instructions``), ``turn_context`` per turn (the model, which
changes between turns, and a UUIDv7 ``turn_id`` in newer builds), user messages, reasoning items with
``encrypted_content``, shell and ``apply_patch`` calls with their outputs, and after every model
response a ``token_count`` event with the cumulative ``total_token_usage`` and the response's
``last_token_usage``. Also: re-emitted identical ``token_count`` events, rate-limit-only events
(``info: null``), totals that restart (a resumed thread), compactions, and children whose rollout
starts with the parent's replayed history, in the shapes ``burn_codex.replay`` documents:

* forks (``forked_from_id``): the parent's lines copied and re-stamped in one burst at fork time;
* subagents (``source.subagent.thread_spawn``) that copy the parent's lines with their original
  timestamps, and subagents that copy nothing.

The expected totals are tallied per model response when it is generated (``oracle.py``): input
without cached tokens, cached input as cache reads, output including reasoning, and the cost with
burn's bundled table. Replayed copies, re-emits and archived copies are never tallied again.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gen_claude import CLOCK, DAY_MS, CorpusWriter, TextPool, corpus_parser, print_summary, replace_corpus
from oracle import Pricer, Tally, density_field

GENERATOR = "burn-bench-gen-codex"
GENERATOR_VERSION = 1

BASE_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z, as gen_claude
SPAN_DAYS = 60
MODELS = (
    "gpt-5-codex",
    "gpt-5.1-codex",
    "gpt-5.1-codex-max",
    "gpt-5.2-codex",
    "gpt-5.3-codex",
    "gpt-5.4",
    "gpt-5.1-codex-mini",
)
MODEL_WEIGHTS = (10, 20, 10, 20, 20, 12, 8)
SUBAGENT_MODELS = ("gpt-5.1-codex-mini", "gpt-5.3-codex", "gpt-5.4-mini")
OLD_VERSIONS = ("0.46.0", "0.48.0", "0.50.0")  # no turn_id in turn_context
NEW_VERSIONS = ("0.58.0", "0.63.0", "0.66.0")  # UUIDv7 turn_id in every turn_context
CONTEXT_WINDOW = 272_000

# Feature rates (per session, per turn or per model response as noted).
NEW_BUILD_RATE = 0.7  # per session
MODEL_SWITCH_RATE = 0.08  # per turn: /model to another model
REEMIT_RATE = 0.12  # per response: the same token_count written again later
RATE_LIMIT_ONLY_RATE = 0.06  # per response: an extra token_count with info null
RESET_RATE = 0.02  # per session: totals restart once (a resumed thread)
FORK_RATE = 0.04  # per turn end: the user forks the thread here
SPAWN_RATE = 0.03  # per tool call: a subagent is spawned
SPAWN_COPY_RATE = 0.5  # per subagent: it starts with the parent's history (original timestamps)
ARCHIVE_MOVED_RATE = 0.03  # per rollout: only in archived_sessions/
ARCHIVE_COPY_RATE = 0.04  # per rollout: in both sessions/ and archived_sessions/
MAX_COPY_BYTES = 4_000_000  # a child copies at most this much history (it is held in memory)
MAX_DEPTH = 2  # children of children, no deeper
SHOWCASE_FEATURES = (
    "fork",
    "spawn",
    "spawn",
    "spawn_copy",
    "spawn_plain",
    "reset",
    "reemit",
    "rate_limit_only",
    "switch",
    "archive_moved",
    "archive_copy",
    "compact",
)

Json = dict[str, Any]
Vector = list[int]  # input (incl. cached), cached, output (incl. reasoning), reasoning, total


# ----------------------------------------------------------------------------------------------
# identifiers and lines


def uuid7(rng: random.Random, ms: int) -> str:
    """A UUIDv7 minted at ``ms``: Codex's thread ids and turn ids, whose time the replay gate reads."""
    h = f"{ms:012x}{rng.getrandbits(80):020x}"
    variant = "89ab"[rng.getrandbits(2)]
    return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def call_id(rng: random.Random) -> str:
    return "call_" + "".join(
        rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=24)
    )


def usage_json(v: Vector) -> Json:
    return {
        "input_tokens": v[0],
        "cached_input_tokens": v[1],
        "output_tokens": v[2],
        "reasoning_output_tokens": v[3],
        "total_tokens": v[4],
    }


_STAMP_PREFIX = b'{"timestamp":"'
_STAMP_END = len(_STAMP_PREFIX) + 24  # "2026-01-05T12:00:00.000Z"


def restamp(line: bytes, ms: int) -> bytes:
    """The same line with another timestamp: every line starts with its 24-character stamp."""
    assert line.startswith(_STAMP_PREFIX)
    return _STAMP_PREFIX + CLOCK.iso(ms).encode() + line[_STAMP_END:]


@dataclass
class Rollout:
    """One rollout file being built: its encoded lines, in order."""

    relpath: str
    lines: list[bytes] = field(default_factory=list)
    nbytes: int = 0
    last_ms: int = 0

    def add(self, kind: str, payload: Json, ms: int) -> None:
        d = {"timestamp": CLOCK.iso(ms), "type": kind, "payload": payload}
        self.raw((json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"), ms)

    def raw(self, line: bytes, ms: int) -> None:
        self.lines.append(line)
        self.nbytes += len(line)
        self.last_ms = max(self.last_ms, ms)


# ----------------------------------------------------------------------------------------------
# corpus-wide state


@dataclass
class Stats:
    """Feature counts, written to expected.json so a corpus documents what it contains."""

    sessions: int = 0
    rollouts: int = 0
    responses: int = 0
    reemits: int = 0
    rate_limit_only: int = 0
    resets: int = 0
    forks: int = 0
    subagents_with_history: int = 0
    subagents_without_history: int = 0
    replayed_lines: int = 0
    replayed_token_counts: int = 0
    model_switches: int = 0
    multi_model_sessions: int = 0
    compactions: int = 0
    archived_moved: int = 0
    archived_copies: int = 0
    new_build_sessions: int = 0
    tiered_responses: int = 0


@dataclass
class Context:
    """What every session of one corpus shares."""

    rng: random.Random
    pool: TextPool
    tally: Tally
    pricer: Pricer
    stats: Stats
    # Responses ccusage 20.0.24 does not count (see Session.token_count): the peer's expected view.
    peer_missed: Tally = field(default_factory=Tally)
    finished: list[tuple[Rollout, str]] = field(default_factory=list)  # (rollout, archive mode)
    pending_showcase: list[str] = field(default_factory=list)

    def take(self, feature: str, rate: float) -> bool:
        """A feature decision: forced while the showcase still needs it, else drawn at ``rate``."""
        if feature in self.pending_showcase:
            self.pending_showcase.remove(feature)
            return True
        return self.rng.random() < rate


@dataclass
class Lineage:
    """How a child rollout starts: whose history it copies and how."""

    kind: str  # "fork" | "spawn_copy" | "spawn_plain"
    parent_id: str
    history: list[bytes]  # the parent's lines to replay (empty for spawn_plain)
    totals: Vector  # the parent's cumulative totals at that point (the child's baseline)
    model: str
    context: int  # the parent's prompt size: a child with history continues that conversation


@dataclass
class Plan:
    start_ms: int
    budget: int
    cwd: str
    files: tuple[str, ...]  # the project's files its tools touch, again and again
    new_build: bool
    depth: int = 0
    lineage: Lineage | None = None
    showcase: bool = False  # keep going until every SHOWCASE_FEATURES entry is out


# ----------------------------------------------------------------------------------------------
# one session


class Session:
    """Generates one rollout; children (forks, subagents) are generated as the parent reaches them."""

    def __init__(self, ctx: Context, plan: Plan) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.pool = ctx.pool
        self.plan = plan
        self.now = plan.start_ms
        self.id = uuid7(self.rng, self.now)
        self.new_build = plan.new_build
        self.version = self.rng.choice(NEW_VERSIONS if self.new_build else OLD_VERSIONS)
        lineage = plan.lineage
        self.model = lineage.model if lineage else self.rng.choices(MODELS, MODEL_WEIGHTS)[0]
        if lineage is not None and lineage.kind != "fork":
            self.model = self.rng.choice(SUBAGENT_MODELS)
        self.models_used = {self.model}
        # A fork rebuilds its token info from the replayed history, so its totals continue from
        # the parent's; a subagent without history starts from zero.
        with_history = lineage is not None and lineage.kind != "spawn_plain"
        self.totals: Vector = list(lineage.totals) if lineage and with_history else [0] * 5
        self.context = lineage.context if lineage and with_history else self.rng.randint(9_000, 16_000)
        self.prev_input = 0
        self.last_call_ms = 0
        self.compact_at = self.context + 3_000 if plan.showcase else self._compact_threshold()
        self.reset_pending = False
        self.reset_planned = lineage is None and ctx.take("reset", RESET_RATE)
        self.calls = 0
        day = CLOCK.iso(self.now)
        stamp = day[:19].replace(":", "-")
        self.rollout = Rollout(f"sessions/{day[:4]}/{day[5:7]}/{day[8:10]}/rollout-{stamp}-{self.id}.jsonl")

    # -- bookkeeping ---------------------------------------------------------------------------

    def tick(self, lo: int, hi: int) -> int:
        self.now += self.rng.randint(lo, hi)
        return self.now

    def add(self, kind: str, payload: Json, lo: int = 1, hi: int = 50) -> None:
        self.rollout.add(kind, payload, self.tick(lo, hi))

    def event(self, payload: Json, lo: int = 1, hi: int = 50) -> None:
        self.add("event_msg", payload, lo, hi)

    def item(self, payload: Json, lo: int = 1, hi: int = 50) -> None:
        self.add("response_item", payload, lo, hi)

    def _compact_threshold(self) -> int:
        # gpt-5.4 has a 272k long-context tier: let some of its prompts grow past it.
        hi = 320_000 if self.model == "gpt-5.4" else 230_000
        return self.rng.randint(170_000, hi)

    # -- the session ---------------------------------------------------------------------------

    def run(self) -> None:
        self.session_meta()
        if self.plan.lineage is not None:
            self.replay(self.plan.lineage)
        first = True
        while first or self.rollout.nbytes < self.plan.budget or self.showcase_pending():
            self.turn(first)
            first = False
            if self.reset_planned and self.calls >= 3:
                self.reset_planned, self.reset_pending = False, True
        self.ctx.stats.sessions += self.plan.lineage is None
        self.ctx.stats.multi_model_sessions += len(self.models_used) > 1
        self.ctx.stats.new_build_sessions += self.new_build
        self.finish()

    def showcase_pending(self) -> bool:
        return self.plan.showcase and bool(
            self.ctx.pending_showcase or self.reset_planned or self.reset_pending
        )

    def finish(self) -> None:
        mode = "active"
        if self.ctx.take("archive_moved", ARCHIVE_MOVED_RATE):
            mode = "moved"
            self.ctx.stats.archived_moved += 1
        elif self.ctx.take("archive_copy", ARCHIVE_COPY_RATE):
            mode = "both"
            self.ctx.stats.archived_copies += 1
        self.ctx.finished.append((self.rollout, mode))
        self.ctx.stats.rollouts += 1

    def session_meta(self) -> None:
        p: Json = {
            "id": self.id,
            "timestamp": CLOCK.iso(self.now),
            "cwd": self.plan.cwd,
            "originator": self.rng.choice(("codex_cli_rs", "codex_cli_rs", "codex_vscode", "codex_exec")),
            "cli_version": self.version,
            "instructions": None,
            "source": "cli",
            "model_provider": "openai",
        }
        lineage = self.plan.lineage
        if lineage is not None and lineage.kind == "fork":
            p["forked_from_id"] = lineage.parent_id
        elif lineage is not None:
            spawn = {
                "parent_thread_id": lineage.parent_id,
                "depth": self.plan.depth,
                "agent_role": "explorer",
            }
            p["source"] = {"subagent": {"thread_spawn": spawn}}
        if self.new_build:
            p["base_instructions"] = {"text": self.pool.text(self.rng.randint(9_000, 14_000))}
        p["git"] = {
            "commit_hash": f"{self.rng.getrandbits(160):040x}",
            "branch": self.rng.choice(("main", "main", f"feat/{self.pool.word()}")),
            "repository_url": f"git@github.com:{self.pool.word()}/{self.plan.cwd.rsplit('/', 1)[-1]}.git",
        }
        self.rollout.add("session_meta", p, self.now)

    def replay(self, lineage: Lineage) -> None:
        """The parent's lines at the top of the child's rollout (FORMATS §2.4 problem 4).

        A fork's copy is re-stamped in one burst just after its ``session_meta`` (well inside the
        reader's 1 s window); a subagent's keeps the original, older timestamps. Either way the
        child's own first line comes seconds later.
        """
        created = self.now
        for i, line in enumerate(lineage.history):
            if lineage.kind == "fork":
                line = restamp(line, created + min(i // 50, 200))
            self.rollout.raw(line, created)
            self.ctx.stats.replayed_token_counts += b'"type":"token_count","info":{' in line
        self.ctx.stats.replayed_lines += len(lineage.history)
        self.tick(2_000, 20_000)

    def turn(self, first: bool) -> None:
        r = self.rng
        if not first:
            self.tick(5_000, 900_000 if r.random() < 0.9 else 4 * 3_600_000)
            if self.ctx.take("switch", MODEL_SWITCH_RATE):
                self.model = r.choice([m for m in MODELS if m != self.model])
                self.models_used.add(self.model)
                self.compact_at = self._compact_threshold()
                self.ctx.stats.model_switches += 1
        self.turn_context()
        prompt = self.pool.text(max(10, min(int(r.lognormvariate(math.log(300), 1.1)), 12_000)))
        content = [{"type": "input_text", "text": prompt}]
        if first:
            env = (
                f"<environment_context>\n  <cwd>{self.plan.cwd}</cwd>\n"
                "  <shell>bash</shell>\n</environment_context>"
            )
            content.insert(0, {"type": "input_text", "text": env})
        self.item({"type": "message", "role": "user", "content": content}, 5, 50)
        self.event({"type": "user_message", "message": prompt, "images": []}, 0, 2)
        self.context += len(prompt) // 4
        self.event({"type": "task_started", "model_context_window": CONTEXT_WINDOW}, 1, 20)
        steps = min(40, 1 + int(r.expovariate(1 / 6)))
        last_text = ""
        for step in range(steps):
            final = step == steps - 1
            last_text = self.response(final)
            if self.context >= self.compact_at and self.ctx.take("compact", 0.9):
                self.compact()
        self.event({"type": "task_complete", "last_agent_message": last_text}, 10, 500)
        if self.plan.depth < MAX_DEPTH and self.ctx.take("fork", FORK_RATE):
            self.spawn_child("fork")

    def turn_context(self) -> None:
        p: Json = {
            "cwd": self.plan.cwd,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write", "network_access": False},
            "model": self.model,
            "effort": self.rng.choice(("medium", "medium", "high", "low")),
            "summary": "auto",
        }
        if self.new_build:
            p = {
                "turn_id": uuid7(self.rng, self.now),
                **p,
                "truncation_policy": {"mode": "tokens", "limit": 10_000},
            }
            if self.rng.random() < 0.3:
                p["user_instructions"] = self.pool.text(self.rng.randint(500, 3_000))
        self.add("turn_context", p, 1, 5)

    # -- one model response --------------------------------------------------------------------

    def response(self, final: bool) -> str:
        """Reasoning, then a tool call or the final message, then its token_count."""
        r, p = self.rng, self.pool
        # The model thinks: over a second, so that a child's first response never falls into the
        # replay gate's 1 s burst window (burn_codex.replay, rule 7).
        self.tick(1_500, 40_000)
        summary = [{"type": "summary_text", "text": p.text(r.randint(40, 400))}] if r.random() < 0.6 else []
        self.item(
            {
                "type": "reasoning",
                "summary": summary,
                "content": None,
                "encrypted_content": p.signature(r.randint(600, 8_000)),
            },
        )
        if summary and r.random() < 0.5:
            self.event({"type": "agent_reasoning", "text": summary[0]["text"]}, 0, 2)
        text = p.text(int(r.lognormvariate(math.log(500 if final else 150), 1.0)) + 10)
        tool: Json | None = None
        if final:
            self.item(
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
            )
            self.event({"type": "agent_message", "message": text}, 0, 2)
        else:
            tool = self.tool_call()
        self.token_count(len(text) // 4)
        if tool is not None:
            self.tool_output(tool)
        return text

    def tool_call(self) -> Json:
        r, p = self.rng, self.pool
        cid = call_id(r)
        if self.plan.depth < MAX_DEPTH and self.ctx.take("spawn", SPAWN_RATE):
            args: Json = {"message": p.text(r.randint(100, 1_500)), "agent_role": "explorer"}
            self.item(
                {
                    "type": "function_call",
                    "name": "spawn_agent",
                    "arguments": json.dumps(args),
                    "call_id": cid,
                }
            )
            return {"kind": "spawn", "call_id": cid}
        if r.random() < 0.25:
            file = f"{self.plan.cwd}/{r.choice(self.plan.files)}"
            body = p.code_text(r.randint(200, 4_000))
            patch = f"*** Begin Patch\n*** Update File: {file}\n@@\n{body}*** End Patch\n"
            self.item(
                {
                    "type": "custom_tool_call",
                    "status": "completed",
                    "call_id": cid,
                    "name": "apply_patch",
                    "input": patch,
                }
            )
            return {"kind": "patch", "call_id": cid}
        cmd = ["bash", "-lc", f"{p.word()} {r.choice(self.plan.files)} | head -n {r.randint(5, 300)}"]
        args = {"command": cmd, "workdir": self.plan.cwd, "timeout_ms": 120_000}
        self.item({"type": "function_call", "name": "shell", "arguments": json.dumps(args), "call_id": cid})
        return {"kind": "shell", "call_id": cid}

    def tool_output(self, tool: Json) -> None:
        r, p = self.rng, self.pool
        if tool["kind"] == "spawn":
            if self.ctx.take("spawn_copy", 0):
                kind = "spawn_copy"
            elif self.ctx.take("spawn_plain", 0):
                kind = "spawn_plain"
            else:
                kind = "spawn_copy" if r.random() < SPAWN_COPY_RATE else "spawn_plain"
            child = self.spawn_child(kind)
            self.event({"type": "collab_agent_spawn_end", "call_id": tool["call_id"], "new_thread_id": child})
            self.item(
                {
                    "type": "function_call_output",
                    "call_id": tool["call_id"],
                    "output": json.dumps({"agent_id": child}),
                }
            )
            return
        if tool["kind"] == "patch":
            out = json.dumps(
                {
                    "output": "Success. Updated the following files:\nM " + r.choice(self.plan.files),
                    "metadata": {"exit_code": 0, "duration_seconds": 0.0},
                }
            )
            self.item({"type": "custom_tool_call_output", "call_id": tool["call_id"], "output": out}, 5, 400)
            self.context += 40
            return
        n = min(int(r.lognormvariate(math.log(1_800), 1.3)), 60_000)
        if r.random() < 0.003:
            n = r.randint(100_000, 250_000)
        text = p.log_text(n) if r.random() < 0.6 else p.code_text(n)
        out = json.dumps(
            {
                "output": text,
                "metadata": {
                    "exit_code": int(r.random() < 0.08),
                    "duration_seconds": round(r.random() * 5, 1),
                },
            }
        )
        self.item({"type": "function_call_output", "call_id": tool["call_id"], "output": out}, 20, 30_000)
        self.context += min(n, 40_000) // 4  # Codex truncates long outputs in the prompt

    def usage(self, produced: int) -> Vector:
        """This response's ``last_token_usage``: the whole prompt as input, its cached prefix."""
        r = self.rng
        inp = self.context
        warm = self.prev_input and self.now - self.last_call_ms < 10 * 60_000 and r.random() < 0.93
        cached = (min(self.prev_input, inp) // 128) * 128 if warm else 0
        out = max(8, min(int(r.lognormvariate(math.log(max(produced, 60) + 120), 0.8)), 30_000))
        reasoning = int(out * r.uniform(0.0, 0.85))
        self.prev_input, self.last_call_ms = inp, self.now
        self.context = inp + out
        return [inp, cached, out, reasoning, inp + out]

    def token_count(self, produced: int) -> None:
        last = self.usage(produced)
        prev = self.totals
        if self.reset_pending and any(a < b for a, b in zip(last, prev, strict=True)):
            # A resumed thread whose totals restart: the reader must use last_token_usage here.
            self.totals = list(last)
            self.reset_pending = False
            self.ctx.stats.resets += 1
        else:
            self.totals = [a + b for a, b in zip(prev, last, strict=True)]
        payload = self.token_payload(last)
        self.event(payload, 5, 200)
        first_ms = self.now
        reemitted = self.ctx.take("reemit", REEMIT_RATE)
        if reemitted:
            self.event(payload, 50, 3_000)  # identical usage, a later timestamp
            self.ctx.stats.reemits += 1
        # ccusage 20.0.24 takes the token_count events within 1 s of a subagent rollout's first
        # one for replayed parent history; in a subagent that copied nothing, a first response
        # re-emitted that soon is therefore not counted by it (measured, docs/performance.md).
        lineage = self.plan.lineage
        missed = self.calls == 0 and reemitted and self.now - first_ms < 1_000
        missed = missed and lineage is not None and lineage.kind == "spawn_plain"
        self.calls += 1
        self.tally(last, first_ms, missed)
        if self.ctx.take("rate_limit_only", RATE_LIMIT_ONLY_RATE):
            self.event({"type": "token_count", "info": None, "rate_limits": self.rate_limits()}, 50, 3_000)
            self.ctx.stats.rate_limit_only += 1

    def token_payload(self, last: Vector) -> Json:
        info = {
            "total_token_usage": usage_json(self.totals),
            "last_token_usage": usage_json(last),
            "model_context_window": CONTEXT_WINDOW,
        }
        return {"type": "token_count", "info": info, "rate_limits": self.rate_limits()}

    def rate_limits(self) -> Json:
        r = self.rng
        resets = self.now // 1000 + r.randint(60, 18_000)
        return {
            "limit_id": "codex",
            "primary": {"used_percent": float(r.randint(0, 100)), "window_minutes": 300, "resets_at": resets},
            "secondary": {
                "used_percent": float(r.randint(0, 100)),
                "window_minutes": 10_080,
                "resets_at": resets + 400_000,
            },
            "credits": None,
            "plan_type": "plus",
        }

    def tally(self, last: Vector, ms: int, peer_missed: bool) -> None:
        """One model response in burn's meaning: input without cached, cached as cache reads."""
        inp, cached, out, reasoning, _ = last
        usage = {
            "input": inp - cached,
            "output": out,
            "reasoning": reasoning,
            "cache_read": cached,
            "cache_write_5m": 0,
            "cache_write_1h": 0,
        }
        ts = CLOCK.iso(ms)
        cost = self.ctx.pricer.cost(self.model, usage, ts)
        values = {**usage, "turns": 1, "cost_usd_micros": cost}
        self.ctx.tally.add(ts[:10], values)
        if peer_missed:
            self.ctx.peer_missed.add(ts[:10], values)
        self.ctx.stats.responses += 1
        self.ctx.stats.tiered_responses += self.model == "gpt-5.4" and inp > 272_000

    def compact(self) -> None:
        summary = self.pool.text(self.rng.randint(1_000, 6_000))
        self.add("compacted", {"message": summary}, 100, 2_000)
        self.event({"type": "context_compacted"}, 0, 5)
        self.context = self.rng.randint(9_000, 16_000) + len(summary) // 4
        self.prev_input = 0
        self.compact_at = self._compact_threshold()
        self.ctx.stats.compactions += 1

    # -- children ------------------------------------------------------------------------------

    def spawn_child(self, kind: str) -> str:
        """Generate a fork or subagent of this thread now; returns its thread id."""
        history = [] if kind == "spawn_plain" else list(self.rollout.lines)
        if sum(map(len, history)) > MAX_COPY_BYTES:
            if kind == "fork":
                return ""  # forks copy everything: too big to hold, this thread is not forked
            history, kind = [], "spawn_plain"
        if kind == "fork":
            start = self.now + self.rng.randint(60_000, 2 * DAY_MS)
            self.ctx.stats.forks += 1
        else:
            start = self.now + self.rng.randint(50, 900)
            self.ctx.stats.subagents_with_history += kind == "spawn_copy"
            self.ctx.stats.subagents_without_history += kind == "spawn_plain"
        lineage = Lineage(kind, self.id, history, list(self.totals), self.model, self.context)
        budget = int(self.rng.lognormvariate(math.log(80_000), 1.0)) + sum(map(len, history))
        plan = Plan(
            start_ms=start,
            budget=budget,
            cwd=self.plan.cwd,
            files=self.plan.files,
            new_build=self.new_build,
            depth=self.plan.depth + 1,
            lineage=lineage,
        )
        child = Session(self.ctx, plan)
        child.run()
        if kind != "fork":
            self.now = max(self.now, child.now) + self.rng.randint(100, 2_000)  # the parent waited
        return child.id


# ----------------------------------------------------------------------------------------------
# the corpus


def draw_budget(rng: random.Random, corpus_size: int, remaining: int) -> int:
    """Bytes for one root session: mostly 50–500 KB, a tail of several MB."""
    budget = min(int(rng.lognormvariate(math.log(150_000), 1.2)), 12_000_000)
    return max(8_000, min(budget, max(40_000, corpus_size // 8), max(remaining, 8_000)))


def make_project(rng: random.Random, pool: TextPool, index: int) -> tuple[str, tuple[str, ...]]:
    """A project directory and the files in it that sessions touch."""
    user = rng.choice(("dev", "alex", "sam", "kim"))
    cwd = f"/home/{user}/{rng.choice(('src', 'projects', 'work'))}/{pool.word()}-{index}"
    return cwd, tuple(pool.path() for _ in range(40))


def write_all(writer: CorpusWriter, finished: list[tuple[Rollout, str]]) -> None:
    for rollout, mode in finished:
        name = rollout.relpath.rsplit("/", 1)[-1]
        if mode in ("active", "both"):
            writer.lines_file(rollout.relpath, rollout.lines, rollout.last_ms)
        if mode in ("moved", "both"):
            writer.lines_file(f"archived_sessions/{name}", rollout.lines, rollout.last_ms)


def generate(out: Path, size: int, seed: int = 1, density: float = 1.0) -> Json:
    """Write a Codex home into ``out`` and return (and write) its expected.json."""
    rng = random.Random(f"codex-{seed}")
    pool = TextPool(rng, density)
    ctx = Context(rng=rng, pool=pool, tally=Tally(), pricer=Pricer(), stats=Stats())
    writer = CorpusWriter(out)
    projects = [make_project(rng, pool, i) for i in range(max(3, size // 20_000_000))]
    index = 0
    while writer.bytes < size or index < 3:
        # Sessions 1 and 2 are showcases, of a new build (turn ids) and an old one: every rare
        # feature, so that even a 1 MB corpus has each replay shape the reader distinguishes.
        showcase = index in (1, 2)
        if showcase:
            ctx.pending_showcase = list(SHOWCASE_FEATURES)
        cwd, files = rng.choice(projects)
        plan = Plan(
            start_ms=BASE_MS + rng.randrange(SPAN_DAYS * DAY_MS),
            budget=draw_budget(rng, size, size - writer.bytes),
            cwd=cwd,
            files=files,
            new_build=index == 1 if showcase else rng.random() < NEW_BUILD_RATE,
            showcase=showcase,
        )
        Session(ctx, plan).run()
        write_all(writer, ctx.finished)
        ctx.finished.clear()
        index += 1
    expected = {
        "generator": {"name": GENERATOR, "version": GENERATOR_VERSION},
        "seed": seed,
        **density_field(density),
        "target_size_bytes": size,
        "size_bytes": writer.bytes,
        "files": writer.files,
        "lines": writer.lines,
        **ctx.tally.as_json(),
        "peer": {"ccusage_missed": ctx.peer_missed.totals},
        "features": vars(ctx.stats),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    ap = corpus_parser(__doc__, "the Codex home to create")
    args = ap.parse_args(argv)
    out: Path = args.out
    replace_corpus(ap, out, args.force, ["sessions", "archived_sessions"], [])
    started = time.perf_counter()
    expected = generate(out, args.size, args.seed, args.density)
    if not args.quiet:
        print_summary(expected, out, started, "model responses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
