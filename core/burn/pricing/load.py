"""The effective pricing table: the bundled table plus the user's override file, and its digest.

Override file: ``$RELAYBURN_HOME/pricing.json``::

    {"models": {"my-model": {"provider": "openai", "input": "1.25", "output": "10"},
                "claude-sonnet-4-5-20250929": {"provider": "anthropic", "input": "2.5", "output": "12"}}}

Each row has the bundled rows' schema (docs/pricing.md) and replaces the bundled row of the same id
whole, or adds a new id: custom rows win. Rates may be JSON strings or JSON numbers; numbers are read
as exact decimals, never as binary floats. A malformed file is a :class:`BurnError` naming the
file and the field, never a traceback.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from burn.errors import BurnError
from burn.pricing.match import Match, Matcher
from burn.pricing.table import PriceRow, canonical_bytes, digest, normalize_row, parse_row

OVERRIDE_FILE = "pricing.json"


@lru_cache(maxsize=1)
def _bundled_text() -> str:
    return resources.files("burn.pricing").joinpath("data", "pricing.json").read_text(encoding="utf-8")


def bundled_table() -> dict[str, Any]:
    """A fresh copy of the table shipped inside the package."""
    table: dict[str, Any] = json.loads(_bundled_text())
    return table


def read_override(path: Path) -> dict[str, dict[str, Any]] | None:
    """The normalized rows of an override file, or ``None`` when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BurnError(f"pricing override {path}: cannot read it: {exc}") from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise BurnError(f"pricing override {path}: invalid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise BurnError(f'pricing override {path}: expected an object {{"models": {{"<model id>": {{…}}}}}}')
    extra = sorted(set(data) - {"models"})
    if extra:
        raise BurnError(f"pricing override {path}: unknown top-level field(s) {', '.join(extra)}")
    rows: dict[str, dict[str, Any]] = {}
    for model, raw in data["models"].items():
        if not model.strip():
            raise BurnError(f"pricing override {path}: empty model id")
        if isinstance(raw, Mapping) and "sources" in raw:
            raise BurnError(f"pricing override {path}: models.{model}.sources is set by burn, remove it")
        try:
            row = normalize_row(model, raw)
        except ValueError as exc:
            raise BurnError(f"pricing override {path}: {exc}") from None
        row["sources"] = ["override"]
        rows[model] = row
    return rows


def effective_table(home: Path) -> dict[str, Any]:
    """The bundled table with the override rows of ``home`` applied (custom rows win)."""
    table = bundled_table()
    custom = read_override(home / OVERRIDE_FILE)
    if custom:
        table["models"].update(custom)
        table["source"] = "bundled+override"
        table["custom_rows"] = len(custom)
    return table


@attrs.define
class Pricing:
    """An effective table, parsed for pricing, with its digest and provenance."""

    table: dict[str, Any]
    rows: dict[str, PriceRow]
    digest: str
    matcher: Matcher

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> Pricing:
        rows = {model: parse_row(model, row) for model, row in table["models"].items()}
        return cls(table, rows, digest(table), Matcher(rows))

    def match(self, model: str) -> Match:
        return self.matcher.match(model)

    def row_for(self, match: Match) -> PriceRow | None:
        return self.rows.get(match.matched) if match.matched is not None else None

    def canonical(self) -> bytes:
        return canonical_bytes(self.table)

    def provenance(self) -> dict[str, Any]:
        """What every report says about where its prices came from."""
        t = self.table
        return {
            "source": t["source"],
            "table": {"name": t["name"], "version": t["version"]},
            "digest": self.digest,
            "custom_rows": t["custom_rows"],
        }

    def row_json(self, model: str) -> dict[str, Any]:
        row: dict[str, Any] = copy.deepcopy(self.table["models"][model])
        return row


def load_pricing(home: Path) -> Pricing:
    """The effective pricing for a burn home (bundled table + ``home/pricing.json``)."""
    return Pricing.from_table(effective_table(home))
