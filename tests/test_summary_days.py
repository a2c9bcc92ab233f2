"""Local days computed in SQL agree with Python's zoneinfo, across daylight-saving transitions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from burn.query.summary import day_sql

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns"]  # fmt: skip
LO = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
HI = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp() * 1000)


def sql_day(zone: str, ms: int, lo: int, hi: int) -> str:
    db = sqlite3.connect(":memory:")
    expr = day_sql(ZoneInfo(zone), lo, hi, column="?1")
    return str(db.execute(f"SELECT {expr}", (ms,)).fetchone()[0])


@settings(max_examples=300)
@given(zone=st.sampled_from(ZONES), ms=st.integers(LO, HI))
def test_day_sql_matches_zoneinfo(zone: str, ms: int) -> None:
    expected = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone)).date().isoformat()
    assert sql_day(zone, ms, LO, HI) == expected


def test_berlin_transitions_at_local_midnight_edges() -> None:
    cases = {
        "2026-03-28T22:59:59Z": "2026-03-28",  # 23:59:59 CET
        "2026-03-28T23:00:00Z": "2026-03-29",  # 00:00 CET, the day DST starts
        "2026-10-24T21:59:59Z": "2026-10-24",  # 23:59:59 CEST
        "2026-10-24T22:00:00Z": "2026-10-25",  # 00:00 CEST, the day DST ends
        "2026-10-25T22:59:59Z": "2026-10-25",  # 23:59:59 CET
    }
    for ts, day in cases.items():
        ms = int(datetime.fromisoformat(ts).timestamp() * 1000)
        assert sql_day("Europe/Berlin", ms, LO, HI) == day, ts
