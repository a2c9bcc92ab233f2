"""Work-count invariant: reports, exports and the summary read the archive and nothing else.

Each command runs in a fresh interpreter under an audit hook (PEP 578) that records every file the
process opens (``open``, ``os.listdir``/``os.scandir``, ``sqlite3.connect``). None of them may
touch the agents' directories, the ledger, its index or the cursors: burn answers from the
archive, it does not re-read transcripts the way a peer tool does on every run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract_fixture import FIXTURE, env_for, run_ingest

HOOK = r"""
import os, sys
log = open(os.environ["AUDIT_LOG"], "w")
def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir", "sqlite3.connect") and args:
        target = args[0]
        if isinstance(target, (str, bytes, os.PathLike)):
            log.write(os.fsdecode(target) + "\n")
            log.flush()
sys.addaudithook(hook)
from burn.cli.app import main
sys.exit(main(sys.argv[1:]))
"""

COMMANDS = [
    ["report", "daily", "--json", "--timezone", "UTC"],
    ["report", "monthly", "--ndjson", "--timezone", "UTC"],
    ["report", "activity", "--json", "--timezone", "UTC"],
    ["export", "sessions", "--all", "--ndjson"],
    ["summary", "--json", "--timezone", "UTC"],
]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("reads")
    env = env_for(base, FIXTURE / "claude", FIXTURE / "codex")
    run_ingest(env)
    return env


def _opened(argv: list[str], env: dict[str, str], log: Path) -> tuple[bytes, list[Path]]:
    """Run ``burn ARGV`` under the audit hook: its stdout and every path it opened."""
    full = {**os.environ, **env, "AUDIT_LOG": str(log), "BURN_STRICT_PLUGINS": "1"}
    done = subprocess.run([sys.executable, "-c", HOOK, *argv], env=full, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    # sqlite3.connect names URIs such as file:/…/archive.sqlite?mode=ro: keep the path.
    return done.stdout, [Path(p.removeprefix("file:").split("?")[0]) for p in log.read_text().splitlines()]


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _agents(env: dict[str, str]) -> list[Path]:
    return [Path(env[v]).resolve() for v in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "OPENCODE_DATA_DIR")]


def test_the_hook_sees_an_ingest_read_agent_data(tmp_path: Path) -> None:
    """The control: the same hook does see the transcripts an ingest reads."""
    env = env_for(tmp_path, FIXTURE / "claude", FIXTURE / "codex")
    _, opened = _opened(["ingest", "--quiet"], env, tmp_path / "opened.txt")
    transcripts = [p for p in opened if p.suffix == ".jsonl" and any(_under(p, a) for a in _agents(env))]
    assert len(transcripts) >= 2
    assert "ledger.jsonl" in {p.name for p in opened}


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_command_reads_the_archive_only(argv: list[str], ingested: dict[str, str], tmp_path: Path) -> None:
    stdout, opened = _opened(argv, ingested, tmp_path / "opened.txt")
    assert stdout.strip(), "the command printed nothing"
    if "--json" in argv:
        json.loads(stdout)  # a whole document, not an error
    home = Path(ingested["RELAYBURN_HOME"]).resolve()
    assert not [p for p in opened if any(_under(p, a) for a in _agents(ingested))], "read agent data"
    in_home = {p.resolve().name for p in opened if _under(p, home)}
    assert any(name.startswith("archive.sqlite") for name in in_home), in_home
    forbidden = {"ledger.jsonl", "ledger.index.sqlite", "cursors.sqlite"}
    assert not in_home & forbidden, in_home
