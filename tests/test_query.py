"""The read path (burn.query): Filters built from options and from canonical filters, with one-line
usage errors; the one choice between the hourly rollup and ``turns``, whose two paths give the same
sums across a daylight-saving change and in a zone with a 30-minute offset; and the exporter
plugins importing only the public plugin API."""

from __future__ import annotations

import ast
import sqlite3
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from burn.archive.database import Archive
from burn.errors import UsageError
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.query import Filters, day_expr, offset_periods, time_range, usage_base
from burn.query.summary import summarize
from tests.claude_lines import assistant, write_session

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


# -- Filters ---------------------------------------------------------------------------------------


def test_filters_from_options_resolve_days_in_the_zone_and_round_trip_through_canonical() -> None:
    f = Filters.from_options(
        {"timezone": "Asia/Kolkata", "since": "2026-03-01", "until": "2026-03-02",
         "source": ["codex,claude-code", "codex"], "model": [" m1 "]},
        now=NOW,
    )  # fmt: skip
    assert f.tz == ZoneInfo("Asia/Kolkata") and f.timezone == "Asia/Kolkata"
    assert f.since_ms == _ms("2026-02-28T18:30:00+00:00")  # local midnight
    assert f.until_ms == _ms("2026-03-02T18:30:00+00:00")  # --until includes its whole day
    assert (f.sources, f.projects, f.models) == (("claude-code", "codex"), (), ("m1",))
    assert f.canonical() == {
        "timezone": "Asia/Kolkata",
        "since": "2026-02-28T18:30:00.000Z",
        "until": "2026-03-02T18:30:00.000Z",
        "sources": ["claude-code", "codex"],
        "projects": [],
        "models": ["m1"],
    }
    assert Filters.from_canonical(f.canonical()) == f


def test_canonical_filters_without_a_zone_are_utc_and_the_utc_fallback_is_a_zoneinfo() -> None:
    assert Filters.from_canonical({}).tz == ZoneInfo("UTC")
    assert Filters(tz=UTC, timezone="UTC").tz == ZoneInfo("UTC")  # resolve_timezone's last resort
    assert Filters.from_options({"since": "12h"}, now=NOW).since_ms == _ms("2026-04-01T00:00:00+00:00")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"since": "yesterday"}, "--since: cannot read 'yesterday'"),
        ({"since": "2026-03-05", "until": "2026-03-01", "timezone": "UTC"},
         "--until '2026-03-01' is not after --since '2026-03-05': the window is empty"),
        ({"since": "2026-03-05T10:00:00Z", "until": "2026-03-05T10:00:00Z"}, "the window is empty"),
    ],
)  # fmt: skip
def test_bad_filters_are_one_line_usage_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as info:
        Filters.from_options(options, now=NOW)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_unknown_project_is_a_usage_error_naming_it() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE projects (key TEXT, label TEXT)")
    db.execute("INSERT INTO projects VALUES ('github.com/acme/app', 'acme/app')")
    assert Filters.from_options({"project": ["acme/app"]}, db=db).projects == ("github.com/acme/app",)
    with pytest.raises(UsageError, match="no project matches 'nope'"):
        Filters.from_options({"project": ["nope"]}, db=db)


