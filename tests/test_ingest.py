"""End to end through the real Claude Code reader: ingest work counts, bad input, concurrency,
archive determinism and summary totals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

import burn.readkit.tail
from burn.archive.database import Archive, rebuild
from burn.ingest.run import IngestReport, ingest
from burn.ledger.file import FileStore
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize
from burn.query.timewindow import resolve_timezone
from tests.claude_lines import SESSION, assistant, dumps, user, write_session
from tests.hosts import one_host


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    dirs = {k: tmp_path / k for k in ("home", "claude", "burn", "codex", "opencode")}
    for d in dirs.values():
        d.mkdir()
    return {
        "HOME": str(dirs["home"]),
        "CLAUDE_CONFIG_DIR": str(dirs["claude"]),
        "RELAYBURN_HOME": str(dirs["burn"]),
        "CODEX_HOME": str(dirs["codex"]),
        "OPENCODE_DATA_DIR": str(dirs["opencode"]),
        "PATH": os.environ.get("PATH", ""),
        "TZ": "UTC",
        "BURN_STRICT_PLUGINS": "1",
    }


def run(env: dict[str, str]) -> dict[str, Any]:
    report: IngestReport = ingest(Path(env["RELAYBURN_HOME"]), Plugins(env=env), env)
    return report.totals()


def totals(env: dict[str, str]) -> dict[str, Any]:
    archive = Archive.in_home(Path(env["RELAYBURN_HOME"]), readonly=True)
    try:
        tz, name = resolve_timezone("UTC")
        return summarize(archive, Filters(tz=tz, timezone=name))["totals"]
    finally:
        archive.close()


def basic_session() -> list[dict[str, Any]]:
    return [
        user("u1", "hello"),
        assistant("msg_a", 2, ts="2026-03-01T10:00:00.000Z"),
        assistant("msg_a", 90, ts="2026-03-01T10:00:01.000Z"),  # streaming split: final snapshot
        assistant("msg_b", 40, ts="2026-03-01T10:01:00.000Z", input_tokens=5),
    ]


def test_ingest_then_noop_parses_zero_lines_and_writes_nothing(env: dict[str, str]) -> None:
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), basic_session())
    first = run(env)
    assert first["files_changed"] == 1 and first["lines_read"] == 4
    t = totals(env)
    assert (t["input"], t["output"], t["cache_read"], t["cache_write"]) == (8, 130, 2000, 400)
    home = Path(env["RELAYBURN_HOME"])
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in home.iterdir() if p.is_file()}
    second = run(env)
    assert second["files_changed"] == 0
    assert second["lines_read"] == 0 and second["bytes_read"] == 0
    assert second["records_appended"] == 0
    after = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in home.iterdir() if p.is_file()}
    changed = {k for k in before if before[k] != after.get(k)} - {"ledger.lock"}
    assert not {"ledger.jsonl", "cursors.sqlite", "archive.sqlite"} & changed


NOOP_IMPORTS = """
import sys
from burn.cli.app import main
assert main(["ingest", "--quiet"]) == 0
heavy = [
    "burn.archive.database", "burn.ingest.workers", "burn.ingest.sanitize", "burn.privacy.identity", "burn.pricing.load", "multiprocessing",
    "importlib.metadata",
]
print(",".join(m for m in heavy if m in sys.modules))
"""


def test_noop_ingest_imports_neither_the_archive_builder_nor_the_worker_pool(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Work count of a no-op, in imports: nothing is read, so nothing that reads, sanitizes or builds
    is loaded (each costs milliseconds on every run of a status bar's `burn ingest`), and the
    installed plugins come from the entry-point cache the first run wrote, not from a scan."""
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), basic_session())
    cwd = tmp_path / "cwd"  # on the probe's sys.path (``-c``): a directory nothing writes to
    cwd.mkdir()
    Path(env["RELAYBURN_HOME"]).rmdir()  # a first ingest makes the home, and the cache in it

    def imported() -> str:
        done = subprocess.run(
            [sys.executable, "-c", NOOP_IMPORTS], env=env, capture_output=True, text=True, cwd=cwd
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    first = imported()
    assert "burn.archive.database" in first  # the first ingest reads and builds
    assert "multiprocessing" not in first  # a few kilobytes are read in-process: no pool, no import
    assert imported() == ""
    (Path(env["RELAYBURN_HOME"]) / "archive.sqlite").unlink()
    assert "burn.archive.database" in imported()  # a missing archive is rebuilt from the ledger
    assert imported() == ""


def test_appended_lines_are_the_only_bytes_read(env: dict[str, str]) -> None:
    path = write_session(Path(env["CLAUDE_CONFIG_DIR"]), basic_session())
    run(env)
    extra = dumps([assistant("msg_c", 7, ts="2026-03-01T11:00:00.000Z")])
    with open(path, "ab") as f:
        f.write(extra)
    again = run(env)
    assert again["bytes_read"] == len(extra) and again["lines_read"] == 1
    assert totals(env)["output"] == 137


def test_half_written_line_is_not_consumed_until_complete(env: dict[str, str]) -> None:
    path = write_session(Path(env["CLAUDE_CONFIG_DIR"]), basic_session())
    run(env)
    line = dumps([assistant("msg_c", 7, ts="2026-03-01T11:00:00.000Z")])
    with open(path, "ab") as f:
        f.write(line[:50])
    partial = run(env)
    assert partial["lines_read"] == 0 and partial["records_appended"] == 0
    with open(path, "ab") as f:
        f.write(line[50:])
    done = run(env)
    assert done["lines_read"] == 1 and done["bytes_read"] == len(line)
    assert totals(env)["output"] == 137
    assert done["invalid_skipped"] == {}


def test_stream_growing_across_ingests_is_counted_once_with_final_output(env: dict[str, str]) -> None:
    path = write_session(Path(env["CLAUDE_CONFIG_DIR"]), [assistant("msg_a", 8)])
    run(env)
    assert totals(env)["output"] == 8
    with open(path, "ab") as f:
        f.write(dumps([assistant("msg_a", 780, ts="2026-03-01T10:00:02.000Z")]))
    res = run(env)
    assert res["revisions"] == 1
    t = totals(env)
    assert (t["output"], t["turns"], t["input"]) == (780, 1, 3)


def test_rewritten_and_truncated_files_are_reread_without_double_counting(env: dict[str, str]) -> None:
    lines = basic_session()
    path = write_session(Path(env["CLAUDE_CONFIG_DIR"]), lines)
    run(env)
    # Claude Code rewrites in place on resume/compaction: same name, different first bytes.
    path.write_bytes(dumps([user("u0", "new head"), *lines]))
    rewritten = run(env)
    assert rewritten["rereads"] == {"rewritten_or_truncated": 1}
    assert rewritten["records_appended"] == 1  # only the new user turn
    path.write_bytes(dumps(lines[:2]))  # truncated below the old offset
    truncated = run(env)
    assert truncated["records_appended"] == 0
    t = totals(env)
    assert (t["output"], t["turns"]) == (130, 2)  # history survives the agent's rewrite


def test_resumed_session_copy_is_attributed_to_the_earliest_session(env: dict[str, str]) -> None:
    claude = Path(env["CLAUDE_CONFIG_DIR"])
    write_session(claude, basic_session())
    resumed = "22222222-2222-4222-8222-222222222222"
    copy = [{**line, "sessionId": resumed} for line in basic_session()]
    copy.append(assistant("msg_new", 11, session=resumed, ts="2026-03-02T08:00:00.000Z"))
    write_session(claude, copy, session=resumed)
    run(env)
    archive = Archive.in_home(Path(env["RELAYBURN_HOME"]), readonly=True)
    rows = dict(archive.db.execute("SELECT message_id, session_id FROM turns").fetchall())
    archive.close()
    assert rows == {"msg_a": SESSION, "msg_b": SESSION, "msg_new": resumed}
    assert totals(env)["output"] == 141


def test_bad_input_is_counted_and_good_records_kept(env: dict[str, str], tmp_path: Path) -> None:
    claude = Path(env["CLAUDE_CONFIG_DIR"])
    good = basic_session()
    wrong_type = assistant("msg_w", 5, ts="2026-03-01T12:00:00.000Z")
    wrong_type["message"]["usage"]["output_tokens"] = "5"  # a string is not a count
    big = assistant(
        "msg_big", 3, ts="2026-03-01T13:00:00.000Z", content=[{"type": "text", "text": "x" * 50_000_000}]
    )
    utf8 = dumps(
        [assistant("msg_u", 4, ts="2026-03-01T14:00:00.000Z", content=[{"type": "text", "text": "é!"}])]
    )
    utf8 = utf8.replace("é".encode(), b"\xff\xfe")
    body = dumps(good) + b"{not json\n" + dumps([wrong_type]) + dumps([big]) + utf8 + b"[1,2,3]\n"
    path = write_session(claude, [])
    path.write_bytes(body)
    proj = path.parent
    (proj / "directory.jsonl").mkdir()  # a directory where a file was expected
    (proj / "dangling.jsonl").symlink_to(tmp_path / "missing.jsonl")  # unreadable
    os.mkfifo(proj / "pipe.jsonl")  # must never be opened: it would block
    res = run(env)
    skipped = res["invalid_skipped"]
    assert skipped["invalid_json"] == 1
    assert skipped["wrong_type"] >= 2  # the string count and the non-object line
    assert skipped["not_a_file"] == 3
    assert res["repaired"] == {"invalid_utf8": 1}
    t = totals(env)
    # good (130) + big (3) + repaired utf-8 (4); the wrong-typed output is unknown, never 0 or "5".
    assert t["output"] == 137
    assert t["turns"] == 5
    assert t["unknown"]["output"] == 1
    again = run(env)
    assert again["records_appended"] == 0 and again["lines_read"] == 0


def test_file_that_shrinks_during_the_run(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [*basic_session(), assistant("msg_c", 7, ts="2026-03-01T11:00:00.000Z")]
    path = write_session(Path(env["CLAUDE_CONFIG_DIR"]), lines)
    full = path.read_bytes()
    original = burn.readkit.tail.open_tail

    def shrinking(*args: Any, **kwargs: Any) -> Any:
        tail = original(*args, **kwargs)  # stat taken at full size ...
        path.write_bytes(dumps(lines[:2]) + b'{"trunc')  # ... then the agent truncates the file
        return tail

    monkeypatch.setattr(burn.readkit.tail, "open_tail", shrinking)
    for mod in list(sys.modules.values()):
        if getattr(mod, "open_tail", None) is original and mod is not burn.readkit.tail:
            monkeypatch.setattr(mod, "open_tail", shrinking)
    first = run(env)
    assert first["records_appended"] >= 1
    monkeypatch.undo()
    path.write_bytes(full)
    run(env)
    t = totals(env)
    assert (t["output"], t["turns"]) == (137, 3)


def test_two_ingests_at_once_store_the_same_ids_as_one(env: dict[str, str], tmp_path: Path) -> None:
    claude = Path(env["CLAUDE_CONFIG_DIR"])
    for i in range(20):
        sid = f"{i:08d}-0000-4000-8000-000000000000"
        lines = [
            assistant(f"msg_{i}_{k}", k + 1, session=sid, ts=f"2026-03-01T10:{k:02d}:00.000Z")
            for k in range(30)
        ]
        write_session(claude, lines, session=sid)
    solo = dict(env, RELAYBURN_HOME=str(tmp_path / "solo"))
    run(solo)
    cmd = [sys.executable, "-m", "burn.cli.app", "ingest", "--quiet"]
    procs = [subprocess.Popen(cmd, env=env) for _ in range(2)]
    assert [p.wait(120) for p in procs] == [0, 0]

    def ids(home: str) -> list[str]:
        return sorted(e.id for e in FileStore(Path(home)).read())

    assert ids(env["RELAYBURN_HOME"]) == ids(solo["RELAYBURN_HOME"])
    assert len(ids(solo["RELAYBURN_HOME"])) == len(set(ids(solo["RELAYBURN_HOME"])))


def test_rebuild_is_deterministic(env: dict[str, str]) -> None:
    claude = Path(env["CLAUDE_CONFIG_DIR"])
    path = write_session(claude, basic_session())
    run(env)
    with open(path, "ab") as f:
        f.write(dumps([assistant("msg_a", 95, ts="2026-03-01T10:00:03.000Z"), user("u2", "more")]))
    run(env)
    home = Path(env["RELAYBURN_HOME"])
    incremental = Archive.in_home(home, readonly=True)
    expected = (incremental.digest(), incremental.counts(), incremental.state()["archive_id"])
    incremental.close()
    store = FileStore(home)
    digests = []
    for _ in range(2):
        with store.lock():
            a, _result = rebuild(home, store)
        digests.append((a.digest(), a.counts(), a.state()["archive_id"], a.state()["generation"]))
        a.close()
    assert digests[0][:3] == digests[1][:3] == expected
    assert (digests[0][3], digests[1][3]) == ("2", "3")
    (home / "archive.sqlite").unlink()
    with store.lock():
        a, _result = rebuild(home, store)
    assert (a.digest(), a.counts()) == expected[:2]
    a.close()


def test_summary_groups_by_day_in_the_requested_timezone(env: dict[str, str]) -> None:
    write_session(
        Path(env["CLAUDE_CONFIG_DIR"]),
        [
            assistant("msg_late", 10, ts="2026-03-01T23:30:00.000Z"),
            assistant("msg_next", 20, ts="2026-03-02T00:30:00.000Z"),
        ],
    )
    run(env)
    archive = Archive.in_home(Path(env["RELAYBURN_HOME"]), readonly=True)
    tz, name = resolve_timezone("Asia/Kolkata")  # +05:30: both land on 2 March
    kolkata = summarize(archive, Filters(tz=tz, timezone=name))
    tz, name = resolve_timezone("America/New_York")  # -05:00: both land on 1 March
    new_york = summarize(archive, Filters(tz=tz, timezone=name))
    archive.close()
    assert [(d["day"], d["output"]) for d in kolkata["by_day"]] == [("2026-03-02", 30)]
    assert [(d["day"], d["output"]) for d in new_york["by_day"]] == [("2026-03-01", 30)]
    project = kolkata["by_project"][0]
    assert (project["project"], project["kind"]) == ("demo", "path")  # CWD does not exist here
    assert project["project_key"].startswith("sha256:")
    assert kolkata["by_source"][0]["source"] == "claude-code"


def test_cli_summary_json_and_filters(env: dict[str, str]) -> None:
    write_session(
        Path(env["CLAUDE_CONFIG_DIR"]),
        [
            assistant("msg_1", 10, ts="2026-03-01T10:00:00.000Z"),
            assistant("msg_2", 20, ts="2026-03-05T10:00:00.000Z"),
        ],
    )
    cli = [sys.executable, "-m", "burn.cli.app"]
    subprocess.run([*cli, "ingest", "--quiet"], env=env, check=True)
    out = subprocess.run(
        [*cli, "summary", "--json", "--since", "2026-03-02", "--until", "2026-03-05"],
        env=env,
        check=True,
        capture_output=True,
    )
    data = orjson.loads(out.stdout)
    assert data["totals"]["output"] == 20 and data["timezone"] == "UTC"
    bad = subprocess.run(
        [*cli, "summary", "--since", "yesterday-ish"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1


def test_summary_before_any_ingest_is_a_clear_error(env: dict[str, str]) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "burn.cli.app", "summary"], env=env, capture_output=True, text=True
    )
    assert res.returncode == 1
    assert res.stderr.startswith("burn: error: no archive") and "Traceback" not in res.stderr


def test_rewrite_keeping_the_head_and_growing_past_the_offset_is_detected(env: dict[str, str]) -> None:
    """Claude Code may keep a transcript's first lines, drop later ones and keep writing."""
    head = [assistant(f"msg_h{i}", 1, ts=f"2026-03-01T09:{i:02d}:00.000Z") for i in range(20)]
    dropped = [assistant("msg_x", 5, ts="2026-03-01T10:00:00.000Z")]
    path = write_session(Path(env["CLAUDE_CONFIG_DIR"]), head + dropped)
    run(env)
    new = [assistant(f"msg_n{i}", 100, ts=f"2026-03-01T11:{i:02d}:00.000Z") for i in range(6)]
    path.write_bytes(dumps(head + new))
    res = run(env)
    assert res["rereads"] == {"rewritten_or_truncated": 1}
    assert res["invalid_skipped"] == {}
    t = totals(env)
    assert (t["turns"], t["output"]) == (27, 20 + 5 + 600)  # the dropped turn stays in the ledger


def test_implausible_counts_become_unknown_instead_of_breaking_the_archive(env: dict[str, str]) -> None:
    huge = assistant("msg_huge", 7, ts="2026-03-01T12:00:00.000Z")
    huge["message"]["usage"]["input_tokens"] = 18446744073709551615  # 2^64 - 1: past SQLite's INTEGER
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), [*basic_session(), huge])
    res = run(env)
    assert res["invalid_skipped"]["implausible_count"] == 1
    t = totals(env)
    assert (t["input"], t["output"], t["turns"], t["unknown"]["input"]) == (8, 137, 3, 1)
    assert run(env)["records_appended"] == 0


