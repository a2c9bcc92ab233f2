"""A burn reader for the usage log of an LLM gateway: one JSON object per proxied request.

The gateway appends one line per request to ``<dir>/*.jsonl``, where ``<dir>`` is every entry of
``$GATEWAY_LOG_DIR`` (comma-separated), else ``~/.gateway/logs``::

    {"ts": "2026-03-01T10:00:00.000Z", "request_id": "req_1", "session": "ci-nightly",
     "model": "gpt-5-mini", "provider": "openai", "input_tokens": 1200, "cached_tokens": 1000,
     "output_tokens": 300, "reasoning_tokens": 120, "cost_usd": "0.000590"}

Like OpenAI's API, the gateway counts cached tokens inside ``input_tokens``; burn's ``input``
excludes cache reads, so ``input = input_tokens - cached_tokens``. ``session``, ``provider``,
``cached_tokens``, ``reasoning_tokens`` and ``cost_usd`` are optional; an absent count stays
unknown (``None``), never 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from burn import hookimpl
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit, split_env_paths
from burn.records import Fidelity, Record, Turn, Usage
from burn.readkit.tail import open_tail
SOURCE = "gateway"


class BadLine(ValueError):
    """A line that is not a usage row this reader understands."""


def _count(row: Mapping[str, Any], key: str) -> int:
    value = row.get(key)
    # bool is an int in Python; a JSON true is not a token count.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadLine(f"{key} is not a non-negative integer")
    return value


def _optional(row: Mapping[str, Any], key: str) -> int | None:
    return None if row.get(key) is None else _count(row, key)


def _utc(ts: object) -> str:
    """The timestamp as ISO-8601 UTC with milliseconds, the form every burn record uses."""
    if not isinstance(ts, str):
        raise BadLine("ts is not a string")
    dt = datetime.fromisoformat(ts)  # raises ValueError, which the caller counts
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_line(line: bytes, fallback_session: str) -> Turn:
    """One log line as a burn turn; raises ``ValueError`` (or a subclass) for anything else."""
    row = orjson.loads(line)
    if not isinstance(row, dict) or not isinstance(row.get("model"), str):
        raise BadLine("not an object with a model")
    input_tokens = _count(row, "input_tokens")
    cached = _optional(row, "cached_tokens")
    if cached is not None and cached > input_tokens:
        raise BadLine("cached_tokens exceeds input_tokens")
    usage = Usage(
        input=input_tokens - (cached or 0),
        output=_count(row, "output_tokens"),
        reasoning=_optional(row, "reasoning_tokens"),
        cache_read=cached,
    )
    cost = row.get("cost_usd")  # a decimal string is exact; a JSON number is taken as written
    if isinstance(cost, bool) or not isinstance(cost, str | int | float):
        cost = None
    request_id = row.get("request_id")
    return Turn(
        source=SOURCE,
        session_id=str(row.get("session") or fallback_session),
        message_id=None,
        # The request id makes the turn's event id, so a line read twice is stored once. Without
        # one, burn identifies the turn by a hash of its line (``line_hash``).
        request_id=str(request_id) if request_id else None,
        ts=_utc(row.get("ts")),
        model=row["model"],
        usage=usage,
        provider=row.get("provider") if isinstance(row.get("provider"), str) else None,
        reported_cost_usd=None if cost is None else str(cost),
        # Without cached_tokens we cannot tell cache reads from input: say so.
        fidelity=Fidelity() if cached is not None else Fidelity("partial", ("cache_read_unknown",)),
        line_hash=None if request_id else hashlib.sha256(line).hexdigest()[:32],
    )


class GatewayLogReader:
    """Reads ``*.jsonl`` usage logs; one source unit per log file."""

    name = SOURCE
    env_var: str | None = "GATEWAY_LOG_DIR"

    def locations(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return split_env_paths(env.get("GATEWAY_LOG_DIR")) or [home / ".gateway" / "logs"]

    def discover(self, roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
        for root in roots:
            if root.is_dir():  # a location that does not exist is simply empty
                for path in sorted(root.glob("*.jsonl")):
                    if path.is_file():
                        yield SourceUnit(path)
                    else:
                        diagnostics.skip("not_a_file", str(path))

    def read(self, unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
        diagnostics = Diagnostics()
        # open_tail resumes at the cursor's byte offset, re-reads a rewritten or truncated file
        # from the start, and never hands out a half-written last line.
        tail = open_tail(unit.path, cursor, diagnostics)
        if tail is None:  # unreadable: open_tail counted it; keep the old cursor
            return ReadResult((), cursor, diagnostics)
        diagnostics.files_read = 1
        records: list[Record] = []
        try:
            for offset, line in tail.lines():
                try:
                    records.append(parse_line(line, unit.path.stem))
                except ValueError as exc:  # orjson.JSONDecodeError and BadLine are ValueErrors
                    diagnostics.skip("invalid_line", f"{unit.path} at byte {offset}: {exc}")
        except OSError as exc:  # the file vanished or became unreadable mid-read
            diagnostics.skip("unreadable", f"{unit.path}: {exc.strerror or exc}")
            return ReadResult((), cursor, diagnostics)
        diagnostics.records = len(records)
        return ReadResult(records, tail.cursor, diagnostics)


@hookimpl
def register_readers(register: Callable[[Reader], None]) -> None:
    register(GatewayLogReader())
