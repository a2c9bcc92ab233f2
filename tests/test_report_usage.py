"""``burn report usage|daily|weekly|monthly``: buckets, breakdowns and totals agree with the
summary and with each other."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from burn.archive.database import Archive
from burn.query import Filters
from burn.query.summary import summarize
from burn.query.timewindow import resolve_timezone
from tests.contract_fixture import build_fixture, copy_home, parse, rows_of, run, validate


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("usage"))


@pytest.fixture(scope="module")
def summary(home: Path) -> dict[str, Any]:
    archive = Archive.in_home(home, readonly=True)
    try:
        tz, name = resolve_timezone("Europe/Berlin")
        return summarize(archive, Filters(tz=tz, timezone=name))
    finally:
        archive.close()


@pytest.mark.parametrize("by", ["day", "week", "month", "session", "model", "project"])
def test_rows_add_up_to_the_totals_and_the_summary(home: Path, summary: dict[str, Any], by: str) -> None:
    data = run(home, "report", ["usage", "--by", by, "--timezone", "Europe/Berlin"])
    validate(data, "usage")
    doc = parse(data)
    rows, totals = doc["rows"], doc["totals"]
    assert totals["cost"]["total_usd_micros"] == summary["totals"]["cost_usd_micros"]
    assert totals["turns"] == summary["totals"]["turns"]
    assert totals["sessions"] == summary["totals"]["sessions"]
    assert sum(r["cost"]["total_usd_micros"] for r in rows) == totals["cost"]["total_usd_micros"]
    assert sum(r["turns"] for r in rows) == totals["turns"]
    for r in rows:
        for name in ("by_model", "by_project", "by_source"):
            assert sum(b["turns"] for b in r[name]) == r["turns"]
            assert sum(b["cost"]["total_usd_micros"] for b in r[name]) == r["cost"]["total_usd_micros"]
        assert r["models"] == [b["model"] for b in r["by_model"]]
    for field in ("input", "output", "cache_read"):
        assert totals["tokens"][field] == summary["totals"][field]


def test_daily_rows_are_local_days(home: Path, summary: dict[str, Any]) -> None:
    rows = rows_of(run(home, "report", ["daily", "--timezone", "Europe/Berlin"]))
    assert [r["key"] for r in rows] == [d["day"] for d in summary["by_day"]]
    first = rows[0]
    assert first["by"] == "day" and first["start"].endswith("T23:00:00.000Z")  # local midnight, UTC+1
    assert [r["cost"]["total_usd_micros"] for r in rows] == [d["cost_usd_micros"] for d in summary["by_day"]]


def test_weeks_and_months(home: Path) -> None:
    weeks = rows_of(run(home, "report", ["weekly", "--timezone", "UTC"]))
    assert [w["key"] for w in weeks] == ["2026-W10"]
    assert weeks[0]["start"] == "2026-03-02T00:00:00.000Z" and weeks[0]["end"] == "2026-03-09T00:00:00.000Z"
    months = rows_of(run(home, "report", ["monthly", "--timezone", "UTC"]))
    assert [(m["key"], m["start"], m["end"]) for m in months] == [
        ("2026-03", "2026-03-01T00:00:00.000Z", "2026-04-01T00:00:00.000Z")
    ]


def test_session_and_project_keys_follow_the_profile(home: Path) -> None:
    rows = rows_of(run(home, "report", ["usage", "--by", "session", "--identity", "anonymous"]))
    assert len(rows) == 8 and all(r["key"].startswith("hmac-sha256:") and r["source"] for r in rows)
    rows = rows_of(run(home, "report", ["usage", "--by", "project", "--identity", "anonymous"]))
    assert all(r["key"].startswith("hmac-sha256:") for r in rows)


def test_an_empty_window_has_empty_rows_and_breakdowns(home: Path) -> None:
    data = run(home, "report", ["daily", "--since", "2030-01-01", "--until", "2030-01-02"])
    validate(data, "usage")
    doc = parse(data)
    assert doc["rows"] == [] and doc["count"] == 0
    t = doc["totals"]
    assert t["by_model"] == t["by_project"] == t["by_source"] == [] and t["cost"]["total_usd_micros"] is None


def test_filters_narrow_the_rows(home: Path) -> None:
    doc = parse(run(home, "report", ["usage", "--by", "model", "--source", "codex"]))
    assert [r["key"] for r in doc["rows"]] == ["gpt-5-codex", "gpt-5-codex-mini"]
    assert set(doc["meta"]["pricing"]["models"]) == {"gpt-5-codex", "gpt-5-codex-mini"}


@pytest.fixture(scope="module")
def turns_home(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture archive with its rollups marked stale: reports answer from ``turns``."""
    copy = copy_home(home, tmp_path_factory.mktemp("stale") / "burn")
    db = sqlite3.connect(copy / "archive.sqlite")
    db.execute("UPDATE archive_state SET value = 'stale' WHERE key IN ('rollup', 'session_hours')")
    db.commit()
    db.close()
    return copy


@pytest.mark.parametrize("by", ["day", "week", "month", "session", "model", "project"])
@pytest.mark.parametrize(
    "extra",
    [
        ["--timezone", "Europe/Berlin"],
        ["--timezone", "America/New_York", "--identity", "anonymous"],
        ["--timezone", "UTC", "--since", "2026-03-02", "--source", "claude-code"],
    ],
)
def test_the_rollups_and_turns_give_the_same_document(
    home: Path, turns_home: Path, by: str, extra: list[str]
) -> None:
    argv = ["usage", "--by", by, "--format", "json", *extra]
    assert run(home, "report", argv) == run(turns_home, "report", argv)
