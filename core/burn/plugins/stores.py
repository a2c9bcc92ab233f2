"""Choosing the ledger store: ``RELAYBURN_STORAGE`` (default ``file``) among registered stores."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from burn.errors import BurnError
from burn.plugins.manager import Plugins
from burn.store import Store


def open_store(home: Path, env: Mapping[str, str], plugins: Plugins) -> Store:
    """The ledger store selected by ``RELAYBURN_STORAGE`` (default ``file``), opened at the burn home.

    Stores are registered by plugins (``register_stores``; the built-in ``file`` store is one), so
    this is the one place a store is chosen: ingest, the archive build, ``burn ledger`` and
    ``burn doctor`` all open it here. An unknown name is a :class:`BurnError` listing the
    registered ones (a user error: one line, no traceback). Opening does not take the writer lock.
    """
    name = env.get("RELAYBURN_STORAGE") or "file"
    factories = plugins.stores()
    if name not in factories:
        known = ", ".join(sorted(factories)) or "none"
        raise BurnError(f"unknown RELAYBURN_STORAGE={name!r} (available: {known})")
    return factories[name](home)
