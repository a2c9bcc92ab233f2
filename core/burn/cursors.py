"""Per-unit read cursors, kept in ``$RELAYBURN_HOME/cursors.json`` (host-local state).

Written atomically (temp file + rename) and only when something changed, so a no-op ingest writes
nothing. A missing or corrupt file means "read everything again": the ledger's ids make that safe.
"""

from __future__ import annotations

import os
from collections.abc import Set
from pathlib import Path
from typing import Any

import attrs
import orjson

from burn.reader import FileCursor

_VERSION = 1


class CursorFile:
    def __init__(self, path: Path, data: dict[str, dict[str, Any]]) -> None:
        self.path = path
        self._data = data
        self._dirty = False

    @classmethod
    def load(cls, home: Path) -> CursorFile:
        path = home / "cursors.json"
        try:
            raw = orjson.loads(path.read_bytes())
            data = raw["readers"] if raw.get("v") == _VERSION else {}
        except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
            data = {}
        return cls(path, data if isinstance(data, dict) else {})

    def fingerprint(self, reader: str, key: str) -> str | None:
        """The stored stat fingerprint, read without building a cursor (the no-op fast path)."""
        raw = self._data.get(reader, {}).get(key)
        value = raw.get("fingerprint") if isinstance(raw, dict) else None
        return value if isinstance(value, str) else None

    def get(self, reader: str, key: str) -> FileCursor | None:
        raw = self._data.get(reader, {}).get(key)
        if raw is None:
            return None
        try:
            return FileCursor(**raw)
        except (TypeError, ValueError):  # a corrupt entry means "read from the start"
            return None

    def set(self, reader: str, key: str, cursor: FileCursor) -> None:
        raw = attrs.asdict(cursor)
        bucket = self._data.setdefault(reader, {})
        if bucket.get(key) != raw:
            bucket[key] = raw
            self._dirty = True

    def prune(self, reader: str, keep: Set[str]) -> None:
        """Forget cursors of units that no longer exist (agents delete old transcripts)."""
        bucket = self._data.get(reader, {})
        for key in [k for k in bucket if k not in keep]:
            del bucket[key]
            self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(orjson.dumps({"v": _VERSION, "readers": self._data}))
        os.replace(tmp, self.path)
        self._dirty = False
