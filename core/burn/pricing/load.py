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
from pathlib import Path
from typing import Any

import attrs

from burn.errors import BurnError
from burn.pricing.inputs import BUNDLED_FILE, OVERRIDE_FILE, inputs_fingerprint
from burn.pricing.match import Match, Matcher
from burn.pricing.table import PriceRow, canonical_bytes, digest, normalize_row, parse_row


@lru_cache(maxsize=1)
def _bundled_text() -> str:
    return BUNDLED_FILE.read_text(encoding="utf-8")


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
    except ValueError as exc:  # JSONDecodeError, or an integer of more digits than Python reads
        raise BurnError(f"pricing override {path}: invalid JSON: {exc}") from None
    except RecursionError:
        raise BurnError(f"pricing override {path}: invalid JSON: nested too deeply") from None
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
    digest: str
    matcher: Matcher
    # Rows are parsed when a model is first priced: an archive uses a dozen of the table's ~160, and
    # a report that only shows rates parses none.
    _rows: dict[str, PriceRow] = attrs.field(factory=dict, init=False, repr=False)

    @classmethod
    def from_table(cls, table: dict[str, Any], known_digest: str | None = None) -> Pricing:
        """``known_digest``: the digest of this very table, when the caller knows it (it is the
        digest of canonical bytes that take milliseconds to produce)."""
        return cls(table, known_digest or digest(table), Matcher(table["models"]))

    def match(self, model: str) -> Match:
        return self.matcher.match(model)

    def row_for(self, match: Match) -> PriceRow | None:
        name = match.matched
        if name is None or name not in self.table["models"]:
            return None
        row = self._rows.get(name)
        if row is None:
            row = self._rows[name] = parse_row(name, self.table["models"][name])
        return row

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


def load_pricing(home: Path, archive_state: Mapping[str, str] | None = None) -> Pricing:
    """The effective pricing for a burn home (bundled table + ``home/pricing.json``).

    ``archive_state``: the state of an archive priced in this home. When it records that its
    digest came from the very inputs present now (:func:`inputs_fingerprint`), that digest is
    taken instead of canonicalizing the table again.
    """
    known = None
    if archive_state is not None:
        digest_then = archive_state.get("pricing_digest")
        if digest_then and archive_state.get("pricing_inputs") == f"{inputs_fingerprint(home)}|{digest_then}":
            known = digest_then
    return Pricing.from_table(effective_table(home), known)
