"""The store conformance suite (burn.testing.store_conformance) over every registered store."""

from __future__ import annotations

import pytest

from burn.plugins.manager import Plugins
from burn.store import StoreFactory
from burn.testing.store_conformance import *  # noqa: F403  (the suite's tests and fixtures)

STORES = sorted(Plugins(env={"BURN_STRICT_PLUGINS": "1"}).stores().items())


def test_every_registered_store_is_covered() -> None:
    assert [name for name, _ in STORES] == ["file"]  # a new store joins the suite by registering


@pytest.fixture(params=[factory for _, factory in STORES], ids=[name for name, _ in STORES])
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    factory: StoreFactory = request.param
    return factory
