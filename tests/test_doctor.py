"""``burn doctor`` on real trees: sources and lag before and after ingest, unpriced models, Claude
Code's retention warning, and that it writes nothing."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

import burn.ledger.file
import burn_claude
import burn_codex
import burn_opencode
from burn.archive.state import SCHEMA_VERSION
from burn.cli.app import main
from burn.doctor.checks import DoctorReport, SourceHealth, diagnose
from burn.doctor.render import doctor_text
from burn.ingest.read_cursors import CursorFile
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.reader import FileCursor, Retention, RetentionWarning, UnitStat
from burn_claude.retention import MARGIN_DAYS
from tests.claude_lines import assistant, dumps, user
from tests.conftest import PluginsFactory

ROOT = Path(__file__).resolve().parents[1]
CODEX_FIXTURE = ROOT / "tests" / "fixtures" / "codex" / "accounting"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
DAY = 86_400
OLD_SESSION = "22222222-2222-4222-8222-222222222222"
NEW_SESSION = "33333333-3333-4333-8333-333333333333"
UNPRICED = "acme-coder-9"


def set_age(path: Path, days: float, now: datetime = NOW) -> None:
    """Make ``path`` last modified ``days`` before ``now`` (Claude Code's cleanup looks at mtime)."""
    t = now.timestamp() - days * DAY
    os.utime(path, (t, t))


def transcript(claude: Path, session: str, *lines: dict[str, Any]) -> Path:
    path = claude / "projects" / "-home-dev-projects-demo" / f"{session}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dumps(list(lines)))
    return path


@pytest.fixture
def tree(isolated_env: dict[str, Path]) -> dict[str, Path]:
    """A Claude config dir (cleanupPeriodDays 10; one transcript 5 days old, one 1 day old, whose
    model has no price), a Codex home with one rollout, and an empty OpenCode data dir."""
    claude = isolated_env["CLAUDE_CONFIG_DIR"]
    (claude / "settings.json").write_text('{"cleanupPeriodDays": 10, "theme": "dark"}', encoding="utf-8")
    old = transcript(
        claude,
        OLD_SESSION,
        user("u1", "hi", session=OLD_SESSION),
        assistant("msg_old", 50, session=OLD_SESSION, ts="2026-03-15T10:00:00.000Z"),
    )
    new = transcript(
        claude,
        NEW_SESSION,
        assistant("msg_new", 70, session=NEW_SESSION, ts="2026-03-19T10:00:00.000Z", model=UNPRICED),
    )
    set_age(old, 5)
    set_age(new, 1)
    shutil.copytree(CODEX_FIXTURE, isolated_env["CODEX_HOME"], dirs_exist_ok=True)
    return {"claude": claude, "old": old, "new": new, **isolated_env}


@pytest.fixture
def builtins(make_plugins: PluginsFactory) -> Plugins:
    """burn's own readers and ledger store, without whatever else is installed; strict."""
    return make_plugins(
        burn_claude, burn_codex, burn_opencode, burn.ledger.file, env={"BURN_STRICT_PLUGINS": "1"}
    )


def home(tree: dict[str, Path]) -> Path:
    return tree["RELAYBURN_HOME"]


def sources(report: DoctorReport) -> dict[str, SourceHealth]:
    return {s.reader: s for s in report.sources}


def codes(report: DoctorReport, level: str | None = None) -> list[str]:
    return [f.code for f in report.findings if level is None or f.level == level]


def test_before_ingest_everything_is_lag(tree: dict[str, Path], builtins: Plugins) -> None:
    report = diagnose(home(tree), builtins, now=NOW)
    by = sources(report)
    assert sorted(by) == ["claude-code", "codex", "opencode"]

    claude = by["claude-code"]
    assert (claude.env_var, claude.env_value) == ("CLAUDE_CONFIG_DIR", str(tree["claude"]))
    assert [(loc.path, loc.exists) for loc in claude.locations] == [(str(tree["claude"] / "projects"), True)]
    size = tree["old"].stat().st_size + tree["new"].stat().st_size
    assert (claude.units, claude.files, claude.bytes) == (2, 2, size)
    assert claude.newest_mtime == "2026-03-19T12:00:00Z"  # the newer transcript, 1 day before NOW
    assert (claude.lag.units, claude.lag.new, claude.lag.changed, claude.lag.bytes) == (2, 2, 0, size)
    assert (claude.archive_turns, claude.newest_record) == (0, None)

    codex = by["codex"]
    assert codex.env_var == "CODEX_HOME"
    assert codex.units == codex.lag.units == codex.lag.new == 1
    opencode = by["opencode"]
    assert [loc.exists for loc in opencode.locations] == [True]
    assert (opencode.units, opencode.lag.units, opencode.bytes) == (0, 0, 0)

    assert (report.archive.exists, report.pricing) == (False, None)
    assert codes(report, "warning") == ["claude_cleanup"]
    assert codes(report, "note") == ["ingest_lag", "ingest_lag", "no_archive", "claude_cleanup_period"]


def test_after_ingest_lag_is_zero_and_an_appended_line_is_lag_again(
    tree: dict[str, Path], builtins: Plugins
) -> None:
    ingest(home(tree), builtins)
    report = diagnose(home(tree), builtins, now=NOW)
    by = sources(report)
    assert all(s.lag.units == 0 and s.lag.bytes == 0 for s in report.sources)
    assert (by["claude-code"].archive_turns, by["claude-code"].archive_sessions) == (2, 2)
    assert by["claude-code"].newest_record == "2026-03-19T10:00:00Z"
    assert by["codex"].archive_turns == 6 and by["codex"].newest_record is not None
    a = report.archive
    assert (a.exists, a.schema_version, a.up_to_date, a.error) == (True, SCHEMA_VERSION, True, None)
    assert a.ledger_position == a.ledger_end and a.store["store"] == "file"
    assert "ingest_lag" not in codes(report) and "claude_cleanup" not in codes(report)

    with tree["new"].open("ab") as f:
        f.write(dumps([assistant("msg_more", 5, session=NEW_SESSION, ts="2026-03-20T11:00:00.000Z")]))
    again = sources(diagnose(home(tree), builtins, now=NOW))
    claude = again["claude-code"]
    assert (claude.lag.units, claude.lag.new, claude.lag.changed) == (1, 0, 1)
    assert claude.lag.bytes == tree["new"].stat().st_size
    assert again["codex"].lag.units == 0


def test_unpriced_models_are_reported_with_their_tokens(tree: dict[str, Path], builtins: Plugins) -> None:
    ingest(home(tree), builtins)
    report = diagnose(home(tree), builtins, now=NOW)
    assert report.pricing is not None
    [row] = [r for r in report.pricing["unpriced"] if r["model"] == UNPRICED]
    assert (row["turns"], row["output"], row["tokens"]) == (1, 70, 3 + 70 + 1000 + 200)
    [finding] = [f for f in report.findings if f.code == "unpriced_models"]
    assert finding.level == "warning" and UNPRICED in finding.message and "1,273 tokens" in finding.message


def test_a_deleted_transcript_is_counted_as_gone(tree: dict[str, Path], builtins: Plugins) -> None:
    ingest(home(tree), builtins)
    tree["old"].unlink()
    claude = sources(diagnose(home(tree), builtins, now=NOW))["claude-code"]
    assert (claude.units, claude.gone, claude.lag.units) == (1, 1, 0)


# -- Claude Code retention -------------------------------------------------------------------------


def claude_retention(report: DoctorReport) -> list[Any]:
    """The ``claude_retention`` entries of ``--json``, read as attributes."""
    return [SimpleNamespace(**r) for r in report.to_json()["claude_retention"]]


def retention_codes(tree: dict[str, Path], plugins: Plugins, now: datetime) -> list[str]:
    return [c for c in codes(diagnose(home(tree), plugins, now=now)) if c.startswith("claude_")]


@pytest.mark.parametrize(
    ("age_days", "warned"),
    [
        (10 - MARGIN_DAYS - 0.1, False),  # 7.1 days left
        (10 - MARGIN_DAYS + 0.1, True),  # 6.9 days left
        (9.9, True),
        (12, True),  # past the period: deleted at Claude Code's next start
    ],
)
def test_cleanup_warning_for_a_transcript_not_ingested(
    tree: dict[str, Path], builtins: Plugins, age_days: float, warned: bool
) -> None:
    set_age(tree["old"], age_days)
    report = diagnose(home(tree), builtins, now=NOW)
    [r] = claude_retention(report)
    assert (r.cleanup_period_days, r.setting, r.transcripts, r.pending) == (10, "settings", 2, 2)
    assert r.oldest_pending is not None and r.oldest_pending["path"] == str(tree["old"])
    assert r.oldest_pending["days_left"] == round(10 - age_days, 1)
    assert r.at_risk == (1 if warned else 0)
    assert ("claude_cleanup" in codes(report, "warning")) is warned
    if warned:
        [f] = [f for f in report.findings if f.code == "claude_cleanup"]
        expected = (
            "past the cleanup period" if age_days > 10 else f"has {round(10 - age_days, 1):g} days left"
        )
        assert expected in f.message and str(tree["old"]) in f.message


def test_no_cleanup_warning_once_ingested_even_when_old(tree: dict[str, Path], builtins: Plugins) -> None:
    ingest(home(tree), builtins)
    set_age(tree["old"], 9.9)  # changes the fingerprint, so ingest again: it reads no new line
    ingest(home(tree), builtins)
    report = diagnose(home(tree), builtins, now=NOW)
    [r] = claude_retention(report)
    assert (r.pending, r.at_risk, r.oldest_pending) == (0, 0, None)
    assert retention_codes(tree, builtins, NOW) == ["claude_cleanup_period"]
    # Appending to it makes it pending again, but also new: no risk.
    with tree["old"].open("ab") as f:
        f.write(dumps([assistant("msg_late", 9, session=OLD_SESSION, ts="2026-03-20T11:59:00.000Z")]))
    assert retention_codes(tree, builtins, datetime.fromtimestamp(time.time(), UTC)) == [
        "claude_cleanup_period"
    ]


@pytest.mark.parametrize(
    ("settings", "period", "setting", "expected"),
    [
        (None, 30, "default", []),  # no settings.json: 30 days, and no advice about it
        ({"theme": "dark"}, 30, "default", []),
        ({"cleanupPeriodDays": 45}, 45, "settings", []),
        ({"cleanupPeriodDays": 10}, 10, "settings", ["claude_cleanup_period"]),
        ({"cleanupPeriodDays": 0}, 0, "settings", ["claude_cleanup", "claude_cleanup_period"]),
        ({"cleanupPeriodDays": "soon"}, 30, "invalid", ["claude_settings_invalid"]),
        ("{not json", 30, "invalid", ["claude_settings_invalid"]),
    ],
)
def test_cleanup_period_setting(
    tree: dict[str, Path],
    builtins: Plugins,
    settings: Any,
    period: int,
    setting: str,
    expected: list[str],
) -> None:
    path = tree["claude"] / "settings.json"
    if settings is None:
        path.unlink()
    else:
        path.write_bytes(settings.encode() if isinstance(settings, str) else orjson.dumps(settings))
    set_age(tree["old"], 2)  # 8 days left under a 10-day period: not yet at risk
    report = diagnose(home(tree), builtins, now=NOW)
    [r] = claude_retention(report)
    assert (r.cleanup_period_days, r.setting, r.settings_exists) == (period, setting, settings is not None)
    found = [c for c in codes(report) if c.startswith("claude_")]
    assert sorted(found) == sorted(expected)


def test_every_claude_config_dir_has_its_own_period(
    tree: dict[str, Path], builtins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = tmp_path / "work-claude"
    (second / "projects").mkdir(parents=True)
    (second / "settings.json").write_text('{"cleanupPeriodDays": 3}', encoding="utf-8")
    path = transcript(second, "44444444-4444-4444-8444-444444444444", assistant("msg_w", 1))
    set_age(path, 2)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tree['claude']},{second}")
    report = diagnose(home(tree), builtins, now=NOW)
    periods = {
        r.config_dir: (r.cleanup_period_days, r.transcripts, r.at_risk) for r in claude_retention(report)
    }
    assert periods == {str(tree["claude"]): (10, 2, 1), str(second): (3, 1, 1)}


class KeepsTenUnits:
    """A third-party reader of ``*.log`` files whose agent keeps only its ten newest units."""

    name = "tenlog"
    env_var = "TENLOG_HOME"

    def locations(self, env: Any, home: Path) -> list[Path]:
        return [Path(env["TENLOG_HOME"])]

    def discover(self, roots: Any, diagnostics: Any) -> Iterator[Any]:
        from burn.reader import SourceUnit

        for root in roots:
            yield from (SourceUnit(p) for p in sorted(root.glob("*.log")))

    def read(self, unit: Any, cursor: Any) -> Any:
        raise AssertionError("doctor never reads")

    def retention(self, roots: Any, units: Any, now: datetime) -> Retention:
        assert all(isinstance(u, UnitStat) for u in units)
        pending = [u.path for u in units if u.pending]
        return Retention(
            "tenlog_retention",
            entries=[{"root": str(roots[0]), "pending": len(pending)}],
            lines=[f"tenlog     keeps 10 units · {len(pending)} not ingested"],
            warnings=[RetentionWarning("warning", "tenlog_rotation", f"{len(pending)} tenlog units at risk")],
        )


class RetentionPlugin:
    def __init__(self, reader: Any) -> None:
        self.reader = reader

    @burn.hookimpl
    def register_readers(self, register: Any) -> None:
        register(self.reader)


def test_every_readers_retention_check_is_listed_generically(
    tree: dict[str, Path], make_plugins: PluginsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Doctor knows no source: a third-party reader's retention check is shown like Claude Code's."""
    logs = tmp_path / "tenlog"
    logs.mkdir()
    for i in range(3):
        (logs / f"{i}.log").write_text("x", encoding="utf-8")
    monkeypatch.setenv("TENLOG_HOME", str(logs))
    plugins = make_plugins(burn_claude, burn.ledger.file, RetentionPlugin(KeepsTenUnits()))
    report = diagnose(home(tree), plugins, now=NOW)
    data = report.to_json()
    assert data["tenlog_retention"] == [{"root": str(logs), "pending": 3}]
    assert len(data["claude_retention"]) == 1
    assert list(data)[-4:] == ["claude_retention", "tenlog_retention", "plugin_failures", "findings"]
    assert {"claude_cleanup", "tenlog_rotation"} <= set(codes(report, "warning"))
    text = doctor_text(report)
    assert "\ntenlog     keeps 10 units · 3 not ingested\n" in text
    assert "\n! 3 tenlog units at risk\n" in text


def test_a_failing_retention_check_is_a_reader_error(
    tree: dict[str, Path], make_plugins: PluginsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Raises(KeepsTenUnits):
        def retention(self, roots: Any, units: Any, now: datetime) -> Retention:
            raise KeyError("cleanup")

    monkeypatch.setenv("TENLOG_HOME", str(tmp_path))
    plugins = make_plugins(burn_claude, burn.ledger.file, RetentionPlugin(Raises()))
    report = diagnose(home(tree), plugins, now=NOW)
    [f] = [f for f in report.findings if f.code == "reader_error"]
    assert f.message == "tenlog: retention check failed: KeyError: 'cleanup'"
    assert "tenlog_retention" not in report.to_json()
    assert "claude_cleanup" in codes(report, "warning")  # the other readers' checks still run


# -- writes nothing ---------------------------------------------------------------------------------


def snapshot(*roots: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file and directory under ``roots``: size, mtime and (files) content."""
    out: dict[str, tuple[int, int, bytes]] = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            st = path.lstat()
            out[str(path)] = (st.st_size, st.st_mtime_ns, path.read_bytes() if path.is_file() else b"")
    return out


@pytest.fixture
def watched(tree: dict[str, Path]) -> Iterator[list[Path]]:
    yield [tree["RELAYBURN_HOME"], tree["CLAUDE_CONFIG_DIR"], tree["CODEX_HOME"], tree["OPENCODE_DATA_DIR"]]


def test_doctor_writes_nothing(
    tree: dict[str, Path], builtins: Plugins, watched: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(*watched)  # an empty burn home: doctor must not create anything in it
    diagnose(home(tree), builtins, now=NOW)
    assert main(["doctor", "--json"]) == 0
    assert snapshot(*watched) == before

    ingest(home(tree), builtins)
    with tree["new"].open("ab") as f:  # some lag, so that every part of the report has work
        f.write(dumps([assistant("msg_more", 5, session=NEW_SESSION)]))
    before = snapshot(*watched)
    assert not any(p.endswith(("-wal", "-shm")) for p in before)
    diagnose(home(tree), builtins, now=NOW)
    assert main(["doctor"]) == 0
    assert main(["doctor", "--json"]) == 0
    assert snapshot(*watched) == before


def test_unreadable_cursors_mean_everything_is_lag_and_stay_untouched(
    tree: dict[str, Path], builtins: Plugins
) -> None:
    ingest(home(tree), builtins)
    cursors = home(tree) / "cursors.sqlite"
    cursors.write_bytes(b"not a database" * 100)
    before = snapshot(home(tree))
    by = sources(diagnose(home(tree), builtins, now=NOW))
    assert (by["claude-code"].lag.new, by["codex"].lag.new) == (2, 1)  # ingest would re-read them
    assert snapshot(home(tree)) == before
    readonly = CursorFile.load(home(tree), readonly=True)
    readonly.set("codex", "k", FileCursor(1, 2, 3, 4, "h"))
    with pytest.raises(RuntimeError, match="read-only"):
        readonly.save()
    readonly.close()


def test_an_archive_being_written_is_read_with_its_wal(tree: dict[str, Path], builtins: Plugins) -> None:
    """Commits still in the -wal (an ingest writing right now) are seen, not only the main file."""
    ingest(home(tree), builtins)
    writer = sqlite3.connect(home(tree) / "archive.sqlite", isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")  # keep the commit in the -wal
        writer.execute("UPDATE archive_state SET value = '0' WHERE key = 'ledger_position'")
        a = diagnose(home(tree), builtins, now=NOW).archive
        assert (a.error, a.ledger_position, a.up_to_date) == (None, 0, False)
    finally:
        writer.close()


def test_cli_exits_zero_with_warnings_and_prints_both_forms(
    tree: dict[str, Path], builtins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest(home(tree), builtins)
    # The command's clock is the real one. A changed mtime changes the fingerprint: pending again.
    set_age(tree["old"], 9.5, now=datetime.now(UTC))
    assert main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"claude_cleanup", "unpriced_models"} <= {f["code"] for f in data["findings"]}
    assert [s["reader"] for s in data["sources"]] == ["claude-code", "codex", "opencode"]

    assert main(["doctor"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"^claude-code  \(CLAUDE_CONFIG_DIR=.+\)$", text, flags=re.M)
    assert "  lag        1 unit not ingested" in text
    assert f"schema v{SCHEMA_VERSION} · up to date with the ledger" in text
    assert f"unpriced: {UNPRICED} (1,273 tokens)" in text
    assert "cleanupPeriodDays 10 · 2 transcripts, 1 not ingested, the oldest has 0.5 days left" in text
    assert re.search(r"^! 1 Claude Code transcript not ingested yet within 7 days", text, flags=re.M)


def test_a_failing_reader_is_reported_and_the_others_still_are(
    tree: dict[str, Path], make_plugins: PluginsFactory
) -> None:
    class Broken:
        name = "broken"
        env_var = None

        def locations(self, env: Any, home: Path) -> list[Path]:
            raise OSError("boom")

    class BrokenPlugin:
        @burn.hookimpl
        def register_readers(self, register: Any) -> None:
            register(Broken())

    plugins = make_plugins(burn_claude, burn.ledger.file, BrokenPlugin())
    report = diagnose(home(tree), plugins, now=NOW)
    by = sources(report)
    assert by["broken"].error == "OSError: boom"
    assert by["claude-code"].units == 2
    assert "reader_error" in codes(report, "warning")


# -- the documentation ------------------------------------------------------------------------------


def keys(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        out = set()
        for k, v in value.items():
            out.add(k)
            if k not in ("pricing", "store"):  # documented in pricing.md / by the store
                out |= keys(v)
        return out
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value)) if value else set()
    return set()


def test_every_json_key_is_documented(tree: dict[str, Path], builtins: Plugins) -> None:
    ingest(home(tree), builtins)
    set_age(tree["old"], 9.5)
    data = diagnose(home(tree), builtins, now=NOW).to_json()
    doc = (ROOT / "docs" / "doctor.md").read_text(encoding="utf-8")
    missing = sorted(k for k in keys(data) if f"`{k}`" not in doc)
    assert not missing, f"keys of `burn doctor --json` missing from docs/doctor.md: {missing}"
