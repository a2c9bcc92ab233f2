"""The store conformance suite (burn.testing.store_conformance) over every registered store."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from burn.plugins.manager import Plugins
from burn.store import Store, StoreConfig, StoreFactory
from burn.testing.store_conformance import *  # noqa: F403  (the suite's tests and fixtures)
from tests.pg import pg_url, reset  # noqa: F401  (pg_url: a fixture)

STORES = sorted(Plugins(env={"BURN_STRICT_PLUGINS": "1"}).stores().items())
# Stores at a server: the suite gives them a database of their own (emptied before each test).
SERVER_STORES = {"postgres": "pg_url"}


def test_every_registered_store_is_covered() -> None:
    assert [name for name, _ in STORES] == [
        "file",
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
        reset(url)
        return AtHome(factory, url)
    return AtHome(factory)
