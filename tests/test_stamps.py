"""Stamps (issue 17): ``burn stamp`` and ``RELAYBURN_STAMP_*`` → ledger ``stamp`` records → the
sessions' stamp columns → report groupings and filters, through the real CLI, ledger and archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from burn.cli.app import main
from tests.test_codex_reader import context, env_for, meta, rollout, tokens, usage

A = "57a00000-0000-4000-8000-00000000000a"
B = "57a00000-0000-4000-8000-00000000000b"


@pytest.fixture
def burn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    codex = tmp_path / "codex"
    for sid, second, out in ((A, 0, 10), (B, 30, 20)):
        rollout(codex, meta(sid, second, cwd=f"/work/{sid[-1]}"), context("gpt-5-codex", second + 1),
                tokens(second + 2, total=usage(100, 0, out)), sid=sid)  # fmt: skip
    for k, v in env_for(tmp_path, codex).items():
        monkeypatch.setenv(k, v)

    def run(*argv: str, code: int = 0) -> Any:
        got = main(list(argv))
        out, err = capsys.readouterr()
        assert got == code, err
        return orjson.loads(out) if "--json" in argv else (out + err)

    return run


def _by(burn: Any, field: str, *extra: str) -> dict[Any, int]:
    doc = burn("report", "usage", "--by", field, "--json", *extra)
    return {r["key"]: r["tokens"]["output"] for r in doc["rows"]}


def test_stamp_ingest_report_round_trip(burn: Any) -> None:
    # stamped before the session is ingested: the stamp waits in the ledger
    assert "stamped" in burn("stamp", A, "--workflow", "wf-a", "--agent", "reviewer")
    burn("ingest", "--quiet")
    assert _by(burn, "workflow") == {"wf-a": 10, None: 20}
    assert _by(burn, "agent") == {"reviewer": 10, None: 20}
    # a later stamp supersedes the workflow and leaves the agent it does not set
    burn("stamp", A, "--workflow", "wf-b", "--tier", "gold")
    assert _by(burn, "workflow") == {"wf-b": 10, None: 20}
    rows = burn("export", "sessions", "--all", "--json", "--workflow", "wf-b")["rows"]
    assert [(r["session_id"], r["stamps"]) for r in rows] == [
        (A, {"workflow": "wf-b", "agent": "reviewer", "persona": None, "tier": "gold"})
    ]
    doc = burn("report", "usage", "--by", "day", "--json", "--agent", "reviewer")
    assert doc["totals"]["tokens"]["output"] == 10
    assert sum(r["tokens"]["output"] for r in doc["rows"]) == 10
    assert doc["meta"]["filters"]["stamps"] == {"agent": ["reviewer"]}
    # a rebuilt archive gives the same stamps (they live in the ledger)
    burn("archive", "rebuild")
    assert _by(burn, "workflow") == {"wf-b": 10, None: 20}


def test_env_stamps_the_matching_sessions_of_the_run(burn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYBURN_STAMP_WORKFLOW", "nightly")
    monkeypatch.setenv("RELAYBURN_STAMP_PERSONA", "ci")
    monkeypatch.setenv("RELAYBURN_STAMP_MATCH", "/work/b")
    burn("ingest", "--quiet")
    assert _by(burn, "workflow") == {None: 10, "nightly": 20}
    assert _by(burn, "persona", "--persona", "ci") == {"ci": 20}


def test_bad_stamps_are_one_line_usage_errors(burn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "give at least one of" in burn("stamp", A, code=2)
    assert "1–200 printable characters" in burn("stamp", A, "--workflow", " ", code=2)
    monkeypatch.setenv("RELAYBURN_STAMP_TIER", "x" * 201)
    err = burn("ingest", "--quiet", code=2)
    assert "RELAYBURN_STAMP_TIER" in err and "Traceback" not in err
