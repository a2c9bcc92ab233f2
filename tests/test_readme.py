"""README.md opens with the two commands, and .ci/run runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def test_readme_opens_with_install_run_and_test_commands() -> None:
    first, second = _commands()[:2]
    assert first.startswith("pip install . && burn ingest && burn summary")
    assert "pytest" in second and "pip install" in second


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _commands()[1].strip()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command in ci
