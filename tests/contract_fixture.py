"""Helpers of the contract tests: the fixture archive, running an export or report in-process, and
strict schema validation."""

from __future__ import annotations

import copy
import io
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator

from burn.archive.database import Archive
from burn.cli.contract import build_parser, commands, execute
from burn.contract import schemas
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "contracts"
NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)
ARCHIVE_ID = "0000000000000000000000000c0ffee0"
HOSTNAME = "fixture-host"
SECRET = "11" * 32
CURSOR_KEY = "22" * 32


def env_for(base: Path, claude: Path | None = None, codex: Path | None = None) -> dict[str, str]:
    env = {"HOME": str(base / "home"), "RELAYBURN_HOME": str(base / "burn")}
    for var, path in (("CLAUDE_CONFIG_DIR", claude), ("CODEX_HOME", codex)):
        env[var] = str(path if path is not None else base / "none" / var)
    for var in ("OPENCODE_DATA_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env[var] = str(base / "none" / var)
    return env


def run_ingest(env: Mapping[str, str]) -> None:
    ingest(Path(env["RELAYBURN_HOME"]), Plugins(env=dict(env)), dict(env))


def pin(home: Path) -> None:
    """Fixed archive id and secrets, so documents are byte-identical across machines."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "secret.key").write_text(SECRET)
    keys = home / "cursor-keys"
    keys.mkdir(exist_ok=True)
    (keys / f"{ARCHIVE_ID}.key").write_text(CURSOR_KEY)
    a = Archive.in_home(home)
    a.db.execute("UPDATE archive_state SET value = ? WHERE key = 'archive_id'", (ARCHIVE_ID,))
    a.close()


def build_fixture(base: Path) -> Path:
    """The fixture archive's burn home under ``base`` (ingested from tests/fixtures/contracts)."""
    env = env_for(base, FIXTURE / "claude", FIXTURE / "codex")
    run_ingest(env)
    home = Path(env["RELAYBURN_HOME"])
    pin(home)
    return home


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def run(home: Path, verb: str, argv: list[str]) -> bytes:
    """``burn VERB ARGV`` in-process with the fixed clock and host name; returns stdout."""
    table = commands(verb, Plugins(env={}).exporters())
    exp, preset = table[argv[0]]
    parser = build_parser(verb, argv[0], exp)
    parser.set_defaults(**preset)
    options = vars(parser.parse_args(argv[1:]))
    out = io.BytesIO()
    code = execute(exp, options, out, now=NOW, hostname=HOSTNAME, home=home)
    assert code == 0
    data = out.getvalue()
    validate(data, exp.surface)  # every output of every contract test follows its schema
    return data


def parse(data: bytes) -> Any:
    """A JSON document, or the list of NDJSON lines."""
    text = data.strip()
    if text.startswith(b'{"type":"meta"'):
        return [orjson.loads(line) for line in text.split(b"\n")]
    return orjson.loads(text)


def rows_of(data: bytes) -> list[dict[str, Any]]:
    doc = parse(data)
    if isinstance(doc, list):
        return [x for x in doc if x["type"] not in ("meta", "end", "summary")]
    rows: list[dict[str, Any]] = doc["rows"]
    return rows


def end_of(data: bytes) -> dict[str, Any]:
    doc = parse(data)
    if isinstance(doc, list):
        return {k: v for k, v in doc[-1].items() if k != "type"}
    return {k: doc[k] for k in ("count", "rows_digest", "cursor")}


def _strict(node: Any) -> Any:
    """The schema with ``additionalProperties: false`` wherever it lists properties: burn itself
    must emit no field its schema does not describe."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if "properties" in out and out.get("additionalProperties") is True:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


_STRICT: dict[str, Draft202012Validator] = {}


def validate(data: bytes, surface: str) -> None:
    """Validate output against the published schema (via ``burn schema``'s code) and strictly."""
    name, _n, problems = schemas.validate_bytes(data, None)
    assert name == surface
    assert problems == [], [str(p) for p in problems]
    if surface not in _STRICT:
        _STRICT[surface] = Draft202012Validator(_strict(copy.deepcopy(schemas.load(surface))))
    doc = parse(data)
    for value in doc if isinstance(doc, list) else [doc]:
        errors = [e.message for e in _STRICT[surface].iter_errors(value)]
        assert errors == [], errors
