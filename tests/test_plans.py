"""``burn plans``: billing periods and projections, worked out by hand (issue 18)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from burn.archive.database import Archive
from burn.cli.app import main
from burn.cli.plans import document, rows
from burn.contract import schemas
from burn.query.plans import period
from tests.claude_lines import assistant, claude_only_env, write_session

UTC_Z = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def test_period_boundary_starts_the_new_period_at_local_midnight() -> None:
    # Reset day 15: 14 March 23:59 UTC is still the period from 15 February …
    s, e = period(15, UTC_Z, datetime(2026, 3, 14, 23, 59, tzinfo=UTC))
    assert (s.date().isoformat(), e.date().isoformat()) == ("2026-02-15", "2026-03-15")
    # … and 15 March 00:00 starts the next one.
    s, e = period(15, UTC_Z, datetime(2026, 3, 15, 0, 0, tzinfo=UTC))
    assert (s.date().isoformat(), e.date().isoformat()) == ("2026-03-15", "2026-04-15")


def test_reset_day_31_in_a_30_day_month_is_its_last_day() -> None:
    s, e = period(31, UTC_Z, datetime(2026, 4, 30, 12, tzinfo=UTC))
    assert (s.date().isoformat(), e.date().isoformat()) == ("2026-04-30", "2026-05-31")
    s, e = period(31, UTC_Z, datetime(2026, 4, 29, 12, tzinfo=UTC))
    assert (s.date().isoformat(), e.date().isoformat()) == ("2026-03-31", "2026-04-30")
    s, _ = period(31, UTC_Z, datetime(2026, 2, 28, 1, tzinfo=UTC))  # and February's 28th
    assert s.date().isoformat() == "2026-02-28"


def test_time_zone_decides_which_period_an_instant_is_in() -> None:
    # 31 March 22:30 UTC is already 1 April 00:30 in Berlin (UTC+2 after the DST change).
    at = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert period(1, UTC_Z, at)[0].date().isoformat() == "2026-03-01"
    s, _ = period(1, BERLIN, at)
    assert s.isoformat() == "2026-04-01T00:00:00+02:00"


PLANS = """
[[plan]]
name = "tokens"
kind = "budget"
budget_tokens = 5000
reset_day = 1
timezone = "UTC"
sources = ["claude-code"]

[[plan]]
name = "max"
kind = "subscription"
price_usd = "200"
reset_day = 1
timezone = "UTC"
models = ["claude-sonnet-*"]

