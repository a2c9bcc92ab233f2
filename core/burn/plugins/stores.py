"""Choosing the ledger store: ``RELAYBURN_STORAGE`` (default ``file``) among registered stores,
with its location in ``RELAYBURN_DATABASE_URL``; or a store named by a URL (``burn store copy``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import attrs
import orjson

from burn.errors import BurnError
from burn.plugins.manager import Plugins
from burn.privacy.redact import redact_url
from burn.store import Encoded, Store, StoreConfig, append_encoded

# URL schemes whose store has another name; any other scheme names the store itself (a plugin's).
_SCHEMES = {"postgresql": "postgres", "postgres": "postgres", "https": "http"}


def store_config(home: Path, env: Mapping[str, str], url: str | None = None) -> StoreConfig:
    """The config the selected store is opened with (``url`` defaults to ``RELAYBURN_DATABASE_URL``)."""
    return StoreConfig(home=home, url=url or env.get("RELAYBURN_DATABASE_URL") or None, env=env)


def open_store(home: Path, env: Mapping[str, str], plugins: Plugins) -> Store:
    """The ledger store selected by ``RELAYBURN_STORAGE`` (default ``file``; its connection, if
    any, from ``RELAYBURN_DATABASE_URL``), for the burn home.

    Stores are registered by plugins (``register_stores``; the built-in ``file`` store is one), so
    this is the one place a store is chosen: ingest, the archive build, ``burn ledger`` and
    ``burn doctor`` all open it here. An unknown name is a :class:`BurnError` listing the
    registered ones (a user error: one line, no traceback). Opening does not take the writer lock.
    """
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


def where(store: Store) -> str:
    """Where a store is, fit to print: its ledger path or its redacted URL."""
    facts = store.describe()
    return str(redact_url(str(facts.get("url") or facts.get("ledger") or store.name)))


def probe(store: Store) -> str | None:
    """Whether the store can be used: ``None``, or the one-line reason it cannot (no password).
    Calls the store's optional ``ping()``, else reads its position."""
    ping = getattr(store, "ping", None)
    try:
        if ping is not None:
            ping()
        else:
            store.position()
    except BurnError as exc:
        return str(exc)
    except Exception as exc:  # a driver's own error: its class and message, without the password
        return f"{type(exc).__name__}: {redact_url(str(exc))}"
    return None


def close(store: Store) -> None:
    """Release the store's connections (its optional ``close()``)."""
    closer = getattr(store, "close", None)
    if closer is not None:
        closer()


@attrs.define
class CopyResult:
    entries: int = 0  # entries read from the source
    appended: int = 0  # new events written to the target
    revised: int = 0  # revisions written to the target
    already: int = 0  # entries the target already held (a second copy: all of them)


CopyProgress = Callable[[int, int, int], None]  # (entries read, source position reached, end)
_COPY_BATCH = 5000


def copy_ledger(source: Store, target: Store, progress: CopyProgress | None = None) -> CopyResult:
    """Append every ledger entry of ``source`` to ``target``, in order, through the target's append
    (so its merges apply and a second copy adds nothing). Holds the target's writer lock."""
    result = CopyResult()
    end = source.position()
    batch: list[Encoded] = []

    def flush() -> None:
        appended = append_encoded(target, batch)
        result.appended += sum(appended.appended.values())
        result.revised += sum(appended.revised.values())
        result.already += sum(appended.dropped.values())
        batch.clear()

    with target.lock():
        for entry in source.read(0):
            batch.append(Encoded(entry.kind, entry.id, orjson.dumps(entry.record)))
            result.entries += 1
            if len(batch) >= _COPY_BATCH:
                flush()
                if progress is not None:
                    progress(result.entries, entry.position, end)
        if batch:
            flush()
    if progress is not None:
        progress(result.entries, end, end)
    return result