def test_burn_summary_with_an_empty_window_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "RELAYBURN_HOME": str(tmp_path / "burn"), "TZ": "UTC"}
    done = subprocess.run(
        [sys.executable, "-m", "burn.cli.app", "summary", "--since", "2026-03-05", "--until", "2026-03-01"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "is not after --since" in done.stderr
    assert done.stdout == ""


# -- the rollup or turns -----------------------------------------------------------------------------

# Turns every 20 minutes (at :10, :30 and :50) around Berlin's spring-forward night (2026-03-29
# 01:00 UTC) and across several Kolkata (+05:30) midnights.
TURN_TIMES = [
    datetime(2026, 3, 28, 18, 10, tzinfo=UTC).timestamp() + 1200 * i
    for i in range(3 * 24 * 2)  # two days
]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("query")
    env = {"HOME": str(tmp), "CLAUDE_CONFIG_DIR": str(tmp / "claude"), "RELAYBURN_HOME": str(tmp / "burn")}
    lines = [
        assistant(f"msg_{i}", 10 + i, ts=datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                  model="claude-opus-4-6" if i % 3 else "claude-sonnet-4-5-20250929")
        for i, t in enumerate(TURN_TIMES)
    ]  # fmt: skip
    write_session(Path(env["CLAUDE_CONFIG_DIR"]), lines)
    ingest(Path(env["RELAYBURN_HOME"]), Plugins(env=env), env)
    return Path(env["RELAYBURN_HOME"])


def _day_sums(archive: Archive, filters: Filters, state: dict[str, str]) -> tuple[bool, dict[str, Any]]:
    """Output tokens and turns per local day, from the base :func:`usage_base` chooses."""
    lo, hi = time_range(archive.db, filters.since_ms, filters.until_ms)
    periods = offset_periods(filters.tz, lo, hi)
    base = usage_base(state, filters, periods)
    day = day_expr(periods, f"(b.hour * {base.bucket_ms})")
    rows = archive.db.execute(
        f"SELECT {day}, SUM(b.output), SUM(b.turns), SUM(b.cost_usd_micros) FROM ({base.sql}) b GROUP BY 1",
        dict(base.params),
    )
    return base.rollup, {d: (out, turns, cost) for d, out, turns, cost in rows}


def _oracle(zone: str, since: str | None = None, until: str | None = None) -> dict[str, tuple[int, int]]:
    """Output tokens and turns per local day, from the fixture with zoneinfo."""
    out: Counter[str] = Counter()
    turns: Counter[str] = Counter()
    for i, t in enumerate(TURN_TIMES):
        if (since and t < _ms(since) / 1000) or (until and t >= _ms(until) / 1000):
            continue
        day = datetime.fromtimestamp(t, UTC).astimezone(ZoneInfo(zone)).date().isoformat()
        out[day] += 10 + i
        turns[day] += 1
    return {d: (out[d], turns[d]) for d in out}


@pytest.mark.parametrize(
    ("zone", "since", "until", "rollup"),
    [
        ("Europe/Berlin", None, None, True),  # whole-hour offsets, and a DST change inside
        ("Europe/Berlin", "2026-03-28T20:00:00+00:00", "2026-03-29T05:00:00+00:00", True),
        ("Europe/Berlin", "2026-03-28T20:30:00+00:00", None, False),  # a window off the hour
        ("Asia/Kolkata", None, None, False),  # +05:30: hours straddle local midnights
        ("Asia/Kolkata", "2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+00:00", False),
    ],
)
def test_rollup_and_turns_give_the_same_sums_per_local_day(
    home: Path, zone: str, since: str | None, until: str | None, rollup: bool
) -> None:
    f = Filters(
        tz=ZoneInfo(zone), timezone=zone, since_ms=since and _ms(since), until_ms=until and _ms(until)
    )
    archive = Archive.in_home(home, readonly=True)
    try:
        state = archive.state()
        assert state["rollup"] == state["session_hours"] == "ok"
        chosen, sums = _day_sums(archive, f, state)
        forced, from_turns = _day_sums(archive, f, {**state, "rollup": "stale"})
    finally:
        archive.close()
    assert (chosen, forced) == (rollup, False)
    assert sums == from_turns
    assert {d: (o, n) for d, (o, n, _c) in sums.items()} == _oracle(zone, since, until)
    assert all(c is not None and c > 0 for _o, _n, c in sums.values())


def test_offset_changes_are_found_on_the_exact_second() -> None:
    lo, hi = _ms("2026-03-28T18:10:00.123+00:00"), _ms("2026-03-30T18:10:00.456+00:00")
    assert offset_periods(ZoneInfo("Europe/Berlin"), lo, hi) == [
        (lo, 3_600_000),
        (_ms("2026-03-29T01:00:00+00:00"), 7_200_000),  # not up to a second later: on the hour
    ]


def test_summary_days_across_the_dst_change_add_up_on_both_paths(home: Path) -> None:
    f = Filters(tz=ZoneInfo("Europe/Berlin"), timezone="Europe/Berlin")
    archive = Archive.in_home(home, readonly=True)
    try:
        days = {r["day"]: (r["output"], r["turns"]) for r in summarize(archive, f)["by_day"]}
    finally:
        archive.close()
    assert days == _oracle("Europe/Berlin")
    assert days["2026-03-29"][1] == 3 * 23  # the 23-hour day: 69 turns every 20 minutes


# -- the public plugin API ---------------------------------------------------------------------------

PUBLIC = ("burn.exporter", "burn.query", "burn.records", "burn.reader", "burn.readkit", "burn.store")


def test_exporter_plugins_import_only_the_public_plugin_api_and_no_other_plugin() -> None:
    bad = []
    for path in sorted((ROOT / "plugins").glob("burn_export_*/*.py")):
        own = path.parent.name
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                top = name.split(".")[0]
                if name == "burn" or name.startswith(PUBLIC) or top == own:
                    continue
                if top == "burn" or top.startswith("burn_"):
                    bad.append(f"{path.relative_to(ROOT)}: {name}")
    assert bad == []


def test_machine_filter_takes_a_key_a_prefix_or_this_hosts_label(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--machine``: a key, 8+ hex digits of one (with or without ``sha256:``), or this host's
    RELAYBURN_MACHINE_LABEL; anything else, or a prefix two machines share, is one usage error."""
    import sqlite3

    from burn.errors import UsageError
    from burn.privacy.identity import machine_key
    from burn.query.filters import resolve_machines

    secret = bytes(32)
    own = machine_key(secret)
    a, b = "sha256:" + "ab12cd34" + "0" * 56, "sha256:" + "ab12cd34" + "1" * 56
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE turns (machine TEXT)")
    db.executemany("INSERT INTO turns VALUES (?)", [(a,), (b,), (own,)])
    assert resolve_machines(db, [a], secret) == [a]
    assert resolve_machines(db, ["ab12cd341"], secret) == [b]
    assert resolve_machines(db, ["sha256:ab12cd340"], secret) == [a]
    monkeypatch.setenv("RELAYBURN_MACHINE_LABEL", "runner-3")
    assert resolve_machines(db, ["runner-3"], secret) == [own]
    with pytest.raises(UsageError, match="matches 2 machines"):
        resolve_machines(db, ["ab12cd34"], secret)
    with pytest.raises(UsageError, match="no machine matches 'ab12'"):
        resolve_machines(db, ["ab12"], secret)  # too short to be a prefix
