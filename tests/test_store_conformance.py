"""The store conformance suite (burn.testing.store_conformance) over every registered store."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from burn.plugins.manager import Plugins
from burn.store import Store, StoreConfig, StoreFactory
from burn.testing.store_conformance import *  # noqa: F403  (the suite's tests and fixtures)

STORES = sorted(Plugins(env={"BURN_STRICT_PLUGINS": "1"}).stores().items())


def test_every_registered_store_is_covered() -> None:
    assert [name for name, _ in STORES] == ["file"]  # a new store joins the suite by registering


@attrs.frozen
class AtHome:
    """The suite's ``store_factory``: a registered factory opening its default store in a fresh
    burn home (picklable, for the suite's spawned processes)."""

    factory: StoreFactory

    def __call__(self, home: Path) -> Store:
        return self.factory(StoreConfig(home=home))


@pytest.fixture(params=[factory for _, factory in STORES], ids=[name for name, _ in STORES])
def store_factory(request: pytest.FixtureRequest) -> AtHome:
    return AtHome(request.param)
