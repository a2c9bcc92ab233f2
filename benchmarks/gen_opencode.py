#!/usr/bin/env python3
"""Deterministic generator of realistic OpenCode data directories, for burn benchmarks.

    python benchmarks/gen_opencode.py --out DIR --size 100MB [--seed 1]

writes an OpenCode data directory (what ``OPENCODE_DATA_DIR=DIR`` points a reader at) and
``DIR/expected.json``::

    DIR/opencode.db                                   OpenCode 1.x SQLite (WAL, checkpointed)
    DIR/storage/project/<projectID>.json              the JSON storage of 0.x builds, pretty-printed
    DIR/storage/session/<projectID>/<sessionID>.json
    DIR/storage/message/<sessionID>/<messageID>.json
    DIR/storage/part/<messageID>/<partID>.json

Shapes follow FORMATS.md §3: sessions (child sessions of ``task`` subagents carry ``parentID``),
user messages with text parts, assistant messages with ``step-start``, ``reasoning``, ``text``,
``tool`` and ``step-finish`` parts. Most sessions are only in the database, some only in JSON
storage, and some in both — migrated sessions whose JSON files were left behind, the same message
ids in the database and in ``storage/`` (burn and ccusage keep one copy). Also: messages with
several steps (the message's ``tokens`` are the *last* step's, its ``cost`` their sum), builds that
write ``tokens.total`` with reasoning outside ``output`` (AI SDK v6) beside builds without it,
subscription providers with ``cost: 0``, an unpriced model with a reported cost, aborted and
all-zero messages, and compaction summaries.

Expected totals per API request (burn's turn: one per ``step-finish`` part, or the message when it
has none), tallied when generated (``oracle.py``): ``input`` non-cached, ``cache.write`` as
5-minute writes, ``output`` including reasoning; the cost computed per request with burn's bundled
table, else the step's (message's) reported cost.
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gen_claude import CLOCK, DAY_MS, CorpusWriter, TextPool, corpus_parser, print_summary, replace_corpus
from oracle import Pricer, Tally, density_field

GENERATOR = "burn-bench-gen-opencode"
GENERATOR_VERSION = 1

BASE_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z, as gen_claude
SPAN_DAYS = 60
# (providerID, modelID, weight); the last two are unpriced in burn's table.
MODELS = (
    ("anthropic", "claude-sonnet-4-5-20250929", 35),
    ("anthropic", "claude-opus-4-6", 15),
    ("anthropic", "claude-haiku-4-5", 8),
    ("openai", "gpt-5.1-codex", 20),
    ("openai", "gpt-5", 10),
    ("openrouter", "kimi-k2", 7),  # unpriced: burn uses the reported cost
    ("opencode", "big-pickle", 5),  # unpriced and free: cost 0, unknown to burn
)
DB_ONLY_RATE = 0.7  # per session: only in opencode.db (else JSON only or both)
BOTH_RATE = 0.2  # per session: in the database and in leftover JSON files
SDK6_RATE = 0.3  # per session: tokens.total written, reasoning outside output
SUBSCRIPTION_RATE = 0.2  # per session of a priced provider: OpenCode writes cost 0
MULTI_STEP_RATE = 0.06  # per assistant message: two or three steps in one message
TASK_RATE = 0.03  # per tool call: a task subagent (child session)
ABORT_RATE = 0.01  # per assistant message: aborted (no completed time)
ZERO_RATE = 0.005  # per assistant message: aborted before any usage (all-zero tokens)
TIER_SAFE_PROMPT = 190_000  # multi-step messages stay below 200k summed (see tally())
SHOWCASE_FEATURES = ("multi", "task", "abort", "zero", "compact")  # forced in session 1
# Session-level choices of the showcase sessions 1–3 (place, AI SDK v6 tokens, cost 0, model), so
# that even a 1 MB corpus has every storage place and token shape.
SHOWCASE_SESSIONS: dict[int, tuple[str, bool, bool, tuple[str, str]]] = {
    1: ("both", True, False, ("anthropic", "claude-sonnet-4-5-20250929")),
    2: ("json", False, True, ("openai", "gpt-5.1-codex")),
    3: ("db", True, False, ("openrouter", "kimi-k2")),
}

Json = dict[str, Any]
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ----------------------------------------------------------------------------------------------
# ids, objects, writers


class Ids:
    """OpenCode identifiers: a prefix, 12 hex digits of time and counter, 14 random base62."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = 0

    def make(self, prefix: str, ms: int, descending: bool = False) -> str:
        self.counter = (self.counter + 1) & 0xFFF
        n = ms * 0x1000 + self.counter
        if descending:  # session ids sort newest first
            n = (1 << 48) - 1 - n
        return f"{prefix}_{n & ((1 << 48) - 1):012x}" + "".join(self.rng.choices(_B62, k=14))


