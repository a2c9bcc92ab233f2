"""``burn export sessions --parquet FILE`` (issue 16): the Parquet file holds exactly the NDJSON
export's rows; a missing duckdb is one line naming the extra. Real CLI runs in subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.contract_fixture import build_fixture


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("parquet"))


def _burn(home: Path, *argv: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    code = f"{prelude}import sys; from burn.cli.app import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "RELAYBURN_HOME": str(home), "TZ": "UTC"}
    return subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip


def _read(path: Path) -> list[dict[str, Any]]:
    con = duckdb.connect()
    try:
        return [
            json.loads(r[0])
            for r in con.execute(f"SELECT to_json(t) FROM read_parquet('{path}') t").fetchall()
        ]
    finally:
        con.close()


def _filled(row: Any, like: Any) -> Any:
    """``row`` with the keys ``like`` (the Parquet row) has and ``row`` lacks set to null, nested."""
    if isinstance(row, dict) and isinstance(like, dict):
        return {k: _filled(row.get(k), like[k]) for k in like}
    return row


@pytest.mark.parametrize("identity", ["shareable", "full"])
def test_parquet_rows_equal_the_ndjson_export(home: Path, tmp_path: Path, identity: str) -> None:
    nd = _burn(home, "export", "sessions", "--all", "--ndjson", "--identity", identity)
    assert nd.returncode == 0, nd.stderr
    expected = [json.loads(line) for line in nd.stdout.splitlines()]
    expected = [r for r in expected if r["type"] == "session"]
    out = tmp_path / "sessions.parquet"
    run = _burn(home, "export", "sessions", "--parquet", str(out), "--identity", identity)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert run.stderr == f"wrote {len(expected):,} rows to {out}\n"
    got = _read(out)
    assert len(got) == len(expected) > 1
    # Every NDJSON field is a column, with the same value (strings stay strings: started_at is the
    # RFC 3339 text, not a timestamp; money and tokens exact integers); a key a row lacks is null.
    for parquet_row, row in zip(got, expected, strict=True):
        assert set(row) <= set(parquet_row)
        assert parquet_row == _filled(row, parquet_row)
        assert {k for k, v in parquet_row.items() if v is not None} <= set(row)
    assert not list(tmp_path.glob(".*.tmp"))


def test_parquet_with_a_format_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    run = _burn(home, "export", "sessions", "--parquet", str(out), "--limit", "3")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "burn: error: --parquet writes every row to its file; it takes no --limit"
    ]
    assert not out.exists()


def test_parquet_without_duckdb_is_one_line(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    # duckdb made unimportable in the child, as on an install without the extra.
    run = _burn(
        home,
        "export",
        "sessions",
        "--parquet",
        str(out),
        prelude="import sys; sys.modules['duckdb'] = None; ",
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        "burn: error: --parquet needs duckdb: pip install 'burn[parquet]'"
    ]
    assert not out.exists()


def test_parquet_help_names_the_extra(home: Path) -> None:
    run = _burn(home, "export", "sessions", "--help")
    assert "--parquet FILE" in run.stdout and "burn[parquet]" in run.stdout
