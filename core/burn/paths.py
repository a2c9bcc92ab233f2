"""Where burn keeps its files: ``$RELAYBURN_HOME`` (default ``~/.relayburn``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def burn_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    value = env.get("RELAYBURN_HOME")
    return Path(value).expanduser() if value else Path.home() / ".relayburn"


def user_home(env: Mapping[str, str] | None = None) -> Path:
    """The home directory readers search by default (``HOME`` first, so tests can isolate it)."""
    env = os.environ if env is None else env
    return Path(env["HOME"]) if env.get("HOME") else Path.home()
