"""The reader conformance suite (burn.testing.reader_conformance) over every registered reader,
each with a small valid fixture in two pieces."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.opencode_db as oc
from burn.plugins.manager import Plugins
from burn.testing.reader_conformance import *  # noqa: F403  (the suite's tests)
from burn.testing.reader_conformance import ReaderCase
from tests.claude_lines import assistant, dumps, write_session

READERS = Plugins(env={"BURN_STRICT_PLUGINS": "1"}).readers()
CODEX = Path(__file__).parent / "fixtures" / "codex" / "accounting" / "sessions" / "2026" / "02" / "01"
CODEX_FILE = "rollout-2026-02-01T09-00-00-acc00000-0000-4000-8000-000000000001.jsonl"


def _claude_lines() -> bytes:
    return dumps([assistant(f"msg_{i}", 10 + i, ts=f"2026-03-01T10:0{i}:00.000Z") for i in range(4)])


def claude_write(root: Path) -> None:
    data = _claude_lines()
    cut = data.index(b"\n", len(data) // 2) + 20  # two lines and a half-written third
    write_session(root, []).write_bytes(data[:cut])


def claude_grow(root: Path) -> None:
    data = _claude_lines()
    path = next((root / "projects").rglob("*.jsonl"))
    path.write_bytes(data)  # the rest appended: the file now holds every line


def codex_write(root: Path) -> None:
    data = (CODEX / CODEX_FILE).read_bytes()
    lines = data.splitlines(keepends=True)
    path = root / "sessions" / "2026" / "02" / "01" / CODEX_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(lines[:6]) + lines[6][:30])


def codex_grow(root: Path) -> None:
    path = root / "sessions" / "2026" / "02" / "01" / CODEX_FILE
    data = (CODEX / CODEX_FILE).read_bytes()
    with open(path, "ab") as f:
        f.write(data[path.stat().st_size :])


SES = "ses_conformance"


def _opencode_message(root: Path, mid: str, n: int) -> None:
    used = oc.tokens(10 * n, n)
    oc.write_message(root / "storage", oc.assistant(mid, SES, tokens=used))
    oc.write_part(root / "storage", oc.step_finish(f"prt_{mid}", mid, SES, used))


def opencode_write(root: Path) -> None:
    _opencode_message(root, "msg_1", 1)


def opencode_grow(root: Path) -> None:
    _opencode_message(root, "msg_2", 2)


CASES = {
    "claude-code": (claude_write, claude_grow),
    "codex": (codex_write, codex_grow),
    "opencode": (opencode_write, opencode_grow),
}


def test_every_registered_reader_has_a_case() -> None:
    assert sorted(READERS) == sorted(CASES)  # a new reader must bring its fixture here


@pytest.fixture(params=sorted(READERS))
def reader_case(request: pytest.FixtureRequest) -> ReaderCase:
    write, grow = CASES[request.param]
    return ReaderCase(READERS[request.param], write, grow)
