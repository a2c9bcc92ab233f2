"""The one cattrs converter for records, ledger lines and state files.

Fields equal to their default (``None`` counts, empty tuples, ``False`` flags) are omitted when
unstructuring, which keeps the ledger compact; structuring restores them, so an unknown count
round-trips as ``None`` and never as zero.
"""

from __future__ import annotations

from typing import Any, TypeVar

from cattrs.preconf.orjson import make_converter

from burn.records import RECORD_TYPES, Record

T = TypeVar("T")

converter = make_converter(omit_if_default=True, forbid_extra_keys=False)


def to_dict(record: Record) -> dict[str, Any]:
    """A record as a JSON-ready dict (defaults omitted)."""
    out: dict[str, Any] = converter.unstructure(record)
    return out


def from_dict(kind: str, data: dict[str, Any]) -> Record:
    """Rebuild a record of ``kind`` from :func:`to_dict` output. Raises KeyError for unknown kinds."""
    cls = RECORD_TYPES[kind]
    record: Record = converter.structure(data, cls)
    return record


def structure(data: Any, cls: type[T]) -> T:
    """Structure arbitrary data into ``cls`` with the shared converter."""
    return converter.structure(data, cls)