def test_noop_ingest_does_not_load_pricing_but_an_override_change_reprices(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), basic_session())
    run(env)
    before = totals(env)["cost_usd_micros"]
    import burn.pricing.load

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a no-op ingest must not load the pricing table")

    with monkeypatch.context() as m:
        m.setattr(burn.pricing.load, "load_pricing", refuse)
        run(env)  # nothing new, same pricing inputs
    override = {
        "models": {"claude-sonnet-4-5-20250929": {"provider": "anthropic", "input": "30", "output": "150"}}
    }
    (Path(env["RELAYBURN_HOME"]) / "pricing.json").write_bytes(orjson.dumps(override))
    run(env)
    assert totals(env)["cost_usd_micros"] > before


def test_parallel_ingest_gives_the_same_ledger_and_archive(env: dict[str, str], tmp_path: Path) -> None:
    many_sessions(Path(env["CLAUDE_CONFIG_DIR"]), 12, 25)
    outcomes = []
    one_host(tmp_path / "w1", tmp_path / "w2")
    for workers in ("1", "2"):
        run_env = dict(env, RELAYBURN_HOME=str(tmp_path / f"w{workers}"), BURN_WORKERS=workers)
        report = run(run_env)
        archive = Archive.in_home(Path(run_env["RELAYBURN_HOME"]), readonly=True)
        outcomes.append(
            (
                report["records_appended"],
                archive.digest(),
                (Path(run_env["RELAYBURN_HOME"]) / "ledger.jsonl").read_bytes(),
            )
        )
        archive.close()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] > 12 * 25


