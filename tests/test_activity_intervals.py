"""Issue 17 activity contract: per-session intervals and the partial first/last bucket flags,
through the real ingest, archive and ``burn report activity``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from burn.cli.app import main
from tests.test_codex_reader import context, env_for, meta, rollout, tokens, usage

SID = "ac7a0000-0000-4000-8000-00000000000a"


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    codex = tmp_path / "codex"
    # turns at 10:00:02, 10:01:02, 10:16:40, 10:17:10 (a pause over the 5-minute cap between 2 and 3)
    turns = [tokens(s, total=usage(100 * k, 0, 10 * k)) for k, s in enumerate((2, 62, 1000, 1030), 1)]
    rollout(codex, meta(SID), context("gpt-5-codex", 1), *turns, sid=SID)
    for k, v in env_for(tmp_path, codex).items():
        monkeypatch.setenv(k, v)
    assert main(["ingest", "--quiet"]) == 0
    capsys.readouterr()

    def run(since: str, until: str) -> dict[str, Any]:
        assert main(["report", "activity", "--json", "-z", "UTC", "--bucket", "1h", "--since", since,
                     "--until", until]) == 0  # fmt: skip
        doc: dict[str, Any] = orjson.loads(capsys.readouterr().out)
        return doc

    return run


def test_intervals_add_up_to_agent_seconds(report: Any) -> None:
    doc = report("2026-04-01T10:00:00Z", "2026-04-01T11:00:00Z")
    (s,) = doc["by_session"]
    assert s["intervals"] == [
        {"start": "2026-04-01T10:00:02Z", "end": "2026-04-01T10:06:02Z", "active_seconds": 360},
        {"start": "2026-04-01T10:16:40Z", "end": "2026-04-01T10:17:10Z", "active_seconds": 30},
    ]
    assert sum(i["active_seconds"] for i in s["intervals"]) == s["agent_seconds"] == 390
    r = doc["range"]
    assert (r["partial_start"], r["partial_end"]) == (False, False)
    assert [b["partial"] for b in doc["rows"]] == [False]


def test_a_range_that_cuts_its_buckets_says_so(report: Any) -> None:
    doc = report("2026-04-01T10:00:30Z", "2026-04-01T10:30:00Z")
    r = doc["range"]
    # the buckets stay whole (10:00–11:00), and the document now says the range cut them
    assert (r["start"], r["end"]) == ("2026-04-01T10:00:00Z", "2026-04-01T11:00:00Z")
    assert (r["requested_start"], r["requested_end"]) == ("2026-04-01T10:00:30Z", "2026-04-01T10:30:00Z")
    assert (r["partial_start"], r["partial_end"]) == (True, True)
    assert [b["partial"] for b in doc["rows"]] == [True]
