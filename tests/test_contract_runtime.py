"""The contract runtime: canonical JSON, framing, schema files and `burn schema`."""

from __future__ import annotations

import io
import re
import runpy
from pathlib import Path
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from burn.cli import app as cli
from burn.contract import schemas
from burn.contract.canonical import RowsDigest, jcs
from burn.contract.framing import Framer
from burn.exporter import ContractExporter
from burn.plugins.manager import Plugins
from tests.contract_fixture import ROOT

SCHEMA_DIR = ROOT / "contracts" / "v1"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_jcs_is_rfc8785_for_float_free_values(row: dict[str, Any]) -> None:
    assert jcs(row) == rfc8785.dumps(row)


def test_rows_digest_of_no_rows() -> None:
    assert (
        RowsDigest().hexdigest() == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


@pytest.mark.parametrize("n", [0, 1, 3])
def test_json_and_ndjson_framing(n: int) -> None:
    rows = [{"type": "x", "i": i} for i in range(n)]
    docs = {}
    for fmt in ("json", "ndjson"):
        out = io.BytesIO()
        f = Framer(out, fmt)  # type: ignore[arg-type]
        f.meta({"type": "meta"})
        for r in rows:
            f.row(r)
        f.end(None, {"totals": {"n": n}})
        docs[fmt] = out.getvalue()
    doc = orjson.loads(docs["json"])
    assert doc["rows"] == rows and doc["count"] == n and doc["totals"] == {"n": n}
    lines = [orjson.loads(x) for x in docs["ndjson"].splitlines()]
    assert [x["type"] for x in lines] == ["meta", *["x"] * n, "summary", "end"]
    assert lines[-1]["rows_digest"] == doc["rows_digest"] and lines[-1]["cursor"] == {"next": None}


def test_schema_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    module = runpy.run_path(str(ROOT / "scripts" / "build_contract_schemas.py"))
    module["main"](tmp_path)
    for name in ("sessions", "usage", "activity"):
        assert (tmp_path / f"{name}.schema.json").read_bytes() == (
            SCHEMA_DIR / f"{name}.schema.json"
        ).read_bytes(), (
            f"contracts/v1/{name}.schema.json is stale: run python scripts/build_contract_schemas.py"
        )


def _undescribed(node: Any, path: str) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            if isinstance(prop, dict) and "$ref" not in prop and not prop.get("description"):
                out.append(f"{path}/{name}")
        for key, value in node.items():
            out += _undescribed(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _undescribed(value, f"{path}/{i}")
    return out


@pytest.mark.parametrize("name", ["sessions", "usage", "activity"])
def test_every_field_is_described_and_money_is_integer(name: str) -> None:
    schema = schemas.load(name)
    assert _undescribed(schema, "") == []
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "Additional properties" in schema["description"]
    text = schemas.text(name).decode()
    assert '"number"' not in text  # no floats anywhere, money included
    for money in ("total_usd_micros", "including_children_usd_micros"):
        if money in text:
            assert f'"{money}": {{\n' in text


def test_contracts_dir_finds_the_published_copy() -> None:
    assert (
        Path(str(schemas.contracts_dir())).resolve() == (ROOT / "contracts").resolve()
        or (schemas.contracts_dir() / "v1" / "sessions.schema.json").is_file()
    )
    assert schemas.names() == ["activity", "analytics", "compare", "plans", "sessions", "usage"]


def test_builtin_exporters_register_through_entry_points() -> None:
    exporters = Plugins(env={"BURN_STRICT_PLUGINS": "1"}).exporters()
    assert {"sessions", "usage", "activity"} <= set(exporters)
    for surface in ("sessions", "usage", "activity"):
        assert isinstance(exporters[surface], ContractExporter)


# -- burn schema -----------------------------------------------------------------------------------


def _schema_cli(args: list[str], capsys: pytest.CaptureFixture[str], stdin: bytes | None = None,
                monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:  # fmt: skip
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = cli.main(["schema", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_schema_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _schema_cli(["list"], capsys)
    assert code == 0 and "https://burn.dev/contracts/v1/sessions.schema.json" in out
    code, out, _ = _schema_cli(["show", "usage"], capsys)
    assert code == 0 and orjson.loads(out)["$id"].endswith("usage.schema.json")
    code, _, err = _schema_cli(["show", "nope"], capsys)
    assert code == 1 and "no schema named" in err


META = {"type": "meta", "contract": "burn.sessions"}


def test_validate_reports_ndjson_line_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [META, {"type": "session", "session_id": 3}, {"type": "end", "count": 1}]
    f = tmp_path / "bad.ndjson"
    f.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    code, _, err = _schema_cli(["validate", str(f)], capsys)
    assert code == 1
    assert "line 2:" in err and "line 1:" in err and "line 3:" in err


def test_validate_reads_stdin_and_catches_a_cut_stream(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"\n".join(orjson.dumps(x) for x in [META, {"type": "session"}]) + b"\n"
    code, _, err = _schema_cli(["validate", "-"], capsys, data, monkeypatch)
    assert code == 1 and "the last line must be the end line" in err


def test_validate_a_json_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "doc.json"
    f.write_bytes(orjson.dumps({"meta": META, "rows": []}))
    code, _, err = _schema_cli(["validate", str(f)], capsys)
    assert code == 1 and "invalid" in err
    f.write_bytes(b"not json")
    code, _, err = _schema_cli(["validate", str(f)], capsys)
    assert code == 1 and "not JSON" in err


def _property_names(node: Any) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        out |= set(node.get("properties") or {})
        for value in node.values():
            out |= _property_names(value)
    elif isinstance(node, list):
        for value in node:
            out |= _property_names(value)
    return out


def test_docs_name_every_field() -> None:
    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    prose = re.sub(r"^```.*?^```$", "", text, flags=re.M | re.S)  # fenced blocks would unpair backticks
    spans = " ".join(re.findall(r"`([^`]+)`", prose))
    words = set(re.findall(r"[a-z_0-9]+", spans))
    for name in ("sessions", "usage", "activity"):
        missing = sorted(_property_names(schemas.load(name)) - words)
        assert missing == [], f"docs/contracts.md does not name {missing}"


@pytest.mark.parametrize("verb", ["export", "report"])
def test_help_lists_the_surfaces(verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([verb, "--help"]) == 0
    out = capsys.readouterr().out
    assert ("sessions" if verb == "export" else "daily") in out
    assert cli.main([verb]) == 2
