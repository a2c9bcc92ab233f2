"""Packaging consistency (STYLE.md §10): pyproject, the plugin directories on disk, the installed
metadata and a freshly built wheel all agree."""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

import burn

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
VERSION: str = PYPROJECT["project"]["version"]
DECLARED: dict[str, str] = PYPROJECT["project"]["entry-points"]["burn"]
PACKAGES: list[str] = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
PLUGIN_DIRS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").is_file())


def top_module(value: str) -> str:
    """``burn_x.sub:obj`` -> ``burn_x``."""
    return value.split(":")[0].split(".")[0]


def test_every_plugin_dir_has_an_entry_point_and_vice_versa() -> None:
    # The built-in `file` store lives in core (burn.ledger.file); plugin packages are burn_*.
    plugin_entry_points = {top_module(v) for v in DECLARED.values() if v.startswith("burn_")}
    assert plugin_entry_points == set(PLUGIN_DIRS), "plugin dir without entry point (or vice versa)"
    for name, value in DECLARED.items():
        if not value.startswith("burn_"):
            module = value.split(":")[0]
            assert module.startswith("burn."), f"entry point {name} = {value}: neither core nor burn_*"
            path = ROOT / "core" / Path(*module.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), value


def test_every_package_is_in_the_wheel() -> None:
    expected = {"core/burn", *(f"plugins/{name}" for name in PLUGIN_DIRS)}
    assert set(PACKAGES) == expected, "wheel packages and package directories disagree"


def test_installed_metadata_is_current() -> None:
    installed = {
        ep.name: ep.value for ep in md.entry_points(group="burn") if ep.dist and ep.dist.name == "burn"
    }
    assert installed == DECLARED, "installed metadata is stale: re-run `pip install -e .`"
    assert md.version("burn") == VERSION, "installed metadata is stale: re-run `pip install -e .`"
    assert burn.__version__ == VERSION


@pytest.mark.parametrize("package", ["core/burn", *(f"plugins/{name}" for name in PLUGIN_DIRS)])
def test_py_typed(package: str) -> None:
    assert (ROOT / package / "py.typed").is_file()


def test_burn_version_prints_the_pyproject_version() -> None:
    script = Path(sysconfig.get_path("scripts")) / "burn"
    assert script.is_file(), f"no console script at {script}: is burn installed?"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"burn {VERSION}\n"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # Built without network access, with the build backend of this environment.
    pytest.importorskip("hatchling", reason="building needs hatchling installed (pip install hatchling)")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--wheel-dir", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    [path] = out.glob("burn-*.whl")
    return zipfile.ZipFile(path)


def source_files(directory: Path) -> set[str]:
    return {
        str(p.relative_to(directory.parent))
        for p in directory.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".tmp"}
    }


def test_wheel_ships_every_package_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert {n.split("/")[0] for n in names} == {"burn", *PLUGIN_DIRS, f"burn-{VERSION}.dist-info"}
    for package in ["core/burn", *(f"plugins/{name}" for name in PLUGIN_DIRS)]:
        missing = source_files(ROOT / package) - names
        assert not missing, f"missing from the wheel: {sorted(missing)}"


def test_wheel_ships_the_contracts(wheel: zipfile.ZipFile) -> None:
    contracts = ROOT / "contracts"
    expected = {f"burn/contracts/{p.relative_to(contracts)}" for p in contracts.rglob("*") if p.is_file()}
    assert expected <= set(wheel.namelist())


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    dist_info = f"burn-{VERSION}.dist-info"
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    section = entry_points.split("[burn]\n", 1)[1].split("\n[", 1)[0]
    shipped = dict(line.split(" = ", 1) for line in section.splitlines() if line.strip())
    assert shipped == DECLARED
    assert "burn = burn.entry:main" in entry_points
    assert f"\nVersion: {VERSION}\n" in wheel.read(f"{dist_info}/METADATA").decode()