def pretty(obj: Any) -> bytes:
    """``JSON.stringify(x, null, 2)``, as OpenCode writes its storage files."""
    return json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")


def compact(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


_SCHEMA = (
    """CREATE TABLE `project` (`id` text PRIMARY KEY NOT NULL, `worktree` text NOT NULL, `vcs` text,
      `name` text, `icon_url` text, `icon_color` text, `time_created` integer NOT NULL,
      `time_updated` integer NOT NULL, `time_initialized` integer, `sandboxes` text NOT NULL,
      `commands` text)""",
    """CREATE TABLE `session` (`id` text PRIMARY KEY NOT NULL, `project_id` text NOT NULL,
      `workspace_id` text, `parent_id` text, `slug` text NOT NULL, `directory` text NOT NULL, `path` text,
      `title` text NOT NULL, `version` text NOT NULL, `share_url` text, `summary_additions` integer,
      `summary_deletions` integer, `summary_files` integer, `summary_diffs` text,
      `cost` real DEFAULT 0 NOT NULL, `tokens_input` integer DEFAULT 0 NOT NULL,
      `tokens_output` integer DEFAULT 0 NOT NULL, `tokens_reasoning` integer DEFAULT 0 NOT NULL,
      `tokens_cache_read` integer DEFAULT 0 NOT NULL, `tokens_cache_write` integer DEFAULT 0 NOT NULL,
      `revert` text, `permission` text, `agent` text, `model` text, `time_created` integer NOT NULL,
      `time_updated` integer NOT NULL, `time_compacting` integer, `time_archived` integer)""",
    """CREATE TABLE `message` (`id` text PRIMARY KEY NOT NULL, `session_id` text NOT NULL,
      `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `data` text NOT NULL)""",
    """CREATE TABLE `part` (`id` text PRIMARY KEY NOT NULL, `message_id` text NOT NULL,
      `session_id` text NOT NULL, `time_created` integer NOT NULL, `time_updated` integer NOT NULL,
      `data` text NOT NULL)""",
    "CREATE INDEX `session_project_idx` ON `session` (`project_id`)",
    "CREATE INDEX `session_parent_idx` ON `session` (`parent_id`)",
    "CREATE INDEX `message_session_time_created_id_idx` ON `message` (`session_id`,`time_created`,`id`)",
    "CREATE INDEX `part_message_id_id_idx` ON `part` (`message_id`,`id`)",
    "CREATE INDEX `part_session_idx` ON `part` (`session_id`)",
)  # the drizzle schema of OpenCode 1.x (FORMATS §3.2; tests/opencode_db.py writes the same)


@dataclass
class DbRows:
    """Rows for opencode.db, inserted in one transaction at the end (fast, deterministic)."""

    projects: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    sessions: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    parts: list[tuple[Any, ...]] = field(default_factory=list)
    nbytes: int = 0  # JSON text in ``data`` columns plus a row overhead

    def file_size(self) -> int:
        """The database's size once written: pages, indexes and free space add about 30%."""
        return self.nbytes * 13 // 10

    def write(self, path: Path, mtime_ms: int) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")  # OpenCode's mode; closing checkpoints it
        for ddl in _SCHEMA:
            conn.execute(ddl)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO project VALUES (?,?,?,?,NULL,NULL,?,?,?,'[]',NULL)", self.projects.values()
        )
        conn.executemany(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, agent,"
            " time_created, time_updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
            self.sessions,
        )
        conn.executemany("INSERT INTO message VALUES (?,?,?,?,?)", self.messages)
        conn.executemany("INSERT INTO part VALUES (?,?,?,?,?,?)", self.parts)
        conn.execute("COMMIT")
        conn.close()
        os.utime(path, ns=(mtime_ms * 1_000_000, mtime_ms * 1_000_000))


# ----------------------------------------------------------------------------------------------
# corpus-wide state


