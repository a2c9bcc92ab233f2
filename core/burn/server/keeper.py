"""The server's one writer: appends to the store under its lock and keeps the archive current.

Every append (``POST /v1/ledger``) and a refresh every few seconds (entries another process, a
local ``burn ingest``, appended) run on one writer thread, so the archive has one writer and its
SQLite connections stay on the thread that made them; readers use their own read-only
connections and are never blocked (the archive is in WAL mode).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from burn.archive.database import Archive, build_checked
from burn.archive.state import read_state
from burn.store import AppendResult, Encoded, Store, append_encoded


class Keeper:
    def __init__(self, home: Path, store: Store) -> None:
        self.home = home
        self.store = store
        # One worker: the writer thread. Its queue orders appends and refreshes.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="burn-writer")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.builds = 0
        self._archive: Archive | None = None
        self._inode: int | None = None

    def start(self, interval: float) -> None:
        """Build the archive now (readers need one), then refresh it every ``interval`` seconds."""
        self._writer.submit(self._refresh).result()
        if interval > 0:
            self._thread = threading.Thread(
                target=self._loop, args=(interval,), name="burn-archive", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self._writer.submit(self._refresh).result()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                line = orjson.dumps({"event": "archive_refresh_failed", "error": self.last_error})
                sys.stderr.buffer.write(line + b"\n")
                sys.stderr.flush()

    def append(self, items: Sequence[Encoded]) -> AppendResult:
        """Append and apply (on the writer thread): when this returns, the archive holds them."""
        return self._writer.submit(self._append, items).result()

    def _append(self, items: Sequence[Encoded]) -> AppendResult:
        with self.store.lock():
            result = append_encoded(self.store, items)
            self._build()
        return result

    def _refresh(self) -> None:
        with self.store.lock():
            self._build()

    def _build(self) -> None:
        path = self.home / "archive.sqlite"
        if self._archive is not None and _inode(path) != self._inode:
            # `burn archive rebuild` swapped in a new file: write to that one from now on.
            self._archive.close()
            self._archive = None
        if self._archive is None:
            # Checked once (PRAGMA quick_check is a full read); a damaged archive is rebuilt here.
            self._archive, _result, _damage = build_checked(self.home, self.store)
            self._inode = _inode(path)
        else:
            self._archive.build(self.store)
        self.builds += 1
        self.last_error = None

    def close(self) -> None:
        self.stop()
        self._writer.submit(self._close).result()
        self._writer.shutdown()

    def _close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def lag(self) -> dict[str, float]:
        """Ledger position vs. the archive's: what is appended but not yet applied."""
        state = read_state(self.home / "archive.sqlite") or {}
        applied = int(state.get("ledger_position", 0))
        return {"burn_ledger_position": float(self.store.position()), "burn_archive_position": float(applied),
                "burn_archive_lag": float(max(0, self.store.position() - applied))}  # fmt: skip

    def describe(self) -> dict[str, Any]:
        return {"store": self.store.name, "error": self.last_error}


def count(result: AppendResult) -> Counter[str]:
    out: Counter[str] = Counter()
    out.update(result.appended)
    out.update(result.revised)
    return out


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None