def test_cli_summary_by_one_breakdown(env: dict[str, str]) -> None:
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), basic_session())
    cli = [sys.executable, "-m", "burn.cli.app"]
    subprocess.run([*cli, "ingest", "--quiet"], env=env, check=True)
    out = subprocess.run(
        [*cli, "summary", "--json", "--by", "project"], env=env, check=True, capture_output=True
    )
    data = orjson.loads(out.stdout)
    assert "by_project" in data and not {"by_source", "by_model", "by_day"} & set(data)
    assert data["by_project"][0]["project_key"].startswith("sha256:")
    text = subprocess.run(
        [*cli, "summary", "--by", "model"], env=env, check=True, capture_output=True, text=True
    )
    assert "claude-sonnet-4-5-20250929" in text.stdout and "project" not in text.stdout.splitlines()[-2]


def many_sessions(claude: Path, n: int, turns: int) -> None:
    for i in range(n):
        sid = f"{i:08d}-0000-4000-8000-000000000000"
        lines = [user(f"u{i}", "go", session=sid)]
        lines += [
            assistant(f"msg_{i}_{k}", k + 1, session=sid, ts=f"2026-03-0{1 + k % 3}T10:{k:02d}:00.000Z")
            for k in range(turns)
        ]
        write_session(claude, lines, session=sid)


