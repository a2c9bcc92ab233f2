"""Hostile input (issue 11): every class of tests/fault/hostile.py, mixed with good records, is
ingested by the real CLI with exit 0, no traceback, the bad input counted in ``ingest --json``, and
``summary --json`` exactly that of the good records alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fault.hostile import CLASSES, HostileClass, reference_summary, run_class

# Most classes share one reference (the good base): ingest it once. The summary holds no path.
_REFERENCES: dict[Any, dict[str, Any]] = {}


def _reference(cls: HostileClass, root: Path) -> dict[str, Any]:
    if cls.reference not in _REFERENCES:
        _REFERENCES[cls.reference] = reference_summary(cls, root)
    return _REFERENCES[cls.reference]


@pytest.mark.parametrize("cls", CLASSES, ids=[c.name for c in CLASSES])
def test_hostile_class_keeps_every_good_record(cls: HostileClass, tmp_path: Path) -> None:
    reason = cls.skip()
    if reason:
        pytest.skip(reason)
    expected = _reference(cls, tmp_path / "reference")
    assert expected["totals"]["turns"] >= 5  # the good base is there
    result = run_class(cls, tmp_path / "hostile", expected)
    assert not result.problems, "\n".join(result.problems)


def test_at_least_31_classes() -> None:
    assert len(CLASSES) >= 31
    assert len({c.name for c in CLASSES}) == len(CLASSES)
