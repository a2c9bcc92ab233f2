"""The ``pricing`` block of report and contract metadata (DESIGN §10).

It names the table whose digest produced the archive's costs, how the totals were costed, the
models priced by fallback or not at all, and the rates of every model in the payload — so a reader
of any document can check each number against ``burn pricing show``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from burn.pricing.load import Pricing
from burn.pricing.table import RATE_FIELDS


def _per_mtok(card: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{k}_per_mtok": card[k] for k in RATE_FIELDS}


def model_rates(pricing: Pricing, model: str) -> dict[str, Any] | None:
    """The rates a model id is priced with, in the contracts' ``…_per_mtok`` spelling."""
    m = pricing.match(model)
    if m.matched is None:
        return None
    row = pricing.table["models"][m.matched]
    out: dict[str, Any] = {"matched": m.matched, "match": m.kind, **_per_mtok(row)}
    if row.get("tiers"):
        out["tiers"] = [{"threshold": t["threshold"], **_per_mtok(t)} for t in row["tiers"]]
    if row.get("fast"):
        out["fast"] = _per_mtok(row["fast"])
    if row.get("web_search_per_request"):
        out["web_search_per_request"] = row["web_search_per_request"]
    return out


def _stored_table(value: str | None) -> dict[str, str] | None:
    """The archive keeps the table that priced it as ``"<name> <version>"``."""
    if not value:
        return None
    name, _, version = value.rpartition(" ")
    return {"name": name, "version": version} if name else {"name": version, "version": ""}


def pricing_meta(
    pricing: Pricing,
    archive_state: Mapping[str, str],
    cost_source: str,
    models: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The block for a payload whose per-model rows (``model``, ``unpriced``, ``fallback_turns``)
    are ``models``. When the archive was priced with another table than the effective one
    (``stale``), the archive's digest is reported and no rates are shown: they would not be the
    rates behind the numbers. ``burn archive build`` re-prices."""
    digest = archive_state.get("pricing_digest")
    stale = digest != pricing.digest
    rows = list(models)
    p = pricing.provenance()
    fallback = sorted(r["model"] for r in rows if r.get("fallback_turns"))
    out: dict[str, Any] = {
        "source": archive_state.get("pricing_source") if stale else p["source"],
        "table": _stored_table(archive_state.get("pricing_table")) if stale else dict(p["table"]),
        "digest": digest,
        "custom_rows": p["custom_rows"],
        "cost_source": cost_source,
        "fallback": {"used": bool(fallback), "models": fallback},
        "unpriced_models": sorted(r["model"] for r in rows if (r.get("unpriced") or {}).get("turns")),
        "stale": stale,
    }
    if stale:
        out["custom_rows"] = int(archive_state.get("pricing_custom_rows") or 0)
        out["effective_digest"] = pricing.digest
    else:
        out["models"] = {
            r["model"]: model_rates(pricing, r["model"]) for r in sorted(rows, key=lambda r: r["model"])
        }
    return out
