"""Snapshots of the CLI's shape (syrupy): ``burn --help``, a few command helps, and tables at 60
and 100 columns on the contract fixture. A change to any of them shows up as a snapshot diff to
review; update with ``pytest tests/test_cli_snapshots.py --snapshot-update``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from burn.cli.app import main
from tests.contract_fixture import build_fixture


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("snapshots"))


@pytest.fixture
def burn(home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("RELAYBURN_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    def run(columns: int, *argv: str) -> str:
        monkeypatch.setenv("COLUMNS", str(columns))
        assert main(list(argv)) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    return run


@pytest.mark.parametrize(
    "argv",
    [[], ["ingest"], ["daily"], ["session"], ["blocks"], ["export", "sessions"], ["store", "copy"]],
    ids=lambda a: "-".join(a) or "burn",
)
def test_help(burn: Any, snapshot: Any, argv: list[str]) -> None:
    assert burn(100, *argv, "--help") == snapshot


@pytest.mark.parametrize("columns", [60, 100])
@pytest.mark.parametrize(
    "argv",
    [["daily", "-z", "UTC"], ["daily", "-z", "UTC", "--breakdown"], ["session", "-z", "UTC"]],
    ids=lambda a: "-".join(a),
)
def test_table(burn: Any, snapshot: Any, argv: list[str], columns: int) -> None:
    assert burn(columns, *argv) == snapshot
