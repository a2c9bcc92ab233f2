"""Choosing the ledger store: ``RELAYBURN_STORAGE`` (default ``file``) among registered stores."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from burn.errors import BurnError
from burn.plugins.manager import Plugins
from burn.store import Store


def open_store(home: Path, env: Mapping[str, str], plugins: Plugins) -> Store:
    name = env.get("RELAYBURN_STORAGE") or "file"
    factories = plugins.stores()
    if name not in factories:
        known = ", ".join(sorted(factories)) or "none"
        raise BurnError(f"unknown RELAYBURN_STORAGE={name!r} (available: {known})")
    return factories[name](home)
