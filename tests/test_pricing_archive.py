"""Costs in the archive and in reports: per-turn cost columns, re-pricing after a pricing change
without re-ingesting, ``burn summary`` with cost, ``burn pricing check``."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from burn.archive.database import Archive, rebuild
from burn.cli.app import main
from burn.ingest.run import ingest
from burn.ledger.file import FileStore
from burn.plugins.manager import Plugins
from burn.pricing.columns import COST_COLUMNS
from burn.pricing.load import load_pricing
from tests.claude_lines import assistant, user, write_session

SONNET = "claude-sonnet-4-5-20250929"


@pytest.fixture
def home(isolated_env: dict[str, Path]) -> Path:
    return isolated_env["RELAYBURN_HOME"]


def _ingest() -> None:
    env = dict(os.environ)
    ingest(Path(env["RELAYBURN_HOME"]), Plugins(env=env), env)


def _session(config: Path) -> None:
    # Defaults of claude_lines.assistant: input 3, cache_read 1,000, cache_write_1h 200.
    # sonnet 4.5: 3 x 3 + 1,000 x 0.3 + 200 x 6 = 1,509, plus 15 per output token.
    write_session(
        config,
        [
            user("u1", "hello"),
            assistant("msg_a", 100, ts="2026-03-01T10:00:00.000Z"),  # 1,509 + 1,500 = 3,009
            assistant("msg_b", 40, ts="2026-03-01T10:01:00.000Z", model="claude-opus-4-6"),
            # opus 4.6: 3 x 5 + 1,000 x 0.5 + 200 x 10 + 40 x 25 = 15 + 500 + 2,000 + 1,000 = 3,515
            assistant("msg_c", 10, ts="2026-03-01T10:02:00.000Z", model="big-pickle"),  # unpriced
            assistant("msg_d", 10, ts="2026-03-01T10:03:00.000Z", model="aide-gpt-5", costUSD=0.5),
            # fallback to gpt-5: 3 x 1.25 + 1,000 x 0.125 + 200 x 1.25 + 10 x 10 = 3.75 + 125 + 250 + 100
        ],
    )


def _turn_costs(home: Path) -> dict[str, dict[str, Any]]:
    db = sqlite3.connect(home / "archive.sqlite")
    db.row_factory = sqlite3.Row
    try:
        cols = ", ".join(name for name, _ in COST_COLUMNS)
        return {r["message_id"]: dict(r) for r in db.execute(f"SELECT message_id, {cols} FROM turns")}
    finally:
        db.close()


def _state(home: Path) -> dict[str, str]:
    a = Archive.in_home(home, readonly=True)
    try:
        return a.state()
    finally:
        a.close()


def test_turns_carry_their_cost_columns(isolated_env: dict[str, Path], home: Path) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    costs = _turn_costs(home)
    a, b, c, d = (costs[m] for m in ("msg_a", "msg_b", "msg_c", "msg_d"))
    assert (a["cost_usd_micros"], a["cost_source"], a["price_match"], a["price_model"]) == (
        3_009,
        "computed",
        "exact",
        SONNET,
    )
    assert (
        a["cost_input_micros"],
        a["cost_output_micros"],
        a["cost_cache_read_micros"],
        a["cost_cache_write_1h_micros"],
    ) == (9, 1_500, 300, 1_200)
    assert b["cost_usd_micros"] == 3_515
    assert (c["cost_usd_micros"], c["computed_cost_micros"], c["cost_source"], c["price_match"]) == (
        None,
        None,
        "none",
        "unpriced",
    )
    # 478.75 -> 479; the source's own 0.5 USD is kept beside it, totals use the computed cost
    assert (d["computed_cost_micros"], d["reported_cost_micros"], d["cost_usd_micros"]) == (479, 500_000, 479)
    assert (d["price_match"], d["price_model"]) == ("fallback", "gpt-5")
    for row in costs.values():
        if row["computed_cost_micros"] is not None:
            parts = [row[n] for n, _ in COST_COLUMNS[:6]]
            assert sum(parts) == row["computed_cost_micros"]
    st = _state(home)
    assert st["pricing_digest"] == load_pricing(home).digest and st["pricing_source"] == "bundled"


def test_override_change_reprices_the_archive_without_reingesting(
    isolated_env: dict[str, Path], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    ledger = (home / "ledger.jsonl").read_bytes()
    before = _turn_costs(home)
    (home / "pricing.json").write_text(
        json.dumps(
            {
                "models": {
                    SONNET: {"provider": "anthropic", "input": "1", "output": "2"},
                    "big-pickle": {"input": "10", "output": "20"},
                }
            }
        )
    )
    assert main(["archive", "build", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # Nothing re-read; only the turns of the two models whose rows changed are re-priced.
    assert out["entries"] == 0 and out["repriced"] == 2
    after = _turn_costs(home)
    # sonnet at 1 / 2 (cache read 0.1, 1h write 2): 3 + 100 x 2 + 1,000 x 0.1 + 200 x 2 = 703
    assert after["msg_a"]["cost_usd_micros"] == 703 and before["msg_a"]["cost_usd_micros"] == 3_009
    # big-pickle is priced now: 3 x 10 + 10 x 20 + 1,000 x 10 + 200 x 10 (generic defaults: input rate)
    assert (after["msg_c"]["cost_usd_micros"], after["msg_c"]["price_match"]) == (12_230, "exact")
    assert after["msg_b"] == before["msg_b"]
    assert (home / "ledger.jsonl").read_bytes() == ledger
    # Reports see the new costs (whatever they read: turns or a rollup of them).
    assert main(["summary", "--json"]) == 0
    total = json.loads(capsys.readouterr().out)["totals"]["cost_usd_micros"]
    assert total == sum(r["cost_usd_micros"] or 0 for r in after.values()) == 703 + 3_515 + 12_230 + 479
    st = _state(home)
    assert (st["pricing_source"], st["pricing_custom_rows"]) == ("bundled+override", "2")
    assert st["pricing_digest"] == load_pricing(home).digest
    # A second build with the same table re-prices nothing; removing the override restores the costs.
    assert main(["archive", "build", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["repriced"] == 0
    (home / "pricing.json").unlink()
    _ingest()
    assert _turn_costs(home) == before


@pytest.mark.parametrize(
    "overrides",
    [
        [{"big-pickle": {"input": "1", "output": "1"}}],
        # a row that a fallback match uses, then an exact row for the fallback id, then nothing
        [{"gpt-5": {"input": "9", "output": "9"}}, {"aide-gpt-5": {"input": "2", "output": "2"}}, None],
        [
            {
                "claude-opus-4-6": {
                    "provider": "anthropic",
                    "input": "5",
                    "output": "25",
                    "valid_from": "2027-01-01",
                }
            }
        ],
    ],
)
def test_selective_repricing_equals_a_rebuild(
    isolated_env: dict[str, Path], home: Path, overrides: list[dict[str, Any] | None]
) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    for models in overrides:
        if models is None:
            (home / "pricing.json").unlink()
        else:
            (home / "pricing.json").write_text(json.dumps({"models": models}))
        _ingest()  # re-priced in place, only the models whose rows changed
        a = Archive.in_home(home)
        digest = a.digest()
        a.close()
        fresh, _ = rebuild(home, FileStore(home))
        try:
            assert fresh.digest() == digest
        finally:
            fresh.close()


def test_valid_from_keeps_a_row_from_pricing_older_turns(isolated_env: dict[str, Path], home: Path) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])  # turns of 2026-03-01
    (home / "pricing.json").write_text(
        json.dumps(
            {"models": {"claude-opus-4-6": {"input": "5", "output": "25", "valid_from": "2026-03-02"}}}
        )
    )
    _ingest()
    b = _turn_costs(home)["msg_b"]
    assert (b["cost_usd_micros"], b["price_match"], b["cost_source"]) == (None, "unpriced", "none")


def test_an_archive_without_the_stored_table_is_fully_repriced(
    isolated_env: dict[str, Path], home: Path
) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    db = sqlite3.connect(home / "archive.sqlite")
    db.execute("DELETE FROM archive_state WHERE key = 'pricing_table_json'")
    db.execute("UPDATE archive_state SET value = 'sha256:old' WHERE key = 'pricing_digest'")
    db.execute("UPDATE turns SET cost_usd_micros = 1")  # stale values everywhere
    db.commit()
    db.close()
    a = Archive.in_home(home)
    try:
        assert a.build(FileStore(home)).repriced == 4
    finally:
        a.close()
    assert _turn_costs(home)["msg_a"]["cost_usd_micros"] == 3_009


def test_malformed_override_stops_the_build_with_one_line(
    isolated_env: dict[str, Path], home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    (home / "pricing.json").write_text('{"models": {"x": {"input": 1.5e-06}}}')
    assert main(["archive", "build"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "models.x: missing 'output'" in err


def test_summary_shows_cost_next_to_tokens(
    isolated_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    assert main(["summary", "--json", "--timezone", "UTC"]) == 0
    data = json.loads(capsys.readouterr().out)
    t = data["totals"]
    assert t["cost_usd_micros"] == 3_009 + 3_515 + 479
    assert (t["cost_source"], t["computed_usd_micros"], t["reported_usd_micros"]) == (
        "computed",
        7_003,
        500_000,
    )
    assert t["unpriced"] == {"turns": 1, "tokens": 3 + 10 + 1_000 + 200} and t["fallback_turns"] == 1
    by_model = {r["model"]: r for r in data["by_model"]}
    assert by_model["big-pickle"]["cost_usd_micros"] is None  # unknown, not $0
    assert by_model[SONNET]["cost_usd_micros"] == 3_009 and by_model[SONNET]["unpriced"]["turns"] == 0
    for group in ("by_source", "by_model", "by_day", "by_project"):
        assert sum(r["cost_usd_micros"] or 0 for r in data[group]) == t["cost_usd_micros"]
    meta = data["pricing"]
    assert meta["digest"] == load_pricing(isolated_env["RELAYBURN_HOME"]).digest and meta["stale"] is False
    assert (meta["source"], meta["cost_source"]) == ("bundled", "computed")
    assert meta["fallback"] == {"used": True, "models": ["aide-gpt-5"]} and meta["unpriced_models"] == [
        "big-pickle"
    ]
    assert meta["models"][SONNET]["cache_write_1h_per_mtok"] == "6"
    assert meta["models"][SONNET]["tiers"][0]["input_per_mtok"] == "6"
    assert meta["models"]["aide-gpt-5"]["matched"] == "gpt-5" and meta["models"]["big-pickle"] is None
    assert main(["summary", "--timezone", "UTC"]) == 0
    text = capsys.readouterr().out
    assert "cost $0.01 (computed)" in text  # 7,003 micro-USD: fixed cents, rounded half to even
    assert "1,213 tokens in 1 turns of unpriced models" in text
    assert " <$0.01 " in text  # the sonnet row: 3,009 micro-USD is priced, never shown as $0.00


def test_reported_costs_make_a_mixed_total(
    isolated_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    write_session(
        isolated_env["CLAUDE_CONFIG_DIR"],
        [
            assistant("msg_a", 100, model=SONNET),
            assistant("msg_b", 10, model="big-pickle", costUSD=0.0123),  # unpriced, reported
        ],
    )
    _ingest()
    assert main(["summary", "--json"]) == 0
    t = json.loads(capsys.readouterr().out)["totals"]
    assert (t["cost_usd_micros"], t["cost_source"]) == (3_009 + 12_300, "mixed")
    assert t["unpriced"]["turns"] == 1


def test_pricing_check_lists_unpriced_and_fallback_models_with_tokens(
    isolated_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    assert main(["pricing", "check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["turns"], r["tokens"], r["output"]) for r in data["unpriced"]] == [
        ("big-pickle", 1, 1_213, 10)
    ]
    assert [(r["model"], r["matched"], r["steps"]) for r in data["fallback"]] == [
        ("aide-gpt-5", "gpt-5", ["custom_prefix"])
    ]
    assert data["stale"] is False
    assert main(["pricing", "check"]) == 0
    text = capsys.readouterr().out
    assert "big-pickle" in text and "1,213" in text and "custom_prefix" in text
    # An override that prices big-pickle resolves it at once; the archive is then stale until a build.
    (isolated_env["RELAYBURN_HOME"] / "pricing.json").write_text(
        json.dumps({"models": {"big-pickle": {"input": "1", "output": "1"}}})
    )
    assert main(["pricing", "check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unpriced"] == [] and data["stale"] is True
    # Reports keep stating the digest behind their numbers, and say that it is not the current one.
    assert main(["summary", "--json"]) == 0
    meta = json.loads(capsys.readouterr().out)["pricing"]
    assert meta["stale"] is True and meta["digest"] != meta["effective_digest"] and "models" not in meta
    assert main(["summary"]) == 0
    assert "run `burn archive build` to re-price" in capsys.readouterr().out


def test_the_digest_of_unchanged_pricing_inputs_is_taken_from_the_archive(
    isolated_env: dict[str, Path], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report (or build) whose pricing inputs are those the archive was priced with takes the
    archive's digest instead of canonicalizing the table; any change to the inputs recomputes it."""
    import burn.pricing.load as load

    _session(isolated_env["CLAUDE_CONFIG_DIR"])
    _ingest()
    archive = Archive.in_home(home, readonly=True)
    state = archive.state()
    archive.close()
    computed = load_pricing(home).digest
    assert state["pricing_digest"] == computed

    def no_canonicalizing(table: Any) -> str:
        raise AssertionError("canonicalized the table")

    monkeypatch.setattr(load, "digest", no_canonicalizing)
    assert load_pricing(home, state).digest == computed
    assert main(["report", "daily", "--json", "--timezone", "UTC"]) == 0
    # An override written since: a different table, so its digest is computed, not taken.
    (home / "pricing.json").write_text(
        json.dumps({"models": {"x-model": {"provider": "x", "input": "1", "output": "2"}}})
    )
    with pytest.raises(AssertionError, match="canonicalized"):
        load_pricing(home, state)
    monkeypatch.undo()
    assert load_pricing(home, state).digest != computed


def test_turn_columns_read_every_usage_field_in_order() -> None:
    # turn_columns builds Usage positionally: the same as by field name, for every field.
    from burn.pricing.archive_cost import price_values, turn_columns
    from burn.records import USAGE_FIELDS, Usage

    pricing = load_pricing(Path("/nonexistent-burn-home"), {})
    for i, field in enumerate(USAGE_FIELDS):
        usage = {f: (j + 1) * 1000 for j, f in enumerate(USAGE_FIELDS) if j != i}
        record = {"model": "claude-sonnet-4-5", "usage": usage, "ts": "2026-01-01T00:00:00Z"}
        expected = price_values(pricing, "claude-sonnet-4-5", Usage(**usage), None, record["ts"], None)
        assert turn_columns(pricing, record) == expected, field
