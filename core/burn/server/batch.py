"""``POST /v1/ledger`` bodies: ledger lines (``{"v": 1, "kind", "id", "record"}``) as a JSON array or
NDJSON, checked one by one. A bad entry is reported with its index and a stable error code and
the good ones are kept: one malformed line must not cost a host its whole batch.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from burn.records import RECORD_TYPES
from burn.store import LEDGER_VERSION, Encoded, encode


@attrs.define
class Rejected:
    index: int
    # A stable code: malformed_json, not_an_object, wrong_version, unknown_kind, invalid_record,
    # id_mismatch.
    error: str
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "error": self.error, "message": self.message}


class BatchError(Exception):
    """The body as a whole is unusable (not JSON, not a list, too many entries)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def parse(body: bytes, max_entries: int) -> tuple[list[Encoded], list[Rejected]]:
    """The body's good entries (encoded again from the record, so the ledger holds exactly what
    a local ingest would write) and the bad ones."""
    raw: list[Any] = []
    rejected: list[Rejected] = []
    text = body.lstrip()
    if text.startswith(b"["):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BatchError(400, "malformed_json", f"the body is not JSON: {exc}") from exc
        if not isinstance(value, list):
            raise BatchError(400, "not_a_batch", "the body is a JSON array or NDJSON lines of ledger entries")
        raw = value
    else:
        for i, line in enumerate(body.splitlines()):
            if not line.strip():
                continue
            try:
                raw.append(orjson.loads(line))
            except orjson.JSONDecodeError as exc:
                raw.append(_Bad(f"line {i + 1} is not JSON: {exc}"))
    if len(raw) > max_entries:
        raise BatchError(413, "batch_too_large", f"{len(raw)} entries; at most {max_entries} per request")
    items: list[Encoded] = []
    for index, entry in enumerate(raw):
        item = _entry(entry)
        if isinstance(item, Rejected):
            item.index = index
            rejected.append(item)
        else:
            items.append(item)
    return items, rejected


@attrs.frozen
class _Bad:
    message: str


def _entry(entry: Any) -> Encoded | Rejected:
    if isinstance(entry, _Bad):
        return Rejected(0, "malformed_json", entry.message)
    if not isinstance(entry, dict):
        return Rejected(0, "not_an_object", "a ledger entry is a JSON object")
    if entry.get("v") != LEDGER_VERSION:
        return Rejected(0, "wrong_version", f"ledger entry version {entry.get('v')!r}; this server reads 1")
    kind, rid, record = entry.get("kind"), entry.get("id"), entry.get("record")
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        known = ", ".join(sorted(RECORD_TYPES))
        return Rejected(0, "unknown_kind", f"kind {str(kind)[:40]!r} is not one of {known}")
    if not isinstance(rid, str) or not isinstance(record, dict):
        return Rejected(0, "invalid_record", "an entry has a string id and an object record")
    from burn.convert import from_dict

    try:
        item = encode(from_dict(kind, record))
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Rejected(0, "invalid_record", f"{kind} record: {first[:200]}")
    if item.id != rid:
        # The id is content-addressed: a record that does not hash to it was altered or forged.
        return Rejected(0, "id_mismatch", f"the record's event id is {item.id}, not {rid[:40]!r}")
    return item
