"""The OpenCode reader, rule by rule (FORMATS §3, DESIGN §5), on fixtures built here: databases
with the documented drizzle schema (tests/opencode_db.py) and JSON ``storage/`` trees, plus the
hand-written broken files of tests/fixtures/opencode/.

Most tests go through the real stack (entry point → ingest → ledger → archive) so that dedupe by
event id, the no-op fingerprint and the cursor state are exercised as in production.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest

from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.ledger.merge import merge
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize
from burn.reader import Diagnostics, FileCursor, SourceUnit
from burn.records import Record, SessionInfo, ToolCall, ToolResultEvent, Turn, UserTurn
from burn_opencode import OpenCodeReader
from burn_opencode.discover import ORDER_DB, ORDER_MESSAGE, ORDER_SESSION, locations
from burn_opencode.ids import ms_to_iso
from tests import opencode_db as oc
from tests.opencode_db import T0, OpenCodeDB

FIXTURES = Path(__file__).parent / "fixtures" / "opencode"
SES = "ses_root"
ABORTED = {"name": "MessageAbortedError", "data": {"message": "aborted"}}


# ------------------------------------------------------------------------------------ harness


class Env:
    """An OpenCode data dir, a burn home, and ingest/query helpers over the real stack."""

    def __init__(self, tmp_path: Path) -> None:
        self.data = tmp_path / "opencode"
        self.storage = self.data / "storage"
        self.home = tmp_path / "burn"
        for d in (self.data, self.home, tmp_path / "home"):
            d.mkdir(exist_ok=True)
        self.env = {
            "HOME": str(tmp_path / "home"),
            "OPENCODE_DATA_DIR": str(self.data),
            "RELAYBURN_HOME": str(self.home),
            "BURN_LOAD_PLUGINS": "opencode,file_store",
            "BURN_STRICT_PLUGINS": "1",
        }

    @property
    def db_path(self) -> Path:
        return self.data / "opencode.db"

    def db(self, **kwargs: Any) -> OpenCodeDB:
        return OpenCodeDB(self.db_path, **kwargs)

    def ingest(self) -> dict[str, Any]:
        report = ingest(self.home, Plugins(env=self.env), self.env)
        return report.totals()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        archive = Archive.in_home(self.home, readonly=True)
        try:
            return list(archive.db.execute(sql))
        finally:
            archive.close()

    def turns(self) -> dict[str, dict[str, Any]]:
        archive = Archive.in_home(self.home, readonly=True)
        try:
            archive.db.row_factory = sqlite3.Row
            return {r["message_id"]: dict(r) for r in archive.db.execute("SELECT * FROM turns")}
        finally:
            archive.close()

    def totals(self) -> tuple[int, int, int, int]:
        (row,) = self.rows(
            "SELECT TOTAL(input), TOTAL(output), TOTAL(cache_write_5m) + TOTAL(cache_write_1h),"
            " TOTAL(cache_read) FROM turns"
        )
        return tuple(int(v) for v in row)  # type: ignore[return-value]

    def ledger(self) -> bytes:
        return (self.home / "ledger.jsonl").read_bytes()


@pytest.fixture
def oenv(tmp_path: Path) -> Env:
    return Env(tmp_path)


def fold(roots: list[Path]) -> tuple[dict[str, Record], Diagnostics]:
    """Every unit under ``roots`` read once by the reader, folded through the merge rule."""
    reader = OpenCodeReader()
    diag = Diagnostics()
    units = sorted(reader.discover(roots, diag), key=lambda u: (u.order, u.key))
    best: dict[str, Record] = {}
    for unit in units:
        result = reader.read(unit, None)
        diag.add(result.diagnostics)
        for rec in result.records:
            rid = rec.event_id()
            best[rid] = rec if rid not in best else (merge(best[rid], rec) or best[rid])
    return best, diag


def of(records: dict[str, Record], cls: type[Any]) -> list[Any]:
    return [r for r in records.values() if isinstance(r, cls)]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_message(storage: Path, msg: dict[str, Any], *parts: dict[str, Any]) -> None:
    oc.write_message(storage, msg)
    for p in parts:
        oc.write_part(storage, p)


def db_message(db: OpenCodeDB, msg: dict[str, Any], *parts: dict[str, Any]) -> None:
    db.message(msg)
    for p in parts:
        db.part(p)


def multi_step(mid: str = "msg_a1", sid: str = SES) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A two-step assistant message: message tokens are the LAST step's, cost the sum."""
    s1 = oc.tokens(input=100, output=40, read=1000, write=200)
    s2 = oc.tokens(input=30, output=60, read=1200, write=10)
    msg = oc.assistant(mid, sid, tokens=s2, cost=0.3, finish="stop")
    parts = [
        oc.step_start(f"{mid}_p0", mid, sid),
        oc.step_finish(f"{mid}_p1", mid, sid, s1, cost=0.1),
        oc.tool(f"{mid}_p2", mid, sid, call_id="toolu_1", name="read", input={"filePath": "/work/a.py"}),
        oc.step_finish(f"{mid}_p3", mid, sid, s2, cost=0.2),
    ]
    return msg, parts


# ------------------------------------------------------------------------------------ discovery


