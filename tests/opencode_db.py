"""Build OpenCode data for tests and benchmarks: an ``opencode.db`` with the drizzle schema of
FORMATS §3.2, the JSON ``storage/`` layout of §3.1, and the message/part objects of §3.4–3.5.

Objects are built as OpenCode writes them (with ``id``/``sessionID``/``messageID``); the database
writer drops those fields from ``data`` as OpenCode's ``json-migration`` does and puts them in
their columns. Every write stamps ``time_updated`` from a per-database millisecond clock that only
moves forward (or the value given), like OpenCode's ``$onUpdate(() => Date.now())``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00.000Z

_PROJECT = """CREATE TABLE `project` (`id` text PRIMARY KEY NOT NULL, `worktree` text NOT NULL,
  `vcs` text, `name` text, `icon_url` text, `icon_color` text, `time_created` integer NOT NULL,
  `time_updated` integer NOT NULL, `time_initialized` integer, `sandboxes` text NOT NULL, `commands` text)"""

_SESSION_CURRENT = """CREATE TABLE `session` (`id` text PRIMARY KEY NOT NULL, `project_id` text NOT NULL,
  `workspace_id` text, `parent_id` text, `slug` text NOT NULL, `directory` text NOT NULL, `path` text,
  `title` text NOT NULL, `version` text NOT NULL, `share_url` text, `summary_additions` integer,
  `summary_deletions` integer, `summary_files` integer, `summary_diffs` text,
  `cost` real DEFAULT 0 NOT NULL, `tokens_input` integer DEFAULT 0 NOT NULL,
  `tokens_output` integer DEFAULT 0 NOT NULL, `tokens_reasoning` integer DEFAULT 0 NOT NULL,
  `tokens_cache_read` integer DEFAULT 0 NOT NULL, `tokens_cache_write` integer DEFAULT 0 NOT NULL,
  `revert` text, `permission` text, `agent` text, `model` text,
  `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `time_compacting` integer,
  `time_archived` integer,
  FOREIGN KEY (`project_id`) REFERENCES `project`(`id`) ON UPDATE no action ON DELETE cascade)"""

# The first 1.x schema: no directory (agentsview falls back to project.worktree), no workspace,
# path, agent, model or usage aggregates.
_SESSION_OLD = """CREATE TABLE `session` (`id` text PRIMARY KEY NOT NULL, `project_id` text NOT NULL,
  `parent_id` text, `slug` text NOT NULL, `title` text NOT NULL, `version` text NOT NULL,
  `share_url` text, `summary_additions` integer, `summary_deletions` integer, `summary_files` integer,
  `summary_diffs` text, `revert` text, `permission` text,
  `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `time_compacting` integer,
  `time_archived` integer,
  FOREIGN KEY (`project_id`) REFERENCES `project`(`id`) ON UPDATE no action ON DELETE cascade)"""

_MESSAGE = """CREATE TABLE `message` (`id` text PRIMARY KEY NOT NULL, `session_id` text NOT NULL,
  `time_created` integer NOT NULL, `time_updated` integer NOT NULL, `data` text NOT NULL,
  FOREIGN KEY (`session_id`) REFERENCES `session`(`id`) ON UPDATE no action ON DELETE cascade)"""

_PART = """CREATE TABLE `part` (`id` text PRIMARY KEY NOT NULL, `message_id` text NOT NULL,
  `session_id` text NOT NULL, `time_created` integer NOT NULL, `time_updated` integer NOT NULL,
  `data` text NOT NULL,
  FOREIGN KEY (`message_id`) REFERENCES `message`(`id`) ON UPDATE no action ON DELETE cascade)"""

_OTHER = [
    "CREATE INDEX `session_project_idx` ON `session` (`project_id`)",
    "CREATE INDEX `session_parent_idx` ON `session` (`parent_id`)",
    "CREATE INDEX `message_session_time_created_id_idx` ON `message` (`session_id`,`time_created`,`id`)",
    "CREATE INDEX `part_message_id_id_idx` ON `part` (`message_id`,`id`)",
    "CREATE INDEX `part_session_idx` ON `part` (`session_id`)",
    """CREATE TABLE `todo` (`session_id` text NOT NULL, `content` text NOT NULL, `status` text NOT NULL,
      `priority` text NOT NULL, `position` integer NOT NULL, `time_created` integer NOT NULL,
      `time_updated` integer NOT NULL, PRIMARY KEY(`session_id`, `position`))""",
    """CREATE TABLE `permission` (`project_id` text PRIMARY KEY NOT NULL, `time_created` integer NOT NULL,
      `time_updated` integer NOT NULL, `data` text NOT NULL)""",
    """CREATE TABLE `session_share` (`session_id` text PRIMARY KEY NOT NULL, `id` text NOT NULL,
      `secret` text NOT NULL, `url` text NOT NULL, `time_created` integer NOT NULL,
      `time_updated` integer NOT NULL)""",
]


class OpenCodeDB:
    """An ``opencode.db`` being written, like OpenCode does (one writer connection).

    ``schema``: ``"current"`` (with ``directory``, ``workspace_id``, ``agent``, ``model``, the usage
    aggregates) or ``"old"`` (the first 1.x schema). ``wal``: journal mode WAL (OpenCode's) or the
    rollback journal. ``no_time_updated``: a schema whose message/part tables lack ``time_updated``.
    """

    def __init__(
        self,
        path: Path,
        *,
        schema: str = "current",
        wal: bool = True,
        no_time_updated: bool = False,
        clock: int = T0,
    ) -> None:
        self.path = path
        self.clock = clock
        self.schema = schema
        self.no_time_updated = no_time_updated
        self.conn = sqlite3.connect(path, isolation_level=None)
        if wal:
            self.conn.execute("PRAGMA journal_mode=WAL")
        tables = [_PROJECT, _SESSION_CURRENT if schema == "current" else _SESSION_OLD, _MESSAGE, _PART]
        if no_time_updated:
            tables[2] = _MESSAGE.replace("`time_updated` integer NOT NULL, ", "")
            tables[3] = _PART.replace("`time_updated` integer NOT NULL,\n  ", "")
        for ddl in [*tables, *_OTHER]:
            self.conn.execute(ddl)

    def tick(self, at: int | None = None) -> int:
        """The next ``time_updated``: ``at`` if given, else one millisecond after the last one."""
        self.clock = at if at is not None else self.clock + 1
        return self.clock

    def _upsert(self, table: str, row: Mapping[str, Any]) -> None:
        cols = list(row)
        if self.no_time_updated and table in ("message", "part"):
            cols = [c for c in cols if c != "time_updated"]
        sets = ", ".join(f"{c}=excluded.{c}" for c in cols if c != "id")
        sql = (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            f" ON CONFLICT(id) DO UPDATE SET {sets}"
        )
        self.conn.execute(sql, [row[c] for c in cols])

    def project(self, project_id: str = "prj_1", worktree: str = "/work/proj") -> None:
        now = self.tick()
        self._upsert(
            "project",
            {"id": project_id, "worktree": worktree, "vcs": "git", "sandboxes": "[]",
             "time_created": now, "time_updated": now},
        )  # fmt: skip

    def session(
        self,
        session_id: str,
        *,
        project_id: str = "prj_1",
        parent_id: str | None = None,
        directory: str = "/work/proj",
        title: str = "A session",
        version: str = "1.2.3",
        slug: str | None = None,
        agent: str | None = None,
        created: int | None = None,
        updated: int | None = None,
    ) -> None:
        now = self.tick(updated)
        row: dict[str, Any] = {
            "id": session_id, "project_id": project_id, "parent_id": parent_id,
            "slug": slug or f"slug-{session_id}", "title": title, "version": version,
            "time_created": created if created is not None else now, "time_updated": now,
        }  # fmt: skip
        if self.schema == "current":
            row.update(directory=directory, agent=agent, cost=9.99, tokens_input=123456)  # aggregates: unused
        self._upsert("session", row)

    def message(self, msg: Mapping[str, Any], *, updated: int | None = None) -> None:
        """Insert or update a message object (``id`` and ``sessionID`` go to their columns)."""
        data = {k: v for k, v in msg.items() if k not in ("id", "sessionID")}
        created = msg.get("time", {}).get("created") or self.clock
        self._upsert(
            "message",
            {"id": msg["id"], "session_id": msg["sessionID"], "time_created": created,
             "time_updated": self.tick(updated), "data": json.dumps(data)},
        )  # fmt: skip

    def part(self, part: Mapping[str, Any], *, updated: int | None = None) -> None:
        """Insert or update a part object (``id``, ``messageID``, ``sessionID`` go to columns)."""
        data = {k: v for k, v in part.items() if k not in ("id", "messageID", "sessionID")}
        now = self.tick(updated)
        self._upsert(
            "part",
            {"id": part["id"], "message_id": part["messageID"], "session_id": part["sessionID"],
             "time_created": now, "time_updated": now, "data": json.dumps(data)},
        )  # fmt: skip

    def raw(self, sql: str, params: Iterable[Any] = ()) -> None:
        self.conn.execute(sql, list(params))

    def close(self) -> None:
        self.conn.close()


# -- message and part objects ------------------------------------------------------------------


def tokens(
    input: int = 0,
    output: int = 0,
    reasoning: int = 0,
    read: int = 0,
    write: int = 0,
    total: int | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "input": input,
        "output": output,
        "reasoning": reasoning,
        "cache": {"read": read, "write": write},
    }
    if total is not None:
        out["total"] = total
    return out


def assistant(
    message_id: str,
    session_id: str,
    *,
    created: int = T0,
    completed: int | None = None,
    tokens: Mapping[str, Any] | None = None,
    cost: float | None = None,
    model: str = "claude-sonnet-4-20250514",
    provider: str = "anthropic",
    parent_id: str = "msg_user",
    cwd: str = "/work/proj",
    finish: str | None = "stop",
    error: Mapping[str, Any] | None = None,
    summary: bool | None = None,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "id": message_id,
        "sessionID": session_id,
        "role": "assistant",
        "parentID": parent_id,
        "modelID": model,
        "providerID": provider,
        "mode": "build",
        "agent": "build",
        "path": {"cwd": cwd, "root": cwd},
        "time": {"created": created, "completed": completed if completed is not None else created + 1000},
        "cost": cost if cost is not None else 0,
        "tokens": dict(tokens) if tokens is not None else _zero_tokens(),
    }
    if finish is not None:
        msg["finish"] = finish
    if error is not None:
        msg["error"] = dict(error)
        if completed is None:
            del msg["time"]["completed"]
    if summary is not None:
        msg["summary"] = summary
    return msg


def _zero_tokens() -> dict[str, Any]:
    return tokens()


def user(message_id: str, session_id: str, *, created: int = T0) -> dict[str, Any]:
    return {
        "id": message_id,
        "sessionID": session_id,
        "role": "user",
        "time": {"created": created},
        "agent": "build",
        "model": {"providerID": "anthropic", "modelID": "claude-sonnet-4-20250514"},
    }


def _part(part_id: str, message_id: str, session_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": part_id, "sessionID": session_id, "messageID": message_id, "type": kind, **fields}


def text(part_id: str, message_id: str, session_id: str, body: str, **fields: Any) -> dict[str, Any]:
    return _part(part_id, message_id, session_id, "text", text=body, **fields)


def step_start(part_id: str, message_id: str, session_id: str) -> dict[str, Any]:
    return _part(part_id, message_id, session_id, "step-start", snapshot="abc123")


def step_finish(
    part_id: str, message_id: str, session_id: str, step_tokens: Mapping[str, Any], cost: float = 0
) -> dict[str, Any]:
    return _part(
        part_id, message_id, session_id, "step-finish",
        reason="stop", snapshot="abc123", cost=cost, tokens=dict(step_tokens),
    )  # fmt: skip


def tool(
    part_id: str,
    message_id: str,
    session_id: str,
    *,
    call_id: str,
    name: str,
    input: Mapping[str, Any],
    status: str = "completed",
    output: str | None = "ok",
    error: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    start: int = T0 + 100,
    end: int = T0 + 200,
) -> dict[str, Any]:
    state: dict[str, Any] = {"status": status, "input": dict(input), "time": {"start": start}}
    if status == "completed":
        state.update(output=output, title=name, metadata=dict(metadata or {}))
        state["time"]["end"] = end
    elif status == "error":
        state.update(error=error or "failed", metadata=dict(metadata or {}))
        state["time"]["end"] = end
    elif status == "pending":
        state = {"status": "pending", "input": {}, "raw": ""}
    return _part(part_id, message_id, session_id, "tool", callID=call_id, tool=name, state=state)


def compaction(part_id: str, message_id: str, session_id: str, *, auto: bool = True) -> dict[str, Any]:
    return _part(part_id, message_id, session_id, "compaction", auto=auto)


def session_object(
    session_id: str,
    *,
    project_id: str = "prj_1",
    directory: str = "/work/proj",
    title: str = "A session",
    version: str = "0.15.0",
    parent_id: str | None = None,
    created: int = T0,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": session_id,
        "version": version,
        "projectID": project_id,
        "directory": directory,
        "title": title,
        "time": {"created": created, "updated": created + 5000},
    }
    if parent_id is not None:
        out["parentID"] = parent_id
    return out


# -- the JSON storage layout --------------------------------------------------------------------


def _write(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2))  # OpenCode: JSON.stringify(x, null, 2)
    return path


def write_session(storage: Path, info: Mapping[str, Any]) -> Path:
    return _write(storage / "session" / info["projectID"] / f"{info['id']}.json", info)


def write_message(storage: Path, msg: Mapping[str, Any]) -> Path:
    return _write(storage / "message" / msg["sessionID"] / f"{msg['id']}.json", msg)


def write_part(storage: Path, part: Mapping[str, Any]) -> Path:
    return _write(storage / "part" / part["messageID"] / f"{part['id']}.json", part)


def generate_storage(storage: Path, messages: int, *, sessions: int = 100, steps: int = 2) -> dict[str, int]:
    """A JSON ``storage/`` tree of ``messages`` assistant messages spread over ``sessions``, each
    with ``steps`` step-finish parts, a step-start and a text part; returns the expected totals."""
    totals = {"turns": 0, "input": 0, "output": 0, "parts": 0}
    for i in range(sessions):
        write_session(storage, session_object(f"ses_{i:06d}"))
    for m in range(messages):
        sid = f"ses_{m % sessions:06d}"
        mid = f"msg_{m:08d}"
        created = T0 + m * 1000
        step = tokens(input=10 + m % 7, output=20, read=100, write=5)
        write_message(storage, assistant(mid, sid, created=created, tokens=step, cost=0.001))
        write_part(storage, step_start(f"prt_{m:08d}_0", mid, sid))
        write_part(storage, text(f"prt_{m:08d}_1", mid, sid, "Done. " * 20))
        for k in range(steps):
            write_part(storage, step_finish(f"prt_{m:08d}_s{k}", mid, sid, step, cost=0.001))
        totals["turns"] += 1
        totals["input"] += steps * (10 + m % 7)
        totals["output"] += steps * 20
        totals["parts"] += 2 + steps
    return totals