def rebuilt(home: Path) -> tuple[str, dict[str, int]]:
    store = FileStore(home)
    with store.lock():
        a, _ = rebuild(home, store)
    try:
        return a.digest(), a.counts()
    finally:
        a.close()


def test_ingest_applies_appended_entries_without_reading_the_ledger_back(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small append and archive batches: many appends, each fed to the archive as it is written.
    monkeypatch.setattr("burn.ingest.run.APPEND_BATCH", 7)
    monkeypatch.setattr("burn.archive.database.BATCH", 11)
    many_sessions(Path(env["CLAUDE_CONFIG_DIR"]), 6, 9)
    lines_read = []
    real_scan = FileStore._scan

    def counting_scan(self: FileStore, *args: Any, **kwargs: Any) -> Any:
        for item in real_scan(self, *args, **kwargs):
            lines_read.append(item)
            yield item

    monkeypatch.setattr(FileStore, "_scan", counting_scan)
    report = ingest(Path(env["RELAYBURN_HOME"]), Plugins(env=env), env)
    assert (
        report.archive is not None and report.archive.entries == report.totals()["records_appended"] > 6 * 9
    )
    assert lines_read == []  # neither the index nor the archive read a ledger line back
    home = Path(env["RELAYBURN_HOME"])
    archive = Archive.in_home(home, readonly=True)
    live = (archive.digest(), archive.counts(), archive.state()["ledger_position"])
    archive.close()
    assert live[2] == str((home / "ledger.jsonl").stat().st_size)
    assert live[:2] == rebuilt(home)


def test_archive_behind_or_torn_ledger_is_read_from_the_ledger(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("burn.ingest.run.APPEND_BATCH", 5)
    claude = Path(env["CLAUDE_CONFIG_DIR"])
    many_sessions(claude, 2, 4)
    run(env)
    home = Path(env["RELAYBURN_HOME"])
    with open(home / "ledger.jsonl", "ab") as f:
        f.write(b'{"v":1,"kind":"turn"')  # a crash mid-write: the next append starts after a newline
    (home / "archive.sqlite").unlink()  # and an archive that starts from nothing
    for suffix in ("-wal", "-shm"):
        (home / f"archive.sqlite{suffix}").unlink(missing_ok=True)
    many_sessions(claude, 4, 4)  # two new sessions
    report = ingest(home, Plugins(env=env), env)
    assert report.archive is not None and report.archive.ledger.invalid == 1
    archive = Archive.in_home(home, readonly=True)
    live = (archive.digest(), archive.counts())
    archive.close()
    assert live == rebuilt(home)
    assert live[1]["turns"] == 4 * 4