[[plan]]
name = "other"
budget_usd = "1.50"
models = ["gpt-*"]
timezone = "UTC"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two turns in March 2026 (1 000 tokens each: 3 input + 797 output + 200 cache write), one
    in February (outside the period)."""
    config = tmp_path / "claude"
    lines = [
        assistant(f"m{i}", 797, ts=ts, cache_read=0, cache_1h=200)
        for i, ts in enumerate(
            ["2026-02-20T10:00:00.000Z", "2026-03-02T10:00:00.000Z", "2026-03-03T10:00:00.000Z"]
        )
    ]
    write_session(config, lines)
    home = claude_only_env(tmp_path, monkeypatch, config)
    assert main(["ingest", "--quiet"]) == 0
    (home / "plans.toml").write_text(PLANS)
    return home


NOW = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)  # 4 of March's 31 days elapsed


def test_projection_and_run_out_day(home: Path) -> None:
    found, _ = rows(home, NOW)
    tokens, sub, other = found
    assert tokens["period"] == {"start": "2026-03-01T00:00:00.000Z", "end": "2026-04-01T00:00:00.000Z",
                                "days": 31.0, "elapsed_days": 4.0}  # fmt: skip
    assert (tokens["turns"], tokens["tokens"]) == (2, 2000)
    assert tokens["daily"]["tokens"] == 500  # 2000 / 4 days
    assert tokens["projection"]["tokens"] == 2000 + 500 * 27  # 15 500
    assert tokens["budget"] == {"unit": "tokens", "limit": 5000, "used": 2000, "share": 0.4,
                                "projected_share": 3.1}  # fmt: skip
    # 3 000 tokens left at 500 a day: 6 days after 5 March.
    assert (tokens["over_budget"], tokens["runs_out_on"]) == (True, "2026-03-11")
    db = Archive.in_home(home, readonly=True)
    march = db.db.execute("SELECT SUM(cost_usd_micros) FROM turns WHERE ts_ms >= 1772323200000").fetchone()[0]
    db.close()
    assert sub["cost_usd_micros"] == march
    assert sub["value_ratio"] == round(march / 200_000_000, 4)
    assert sub["budget"] is None and sub["over_budget"] is False
    assert (other["turns"], other["cost_usd_micros"], other["over_budget"]) == (0, None, False)


def test_contract_and_check(home: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    data = document(home, NOW, "ndjson")
    surface, _, problems = schemas.validate_bytes(data)
    assert (surface, problems) == ("plans", [])
    assert orjson.loads(data.splitlines()[0])["contract"] == "burn.plans"
    capfdbinary.readouterr()
    # Today (after March 2026) the February/March turns are outside the period: nothing is over.
    assert main(["plans", "check"]) == 0
    assert main(["plans"]) == 0
    assert "tokens" in capfdbinary.readouterr().out.decode()


def test_check_exits_1_with_a_line_per_plan_over(home: Path, capfdbinary: pytest.CaptureFixture[bytes],
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import burn.cli.plans as cli

    monkeypatch.setattr(cli, "datetime", _Frozen)
    capfdbinary.readouterr()
    assert main(["plans", "check"]) == 1
    out = capfdbinary.readouterr().out.decode().splitlines()
    assert out == ["tokens: projected 310.0% of its budget by 2026-04-01 (runs out on 2026-03-11)"]


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: object = None) -> _Frozen:  # type: ignore[override]
        return cls(2026, 3, 5, 0, 0, tzinfo=UTC)


def test_a_bad_plans_file_is_one_line(home: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    (home / "plans.toml").write_text(
        '[[plan]]\nname = "x"\nkind = "budget"\nreset_day = 32\nbudget_usd = "1"\n'
    )
    capfdbinary.readouterr()
    assert main(["plans"]) == 2
    err = capfdbinary.readouterr().err.decode()
    assert err == "burn: error: plans.toml: plan 'x': reset_day must be a whole number from 1 to 31\n"


def test_at_reads_the_plans_as_they_stood(home: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    capfdbinary.readouterr()
    assert main(["plans", "check", "--at", "2026-03-05T00:00:00Z"]) == 1
    out = capfdbinary.readouterr().out.decode().splitlines()
    assert out == ["tokens: projected 310.0% of its budget by 2026-04-01 (runs out on 2026-03-11)"]
    assert main(["plans", "--json", "--at", "2026-03-05T00:00:00Z"]) == 0
    doc = orjson.loads(capfdbinary.readouterr().out)
    assert [r["as_of"] for r in doc["rows"]] == ["2026-03-05T00:00:00.000Z"] * 3
    assert doc["rows"][0]["budget"]["used"] == 2000
    # The document itself is written now, not at --at.
    assert doc["meta"]["generated_at"] > "2026-03-05"
    assert main(["plans", "--at", "soon"]) == 2
    assert capfdbinary.readouterr().err.decode().startswith("burn: error: --at: cannot read 'soon'")


KOLKATA = '[[plan]]\nname = "ist"\nbudget_tokens = 10000\nreset_day = 3\ntimezone = "Asia/Kolkata"\n'


def test_usage_is_counted_up_to_as_of_from_the_rollup_and_the_partial_hours(home: Path) -> None:
    # A third March turn at 10:20, in the hour of the instants asked about below.
    write_session(home.parent / "claude", [assistant("m9", 797, ts="2026-03-03T10:20:00.000Z", cache_read=0,
                                                     cache_1h=200)], session="99999999-9999-4999-8999-999999999999")  # fmt: skip
    assert main(["ingest", "--quiet"]) == 0
    at = datetime(2026, 3, 3, 10, 10, tzinfo=UTC)
    assert rows(home, at)[0][0]["turns"] == 2  # the "tokens" plan: 10:20 is after as_of
    assert rows(home, datetime(2026, 3, 3, 10, 30, tzinfo=UTC))[0][0]["turns"] == 3
    # Asia/Kolkata's midnight is 18:30 UTC: the period of 3 March starts mid-hour on the 2nd.
    (home / "plans.toml").write_text(KOLKATA)
    archive = Archive.in_home(home, readonly=True)
    statements: list[str] = []
    archive.db.set_trace_callback(statements.append)
    from burn.query.plans import load, statuses

    (ist,) = statuses(archive, load(home), datetime(2026, 3, 3, 10, 30, tzinfo=UTC))
    archive.db.set_trace_callback(None)
    assert ist["period"]["start"] == "2026-03-02T18:30:00.000Z"
    assert (ist["turns"], ist["tokens"]) == (2, 2000)  # 3 March 10:00 and 10:20 UTC
    plans = [" | ".join(r[3] for r in archive.db.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in statements]
    archive.close()
    # Whole hours from usage_hourly; turns only through the time index, for the two partial hours.
    assert any("usage_hourly" in p for p in plans)
    assert not [p for p in plans if re.search(r"\bSCAN (t|turns)\b", p)], plans


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[plan]]\nname = "x"\nbudget_usd = 5\nreset-day = 3\n',
         "plans.toml: plan 'x': unknown key 'reset-day' (keys: name, kind, price_usd, budget_usd, "
         "budget_tokens, reset_day, timezone, sources, models)"),
        ('[[plan]]\nname = "x"\nbudget_usd = 5\nbudget_tokens = 9\n',
         "plans.toml: plan 'x': give budget_usd or budget_tokens, not both"),
        ('[plans]\nname = "x"\n', "declare plans as [[plan]] tables"),
        ('[[plan]]\nname = "x"\nprice_usd = "a lot"\n', "plans.toml: plan 'x': 'a lot' is not an amount of dollars"),
        ('[[plan]]\nname = "x"\nbudget_usd = 1\ntimezone = "Mars/Olympus"\n',
         "plans.toml: plan 'x': unknown timezone 'Mars/Olympus'"),
    ],
)  # fmt: skip
def test_mistakes_in_plans_toml_are_named(home: Path, capfdbinary: pytest.CaptureFixture[bytes], toml: str,
                                          message: str) -> None:  # fmt: skip
    (home / "plans.toml").write_text(toml)
    capfdbinary.readouterr()
    assert main(["plans", "check"]) == 2
    err = capfdbinary.readouterr().err.decode()
    assert err.startswith("burn: error: ") and err.rstrip("\n").endswith(message) and err.count("\n") == 1


def test_the_example_in_docs_plans_md_loads(tmp_path: Path) -> None:
    from burn.query.plans import load

    text = (Path(__file__).resolve().parents[1] / "docs" / "plans.md").read_text(encoding="utf-8")
    (tmp_path / "plans.toml").write_text(re.findall(r"```toml\n(.*?)```", text, flags=re.S)[0])
    found = {p.name: p for p in load(tmp_path)}
    assert list(found) == ["Claude Max", "ChatGPT Pro", "Anthropic API", "opus tokens"]
    assert found["ChatGPT Pro"].reset_day == 31 and found["ChatGPT Pro"].budget_micros == 1_500_000_000
    assert found["Anthropic API"].budget_micros == 750_500_000 and found["opus tokens"].kind == "budget"


def test_the_table_shows_periods_in_the_plans_zone(
    home: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    # Reset on the 15th in Berlin: the period starts 14 February 23:00 UTC, shown as the 15th.
    (home / "plans.toml").write_text(
        '[[plan]]\nname = "b"\nbudget_tokens = 100\nreset_day = 15\ntimezone = "Europe/Berlin"\n'
    )
    capfdbinary.readouterr()
    assert main(["plans", "--no-color", "--at", "2026-03-05T00:00:00Z"]) == 0
    assert "2026-02-15 → 2026-03-15" in capfdbinary.readouterr().out.decode()
    assert main(["plans", "check", "--at", "2026-03-05T00:00:00Z"]) == 1
    # 3 000 tokens (20 Feb, 2 and 3 March) in 18 days 1 hour; 9 days 23 hours left at 166.3 a day:
    # 3 000 + 1 656 = 4 656 tokens, 46.56 times the budget, already used up on 5 March (Berlin).
    out = capfdbinary.readouterr().out.decode()
    assert out == "b: projected 4656.0% of its budget by 2026-03-15 (runs out on 2026-03-05)\n"