@dataclass
class Stats:
    sessions: int = 0
    child_sessions: int = 0
    db_sessions: int = 0
    json_sessions: int = 0
    both_sessions: int = 0
    assistant_messages: int = 0
    counted_messages: int = 0
    multi_step_messages: int = 0
    extra_step_turns: int = 0  # burn's turns beyond one per message (the ccusage view's count)
    sdk6_messages: int = 0
    subscription_messages: int = 0
    unpriced_messages: int = 0
    aborted_messages: int = 0
    zero_messages: int = 0
    compactions: int = 0
    json_files: int = 0
    db_messages: int = 0
    db_parts: int = 0


@dataclass
class Context:
    rng: random.Random
    pool: TextPool
    ids: Ids
    tally: Tally
    pricer: Pricer
    stats: Stats
    writer: CorpusWriter
    db: DbRows = field(default_factory=DbRows)
    # What ccusage 20.0.24 reads instead (FORMATS §3.6): each message's own ``tokens`` (the last
    # step's), reasoning not added to output, messages with all-zero tokens skipped.
    peer: Tally = field(default_factory=Tally)
    pending_showcase: list[str] = field(default_factory=list)
    json_projects: set[str] = field(default_factory=set)
    last_ms: int = 0

    def take(self, feature: str, rate: float) -> bool:
        if feature in self.pending_showcase:
            self.pending_showcase.remove(feature)
            return True
        return self.rng.random() < rate


@dataclass
class Project:
    id: str
    worktree: str
    files: tuple[str, ...]  # the files its tools touch, again and again (as in real sessions)


@dataclass
class Place:
    """Where a session's objects go: the database, JSON storage, or both."""

    db: bool
    json: bool


# ----------------------------------------------------------------------------------------------
# one session


