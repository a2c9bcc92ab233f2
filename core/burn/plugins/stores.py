"""Choosing the ledger store: ``RELAYBURN_STORAGE`` (default ``file``) among registered stores,
with its location in ``RELAYBURN_DATABASE_URL``; or a store named by a URL (``burn store copy``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from burn.errors import BurnError
from burn.plugins.manager import Plugins
from burn.privacy.redact import redact_url
from burn.store import Store, StoreConfig

# URL schemes whose store has another name; any other scheme names the store itself (a plugin's).
_SCHEMES = {"postgresql": "postgres", "postgres": "postgres", "https": "http"}


def store_config(home: Path, env: Mapping[str, str], url: str | None = None) -> StoreConfig:
    """The config the selected store is opened with (``url`` defaults to ``RELAYBURN_DATABASE_URL``)."""
    return StoreConfig(home=home, url=url or env.get("RELAYBURN_DATABASE_URL") or None, env=env)


def open_store(home: Path, env: Mapping[str, str], plugins: Plugins) -> Store:
    """The store ``RELAYBURN_STORAGE`` selects; an unknown name is a one-line error."""
    name = env.get("RELAYBURN_STORAGE") or "file"
    return _open(name, store_config(home, env), plugins)


def store_name_of_url(url: str) -> str:
    """The store a URL names: its scheme (``postgresql://`` → ``postgres``, ``sqlite:///p`` →
    ``sqlite``, ``file:///dir`` → ``file``); a bare path is a ``file`` store's burn home."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        return "file"
    return _SCHEMES.get(scheme.lower(), scheme.lower())


def open_store_url(url: str, home: Path, env: Mapping[str, str], plugins: Plugins) -> Store:
    """The store at ``url`` (see :func:`store_name_of_url`), e.g. ``burn store copy --to URL``."""
    name = store_name_of_url(url)
    if "://" not in url:  # a bare path: the burn home of a file store
        url = Path(url).expanduser().resolve().as_uri()
    what = f"no store {name!r} for {redact_url(url)}"
    return _open(name, store_config(home, env, url), plugins, what)


def _open(name: str, config: StoreConfig, plugins: Plugins, what: str | None = None) -> Store:
    factories = plugins.stores()
    if name not in factories:
        known = ", ".join(sorted(factories)) or "none"
        raise BurnError(f"{what or f'unknown RELAYBURN_STORAGE={name!r}'} (available: {known})")
    return factories[name](config)
