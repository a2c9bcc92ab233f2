"""Incremental reading of append-only line files (JSONL transcripts), shared by every reader.

Rules (DESIGN §2, issue 2):

* read from the cursor's byte offset; only complete lines (ending in ``\\n``) are consumed, so a
  line still being written is read next time, whole;
* a file that shrank below the offset, changed inode, or whose first bytes changed (Claude Code
  rewrites transcripts in place on resume and compaction) is read again from the start; record ids
  make the repeated records duplicates, so nothing is counted twice;
* a line longer than :data:`MAX_LINE_BYTES` is skipped and counted, without holding it in memory;
* a UTF-8 byte order mark at offset 0 (an editor saved the file) is not part of the first line:
  the line is handed over without it, while offsets still count its three bytes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from burn.reader import Diagnostics, FileCursor

HEAD_BYTES = 4096
MAX_LINE_BYTES = 256 * 1024 * 1024
_CHUNK = 1024 * 1024
BOM = b"\xef\xbb\xbf"


def head_hash(path: Path, length: int) -> str:
    """Identity of the first ``length`` bytes: sha256 of the first and the last ``HEAD_BYTES`` of them.

    The first bytes catch a file replaced by another; the bytes just before the offset catch an
    in-place rewrite that kept the head but removed later lines and grew past the old offset.
    The window must end with a newline, or the offset no longer sits on a line boundary.
    """
    with open(path, "rb") as f:
        head = f.read(min(length, HEAD_BYTES))
        f.seek(max(0, length - HEAD_BYTES))
        tail = f.read(min(length, HEAD_BYTES))
    if not tail.endswith(b"\n"):
        return "unaligned"
    return hashlib.sha256(head + b"\0" + tail).hexdigest()[:32]


def lines_before(path: Path, offset: int) -> int:
    """How many lines of ``path`` end before byte ``offset``, so that a warning about the ``n``-th
    line of an incremental read can name its line in the file (0 when the file cannot be read)."""
    count = 0
    try:
        with open(path, "rb") as f:
            left = offset
            while left > 0:
                chunk = f.read(min(left, _CHUNK))
                if not chunk:
                    break
                count += chunk.count(b"\n")
                left -= len(chunk)
    except OSError:
        return 0
    return count


@attrs.define
class Tail:
    """The new complete lines of a file, and the cursor to store once they are processed.

    Iterate :meth:`lines` to get ``(offset, line_bytes)`` pairs; after iteration ``cursor`` is the
    position after the last complete line consumed.
    """

    path: Path
    start: int
    fresh: bool  # True when reading from the start (first read, or a rewrite was detected)
    inode: int
    size: int
    mtime_ns: int
    diagnostics: Diagnostics
    state: dict[str, object]
    offset: int = 0

    def lines(self) -> Iterator[tuple[int, bytes]]:
        # Reads a chunk at a time and splits it with ``bytes.find``: half the cost of a
        # ``readline`` per line (docs/performance.md), with the same lines and offsets.
        self.offset = self.start
        diag = self.diagnostics
        with open(self.path, "rb") as f:
            f.seek(self.start)
            buf = b""  # read, not yet consumed: it starts at self.offset
            while True:
                chunk = f.read(_CHUNK)
                if not chunk:
                    return  # end of file: what is left is a line still being written
                buf = buf + chunk if buf else chunk
                find = buf.find
                end = find(b"\n")
                if end < 0:
                    if len(buf) >= _CHUNK:
                        # A line longer than a chunk: find its end without keeping what is read,
                        # so an over-long line never holds more than a chunk; then read a line
                        # within the limit again, whole (the file is append-only).
                        start = self.offset
                        length = _measure_line(f, len(buf))
                        buf = b""
                        if length is None:
                            return  # an unterminated last line: still being written (or over-long: waits)
                        diag.bytes_read += length
                        diag.lines_read += 1
                        self.offset += length
                        if length - 1 > MAX_LINE_BYTES:
                            diag.skip("line_too_long", f"{self.path} at byte {start}")
                            continue
                        f.seek(start)
                        line = f.read(length)
                        yield start, line[len(BOM) :] if start == 0 and line.startswith(BOM) else line
                    continue
                i = 0
                while end >= 0:
                    end += 1
                    start = self.offset
                    diag.bytes_read += end - i
                    diag.lines_read += 1
                    self.offset = start + end - i
                    if end - i - 1 > MAX_LINE_BYTES:  # up to two chunks are found whole here
                        diag.skip("line_too_long", f"{self.path} at byte {start}")
                    else:
                        line = buf[i:end]
                        yield start, line[len(BOM) :] if start == 0 and line.startswith(BOM) else line
                    i = end
                    end = find(b"\n", i)
                buf = buf[i:]

    @property
    def cursor(self) -> FileCursor:
        return FileCursor(
            inode=self.inode,
            size=self.size,
            mtime_ns=self.mtime_ns,
            offset=self.offset,
            head=head_hash(self.path, self.offset) if self.offset else "",
            state=dict(self.state),
        )


def _measure_line(f: BinaryIO, read: int) -> int | None:
    """The length of the line whose first ``read`` bytes were just read from ``f`` (its newline
    included), read on in chunks that are dropped as they come; ``None`` when the file ends first.
    Leaves ``f`` after the line."""
    while True:
        chunk = f.readline(_CHUNK)
        if not chunk:
            return None
        read += len(chunk)
        if chunk.endswith(b"\n"):
            return read


def open_tail(path: Path, cursor: FileCursor | None, diagnostics: Diagnostics) -> Tail | None:
    """Prepare to read the new lines of ``path``; ``None`` (counted) when it cannot be read."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block forever; a directory cannot be read
            diagnostics.skip("not_a_file", str(path))
            return None
        fresh = True
        start = 0
        state: dict[str, object] = {}
        if (
            cursor is not None
            and cursor.inode == st.st_ino
            and cursor.offset <= st.st_size
            and (cursor.offset == 0 or head_hash(path, cursor.offset) == cursor.head != "unaligned")
        ):
            fresh, start, state = False, cursor.offset, dict(cursor.state)
        if fresh and cursor is not None and cursor.offset > 0:
            diagnostics.rereads["rewritten_or_truncated"] += 1
    except OSError as exc:
        diagnostics.skip("unreadable", f"{path}: {exc.strerror or exc}")
        return None
    return Tail(
        path=path,
        start=start,
        fresh=fresh,
        inode=st.st_ino,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        diagnostics=diagnostics,
        state=state,
    )
