"""JSON and NDJSON framing of a contract document, written as rows arrive (flat memory).

NDJSON: line 1 ``{"type":"meta",…}``, one line per row (``{"type":<row type>,…}``), then the
surface's summary sections (if any) as one ``{"type":"summary",…}`` line, and last
``{"type":"end","count":N,"rows_digest":"sha256:…","cursor":{"next":…}}``: a stream without its
end line was cut.

JSON: one document ``{"meta":{…},"rows":[…], <summary sections>, "count":N, "rows_digest":…,
"cursor":{"next":…}}``, with the same meta and row objects, one row per line, so that the two
formats carry identical rows and the same ``rows_digest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO, Literal

import orjson

from burn.contract.canonical import RowsDigest

Format = Literal["json", "ndjson"]
_CHUNK = 1 << 16


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


class Framer:
    """Writes one document to ``out``: :meth:`meta`, then :meth:`row` per row, then :meth:`end`."""

    def __init__(self, out: BinaryIO, fmt: Format) -> None:
        self.out = out
        self.fmt = fmt
        self.count = 0
        self.digest = RowsDigest()
        # Rows are written in chunks of about _CHUNK bytes (flat memory): one write per row costs
        # a system call each when the output is unbuffered (PYTHONUNBUFFERED, a raw pipe).
        self._buf = bytearray()

    def _flush(self) -> None:
        view = memoryview(self._buf)
        while view:  # a raw (unbuffered) stream may take part of a large write
            written = self.out.write(view)
            view = view[written if written is not None else len(view) :]
        view.release()
        self._buf.clear()

    def meta(self, meta: Mapping[str, Any]) -> None:
        if self.fmt == "ndjson":
            self.out.write(_dumps(meta) + b"\n")
        else:
            self.out.write(b'{"meta":' + _dumps(meta) + b',\n"rows":[')

    def row(self, row: Mapping[str, Any]) -> None:
        self.digest.add(row)
        buf = self._buf
        if self.fmt == "ndjson":
            buf += orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
        else:
            buf += b"\n" if self.count == 0 else b",\n"
            buf += _dumps(row)
        if len(buf) >= _CHUNK:
            self._flush()
        self.count += 1

    def end(self, cursor_next: str | None, summary: Mapping[str, Any] | None = None) -> None:
        self._flush()
        tail = {"count": self.count, "rows_digest": self.digest.hexdigest(), "cursor": {"next": cursor_next}}
        if self.fmt == "ndjson":
            if summary:
                self.out.write(_dumps({"type": "summary", **summary}) + b"\n")
            self.out.write(_dumps({"type": "end", **tail}) + b"\n")
        else:
            parts = [_dumps(k) + b":" + _dumps(v) for k, v in {**(summary or {}), **tail}.items()]
            self.out.write((b"\n]," if self.count else b"],") + b"\n" + b",\n".join(parts) + b"}\n")
