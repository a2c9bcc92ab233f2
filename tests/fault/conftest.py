"""The fault harness (issue 11): every test here carries the ``faults`` marker
(``pytest -m faults`` runs only them; ``-m "not faults"`` skips them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fault.harness import make_corpus


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 MB three-agent corpus: with BURN_WORKERS=2 an ingest reads it in worker processes."""
    return make_corpus(tmp_path_factory.mktemp("fault-corpus"))
