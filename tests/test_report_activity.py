"""``burn report activity``: intervals with capped gaps, local buckets, concurrency, rollups."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from burn.errors import UsageError
from burn_export_activity.timeline import GAP_CAP, boundaries, intervals, peak, split
from tests.contract_fixture import build_fixture, parse, run, validate


def s(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def test_gaps_are_capped_and_attributed_to_the_next_assistant_model() -> None:
    times = [0, 10, 1000, 1010, 1020]
    models = [None, "a", None, None, "b"]
    assert list(intervals(times, models)) == [(0, 10, "a"), (10, 10 + GAP_CAP, "b"), (1000, 1010, "b"),
                                              (1010, 1020, "b")]  # fmt: skip
    assert list(intervals([5], ["a"])) == []
    assert list(intervals([0, 10], [None, None])) == [(0, 10, None)]


def test_local_buckets_follow_daylight_saving() -> None:
    tz = ZoneInfo("Europe/Berlin")
    day = boundaries(s("2026-03-28T23:00:00"), s("2026-03-29T22:00:00"), "1h", tz)
    assert len(day) - 1 == 23  # the spring-forward day has 23 local hours
    days = boundaries(s("2026-03-28T23:00:00"), s("2026-03-30T22:00:00"), "1d", tz)
    assert [b - a for a, b in itertools.pairwise(days)] == [23 * 3600, 24 * 3600]
    widened = boundaries(s("2026-03-02T09:10:00"), s("2026-03-02T09:20:00"), "15m", ZoneInfo("UTC"))
    assert widened == [s("2026-03-02T09:00:00"), s("2026-03-02T09:15:00"), s("2026-03-02T09:30:00")]


def test_split_and_peak() -> None:
    bounds = [0, 100, 200]
    assert list(split(50, 150, bounds)) == [(0, 50, 100), (1, 100, 150)]
    assert peak([(0, 10), (10, 20)]) == (1, 0)  # back to back is not concurrent
    assert peak([(0, 10), (5, 20), (6, 7)]) == (3, 6)
    assert peak([]) == (0, None)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("activity"))


@pytest.mark.parametrize("bucket", ["15m", "1h", "1d"])
def test_buckets_rollups_and_totals_agree(home: Path, bucket: str) -> None:
    data = run(home, "report", ["activity", "--since", "2026-03-01", "--until", "2026-03-08",
                                "--timezone", "Europe/Berlin", "--bucket", bucket])  # fmt: skip
    validate(data, "activity")
    doc = parse(data)
    rows, totals = doc["rows"], doc["totals"]
    assert totals["agent_seconds"] > 0 and totals["turns"] == 31
    for key in ("agent_seconds", "turns", "output_tokens"):
        assert sum(r[key] for r in rows) == totals[key]
        for rollup in ("by_project", "by_model", "by_source", "by_session"):
            assert sum(r[key] for r in doc[rollup]) == totals[key], (key, rollup)
    assert sum(r["cost"]["total_usd_micros"] or 0 for r in rows) == totals["cost"]["total_usd_micros"]
    assert doc["peak"]["concurrency"] == max(r["peak_concurrency"] for r in rows) == 2
    assert doc["range"]["gap_cap_seconds"] == GAP_CAP


def test_activity_needs_a_range(home: Path) -> None:
    with pytest.raises(UsageError):
        run(home, "report", ["activity", "--since", "2026-03-05", "--until", "2026-03-01"])


def test_default_range_is_the_last_seven_days(home: Path) -> None:
    doc = parse(run(home, "report", ["activity", "--timezone", "UTC", "--bucket", "1d"]))
    assert doc["meta"]["filters"]["since"] == "2026-03-03T12:00:00.000Z"  # NOW - 7d
    assert doc["range"]["start"] == "2026-03-03T00:00:00Z" and len(doc["rows"]) == 8


def test_too_many_buckets_is_a_usage_error(home: Path) -> None:
    with pytest.raises(UsageError, match="buckets"):
        run(home, "report", ["activity", "--since", "2020-01-01", "--until", "2026-01-01", "--bucket", "15m"])
