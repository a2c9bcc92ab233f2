"""The store conformance suite (burn.testing.store_conformance) over every registered store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import pytest

from burn.ledger.file import FileStore
from burn.plugins.manager import Plugins
from burn.store import Encoded, Store, StoreConfig, StoreFactory
from burn.testing.store_conformance import *  # noqa: F403  (the suite's tests and fixtures)
from burn.testing.store_conformance import RawAppend, default_raw_append
from tests.pg import pg_url, reset  # noqa: F401  (pg_url: a fixture)
from tests.server_fixture import start

STORES = sorted(Plugins(env={"BURN_STRICT_PLUGINS": "1"}).stores().items())
# Stores at a server: the fixture giving each test an empty one (its URL).
SERVER_STORES = {"postgres": "empty_pg", "http": "empty_server"}
_SERVER_HOMES: dict[str, Path] = {}  # a `burn serve`'s URL -> its burn home (its file store)


@pytest.fixture
def empty_pg(pg_url: str) -> str:  # noqa: F811
    """The test database, emptied."""
    reset(pg_url)
    return pg_url


@pytest.fixture
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `burn serve` (file store, no tokens, loopback, random port) in a fresh home."""
    base = tmp_path_factory.mktemp("served")
    env = {"HOME": str(base), "RELAYBURN_HOME": str(base / "burn"), "TZ": "UTC"}
    served = start(env, "--refresh", "0", log=base / "serve.log")
    _SERVER_HOMES[served.url] = base / "burn"
    try:
        yield served.url
    finally:
        served.stop()
        del _SERVER_HOMES[served.url]


@pytest.fixture
def raw_append() -> RawAppend:
    """The suite's, except for the http store: a server refuses kinds it does not know, so the
    newer burn's entries go straight into the server's own ledger (as a newer server wrote them)."""

    def append(store: Store, entries: Sequence[tuple[str, str, bytes]]) -> None:
        url = getattr(store, "url", None)
        if store.name != "http" or url not in _SERVER_HOMES:
            default_raw_append(store, entries)
            return
        ledger = FileStore(_SERVER_HOMES[url])
        with ledger.lock():
            ledger.append_encoded([Encoded(kind, rid, data) for kind, rid, data in entries], None)

    return append


def test_every_registered_store_is_covered() -> None:
    assert [name for name, _ in STORES] == [
        "file",
        "http",
        "postgres",
        "sqlite",
    ]  # a new store joins the suite by registering


@attrs.frozen
class AtHome:
    """The suite's ``store_factory``: a registered factory opening its default store in a fresh
    burn home (picklable, for the suite's spawned processes), or the store at ``url``."""

    factory: StoreFactory
    url: str | None = None

    def __call__(self, home: Path) -> Store:
        return self.factory(StoreConfig(home=home, url=self.url))


@pytest.fixture(params=STORES, ids=[name for name, _ in STORES])
def store_factory(request: pytest.FixtureRequest) -> AtHome:
    name, factory = request.param
    if name in SERVER_STORES:
        url: str = request.getfixturevalue(SERVER_STORES[name])
        return AtHome(factory, url)
    return AtHome(factory)
