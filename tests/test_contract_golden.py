"""Goldens of every contract surface × format × identity profile on the fixture archive, and the
version guard: a golden may only change together with its surface's schema_version or schema file.

Goldens live in golden/test_contract_golden/ (syrupy, ``pytest --snapshot-update``). The fields
that change with every release of burn or of the bundled pricing table — ``burn_version`` and the
pricing table's name, version and digest — are replaced by placeholders, and the quality block keeps
only its source names (ingest diagnostics are the readers' business); everything else is pinned
(fixed clock, archive id, secrets and host name: tests/contract_fixture.py).

golden/VERSIONS.json records per surface its ``schema_version``, the sha256 of its schema file and
the sha256 of its goldens. After a legitimate contract change (a new schema_version, or an additive
change to the schema file) regenerate it with ``BURN_UPDATE_VERSIONS=1 pytest
tests/test_contract_golden.py``; a golden that changes alone fails.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from burn.contract import schemas
from burn.exporter import ContractExporter
from burn.plugins.manager import Plugins
from tests.conftest import GOLDEN
from tests.contract_fixture import ROOT, build_fixture, parse, run, validate

SURFACES: dict[str, tuple[str, list[str]]] = {
    "sessions": ("export", ["sessions", "--all", "--timezone", "UTC"]),
    "compare": ("report", ["compare", "--timezone", "UTC", "--min-turns", "2"]),
    "usage": ("report", ["usage", "--by", "day", "--timezone", "Europe/Berlin"]),
    "activity": (
        "report",
        ["activity", "--since", "2026-03-02", "--until", "2026-03-02", "--timezone", "UTC"],
    ),
}
EXTRA: dict[str, tuple[str, str, list[str]]] = {
    # surface, verb, argv: a first page with its cursor; weeks and months; activity in 15m buckets
    "sessions-page": ("sessions", "export", ["sessions", "--limit", "3", "--timezone", "UTC"]),
    "usage-week": ("usage", "report", ["weekly", "--timezone", "Europe/Berlin"]),
    "usage-month": ("usage", "report", ["monthly", "--timezone", "UTC"]),
    "usage-session": ("usage", "report", ["usage", "--by", "session", "--timezone", "UTC"]),
    "activity-15m": (
        "activity",
        "report",
        # The zone is explicit: a golden must not depend on the machine's local zone (TZ=UTC names
        # it "UTC", /etc/localtime "Etc/UTC").
        [
            "activity",
            "--since",
            "2026-03-02T09:00:00Z",
            "--until",
            "2026-03-02T10:00:00Z",
            "--bucket",
            "15m",
            "--timezone",
            "Etc/UTC",
        ],
    ),
}
GOLDEN_DIR = GOLDEN / "test_contract_golden"
VERSIONS = GOLDEN / "VERSIONS.json"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("golden"))


def _stable(doc: Any) -> Any:
    meta = doc[0] if isinstance(doc, list) else doc["meta"]
    meta["burn_version"] = "<burn version>"
    for key in ("table", "digest", "effective_digest"):
        if key in meta["pricing"]:
            meta["pricing"][key] = f"<pricing {key}>"
    # Ingest diagnostics (lines read, dedupe rule names) belong to the readers, which evolve on
    # their own; the goldens keep which sources report, the schema checks the counters' shape.
    meta["quality"]["sources"] = sorted(meta["quality"]["sources"])
    return doc


@pytest.mark.parametrize("profile", ["full", "shareable", "anonymous"])
@pytest.mark.parametrize("fmt", ["json", "ndjson"])
@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_golden(home: Path, surface: str, fmt: str, profile: str, golden: SnapshotAssertion) -> None:
    verb, argv = SURFACES[surface]
    data = run(home, verb, [*argv, f"--{fmt}", "--identity", profile])
    validate(data, surface)
    assert _stable(parse(data)) == golden


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_golden_variants(home: Path, name: str, golden: SnapshotAssertion) -> None:
    surface, verb, argv = EXTRA[name]
    data = run(home, verb, [*argv, "--ndjson"])
    validate(data, surface)
    assert _stable(parse(data)) == golden


# -- the version guard --------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _goldens_of(surface: str) -> list[Path]:
    names = [f"[{surface}-", *(f"[{n}]" for n, e in EXTRA.items() if e[0] == surface)]
    return sorted(p for p in GOLDEN_DIR.glob("*.json") if any(n in p.name for n in names))


def current_versions() -> dict[str, dict[str, Any]]:
    exporters = {
        e.surface: e for e in Plugins(env={}).exporters().values() if isinstance(e, ContractExporter)
    }
    out: dict[str, dict[str, Any]] = {}
    for surface in sorted(SURFACES):
        h = hashlib.sha256()
        for path in _goldens_of(surface):
            h.update(path.name.encode() + b"\0" + _sha(path.read_bytes()).encode() + b"\n")
        out[surface] = {
            "schema_version": exporters[surface].schema_version,
            "schema_sha256": _sha(schemas.text(surface)),
            "goldens_sha256": h.hexdigest(),
            "goldens": len(_goldens_of(surface)),
        }
    return out


def test_every_surface_has_its_goldens() -> None:
    for surface in SURFACES:
        assert len(_goldens_of(surface)) >= 6, f"{surface}: goldens missing (run pytest --snapshot-update)"


def guard(recorded: dict[str, dict[str, Any]], now: dict[str, dict[str, Any]], update: bool) -> list[str]:
    """Problems with the recorded versions: a golden that changed while its contract did not, or
    a contract change not yet recorded (unless ``update``)."""
    problems = []
    for surface, cur in now.items():
        rec = recorded.get(surface)
        if rec == cur:
            continue
        contract_moved = rec is None or (rec["schema_version"], rec["schema_sha256"]) != (
            cur["schema_version"], cur["schema_sha256"])  # fmt: skip
        if not contract_moved:
            problems.append(
                f"{surface}: its goldens changed while schema_version ({cur['schema_version']}) and "
                f"contracts/v1/{surface}.schema.json did not: bump the version (and the schema), or describe "
                "the additive change in the schema; see docs/contracts.md#versioning"
            )
        elif not update:
            problems.append(f"{surface}: the contract changed; record it with BURN_UPDATE_VERSIONS=1")
    return problems


def test_a_golden_changes_only_with_its_contract() -> None:
    now = current_versions()
    recorded: dict[str, dict[str, Any]] = json.loads(VERSIONS.read_text()) if VERSIONS.exists() else {}
    update = os.environ.get("BURN_UPDATE_VERSIONS") == "1"
    problems = guard(recorded, now, update)
    if update and not problems:
        VERSIONS.write_text(json.dumps(now, indent=2, sort_keys=True) + "\n")
        return
    assert not problems, "\n".join(problems)


def test_the_guard_refuses_a_golden_change_without_a_contract_change() -> None:
    rec = {"sessions": {"schema_version": 1, "schema_sha256": "a", "goldens_sha256": "g", "goldens": 7}}
    golden_only = {"sessions": {**rec["sessions"], "goldens_sha256": "h"}}
    assert guard(rec, golden_only, update=True)  # refused even when asked to record
    bumped = {"sessions": {**golden_only["sessions"], "schema_version": 2, "schema_sha256": "b"}}
    assert guard(rec, bumped, update=False)  # allowed, but must be recorded
    assert guard(rec, bumped, update=True) == []
    additive = {"sessions": {**golden_only["sessions"], "schema_sha256": "b"}}  # a described new field
    assert guard(rec, additive, update=True) == []
    assert guard(rec, rec, update=False) == []


def test_schema_versions_agree() -> None:
    for surface, (_verb, _argv) in SURFACES.items():
        assert schemas.load(surface)["x-schema-version"] == current_versions()[surface]["schema_version"]
        assert schemas.load(surface)["$id"] == f"https://burn.dev/contracts/v1/{surface}.schema.json"
    assert (ROOT / "contracts" / "v1").is_dir()
