"""Issue 11, finding 15: an over-long line is skipped while streaming, never held in memory.

The 300 MB line is a sparse file (a hole reads as NUL bytes, none of them a newline), so the test
writes a few KB to disk. The read runs in a subprocess whose peak RSS (``VmHWM``) is the
invariant: before the fix it was 540 MB for this file, reading the line into memory whole.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from burn.reader import Diagnostics
from burn.readkit.tail import MAX_LINE_BYTES, open_tail
from tests.claude_lines import assistant

_READ = """
import sys
from pathlib import Path
import orjson
from burn_claude import ClaudeReader
from burn_claude.discover import unit_for
def peak_kb():  # this process's peak RSS; ru_maxrss would include the parent's (fork + exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
r = ClaudeReader().read(unit_for(Path(sys.argv[1])), None)
turns = sorted(rec.message_id for rec in r.records if type(rec).__name__ == "Turn")
print(orjson.dumps({"turns": turns, "invalid": dict(r.diagnostics.invalid), "offset": r.cursor.offset,
                    "peak_kb": peak_kb()}).decode())
"""


def _line(mid: str, output: int) -> bytes:
    return orjson.dumps(assistant(mid, output)) + b"\n"


def _with_long_line(path: Path, length: int, *, terminated: bool = True) -> Path:
    """A transcript: a good turn, a line of ``length`` bytes (a sparse hole), another good turn."""
    with open(path, "wb") as f:
        f.write(_line("msg_before", 5))
        f.write(b'{"x":"')
        f.seek(length - 6 - 3, 1)
        f.write(b'"}\n' + _line("msg_after", 7) if terminated else b'"}')
    return path


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc for the peak RSS")
def test_a_300_mb_line_is_skipped_and_counted_with_bounded_memory(tmp_path: Path) -> None:
    path = _with_long_line(tmp_path / "s.jsonl", 300_000_000)
    assert MAX_LINE_BYTES < 300_000_000
    out = subprocess.run(
        [sys.executable, "-c", _READ, str(path)], capture_output=True, check=True, text=True
    ).stdout
    got = orjson.loads(out)
    assert got["turns"] == ["msg_after", "msg_before"]  # the good lines around it are kept
    assert got["invalid"] == {"line_too_long": 1}
    assert got["offset"] == path.stat().st_size  # consumed: not re-read next time
    # Python, orjson and the reader take about 25 MB; the line itself must not be held (540 MB before).
    assert got["peak_kb"] < 200 * 1024, got["peak_kb"]


def test_a_long_line_within_the_limit_is_read_whole(tmp_path: Path) -> None:
    # Longer than the 1 MiB chunk the reader scans with: read again, whole, once its end is found.
    big = orjson.dumps(assistant("msg_big", 9, content=[{"type": "text", "text": "y" * 3_000_000}])) + b"\n"
    path = tmp_path / "s.jsonl"
    path.write_bytes(_line("msg_a", 1) + big + _line("msg_b", 2))
    diag = Diagnostics()
    tail = open_tail(path, None, diag)
    assert tail is not None
    lines = list(tail.lines())
    assert [raw for _, raw in lines] == [_line("msg_a", 1), big, _line("msg_b", 2)]
    assert [off for off, _ in lines] == [0, len(_line("msg_a", 1)), len(_line("msg_a", 1)) + len(big)]
    assert tail.offset == path.stat().st_size
    assert diag.lines_read == 3 and diag.bytes_read == path.stat().st_size and not diag.invalid


def test_an_unterminated_long_last_line_waits_for_its_end(tmp_path: Path) -> None:
    path = _with_long_line(tmp_path / "s.jsonl", 3_000_000, terminated=False)
    diag = Diagnostics()
    tail = open_tail(path, None, diag)
    assert tail is not None
    assert [raw for _, raw in tail.lines()] == [_line("msg_before", 5)]
    assert tail.offset == len(_line("msg_before", 5)) and not diag.invalid  # read next time, whole
