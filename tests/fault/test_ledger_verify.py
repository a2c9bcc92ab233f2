"""Issue 11, finding 7: a ledger line corrupted after its source's cursor was saved dropped that
record from the ledger while the archive kept it, and ``doctor`` said "up to date"."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.fault.harness import burn, corpus_env, outcome


def _garble_a_turn_line(ledger: Path) -> int:
    """Overwrite bytes inside the first turn line (same length, so offsets hold); its offset."""
    data = bytearray(ledger.read_bytes())
    offset = data.index(b'{"v":1,"kind":"turn"')
    data[offset + 5 : offset + 15] = b"\x00garbage\xff\xfe"
    ledger.write_bytes(bytes(data))
    return offset


def test_ledger_verify_finds_and_repairs_a_corrupted_line(corpus: Path, tmp_path: Path) -> None:
    env = corpus_env(corpus, tmp_path, "damaged")
    solo = corpus_env(corpus, tmp_path, "solo")
    assert burn(env, "ingest", "--quiet").returncode == 0
    assert burn(solo, "ingest", "--quiet").returncode == 0
    expected = outcome(solo)
    home = Path(env["RELAYBURN_HOME"])
    clean = burn(env, "ledger", "verify", "--json")
    assert clean.returncode == 0 and orjson.loads(clean.stdout)["ok"] is True

    offset = _garble_a_turn_line(home / "ledger.jsonl")
    # The lost record: the ledger no longer yields it; an ingest finds nothing to read again.
    assert len(outcome(env).ids) == len(expected.ids) - 1
    assert burn(env, "ingest", "--quiet").returncode == 0
    assert len(outcome(env).ids) == len(expected.ids) - 1

    found = burn(env, "ledger", "verify", "--json")
    assert found.returncode == 1
    report = orjson.loads(found.stdout)
    assert [(d["offset"], d["reason"]) for d in report["damaged"]] == [(offset, "invalid_json")]
    text = burn(env, "ledger", "verify")
    assert text.returncode == 1 and b"run `burn ledger verify --repair`" in text.stdout
    doctor = orjson.loads(burn(env, "doctor", "--json").stdout)
    assert doctor["archive"]["ledger_damaged"] == 1
    assert "ledger_damaged" in [f["code"] for f in doctor["findings"]]

    repaired = burn(env, "ledger", "verify", "--repair", "--json")
    assert repaired.returncode == 0, repaired.stderr
    data = orjson.loads(repaired.stdout)
    assert (data["ok"], data["restored"], len(data["repaired"])) == (True, 1, 1)
    assert outcome(env) == expected  # the ids, the archive and the export all back
    again = burn(env, "ledger", "verify", "--json")
    assert again.returncode == 0 and orjson.loads(again.stdout)["damaged"] == []
    doctor = orjson.loads(burn(env, "doctor", "--json").stdout)
    assert doctor["archive"]["ledger_damaged"] == 0
    # A rebuild from the repaired ledger gives the uninterrupted archive too.
    assert burn(env, "archive", "rebuild").returncode == 0
    assert outcome(env) == expected
    # Repairing an intact ledger does nothing.
    noop = burn(env, "ledger", "verify", "--repair", "--json")
    assert noop.returncode == 0 and orjson.loads(noop.stdout)["restored"] is None


def test_ledger_verify_reports_a_torn_tail(tmp_path: Path, isolated_env: dict[str, Path]) -> None:
    import os

    home = Path(os.environ["RELAYBURN_HOME"])
    (home / "ledger.jsonl").write_bytes(b'{"v":1,"kind":"turn","id":"x","record":{}}\n{"v":1,"ki')
    done = burn(dict(os.environ), "ledger", "verify", "--json")
    assert done.returncode == 1
    assert [d["reason"] for d in orjson.loads(done.stdout)["damaged"]] == ["torn_tail"]
