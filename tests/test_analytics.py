"""The analytics engine (burn.analytics): figures equal `burn report usage`, incremental feeding
reads only new rows, a garbled file is rebuilt, and no other command imports duckdb."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from burn.analytics.document import PANELS, panel
from burn.analytics.engine import open_engine
from burn.archive.database import Archive
from burn.contract import schemas
from tests.contract_fixture import FIXTURE, build_fixture, env_for, parse, run, run_ingest

pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("analytics")
    build_fixture(base)
    return base


def _report(home: Path, args: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = parse(run(home, "report", ["usage", "--json", "--timezone", "UTC", *args]))
    return doc


def test_every_panel_validates_against_the_contract(base: Path) -> None:
    home = base / "burn"
    validator = Draft202012Validator(schemas.load("analytics"))
    engine, archive = open_engine(home), Archive.in_home(home, readonly=True)
    try:
        for name in PANELS:
            doc = panel(name, engine, archive, home, {"timezone": "UTC"})
            assert not list(validator.iter_errors(doc)), name
            assert doc["meta"]["contract"] == "burn.analytics"
    finally:
        engine.close()
        archive.close()


SOURCES = st.sampled_from([None, ["claude-code"], ["codex"]])
MODELS = st.sampled_from([None, ["claude-opus-4-6"], ["claude-sonnet-4-5-20250929", "gpt-5-codex"]])
SINCE = st.sampled_from([None, "2026-03-02", "2026-03-04T06:00:00", "2026-03-06"])
UNTIL = st.sampled_from([None, "2026-03-07", "2026-03-09"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=SOURCES, model=MODELS, since=SINCE, until=UNTIL, project=st.booleans())
def test_figures_equal_report_usage(base: Path, source: Any, model: Any, since: Any, until: Any,
                                    project: bool) -> None:  # fmt: skip
    """Spend (integer micro-USD), tokens, turns and sessions for any filter combination."""
    home = base / "burn"
    if since and until and until <= since:
        return
    args: list[str] = []
    options: dict[str, Any] = {
        "timezone": "UTC",
        "since": since,
        "until": until,
        "source": source,
        "model": model,
    }
    for flag, values in (("--source", source), ("--model", model)):
        for v in values or ():
            args += [flag, v]
    if since:
        args += ["--since", since]
    if until:
        args += ["--until", until]
    engine, archive = open_engine(home), Archive.in_home(home, readonly=True)
    try:
        if project:
            key = archive.db.execute("SELECT key FROM projects ORDER BY key LIMIT 1").fetchone()[0]
            options["project"] = [key]
            args += ["--project", key]
        got = panel("summary", engine, archive, home, options)["data"]
    finally:
        engine.close()
        archive.close()
    totals = _report(home, args)["totals"]
    assert got["total_usd_micros"] == totals["cost"]["total_usd_micros"]
    assert got["turns"] == totals["turns"]
    assert got["sessions"] == totals["sessions"]
    assert got["tokens"] == totals["tokens"]


def _copy_home(base: Path, tmp: Path) -> tuple[Path, dict[str, str]]:
    env = env_for(tmp, FIXTURE / "claude", FIXTURE / "codex")
    shutil.copytree(base / "burn", tmp / "burn")
    return tmp / "burn", env


def test_an_ingest_then_a_query_reads_only_the_new_rows(base: Path, tmp_path: Path) -> None:
    # The fixture's codex sessions are ingested first; the claude ones arrive with the second ingest.
    env = env_for(tmp_path, None, FIXTURE / "codex")
    run_ingest(env)
    home = Path(env["RELAYBURN_HOME"])
    engine = open_engine(home)
    archive = Archive.in_home(home, readonly=True)
    try:
        panel("summary", engine, archive, home, {"timezone": "UTC"})
        first = engine.last
        assert first.rebuilt == "missing"
        before = archive.db.execute("SELECT count(*) FROM turns").fetchone()[0]
        assert first.rows_read["turns"] == before
        panel("summary", engine, archive, home, {"timezone": "UTC"})
        assert engine.last.rows_read["turns"] == 0 and engine.last.rebuilt is None

        run_ingest(env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex"))
        after = archive.db.execute("SELECT count(*) FROM turns").fetchone()[0]
        doc = panel("summary", engine, archive, home, {"timezone": "UTC"})
        assert engine.last.rebuilt is None
        # Only the new sessions' turns were read: not the codex turns already in the copy.
        assert engine.last.rows_read["turns"] == after - before
        assert doc["data"]["turns"] == after
    finally:
        engine.close()
        archive.close()


def test_a_query_on_an_unchanged_archive_writes_nothing(base: Path, tmp_path: Path) -> None:
    # Every panel syncs first; with nothing new the sync must not write (its watermark row was
    # rewritten on every request: a DuckDB WAL write per panel, the benchmark's largest cost).
    home, _ = _copy_home(base, tmp_path)
    engine = open_engine(home)
    archive = Archive.in_home(home, readonly=True)
    try:
        panel("models", engine, archive, home, {"timezone": "UTC"})  # synced (the copy may be new)
        for name in PANELS:
            panel(name, engine, archive, home, {"timezone": "UTC"})
            assert engine.last.rows_read["turns"] == 0 and engine.last.rebuilt is None
            assert not engine.last.marked
        status = engine.status()["watermarks"]
        assert status is not None and status["rows"] == engine.status()["rows"]["facts"]
    finally:
        engine.close()
        archive.close()


def test_a_garbled_file_is_rebuilt_on_the_next_query(base: Path, tmp_path: Path) -> None:
    home, _ = _copy_home(base, tmp_path)
    engine, archive = open_engine(home), Archive.in_home(home, readonly=True)
    want = panel("page", engine, archive, home, {"timezone": "UTC"})["data"]
    engine.close()
    path = home / "analytics.duckdb"
    data = bytearray(path.read_bytes())
    data[: 4096 * 3] = b"\x5a" * (4096 * 3)  # the header blocks: DuckDB cannot open it
    path.write_bytes(bytes(data))
    engine = open_engine(home)
    try:
        got = panel("page", engine, archive, home, {"timezone": "UTC"})["data"]
        assert engine.last.rebuilt is not None and engine.last.rebuilt.startswith("unreadable")
        assert got == want
    finally:
        engine.close()
        archive.close()


def test_another_engine_version_is_rebuilt(base: Path, tmp_path: Path) -> None:
    home, _ = _copy_home(base, tmp_path)
    engine, archive = open_engine(home), Archive.in_home(home, readonly=True)
    panel("summary", engine, archive, home, {"timezone": "UTC"})
    engine.con.execute("UPDATE meta SET value = '0' WHERE key = 'engine_version'")
    engine.close()
    engine = open_engine(home)
    try:
        panel("summary", engine, archive, home, {"timezone": "UTC"})
        assert engine.last.rebuilt == "version 0 (this burn: 1)"
    finally:
        engine.close()
        archive.close()


def test_other_commands_do_not_import_duckdb(base: Path) -> None:
    env = {"RELAYBURN_HOME": str(base / "burn"), "PATH": "/usr/bin:/bin", "HOME": str(base / "home")}
    code = (
        "import sys; from burn.entry import main; rc = main(['report', 'usage', '--json']); "
        "sys.stdout.flush(); sys.stderr.write('DUCKDB=%s\\n' % ('duckdb' in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "DUCKDB=False" in r.stderr
    code = code.replace("['report', 'usage', '--json']", "['analytics', 'status']")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "DUCKDB=True" in r.stderr and "turns" in r.stdout