def test_locations_env_xdg_default(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert locations({"OPENCODE_DATA_DIR": "/a, /b ,/a"}, home) == [Path("/a"), Path("/b")]
    assert locations({"OPENCODE_DATA_DIR": "rel"}, home) == [Path.cwd() / "rel"]
    assert locations({"XDG_DATA_HOME": "/xdg"}, home) == [Path("/xdg/opencode")]
    assert locations({}, home) == [home / ".local" / "share" / "opencode"]
    assert OpenCodeReader().env_var == "OPENCODE_DATA_DIR"
    assert OpenCodeReader().name == "opencode"


def test_discover_units_databases_first_with_companions(oenv: Env) -> None:
    db = oenv.db()
    db.close()
    (oenv.data / "opencode-beta.db").write_bytes(oenv.db_path.read_bytes())
    (oenv.data / "opencode.db-wal").write_bytes(b"")  # a -wal is a companion, never a unit
    msg, parts = multi_step()
    write_message(oenv.storage, msg, *parts)
    oc.write_session(oenv.storage, oc.session_object(SES))
    legacy = oenv.data / "project" / "myproj" / "storage" / "session"
    (legacy / "message" / "ses_old").mkdir(parents=True)
    (legacy / "message" / "ses_old" / "msg_old.json").write_text("{}")
    (legacy / "part" / "ses_old" / "msg_old").mkdir(parents=True)
    (legacy / "part" / "ses_old" / "msg_old" / "prt_1.json").write_text("{}")
    (legacy / "info").mkdir()
    (legacy / "info" / "ses_old.json").write_text("{}")
    (oenv.storage / "message" / SES / "not_a_file.json").mkdir()
    diag = Diagnostics()
    units = sorted(OpenCodeReader().discover([oenv.data], diag), key=lambda u: (u.order, u.key))
    kinds = [(u.order, u.path.relative_to(oenv.data).as_posix()) for u in units]
    assert kinds == [
        (ORDER_DB, "opencode-beta.db"),
        (ORDER_DB, "opencode.db"),
        (ORDER_SESSION, "project/myproj/storage/session/info/ses_old.json"),
        (ORDER_SESSION, f"storage/session/prj_1/{SES}.json"),
        (ORDER_MESSAGE, "project/myproj/storage/session/message/ses_old/msg_old.json"),
        (ORDER_MESSAGE, f"storage/message/{SES}/msg_a1.json"),
    ]
    assert tuple(map(Path, units[1].companions)) == (oenv.data / "opencode.db-wal",)
    assert tuple(map(Path, units[4].companions)) == (legacy / "part" / "ses_old" / "msg_old" / "prt_1.json",)
    assert [Path(p).name for p in units[5].companions] == [f"msg_a1_p{i}.json" for i in range(4)]
    assert diag.invalid == {"not_a_file": 1}


def test_missing_roots_and_file_root_are_fine(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert list(OpenCodeReader().discover([tmp_path / "missing", f], Diagnostics())) == []


# ------------------------------------------------------------------------------------ database


def build_db(oenv: Env, **kwargs: Any) -> OpenCodeDB:
    """A database with a root session (a two-step message, a user prompt, tool calls) and a child
    session started by the task tool."""
    db = oenv.db(**kwargs)
    db.project("prj_1", worktree="/work/worktree")
    db.session(SES, title="Fix the parser", slug="brave-otter", version="1.2.3", created=T0)
    db.session("ses_child", parent_id=SES, title="Subagent", agent="explore", created=T0 + 10)
    u = oc.user("msg_u1", SES, created=T0)
    db_message(db, u, oc.text("prt_u1", "msg_u1", SES, "please fix the parser"))
    msg, parts = multi_step()
    db_message(db, msg, *parts)
    task = oc.tool(
        "prt_task", "msg_a2", SES, call_id="toolu_task", name="task",
        input={"subagent_type": "explore", "prompt": "look around"},
        output="found it", metadata={"sessionId": "ses_child"},
    )  # fmt: skip
    db_message(
        db,
        oc.assistant("msg_a2", SES, created=T0 + 2000, tokens=oc.tokens(5, 7, read=9), cost=0.01),
        task,
    )
    db_message(
        db, oc.assistant("msg_c1", "ses_child", created=T0 + 3000, tokens=oc.tokens(11, 13), cost=0.02)
    )
    return db


def test_database_current_schema_in_wal_mode(oenv: Env) -> None:
    db = build_db(oenv)
    db.close()
    assert oenv.db_path.with_name("opencode.db-wal").exists() is False  # checkpointed on close
    t = oenv.ingest()
    assert t["invalid_skipped"] == {}
    turns = oenv.turns()
    assert set(turns) == {"msg_a1", "msg_a2", "msg_c1"}
    a1 = turns["msg_a1"]
    # one turn per step-finish part (one API request each), not the message's (last-step) tokens
    assert oenv.rows(
        "SELECT request_id, input, output, cache_read, cache_write_5m, reported_cost_usd FROM turns"
        " WHERE message_id = 'msg_a1' ORDER BY request_id"
    ) == [("msg_a1_p1", 100, 40, 1000, 200, "0.1"), ("msg_a1_p3", 30, 60, 1200, 10, "0.2")]
    assert a1["cache_write_1h"] == 0 and a1["web_search_requests"] is None
    assert a1["provider"] == "anthropic"
    assert a1["model"] == "claude-sonnet-4-20250514" and a1["stop_reason"] == "stop"
    assert a1["ts"] == "2026-01-01T00:00:00.000Z"
    assert "cache_write_ttl_unknown" in a1["fidelity_notes"]
    sessions = {r[0]: r[1:] for r in oenv.rows(
        "SELECT session_id, cwd, title, harness_version, slug, parent_session_id, relationship, agent_type,"
        " first_seen_ts FROM sessions"
    )}  # fmt: skip
    assert sessions[SES] == (
        "/work/proj", "Fix the parser", "1.2.3", "brave-otter", None, "root", None, ms_to_iso(T0)
    )  # fmt: skip
    assert sessions["ses_child"][4:7] == (SES, "subagent", "explore")
    assert oenv.rows("SELECT name, target, message_id FROM tool_calls ORDER BY name") == [
        ("read", "/work/a.py", "msg_a1"),
        ("task", "explore", "msg_a2"),
    ]
    results = oenv.rows(
        "SELECT tool_use_id, status, content_length, subagent_session_id FROM tool_result_events"
    )
    assert sorted(results) == [("toolu_1", "ok", 2, None), ("toolu_task", "ok", 8, "ses_child")]
    (ut,) = oenv.rows("SELECT user_uuid, block_count, byte_length FROM user_turns")
    assert ut == ("msg_u1", 1, len("please fix the parser"))
    assert b"please fix the parser" not in oenv.ledger() and b"look around" not in oenv.ledger()


def test_wal_content_is_read_while_the_writer_is_open(oenv: Env) -> None:
    db = oenv.db()
    db.raw("PRAGMA wal_autocheckpoint=0")
    db.session(SES)
    db_message(db, oc.assistant("msg_1", SES, tokens=oc.tokens(1, 2)))
    before = sha(oenv.db_path)
    t = oenv.ingest()
    assert oenv.totals() == (1, 2, 0, 0)
    assert t["lines_read"] == 2  # one session row, one message row
    db_message(db, oc.assistant("msg_2", SES, created=T0 + 5, tokens=oc.tokens(10, 20)))
    t = oenv.ingest()
    assert t["files_changed"] == 1 and t["lines_read"] == 1  # only the new row
    assert oenv.totals() == (11, 22, 0, 0)
    assert sha(oenv.db_path) == before  # everything is still in the writer's WAL
    db.close()


def test_noop_ingest_reads_zero_rows_even_after_a_checkpoint(oenv: Env) -> None:
    db = oenv.db()
    db.raw("PRAGMA wal_autocheckpoint=0")
    msg, parts = multi_step()
    db.session(SES)
    db_message(db, msg, *parts)
    first = oenv.ingest()
    assert first["lines_read"] == 1 + 1 + 4
    second = oenv.ingest()
    assert (second["files_changed"], second["lines_read"], second["records_appended"]) == (0, 0, 0)
    db.raw("PRAGMA wal_checkpoint(TRUNCATE)")  # the fingerprint changes, the data does not
    third = oenv.ingest()
    assert (third["files_changed"], third["lines_read"], third["records_appended"]) == (1, 0, 0)
    db.close()


def test_new_step_finish_part_rereads_its_message_and_revises_the_turn(oenv: Env) -> None:
    db = oenv.db()
    db.session(SES)
    s1 = oc.tokens(input=10, output=5)
    msg = oc.assistant("msg_1", SES, tokens=s1, cost=0.5)
    db_message(db, msg, oc.step_finish("p1", "msg_1", SES, s1, cost=0.5))
    oenv.ingest()
    assert oenv.totals() == (10, 5, 0, 0)
    s2 = oc.tokens(input=20, output=8)
    db.part(oc.step_finish("p2", "msg_1", SES, s2, cost=0.25))  # the message row is unchanged
    t = oenv.ingest()
    assert t["lines_read"] == 1 + 2  # the message and all its parts
    assert t["records_appended"] == 1  # the new step's turn; the first one is a duplicate
    assert oenv.totals() == (30, 13, 0, 0)
    assert oenv.rows("SELECT request_id, reported_cost_usd FROM turns ORDER BY request_id") == [
        ("p1", "0.5"), ("p2", "0.25")
    ]  # fmt: skip
    db.close()


def test_rows_written_in_the_same_millisecond_as_the_mark_are_not_lost(oenv: Env) -> None:
    db = oenv.db()
    db.session(SES, updated=T0)
    db.message(oc.assistant("msg_1", SES, tokens=oc.tokens(1, 1)), updated=T0 + 50)
    db.message(oc.assistant("msg_2", SES, tokens=oc.tokens(2, 2)), updated=T0 + 50)
    oenv.ingest()
    db.message(oc.assistant("msg_3", SES, tokens=oc.tokens(4, 4)), updated=T0 + 50)
    t = oenv.ingest()
    assert t["lines_read"] == 1
    assert oenv.totals() == (7, 7, 0, 0)
    db.close()


def test_bulk_rows_at_one_millisecond_beyond_the_id_cap(oenv: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    import burn_opencode.db as dbmod

    monkeypatch.setattr(dbmod, "IDS_CAP", 3)
    db = oenv.db()
    db.session(SES, updated=T0)
    for i in range(5):
        db.message(oc.assistant(f"msg_{i}", SES, tokens=oc.tokens(1, 1)), updated=T0 + 9)
    oenv.ingest()
    db.message(oc.assistant("msg_late", SES, tokens=oc.tokens(1, 1)), updated=T0 + 9)
    t = oenv.ingest()
    assert t["lines_read"] == 6  # re-read the rows at the mark (>=): nothing missed
    assert t["records_appended"] == 1
    assert oenv.totals() == (6, 6, 0, 0)
    db.close()


def test_old_schema_without_directory_uses_project_worktree(oenv: Env) -> None:
    db = build_db(oenv, schema="old", wal=False)
    db.close()
    cols = {r[1] for r in sqlite3.connect(oenv.db_path).execute("PRAGMA table_info(session)")}
    assert "directory" not in cols and "agent" not in cols and "tokens_input" not in cols
    t = oenv.ingest()
    assert t["invalid_skipped"] == {}
    assert set(oenv.turns()) == {"msg_a1", "msg_a2", "msg_c1"}
    rows = dict(oenv.rows("SELECT session_id, cwd FROM sessions"))
    assert rows == {SES: "/work/worktree", "ses_child": "/work/worktree"}  # no directory column


def test_schema_without_time_updated_is_read_whole_when_changed(oenv: Env) -> None:
    db = oenv.db(no_time_updated=True, wal=False)
    db.session(SES)
    db_message(db, oc.assistant("msg_1", SES, tokens=oc.tokens(3, 4)))
    db.close()
    assert oenv.ingest()["lines_read"] == 2
    assert oenv.ingest()["lines_read"] == 0  # unchanged file: not even opened
    conn = sqlite3.connect(oenv.db_path)
    conn.execute(
        "INSERT INTO message (id, session_id, time_created, data) VALUES (?,?,?,?)",
        ("msg_2", SES, T0, orjson.dumps(oc.assistant("msg_2", SES, tokens=oc.tokens(5, 6))).decode()),
    )
    conn.commit()
    conn.close()
    t = oenv.ingest()
    assert t["lines_read"] == 2 and t["records_appended"] == 1  # both message rows
    assert oenv.totals() == (8, 10, 0, 0)


def test_database_and_leftover_json_copy_count_once(oenv: Env) -> None:
    msg, parts = multi_step()
    db = oenv.db()
    db.session(SES)
    db_message(db, msg, *parts)
    db.close()
    write_message(oenv.storage, msg, *parts)  # json-migration leaves the files behind
    oc.write_session(oenv.storage, oc.session_object(SES))
    t = oenv.ingest()
    assert oenv.totals() == (130, 100, 210, 2200)
    assert len(oenv.turns()) == 1
    assert oenv.rows("SELECT COUNT(*) FROM tool_calls") == [(1,)]
    assert t["duplicates_dropped"].get("duplicate", 0) >= 3  # the JSON copies of turn, call, result


def test_json_copy_with_more_output_wins(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    oc.write_message(a / "storage", oc.assistant("msg_1", SES, tokens=oc.tokens(5, 10)))
    oc.write_message(b / "storage", oc.assistant("msg_1", SES, tokens=oc.tokens(5, 30)))
    records, _ = fold([a, b])
    (turn,) = of(records, Turn)
    assert turn.usage.output == 30


# ------------------------------------------------------------------------------------ accounting


def test_json_multi_step_message_makes_one_turn_per_step_finish_part(oenv: Env) -> None:
    msg, parts = multi_step()
    write_message(oenv.storage, msg, *parts)
    records, diag = fold([oenv.data])
    t1, t2 = sorted(of(records, Turn), key=lambda t: t.request_id or "")
    usage = [(t.usage.input, t.usage.output, t.usage.reasoning, t.usage.cache_read, t.usage.cache_write_5m,
              t.usage.cache_write_1h) for t in (t1, t2)]  # fmt: skip
    assert usage == [(100, 40, 0, 1000, 200, 0), (30, 60, 0, 1200, 10, 0)]
    assert (t1.reported_cost_usd, t2.reported_cost_usd) == ("0.1", "0.2")  # each step's own cost
    assert (t1.message_id, t1.request_id, t2.request_id) == ("msg_a1", "msg_a1_p1", "msg_a1_p3")
    assert t1.session_id == SES and t1.event_id() != t2.event_id()
    assert attrs.evolve(t1, session_id="other", ts="2030-01-01T00:00:00.000Z").event_id() == t1.event_id()
    assert diag.files_read == 5


SONNET_45_STEP = oc.tokens(input=5, output=500, read=110_000, write=2_000)


def _summary_cost(oenv: Env) -> tuple[int | None, int]:
    archive = Archive.in_home(oenv.home, readonly=True)
    try:
        data = summarize(archive, Filters.for_zone("UTC"))
    finally:
        archive.close()
    return data["totals"]["cost_usd_micros"], data["totals"]["turns"]


def test_each_step_is_priced_on_its_own_prompt(oenv: Env) -> None:
    # Two requests of 112,005 prompt tokens each: base rates, 48,015 µ$ each. Summed into one
    # turn they would be one 224,010-token prompt, all of it at the >200k tier: 184,560 µ$.
    mid = "msg_s45"
    msg = oc.assistant(mid, SES, model="claude-sonnet-4-5-20250929", tokens=SONNET_45_STEP, cost=0.09603)
    parts = [
        oc.step_start("p0", mid, SES),
        oc.step_finish("p1", mid, SES, SONNET_45_STEP, cost=0.048015),
        oc.step_start("p2", mid, SES),
        oc.step_finish("p3", mid, SES, SONNET_45_STEP, cost=0.048015),
    ]
    db = oenv.db()
    db.session(SES)
    db_message(db, msg, *parts)
    db.close()
    write_message(oenv.storage, msg, *parts)  # the leftover JSON copy: same event ids
    oenv.ingest()
    assert oenv.rows("SELECT request_id, cost_usd_micros, cost_source FROM turns ORDER BY request_id") == [
        ("p1", 48_015, "computed"), ("p3", 48_015, "computed")
    ]  # fmt: skip
    assert _summary_cost(oenv) == (96_030, 2)
    assert oenv.totals() == (10, 1_000, 4_000, 220_000)


def test_message_seen_before_and_after_its_steps_counts_once(oenv: Env) -> None:
    mid = "msg_live"
    s1 = oc.tokens(input=10, output=20, read=300, write=40)
    s2 = oc.tokens(input=1, output=7, read=350, write=2)
    live = oc.assistant(mid, SES, tokens=s1, finish=None)
    del live["time"]["completed"]
    # Message tokens written, its step-finish part not (yet) visible: nothing is emitted, since
    # the step's usage will arrive as the part.
    write_message(oenv.storage, live, oc.step_start("p0", mid, SES))
    oenv.ingest()
    assert oenv.turns() == {}
    oc.write_part(oenv.storage, oc.step_finish("p1", mid, SES, s1, cost=0.01))
    oenv.ingest()
    assert oenv.totals() == (10, 20, 40, 300)
    # second step, then the message completes (tokens = the last step's)
    oc.write_part(oenv.storage, oc.step_start("p2", mid, SES))
    oc.write_part(oenv.storage, oc.step_finish("p3", mid, SES, s2, cost=0.02))
    oenv.ingest()
    write_message(oenv.storage, oc.assistant(mid, SES, tokens=s2, cost=0.03))
    oenv.ingest()
    assert oenv.totals() == (11, 27, 42, 650)
    assert oenv.rows("SELECT request_id FROM turns ORDER BY request_id") == [("p1",), ("p3",)]
    # the same message in a database, completed: one event per step, nothing added
    db = oenv.db()
    db.session(SES)
    db_message(db, oc.assistant(mid, SES, tokens=s2, cost=0.03), oc.step_finish("p1", mid, SES, s1, cost=0.01),
               oc.step_finish("p3", mid, SES, s2, cost=0.02))  # fmt: skip
    db.close()
    oenv.ingest()
    assert oenv.rows("SELECT COUNT(*) FROM turns") == [(2,)]
    assert oenv.totals() == (11, 27, 42, 650)


def test_step_finish_part_listed_after_discovery_is_not_missed(tmp_path: Path) -> None:
    # The message file was read complete, but the part file appeared after discovery listed the
    # companions: the parts are listed again, so no message-level turn is emitted beside the step.
    storage = tmp_path / "storage"
    mid = "msg_r"
    s1 = oc.tokens(3, 4)
    write_message(storage, oc.assistant(mid, SES, tokens=s1))
    reader = OpenCodeReader()
    diag = Diagnostics()
    (unit,) = [u for u in reader.discover([tmp_path], diag) if u.path.name == f"{mid}.json"]
    oc.write_part(storage, oc.step_finish("p1", mid, SES, s1))
    turns = [r for r in reader.read(unit, None).records if isinstance(r, Turn)]
    assert [(t.request_id, t.usage.output) for t in turns] == [("p1", 4)]


def test_unfinished_message_with_a_step_under_way_waits_for_the_step(oenv: Env) -> None:
    live = oc.assistant("m_live", SES, tokens=oc.tokens(5, 5), finish=None)
    del live["time"]["completed"]
    write_message(oenv.storage, live, oc.step_start("p0", "m_live", SES))
    done = oc.assistant("m_done", SES, tokens=oc.tokens(2, 3))  # completed, no step-finish part
    write_message(oenv.storage, done, oc.step_start("q0", "m_done", SES))
    oenv.ingest()
    assert set(oenv.turns()) == {"m_done"} and oenv.turns()["m_done"]["request_id"] is None


def test_message_tokens_used_without_nonzero_step_parts(oenv: Env) -> None:
    sid = SES
    t1 = oc.tokens(input=7, output=9, reasoning=2, read=50, write=3)
    write_message(oenv.storage, oc.assistant("msg_1", sid, tokens=t1, cost=0.04))
    zero = oc.tokens()
    write_message(
        oenv.storage,
        oc.assistant("msg_2", sid, tokens=oc.tokens(1, 1), cost=0.02),
        oc.step_finish("p_zero", "msg_2", sid, zero, cost=0),  # some builds write zero steps
    )
    records, _ = fold([oenv.data])
    turns = {t.message_id: t for t in of(records, Turn)}
    u = turns["msg_1"].usage
    assert (u.input, u.output, u.reasoning, u.cache_read, u.cache_write_5m) == (7, 9, 2, 50, 3)
    assert turns["msg_1"].reported_cost_usd == "0.04"
    assert "reasoning_inclusion_unverified" in turns["msg_1"].fidelity.notes
    assert turns["msg_2"].usage.output == 1 and turns["msg_2"].reported_cost_usd == "0.02"


def test_reported_cost_is_kept_exactly(oenv: Env) -> None:
    costs = {"m1": 0.1234567890123456, "m2": 1e-07, "m3": 0, "m4": 3}
    for mid, cost in costs.items():
        write_message(oenv.storage, oc.assistant(mid, SES, tokens=oc.tokens(1, 1), cost=cost))
    oenv.ingest()
    got = {k: v["reported_cost_usd"] for k, v in oenv.turns().items()}
    assert got == {"m1": "0.1234567890123456", "m2": "0.0000001", "m3": None, "m4": "3"}


def test_reasoning_semantics(oenv: Env) -> None:
    # AI SDK v6 builds: output excludes reasoning, total proves it -> reasoning put back into output
    v6 = oc.tokens(input=10, output=30, reasoning=50, read=5, write=0, total=95)
    # total without reasoning: output already contains it
    v5t = oc.tokens(input=10, output=80, reasoning=50, read=5, write=0, total=95)
    # no total, reasoning > output: cannot be included
    odd = oc.tokens(input=1, output=3, reasoning=9)
    for mid, t in (("v6", v6), ("v5t", v5t), ("odd", odd)):
        write_message(oenv.storage, oc.assistant(mid, SES, tokens=t))
    records, _ = fold([oenv.data])
    turns = {t.message_id: t for t in of(records, Turn)}
    assert (turns["v6"].usage.output, turns["v6"].usage.reasoning) == (80, 50)
    assert "output_excludes_reasoning" in turns["v6"].fidelity.notes
    assert (turns["v5t"].usage.output, turns["v5t"].usage.reasoning) == (80, 50)
    assert turns["v5t"].fidelity.notes == ()
    assert (turns["odd"].usage.output, turns["odd"].usage.reasoning) == (12, 9)


def test_messages_without_usage_make_no_turn(oenv: Env) -> None:
    write_message(oenv.storage, oc.assistant("m_zero", SES, tokens=oc.tokens()))
    no_tokens = oc.assistant("m_none", SES)
    del no_tokens["tokens"]
    write_message(oenv.storage, no_tokens)
    t = oenv.ingest()
    assert oenv.turns() == {}
    assert (t["duplicates_dropped"]["no_usage"], t["duplicates_dropped"]["zero_usage"]) == (1, 1)


def test_aborted_messages_are_still_billed(oenv: Env) -> None:
    aborted = oc.assistant("m_abort", SES, tokens=oc.tokens(100, 3), error=ABORTED, finish=None)
    assert "completed" not in aborted["time"]
    stopped = oc.assistant("m_stop", SES, tokens=oc.tokens(5, 6), error=ABORTED, finish="tool-calls")
    crashed = oc.assistant("m_crash", SES, tokens=oc.tokens(7, 8), finish=None)
    del crashed["time"]["completed"]
    for m in (aborted, stopped, crashed):
        write_message(oenv.storage, m)
    oenv.ingest()
    turns = oenv.turns()
    assert {k: v["stop_reason"] for k, v in turns.items()} == {
        "m_abort": "aborted", "m_stop": "tool-calls", "m_crash": "aborted"
    }  # fmt: skip
    assert all("output_may_be_partial" in v["fidelity_notes"] for v in turns.values())
    assert oenv.totals()[:2] == (112, 17)


def test_compaction_summary_is_counted_and_recorded(oenv: Env) -> None:
    req = oc.user("msg_c_user", SES, created=T0 + 10)
    write_message(oenv.storage, req, oc.compaction("prt_c", "msg_c_user", SES, auto=True))
    summary = oc.assistant(
        "msg_c_sum", SES, created=T0 + 20, parent_id="msg_c_user", summary=True,
        tokens=oc.tokens(input=3, output=400, read=90_000, write=100), cost=0.2,
    )  # fmt: skip
    write_message(oenv.storage, summary, oc.text("prt_s", "msg_c_sum", SES, "the summary"))
    oenv.ingest()
    assert set(oenv.turns()) == {"msg_c_sum"}
    assert oenv.rows("SELECT trigger, tokens_before, tokens_after, ts FROM compactions") == [
        ("auto", 90_103, 400, ms_to_iso(T0 + 20))
    ]
    assert oenv.rows("SELECT user_uuid, is_meta, block_count FROM user_turns") == [("msg_c_user", 1, 0)]


def test_compaction_in_the_database(oenv: Env) -> None:
    db = oenv.db()
    db.session(SES)
    db_message(db, oc.user("msg_cu", SES), oc.compaction("prt_c", "msg_cu", SES, auto=False))
    db_message(db, oc.assistant("msg_cs", SES, parent_id="msg_cu", summary=True, tokens=oc.tokens(1, 50)))
    db.close()
    oenv.ingest()
    assert oenv.rows("SELECT trigger, tokens_after FROM compactions") == [("manual", 50)]


def test_role_less_message_with_tokens_and_model(oenv: Env) -> None:
    msg = {"id": "msg_x", "sessionID": SES, "modelID": "m", "providerID": "p", "time": {"created": T0},
           "tokens": oc.tokens(1, 2), "cost": 0.05}  # fmt: skip
    write_message(oenv.storage, msg)
    records, _ = fold([oenv.data])
    (turn,) = of(records, Turn)
    assert (turn.model, turn.provider, turn.reported_cost_usd) == ("m", "p", "0.05")


# ------------------------------------------------------------------------------------ sessions, tools, users


def test_child_session_via_parent_id_json(oenv: Env) -> None:
    oc.write_session(oenv.storage, oc.session_object(SES, title="Root", version="0.15.2"))
    oc.write_session(oenv.storage, oc.session_object("ses_kid", parent_id=SES, title="Kid"))
    records, _ = fold([oenv.data])
    infos = {r.session_id: r for r in of(records, SessionInfo)}
    assert infos[SES].relationship == "root" and infos[SES].harness_version == "0.15.2"
    assert infos["ses_kid"].parent_session_id == SES and infos["ses_kid"].relationship == "subagent"
    assert infos["ses_kid"].cwd == "/work/proj" and infos["ses_kid"].first_seen_ts == ms_to_iso(T0)


def test_tool_parts(oenv: Env) -> None:
    mid = "msg_t"
    parts = [
        oc.tool("p1", mid, SES, call_id="c_bash", name="bash",
                input={"command": "API_KEY=secret curl https://x.test/y"}, output="secret output"),
        oc.tool("p2", mid, SES, call_id="c_err", name="edit", input={"filePath": "/w/f.py"},
                status="error", error="no such file"),
        oc.tool("p3", mid, SES, call_id="c_run", name="grep", input={"pattern": "TODO"}, status="running"),
        oc.tool("p4", mid, SES, call_id="c_pend", name="glob", input={}, status="pending"),
        oc.tool("p5", mid, SES, call_id="c_web", name="webfetch",
                input={"url": "https://user:pw@docs.example.com/a?token=1"}),
    ]  # fmt: skip
    write_message(oenv.storage, oc.assistant(mid, SES, tokens=oc.tokens(1, 1)), *parts)
    records, _ = fold([oenv.data])
    calls = {c.tool_use_id: c for c in of(records, ToolCall)}
    assert set(calls) == {"c_bash", "c_err", "c_run", "c_web"}  # pending: input not known yet
    assert calls["c_bash"].target == "curl" and calls["c_bash"].name == "bash"
    assert calls["c_err"].target == "/w/f.py" and calls["c_run"].target == "TODO"
    assert calls["c_web"].target == "docs.example.com"
    assert calls["c_bash"].args_hash and calls["c_bash"].ts == ms_to_iso(T0 + 100)
    results = {r.tool_use_id: r for r in of(records, ToolResultEvent)}
    assert set(results) == {"c_bash", "c_err", "c_web"}
    assert results["c_bash"].status == "ok" and results["c_bash"].content_length == len("secret output")
    assert results["c_err"].status == "error" and results["c_err"].content_length == len("no such file")
    assert results["c_bash"].ts == ms_to_iso(T0 + 200)
    dumped = orjson.dumps([str(r) for r in records.values()])
    assert b"secret" not in dumped and b"pw@" not in dumped


def test_user_turn_blocks_are_sizes_and_hashes(oenv: Env) -> None:
    mid = "msg_u"
    parts = [
        oc.text("p1", mid, SES, "héllo secret prompt"),
        {"id": "p2", "sessionID": SES, "messageID": mid, "type": "file", "mime": "image/png",
         "filename": "a.png", "url": "data:image/png;base64,AAAA"},
        oc.text("p3", mid, SES, "<system-reminder>", synthetic=True),
    ]  # fmt: skip
    write_message(oenv.storage, oc.user(mid, SES), *parts)
    write_message(oenv.storage, oc.user("msg_empty", SES))  # parts not written yet: deferred
    records, _ = fold([oenv.data])
    (ut,) = of(records, UserTurn)
    assert ut.user_uuid == mid and ut.ts == ms_to_iso(T0) and not ut.is_meta
    assert [(b.kind, b.byte_length) for b in ut.blocks] == [
        ("text", len("héllo secret prompt".encode())),
        ("image", len("data:image/png;base64,AAAA")),
        ("text", len("<system-reminder>")),
    ]
    assert all(b.content_hash and len(b.content_hash) == 32 for b in ut.blocks)
    assert "secret" not in repr(ut)


def test_legacy_per_project_layout(oenv: Env) -> None:
    legacy = oenv.data / "project" / "repo" / "storage" / "session"
    msg = oc.assistant("msg_l", "ses_l", tokens=oc.tokens(4, 5), cost=0.5)
    (legacy / "message" / "ses_l").mkdir(parents=True)
    (legacy / "message" / "ses_l" / "msg_l.json").write_bytes(orjson.dumps(msg))
    part_dir = legacy / "part" / "ses_l" / "msg_l"
    part_dir.mkdir(parents=True)
    step = {"type": "step-finish", "tokens": oc.tokens(4, 6), "cost": 0.5}  # legacy parts: no ids
    (part_dir / "prt_1.json").write_bytes(orjson.dumps(step))
    (legacy / "info").mkdir()
    (legacy / "info" / "ses_l.json").write_bytes(orjson.dumps({"id": "ses_l", "title": "Old"}))
    oenv.ingest()
    assert oenv.totals() == (4, 6, 0, 0)
    assert oenv.rows("SELECT session_id, title, cwd FROM sessions") == [("ses_l", "Old", "/work/proj")]


# ------------------------------------------------------------------------------------ incremental JSON


def test_json_noop_opens_nothing_and_new_part_rereads_the_message(oenv: Env) -> None:
    s1 = oc.tokens(10, 5)
    write_message(oenv.storage, oc.assistant("msg_1", SES, tokens=s1), oc.step_finish("p1", "msg_1", SES, s1))
    for i in range(3):
        write_message(oenv.storage, oc.assistant(f"msg_o{i}", SES, tokens=oc.tokens(1, 1)))
    first = oenv.ingest()
    assert first["files_changed"] == 4
    second = oenv.ingest()
    assert (second["files_changed"], second["lines_read"], second["bytes_read"]) == (0, 0, 0)
    oc.write_part(oenv.storage, oc.step_finish("p2", "msg_1", SES, oc.tokens(3, 4)))
    third = oenv.ingest()
    assert (third["files_changed"], third["lines_read"], third["records_appended"]) == (1, 3, 1)
    assert oenv.totals() == (16, 12, 0, 0)


def test_tool_part_finishing_later_is_picked_up(oenv: Env) -> None:
    mid = "msg_1"
    write_message(
        oenv.storage, oc.assistant(mid, SES, tokens=oc.tokens(1, 1)),
        oc.tool("p1", mid, SES, call_id="c1", name="bash", input={"command": "ls"}, status="running"),
    )  # fmt: skip
    oenv.ingest()
    assert oenv.rows("SELECT COUNT(*) FROM tool_result_events") == [(0,)]
    part = oenv.storage / "part" / mid / "p1.json"
    done = oc.tool("p1", mid, SES, call_id="c1", name="bash", input={"command": "ls"}, output="a\nb")
    part.write_text(orjson.dumps(done).decode() + "\n" * 50)  # rewritten in place, size differs
    oenv.ingest()
    assert oenv.rows("SELECT status, content_length FROM tool_result_events") == [("ok", 3)]


# ------------------------------------------------------------------------------------ safety


def test_locked_database_is_skipped_and_read_after_release(oenv: Env) -> None:
    db = build_db(oenv, wal=False)  # rollback journal: an exclusive lock blocks readers
    db.close()
    holder = sqlite3.connect(oenv.db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        t = oenv.ingest()
        assert t["invalid_skipped"] == {"database_locked": 1}
        assert t["lines_read"] == 0 and oenv.turns() == {}
        t = oenv.ingest()  # no cursor stored: tried again
        assert t["files_changed"] == 1 and t["invalid_skipped"] == {"database_locked": 1}
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    t = oenv.ingest()
    assert t["invalid_skipped"] == {}
    assert set(oenv.turns()) == {"msg_a1", "msg_a2", "msg_c1"}


def test_lock_taken_after_a_first_read_keeps_the_mark(oenv: Env) -> None:
    db = oenv.db(wal=False)
    db.session(SES)
    db.message(oc.assistant("msg_1", SES, tokens=oc.tokens(1, 1)))
    oenv.ingest()
    db.message(oc.assistant("msg_2", SES, tokens=oc.tokens(2, 2)))
    db.raw("BEGIN EXCLUSIVE")
    db.raw("UPDATE session SET title = 'x', time_updated = ?", [db.tick()])
    assert oenv.ingest()["invalid_skipped"] == {"database_locked": 1}
    db.raw("ROLLBACK")  # released without a write: the file looks as it did when it was locked
    t = oenv.ingest()
    assert (t["files_changed"], t["lines_read"], t["invalid_skipped"]) == (1, 1, {})  # msg_2 only
    assert oenv.totals() == (3, 3, 0, 0)
    db.raw("UPDATE session SET title = 'x', time_updated = ?", [db.tick()])
    t = oenv.ingest()
    assert t["lines_read"] == 1  # the session row
    assert oenv.rows("SELECT title FROM sessions") == [("A session",)]  # first sighting is kept
    db.close()


def test_database_bytes_unchanged_and_no_wal_or_shm_created(oenv: Env) -> None:
    db = build_db(oenv)
    db.close()
    wal, shm = (oenv.data / "opencode.db-wal"), (oenv.data / "opencode.db-shm")
    assert not wal.exists() and not shm.exists()
    before = sha(oenv.db_path)
    mtime = oenv.db_path.stat().st_mtime_ns
    oenv.ingest()
    assert len(oenv.turns()) == 3
    assert sha(oenv.db_path) == before and oenv.db_path.stat().st_mtime_ns == mtime
    assert not wal.exists() and not shm.exists()
    assert sorted(p.name for p in oenv.data.iterdir()) == ["opencode.db"]


def test_replaced_database_is_read_from_the_start(oenv: Env) -> None:
    db = oenv.db(wal=False)
    db.session(SES)
    db.message(oc.assistant("msg_1", SES, tokens=oc.tokens(1, 1)), updated=T0 + 100)
    db.close()
    oenv.ingest()
    fresh = oenv.data / "new.db"
    db = OpenCodeDB(fresh, wal=False)
    db.session(SES)
    db.message(oc.assistant("msg_2", SES, tokens=oc.tokens(2, 2)), updated=T0 + 5)  # older than the mark
    db.close()
    os.replace(fresh, oenv.db_path)
    t = oenv.ingest()
    assert t["rereads"] == {"database_replaced": 1}
    assert oenv.totals() == (3, 3, 0, 0)


def test_broken_databases_never_raise(oenv: Env) -> None:
    oenv.db_path.write_bytes(b"this is not a database" * 100)
    (oenv.data / "opencode-dev.db").write_bytes(b"")  # empty: a database without tables
    weird = OpenCodeDB(oenv.data / "opencode-x.db", wal=False)
    weird.session(SES)
    weird.raw("INSERT INTO message VALUES ('m1', ?, 1, 1, 'not json')", [SES])
    weird.raw("INSERT INTO message VALUES ('m2', ?, 1, 1, '[1, 2]')", [SES])
    weird.raw("INSERT INTO message VALUES ('m3', ?, 1, 1, ?)", [SES, orjson.dumps({"role": "assistant",
               "tokens": {"input": "many", "output": 5}, "time": {"created": T0}}).decode()])  # fmt: skip
    weird.raw("INSERT INTO part VALUES ('p1', 'm_gone', ?, 1, 1, '{}')", [SES])
    weird.close()
    t = oenv.ingest()
    assert t["invalid_skipped"] == {
        "database_unreadable": 1, "unknown_schema": 1, "invalid_json": 1, "wrong_type": 2
    }  # fmt: skip
    assert t["duplicates_dropped"] == {"part_without_message": 1}
    turn = oenv.turns()["m3"]
    assert (turn["input"], turn["output"], turn["fidelity_usage"]) == (None, 5, "partial")


def test_broken_json_files_never_raise(oenv: Env) -> None:
    shutil.copytree(FIXTURES / "broken", oenv.data, dirs_exist_ok=True)
    fifo = oenv.storage / "message" / "ses_b" / "fifo.json"
    os.mkfifo(fifo)
    t = oenv.ingest()
    skipped = t["invalid_skipped"]
    assert skipped == {
        "invalid_json": 2,  # a message and a part
        "wrong_type": 3,  # a list message, a number part, a string tokens field
        "not_a_file": 2,  # a directory named like a message, the FIFO (never opened)
    }
    assert set(oenv.turns()) == {"msg_good"}
    assert oenv.totals() == (10, 20, 0, 0)
    again = oenv.ingest()  # broken files got cursors: not read again until they change
    assert (again["files_changed"], again["invalid_skipped"]) == (0, {"not_a_file": 2})
    (oenv.storage / "message" / "ses_b" / "msg_badjson.json").write_bytes(
        orjson.dumps(oc.assistant("msg_badjson", "ses_b", tokens=oc.tokens(1, 1)))
    )  # OpenCode finished writing it
    third = oenv.ingest()
    assert third["files_changed"] == 1 and set(oenv.turns()) == {"msg_good", "msg_badjson"}


def test_read_of_a_hand_built_unit(tmp_path: Path) -> None:
    """``read`` works on a unit that discovery did not build (no hints)."""
    storage = tmp_path / "storage"
    path = oc.write_message(storage, oc.assistant("msg_1", SES, tokens=oc.tokens(1, 2)))
    result = OpenCodeReader().read(SourceUnit(path=path), None)
    (turn,) = [r for r in result.records if isinstance(r, Turn)]
    assert isinstance(result.cursor, FileCursor) and turn.usage.output == 2
    spath = oc.write_session(storage, oc.session_object(SES))
    (info,) = OpenCodeReader().read(SourceUnit(path=spath), None).records
    assert isinstance(info, SessionInfo)
    result = OpenCodeReader().read(SourceUnit(path=tmp_path / "gone.json"), None)
    assert result.records == () and result.diagnostics.invalid == {"vanished": 1}


class _DenyOpen:
    """``os`` for burn_opencode.storage, with ``open`` failing on one path (works as root too)."""

    def __init__(self, denied: Path) -> None:
        self.denied = str(denied)

    def open(self, path: Any, flags: int) -> int:
        if str(path) == self.denied:
            raise PermissionError(13, "Permission denied", str(path))
        return os.open(path, flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def test_unreadable_message_keeps_no_cursor_and_is_retried(
    oenv: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import burn_opencode.storage as storage

    path = oc.write_message(oenv.storage, oc.assistant("msg_1", SES, tokens=oc.tokens(1, 2)))
    monkeypatch.setattr(storage, "os", _DenyOpen(path))
    for _ in range(2):
        t = oenv.ingest()
        assert (t["files_changed"], t["invalid_skipped"]) == (1, {"unreadable": 1})
    assert oenv.turns() == {}
    monkeypatch.undo()
    t = oenv.ingest()
    assert (t["files_changed"], t["invalid_skipped"]) == (1, {})
    assert oenv.totals() == (1, 2, 0, 0)


def test_unlocked_read_of_a_database_that_changed_meanwhile_is_discarded(
    oenv: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import burn_opencode.db as dbmod

    db = build_db(oenv)
    db.close()  # WAL mode without -wal/-shm: read with immutable=1, i.e. without locks
    real_run = dbmod._Read.run

    def run_then_checkpoint(self: Any) -> dict[str, Any]:
        out = real_run(self)
        os.utime(oenv.db_path, ns=(1, 1))  # a checkpoint wrote the file during the read
        return out

    monkeypatch.setattr(dbmod._Read, "run", run_then_checkpoint)
    t = oenv.ingest()
    assert t["rereads"] == {"database_changed_during_read": 1} and oenv.turns() == {}
    monkeypatch.undo()
    t = oenv.ingest()
    assert t["rereads"] == {} and len(oenv.turns()) == 3


def test_a_wal_without_its_shm_is_read_not_discarded(oenv: Env, tmp_path: Path) -> None:
    # OpenCode killed, its -shm removed (or the data dir copied without it): the committed
    # transactions in the -wal are not in the main file. Before: every ingest read the main file,
    # found the -wal, discarded the read as "changed", exit 0, the WAL's turns never ingested.
    staging = OpenCodeDB(tmp_path / "staging.db")
    staging.raw("PRAGMA wal_autocheckpoint=0")
    staging.session(SES)
    db_message(staging, oc.assistant("msg_1", SES, tokens=oc.tokens(1, 2)))
    staging.raw("PRAGMA wal_checkpoint(TRUNCATE)")  # msg_1 in the main file …
    db_message(staging, oc.assistant("msg_2", SES, created=T0 + 5, tokens=oc.tokens(10, 20)))
    shutil.copyfile(tmp_path / "staging.db", oenv.db_path)  # … msg_2 only in the -wal
    shutil.copyfile(tmp_path / "staging.db-wal", oenv.data / "opencode.db-wal")
    staging.close()
    before = (sha(oenv.db_path), sha(oenv.data / "opencode.db-wal"))

    t = oenv.ingest()
    assert t["repaired"] == {"wal_without_shm": 1} and t["rereads"] == {}
    assert set(oenv.turns()) == {"msg_1", "msg_2"} and oenv.totals() == (11, 22, 0, 0)
    again = oenv.ingest()
    assert (again["files_changed"], again["lines_read"], again["records_appended"]) == (0, 0, 0)
    # the agent's files are untouched, and no -shm was created next to them
    assert (sha(oenv.db_path), sha(oenv.data / "opencode.db-wal")) == before
    assert not (oenv.data / "opencode.db-shm").exists()
