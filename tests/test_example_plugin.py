"""The third-party plugin example of docs/plugins.md (docs/examples/burn-gateway-log), installed for
real and run end to end through the ``burn`` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "burn-gateway-log"

# Two priced and unpriced requests in one session, one request without request id or session (its
# session is the file's name) and without cached_tokens (cache reads unknown), and two bad lines.
LOG = [
    {"ts": "2026-03-01T10:00:00.000Z", "request_id": "req_1", "session": "ci-nightly",
     "model": "gpt-5-mini", "provider": "openai", "input_tokens": 1200, "cached_tokens": 1000,
     "output_tokens": 300, "reasoning_tokens": 120, "cost_usd": "0.000590"},
    {"ts": "2026-03-01T10:01:00+01:00", "request_id": "req_2", "session": "ci-nightly",
     "model": "acme-large", "input_tokens": 5000, "cached_tokens": 0, "output_tokens": 800,
     "cost_usd": "0.012"},
    "not json at all",
    {"ts": "2026-03-01T10:02:00.000Z", "model": "gpt-5-mini", "input_tokens": "many", "output_tokens": 1},
    {"ts": "2026-03-01T10:03:00.000Z", "model": "acme-large", "input_tokens": 100, "output_tokens": 10,
     "cost_usd": 0.0001},
]  # fmt: skip
EXPECTED = {
    "turns": 3,
    "input": (1200 - 1000) + 5000 + 100,
    "cache_read": 1000 + 0,  # the third request's is unknown, not zero
    "output": 300 + 800 + 10,
    "reasoning": 120,
    "total": 5300 + 1000 + 1110,  # input + cache reads + output
    "reported_usd_micros": 590 + 12_000 + 100,
}


def log_bytes(rows: list[Any]) -> bytes:
    return b"".join((r if isinstance(r, str) else json.dumps(r)).encode() + b"\n" for r in rows)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example installed with pip into its own directory, which the tests put on PYTHONPATH.

    Never into the shared environment: other test runs there must not see it, even if this one is
    killed. A copy of the source is built, so the build leaves nothing in the repository.
    """
    pytest.importorskip("hatchling", reason="building needs hatchling installed (pip install hatchling)")
    base = tmp_path_factory.mktemp("example-plugin")
    src = shutil.copytree(EXAMPLE, base / "src", ignore=shutil.ignore_patterns("__pycache__"))
    target = base / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--target", str(target), str(src)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert (target / "burn_gateway_log" / "__init__.py").is_file()
    return target


@pytest.fixture
def env(site: Path, isolated_env: dict[str, Path], tmp_path: Path) -> dict[str, str]:
    """An environment that sees the installed example and nothing of the user's: HOME, the burn
    home and every agent's directory are the empty temporary ones of ``isolated_env``."""
    logs = tmp_path / "gateway-logs"
    logs.mkdir()
    out = {k: v for k, v in os.environ.items() if not k.startswith(("BURN_", "GATEWAY_"))}
    out.update({var: str(path) for var, path in isolated_env.items()})
    out.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        PYTHONDONTWRITEBYTECODE="1",
        GATEWAY_LOG_DIR=str(logs),
        BURN_STRICT_PLUGINS="1",  # any plugin failure is an error, not a warning
        TZ="UTC",
    )
    return out


def burn(env: Mapping[str, str], *args: str) -> Any:
    result = subprocess.run(
        [sys.executable, "-m", "burn.cli.app", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def test_example_module_is_under_150_lines() -> None:
    module = EXAMPLE / "burn_gateway_log" / "__init__.py"
    assert len(module.read_text(encoding="utf-8").splitlines()) < 150


def test_installed_example_runs_through_ingest_and_summary(env: dict[str, str]) -> None:
    plugins = {p["name"]: p for p in burn(env, "plugins", "--json")}
    assert plugins["gateway"] == {
        "name": "gateway",
        "distribution": "burn-gateway-log",
        "version": "0.1.0",
        "hooks": ["register_readers"],
        "error": None,
    }

    log = Path(env["GATEWAY_LOG_DIR"]) / "2026-03-01.jsonl"
    log.write_bytes(log_bytes(LOG))
    first = burn(env, "ingest", "--json")
    gateway = first["sources"]["gateway"]
    assert gateway["roots"] == [env["GATEWAY_LOG_DIR"]]
    assert (gateway["files_seen"], gateway["lines_read"], gateway["records_appended"]) == (1, 5, 3)
    assert gateway["invalid_skipped"] == {"invalid_line": 2}

    summary = burn(env, "summary", "--json")
    [row] = summary["by_source"]
    assert row["source"] == "gateway"
    assert {k: row[k] for k in EXPECTED} == EXPECTED
    assert (row["unknown"]["cache_read"], row["unknown"]["reasoning"]) == (1, 2)  # unknown, not zero
    assert summary["totals"]["sessions"] == 2  # "ci-nightly" and the file's name
    # gpt-5-mini has a price, acme-large has none: its turns keep the gateway's own figure.
    assert row["cost_source"] == "mixed"

    again = burn(env, "ingest", "--json")
    assert again["sources"]["gateway"]["files_changed"] == 0
    assert (again["totals"]["lines_read"], again["totals"]["records_appended"]) == (0, 0)

    # burn doctor knows the third-party reader like a built-in one.
    doctor = {s["reader"]: s for s in burn(env, "doctor", "--json")["sources"]}
    gateway = doctor["gateway"]
    assert (gateway["env_var"], gateway["env_value"]) == ("GATEWAY_LOG_DIR", env["GATEWAY_LOG_DIR"])
    assert (gateway["units"], gateway["bytes"], gateway["lag"]["units"]) == (1, log.stat().st_size, 0)
    assert (gateway["archive_turns"], gateway["newest_record"]) == (3, "2026-03-01T10:03:00Z")


def test_examples_own_tests_pass(site: Path, env: dict[str, str], tmp_path: Path) -> None:
    """The plugin's own test suite (what docs/plugins.md recommends) passes against this burn."""
    src = shutil.copytree(EXAMPLE, tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(src), str(src)],
        env=env, cwd=src, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


GUIDE = ROOT / "docs" / "plugins.md"


def test_guide_excerpts_are_the_examples_code() -> None:
    """Every code block of docs/plugins.md marked as an excerpt is, line for line, in its file."""
    text = GUIDE.read_text(encoding="utf-8")
    excerpts = re.findall(r"<!-- excerpt: (\S+) -->\n```\w+\n(.*?)^```$", text, flags=re.M | re.S)
    assert len(excerpts) >= 6
    for path, block in excerpts:
        source = (GUIDE.parent / path).read_text(encoding="utf-8").splitlines()
        missing = [line for line in block.splitlines() if line.strip() and line not in source]
        assert not missing, f"{path}: lines not in the file: {missing}"


def test_guide_links_resolve() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((examples/[^)#]+)\)", text):
        assert (GUIDE.parent / target).exists(), target