class Session:
    def __init__(
        self,
        ctx: Context,
        project: Project,
        start_ms: int,
        budget: int,
        parent: Session | None = None,
        showcase: int = 0,
    ) -> None:
        self.ctx = ctx
        self.showcase = showcase == 1  # keep going until every SHOWCASE_FEATURES entry is out
        self.rng = ctx.rng
        self.pool = ctx.pool
        self.project = project
        self.now = start_ms
        self.budget = budget
        self.parent = parent
        self.nbytes = 0
        self.id = ctx.ids.make("ses", start_ms, descending=True)
        self.place: Place
        self.sdk6: bool
        self.free: bool
        if parent is not None:
            self.place, self.sdk6, self.free = parent.place, parent.sdk6, parent.free
            self.provider, self.model = self.pick_model(subagent=True)
        elif showcase in SHOWCASE_SESSIONS:
            place, self.sdk6, self.free, (self.provider, self.model) = SHOWCASE_SESSIONS[showcase]
            self.place = self.count_place(Place(db=place != "json", json=place != "db"))
        else:
            self.place = self.pick_place()
            self.sdk6 = self.rng.random() < SDK6_RATE
            self.provider, self.model = self.pick_model(subagent=False)
            self.free = self.provider in ("anthropic", "openai") and self.rng.random() < SUBSCRIPTION_RATE
        self.version = "1.0.134" if self.place.db else "0.15.31"
        self.context = self.rng.randint(10_000, 18_000)  # system prompt and tools
        self.cached = 0
        self.compact_at = self.context + 3_000 if self.showcase else self.rng.randint(120_000, 180_000)

    def pick_place(self) -> Place:
        r = self.rng.random()
        if r < DB_ONLY_RATE:
            return self.count_place(Place(db=True, json=False))
        if r < DB_ONLY_RATE + BOTH_RATE:
            return self.count_place(Place(db=True, json=True))
        return self.count_place(Place(db=False, json=True))

    def count_place(self, place: Place) -> Place:
        stats = self.ctx.stats
        if place.db and place.json:
            stats.both_sessions += 1
        elif place.db:
            stats.db_sessions += 1
        else:
            stats.json_sessions += 1
        return place

    def pick_model(self, subagent: bool) -> tuple[str, str]:
        models = MODELS[:3] if subagent else MODELS
        provider, model, _ = self.rng.choices(models, weights=[m[2] for m in models])[0]
        return provider, model

    def tick(self, lo: int, hi: int) -> int:
        self.now += self.rng.randint(lo, hi)
        return self.now

    # -- writing objects -----------------------------------------------------------------------

    def save_session(self) -> None:
        created = self.started
        info: Json = {
            "id": self.id,
            "version": self.version,
            "projectID": self.project.id,
            "directory": self.project.worktree,
            "title": self.pool.text(self.rng.randint(20, 70)).strip(),
            "time": {"created": created, "updated": self.now},
        }
        if self.parent is not None:
            info["parentID"] = self.parent.id
            info["title"] += " (@general subagent)"
        if self.place.json:
            if self.project.id not in self.ctx.json_projects:
                self.ctx.json_projects.add(self.project.id)
                project = {
                    "id": self.project.id,
                    "worktree": self.project.worktree,
                    "vcs": "git",
                    "time": {"created": created, "updated": created},
                }
                self.json_file(f"storage/project/{self.project.id}.json", project, created)
            self.json_file(f"storage/session/{self.project.id}/{self.id}.json", info, self.now)
        if self.place.db:
            db = self.ctx.db
            if self.project.id not in db.projects:
                p = self.project
                db.projects[p.id] = (
                    p.id,
                    p.worktree,
                    "git",
                    p.worktree.rsplit("/", 1)[-1],
                    created,
                    created,
                    created,
                )
            agent = "general" if self.parent else None
            db.sessions.append(
                (
                    self.id,
                    self.project.id,
                    info.get("parentID"),
                    f"slug-{self.id[-8:]}",
                    self.project.worktree,
                    info["title"],
                    self.version,
                    agent,
                    created,
                    self.now,
                )
            )

    def json_file(self, relpath: str, obj: Json, mtime_ms: int) -> None:
        data = pretty(obj)
        self.ctx.writer.document(relpath, data, mtime_ms)
        self.ctx.stats.json_files += 1
        self.nbytes += len(data)

    def save_message(self, msg: Json, parts: list[Json]) -> None:
        """A message and its parts, where this session lives (both places for migrated ones)."""
        updated = msg["time"].get("completed") or msg["time"]["created"]
        self.ctx.last_ms = max(self.ctx.last_ms, updated)
        if self.place.json:
            self.json_file(f"storage/message/{self.id}/{msg['id']}.json", msg, updated)
            for p in parts:
                self.json_file(f"storage/part/{msg['id']}/{p['id']}.json", p, updated)
        if self.place.db:
            db = self.ctx.db
            data = compact({k: v for k, v in msg.items() if k not in ("id", "sessionID")})
            db.messages.append((msg["id"], self.id, msg["time"]["created"], updated, data))
            db.nbytes += len(data) + 100
            self.nbytes += len(data) + 100
            for p in parts:
                pdata = compact({k: v for k, v in p.items() if k not in ("id", "sessionID", "messageID")})
                db.parts.append((p["id"], msg["id"], self.id, updated, updated, pdata))
                db.nbytes += len(pdata) + 120
                self.nbytes += len(pdata) + 120
            self.ctx.stats.db_messages += 1
            self.ctx.stats.db_parts += len(parts)

    def part(self, message_id: str, kind: str, **fields: Any) -> Json:
        pid = self.ctx.ids.make("prt", self.now)
        return {"id": pid, "sessionID": self.id, "messageID": message_id, "type": kind, **fields}

    # -- the conversation ----------------------------------------------------------------------

    def run(self) -> None:
        self.started = self.now
        first = True
        while first or self.nbytes < self.budget or (self.parent is None and self.showcase_pending()):
            self.user_turn(first)
            first = False
        self.save_session()
        self.ctx.stats.sessions += self.parent is None
        self.ctx.stats.child_sessions += self.parent is not None

    def showcase_pending(self) -> bool:
        return bool(self.ctx.pending_showcase) and self.showcase

    def user_turn(self, first: bool) -> None:
        r = self.rng
        if not first:
            self.tick(5_000, 900_000 if r.random() < 0.9 else 4 * 3_600_000)
        uid = self.ctx.ids.make("msg", self.now)
        user: Json = {
            "id": uid,
            "sessionID": self.id,
            "role": "user",
            "time": {"created": self.now},
            "agent": "build",
            "model": {"providerID": self.provider, "modelID": self.model},
        }
        compaction = self.context >= self.compact_at and self.ctx.take("compact", 0.9)
        if compaction:
            parts = [self.part(uid, "compaction", auto=True)]
        else:
            text = self.pool.text(max(10, min(int(r.lognormvariate(math.log(300), 1.1)), 12_000)))
            parts = [self.part(uid, "text", text=text)]
            self.context += len(text) // 4
        self.save_message(user, parts)
        if compaction:
            self.assistant(uid, final=True, summary=True)
            self.context = r.randint(12_000, 20_000)
            self.cached = 0
            self.ctx.stats.compactions += 1
            return
        steps = min(30, 1 + int(r.expovariate(1 / 5)))
        for step in range(steps):
            if not self.assistant(uid, final=step == steps - 1):
                break

    def assistant(self, parent_id: str, final: bool, summary: bool = False) -> bool:
        """One assistant message (one step, sometimes more); False when it was aborted."""
        r, stats = self.rng, self.ctx.stats
        self.tick(300, 3_000)
        mid = self.ctx.ids.make("msg", self.now)
        created = self.now
        zero = self.ctx.take("zero", ZERO_RATE)
        aborted = zero or self.ctx.take("abort", ABORT_RATE)
        n_steps = 1
        if (
            not summary
            and not aborted
            and 2 * self.context < TIER_SAFE_PROMPT
            and self.ctx.take("multi", MULTI_STEP_RATE)
        ):
            n_steps = r.randint(2, 3)
        parts: list[Json] = []
        steps: list[Json] = []
        costs: list[int] = []
        finish = "stop"
        for i in range(n_steps):
            last_step = i == n_steps - 1
            parts.append(self.part(mid, "step-start", snapshot=f"{r.getrandbits(160):040x}"))
            tools = self.content_parts(mid, parts, final or summary or not last_step, aborted)
            finish = "tool-calls" if tools else "stop"
            tokens = self.zero_tokens() if zero else self.step_tokens(sum(len(t) for t in tools))
            micros = 0 if zero else self.step_cost(tokens)
            costs.append(micros)
            steps.append(tokens)
            if not aborted or not last_step:
                parts.append(
                    self.part(
                        mid,
                        "step-finish",
                        reason=finish,
                        snapshot=f"{r.getrandbits(160):040x}",
                        cost=self.cost_field(micros),
                        tokens=tokens,
                    )
                )
        msg: Json = {
            "id": mid,
            "sessionID": self.id,
            "role": "assistant",
            "time": {"created": created, "completed": self.tick(50, 500)},
            "parentID": parent_id,
            "modelID": self.model,
            "providerID": self.provider,
            "mode": "build",
            "agent": "build",
            "path": {"cwd": self.project.worktree, "root": self.project.worktree},
            "cost": self.cost_field(sum(costs)),
            "tokens": steps[-1],  # OpenCode: tokens = the last step's, cost = the sum
            "finish": finish,
        }
        if summary:
            msg["summary"] = True
        if aborted:
            del msg["time"]["completed"]
            msg["error"] = {"name": "MessageAbortedError", "data": {"message": "The operation was aborted."}}
            del msg["finish"]
            stats.aborted_messages += 1
        self.save_message(msg, parts)
        stats.assistant_messages += 1
        stats.zero_messages += zero
        if not zero:
            # burn's turns: one per step-finish part; an aborted message (its last step has none,
            # and it is never multi-step here) is one turn of the message's tokens and cost.
            requests = [(steps[-1], sum(costs))] if aborted else list(zip(steps, costs, strict=True))
            self.tally(msg, requests, created)
        return not aborted and finish == "tool-calls"

    def content_parts(self, mid: str, parts: list[Json], final: bool, aborted: bool) -> list[str]:
        """Reasoning, text and tool parts of one step; returns the tool outputs (they grow the context)."""
        r, p = self.rng, self.pool
        if r.random() < 0.5:
            start = self.tick(10, 200)
            meta = (
                {"anthropic": {"signature": p.signature(r.randint(200, 2_000))}}
                if self.provider == "anthropic"
                else {}
            )
            parts.append(
                self.part(
                    mid,
                    "reasoning",
                    text=p.text(int(r.lognormvariate(math.log(500), 1.0))),
                    metadata=meta,
                    time={"start": start, "end": self.tick(100, 5_000)},
                )
            )
        if final or r.random() < 0.5:
            start = self.tick(10, 200)
            text = p.text(int(r.lognormvariate(math.log(700 if final else 200), 1.0)) + 5)
            parts.append(
                self.part(mid, "text", text=text, time={"start": start, "end": self.tick(50, 3_000)})
            )
        if final or aborted:
            return []
        outputs = []
        for _ in range(1 if r.random() < 0.8 else r.randint(2, 4)):
            outputs.append(self.tool_part(mid, parts))
        return outputs

    def tool_part(self, mid: str, parts: list[Json]) -> str:
        r, p = self.rng, self.pool
        start = self.tick(20, 300)
        call = "toolu_01" + "".join(r.choices(_B62, k=22))
        if self.parent is None and self.ctx.take("task", TASK_RATE):
            child = Session(
                self.ctx, self.project, self.now + 50, int(r.lognormvariate(math.log(40_000), 0.8)), self
            )
            child.run()
            self.now = max(self.now, child.now) + r.randint(100, 2_000)
            output = p.text(r.randint(300, 4_000))
            state = {
                "status": "completed",
                "input": {
                    "description": p.text(40).strip(),
                    "prompt": p.text(600),
                    "subagent_type": "general",
                },
                "output": output,
                "title": "task",
                "metadata": {"sessionId": child.id},
                "time": {"start": start, "end": self.now},
            }
            parts.append(self.part(mid, "tool", callID=call, tool="task", state=state))
            return output
        tool = r.choices(("bash", "read", "edit", "grep", "glob", "write"), weights=(30, 30, 15, 10, 5, 5))[0]
        n = min(int(r.lognormvariate(math.log(1_500), 1.3)), 50_000)
        file = r.choice(self.project.files)
        path = f"{self.project.worktree}/{file}"
        if tool == "read":
            args: Json = {"filePath": path}
            output = p.code_text(n)
        elif tool == "edit":
            args = {
                "filePath": path,
                "oldString": p.code_text(r.randint(20, 1_000)),
                "newString": p.code_text(r.randint(20, 2_000)),
            }
            output = ""
        elif tool == "write":
            args = {"filePath": path, "content": p.code_text(r.randint(200, 8_000))}
            output = ""
        else:
            args = {
                "command": f"{p.word()} {file} | head -n {r.randint(5, 200)}",
                "description": p.text(40).strip(),
            }
            output = p.log_text(n)
        state = {
            "status": "completed",
            "input": args,
            "output": output,
            "title": file,
            "metadata": {"exit": 0} if tool == "bash" else {},
            "time": {"start": start, "end": self.tick(30, 20_000)},
        }
        parts.append(self.part(mid, "tool", callID=call, tool=tool, state=state))
        return output

    # -- tokens and cost -----------------------------------------------------------------------

    def zero_tokens(self) -> Json:
        return {"input": 0, "output": 0, "reasoning": 0, "cache": {"read": 0, "write": 0}}

    def step_tokens(self, tool_chars: int) -> Json:
        """One step's ``tokens`` as this build writes them; advances the conversation's context."""
        r = self.rng
        prompt = self.context
        if self.provider == "anthropic":
            read = self.cached if r.random() < 0.97 else 0
            write = max(0, prompt - read - r.randint(1, 12))
            inp = prompt - read - write
        else:
            read = (min(self.cached, prompt) // 128) * 128 if r.random() < 0.93 else 0
            write, inp = 0, prompt - read
        out = max(5, min(int(r.lognormvariate(math.log(400), 0.9)), 24_000))
        reasoning = int(out * r.uniform(0, 0.7)) if r.random() < 0.6 else 0
        self.cached = prompt
        self.context = prompt + out + tool_chars // 4
        tokens: Json = {
            "input": inp,
            "output": out,
            "reasoning": reasoning,
            "cache": {"read": read, "write": write},
        }
        if self.sdk6:
            # AI SDK v6: output without reasoning, total = every field (burn adds reasoning back).
            tokens = {"total": inp + out + read + write, **tokens, "output": out - reasoning}
        return tokens

    @staticmethod
    def usage_of(tokens: Json) -> dict[str, int]:
        """burn's meaning of one tokens object: output includes reasoning in both builds."""
        has_total = "total" in tokens
        out = tokens["output"] + (tokens["reasoning"] if has_total else 0)
        return {
            "input": tokens["input"],
            "output": out,
            "reasoning": tokens["reasoning"],
            "cache_read": tokens["cache"]["read"],
            "cache_write_5m": tokens["cache"]["write"],
            "cache_write_1h": 0,
        }

    def step_cost(self, tokens: Json) -> int:
        """What OpenCode writes for a step, in micro-USD: the exact price for paid providers, a
        made-up positive price for the unpriced paid model, 0 for subscriptions and free models."""
        if self.free or self.model == "big-pickle":
            return 0
        if self.model == "kimi-k2":
            u = self.usage_of(tokens)
            return (u["input"] * 600 + u["output"] * 2_500 + u["cache_read"] * 150) // 1_000_000 + 1
        return self.ctx.pricer.cost(self.model, self.usage_of(tokens), CLOCK.iso(self.now))

    @staticmethod
    def cost_field(micros: int) -> float | int:
        # micro-USD / 1e6 as a float: its repr is the exact decimal, as a JSON number is read.
        return micros / 1_000_000 if micros else 0

    def tally(self, msg: Json, requests: list[tuple[Json, int]], created: int) -> None:
        """burn's turns: one per API request (step), each priced on its own prompt with the step's
        own reported cost. (Multi-step messages are still generated with a summed prompt under the
        200k tier, so pricing the sum would give the same tokens; the turn count differs.)"""
        stats = self.ctx.stats
        ts = CLOCK.iso(created)
        for tokens, cost_micros in requests:
            usage = self.usage_of(tokens)
            cost = self.ctx.pricer.cost(self.model, usage, ts, cost_micros or None)
            self.ctx.tally.add(ts[:10], {**usage, "turns": 1, "cost_usd_micros": cost})
        last = msg["tokens"]
        peer = {
            "input": last["input"],
            "output": last["output"],
            "cache_read": last["cache"]["read"],
            "cache_write_5m": last["cache"]["write"],
            "turns": 1,
        }
        self.ctx.peer.add(ts[:10], peer)
        stats.counted_messages += 1
        stats.multi_step_messages += len(requests) > 1
        stats.extra_step_turns += len(requests) - 1
        stats.sdk6_messages += self.sdk6
        stats.subscription_messages += self.free
        stats.unpriced_messages += not self.ctx.pricer.priced(self.model)


# ----------------------------------------------------------------------------------------------
# the corpus


def make_project(rng: random.Random, pool: TextPool, index: int) -> Project:
    user = rng.choice(("dev", "alex", "sam", "kim"))
    worktree = f"/home/{user}/{rng.choice(('src', 'projects', 'code'))}/{pool.word()}-{index}"
    pid = "global" if index == 0 else f"{rng.getrandbits(160):040x}"
    return Project(id=pid, worktree=worktree, files=tuple(pool.path() for _ in range(40)))


def generate(out: Path, size: int, seed: int = 1, density: float = 1.0) -> Json:
    """Write an OpenCode data directory into ``out`` and return (and write) its expected.json."""
    rng = random.Random(f"opencode-{seed}")
    pool = TextPool(rng, density)
    writer = CorpusWriter(out)
    ctx = Context(
        rng=rng, pool=pool, ids=Ids(rng), tally=Tally(), pricer=Pricer(), stats=Stats(), writer=writer
    )
    projects = [make_project(rng, pool, i) for i in range(max(3, size // 10_000_000))]
    index = 0
    while writer.bytes + ctx.db.file_size() < size or index < 4:
        if index == 1:
            ctx.pending_showcase = list(SHOWCASE_FEATURES)
        budget = max(
            6_000, min(int(rng.lognormvariate(math.log(60_000), 1.2)), 6_000_000, max(20_000, size // 8))
        )
        start = BASE_MS + rng.randrange(SPAN_DAYS * DAY_MS)
        Session(ctx, rng.choice(projects), start, budget, showcase=index).run()
        index += 1
    db_path = out / "opencode.db"
    ctx.db.write(db_path, ctx.last_ms)
    writer.files += 1
    writer.bytes += db_path.stat().st_size
    expected = {
        "generator": {"name": GENERATOR, "version": GENERATOR_VERSION},
        "seed": seed,
        **density_field(density),
        "target_size_bytes": size,
        "size_bytes": writer.bytes,
        "files": writer.files,
        "lines": 0,
        **ctx.tally.as_json(),
        "peer": {"ccusage_view": ctx.peer.totals},
        "features": vars(ctx.stats),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    ap = corpus_parser(__doc__, "the OpenCode data directory to create")
    args = ap.parse_args(argv)
    out: Path = args.out
    replace_corpus(ap, out, args.force, ["storage"], ["opencode.db", "opencode.db-wal", "opencode.db-shm"])
    started = time.perf_counter()
    expected = generate(out, args.size, args.seed, args.density)
    if not args.quiet:
        print_summary(expected, out, started, "assistant messages with usage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
