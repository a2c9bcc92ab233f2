"""``burn pricing show`` and ``burn pricing check``: data and text, for the thin CLI commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from burn.errors import BurnError
from burn.pricing.cost import price_turn
from burn.pricing.inputs import OVERRIDE_FILE
from burn.pricing.load import Pricing
from burn.records import USAGE_FIELDS, Usage
from burn.text.render import num, table

if TYPE_CHECKING:
    from burn.query import ArchiveView
# -- show -------------------------------------------------------------------------------------------


def model_json(pricing: Pricing, model: str) -> dict[str, Any]:
    """How one model id is priced: the match (kind, steps) and the row it matched."""
    m = pricing.match(model)
    if m.matched is None:
        raise BurnError(
            f"model {model!r} is unpriced: no row of the pricing table matches it "
            f"(add a row to $RELAYBURN_HOME/{OVERRIDE_FILE}, see docs/pricing.md)"
        )
    return {
        "model": model,
        "match": {"kind": m.kind, "matched": m.matched, "steps": list(m.steps), "fast": m.fast},
        "rates": pricing.row_json(m.matched),
        "pricing": pricing.provenance(),
    }


def _rates(d: dict[str, Any]) -> str:
    return "/".join(d[k] for k in ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h"))


def _tiers(d: dict[str, Any]) -> str:
    return "; ".join(f">{t['threshold'] // 1000}k {_rates(t)}" for t in d.get("tiers") or ())


def _header(pricing: Pricing) -> str:
    p = pricing.provenance()
    custom = f", {p['custom_rows']} custom rows" if p["custom_rows"] else ""
    return (
        f"pricing {p['table']['name']} {p['table']['version']} ({p['source']}{custom})\n"
        f"digest  {p['digest']}\n"
        "rates   USD per million tokens: input/output/cache read/cache write 5m/cache write 1h\n"
    )


def show_text(pricing: Pricing) -> str:
    rows = []
    for model, row in sorted(pricing.table["models"].items()):
        fast = row.get("fast")
        rows.append([
            model, row["provider"], _rates(row), _tiers(row), _rates(fast) if fast else "",
            row.get("web_search_per_request", ""), ",".join(row["sources"]),
        ])  # fmt: skip
    headers = ["model", "provider", "rates", "long context", "fast", "web search", "sources"]
    return _header(pricing) + "\n" + table(headers, rows)


def model_text(data: dict[str, Any]) -> str:
    m, r = data["match"], data["rates"]
    how = m["kind"] + (f" via {', '.join(m['steps'])}" if m["steps"] else "")
    lines = [
        f"model          {data['model']}",
        f"priced as      {m['matched']} ({how}{', fast mode' if m['fast'] else ''})",
        f"provider       {r['provider']}",
        *(
            f"{k:<15}{r[k]} USD/MTok"
            for k in ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
        ),
    ]
    for t in r.get("tiers") or ():
        lines.append(f"prompt > {t['threshold']:,}: {_rates(t)} (every token of the request)")
    if r.get("fast"):
        lines.append(
            f"fast mode      {_rates(r['fast'])}"
            + (f"; {_tiers(r['fast'])}" if r["fast"].get("tiers") else "")
        )
    if r.get("web_search_per_request"):
        lines.append(f"web search     {r['web_search_per_request']} USD per request")
    if r.get("valid_from"):
        lines.append(f"valid from     {r['valid_from']}")
    lines.append(
        f"sources        {', '.join(r['sources'])}"
        + (f" (derived: {', '.join(r['derived'])})" if r["derived"] else "")
    )
    p = data["pricing"]
    lines.append(f"table          {p['table']['name']} {p['table']['version']} ({p['source']}) {p['digest']}")
    return "\n".join(lines) + "\n"


# -- check ------------------------------------------------------------------------------------------


def check(archive: ArchiveView, pricing: Pricing) -> dict[str, Any]:
    """Archive models priced by a fallback or not at all under the *current* effective table, with
    their token volumes (the archive's stored costs may be older: ``stale`` says so)."""
    sums = ", ".join(f"SUM({f})" for f in USAGE_FIELDS)
    sql = f"SELECT model, speed, COUNT(*), MIN(ts), {sums} FROM turns GROUP BY model, speed ORDER BY 1, 2"
    problems: dict[str, list[dict[str, Any]]] = {"unpriced": [], "fallback": []}
    for model, speed, turns, first_ts, *values in archive.db.execute(sql):
        usage = Usage(*values)
        m = pricing.match(model)
        tc = price_turn(pricing.row_for(m), m, usage, speed=speed, ts=first_ts)
        if tc.kind not in problems:
            continue
        problems[tc.kind].append({
            "model": model, "speed": speed, "matched": m.matched, "steps": list(m.steps),
            "notes": list(tc.notes), "turns": turns, "tokens": usage.total(),
            **{f: v for f, v in zip(USAGE_FIELDS, values, strict=True)},
        })  # fmt: skip
    stored = archive.state().get("pricing_digest")
    return {
        "pricing": pricing.provenance(),
        "archive_pricing_digest": stored,
        "stale": stored != pricing.digest,
        **problems,
    }


def check_text(data: dict[str, Any]) -> str:
    out = []
    for kind, title in (
        ("unpriced", "unpriced models (no cost computed)"),
        ("fallback", "priced by fallback"),
    ):
        rows = data[kind]
        if not rows:
            out.append(f"{title}: none\n")
            continue
        body = [
            [r["model"] + (" (fast)" if r["speed"] == "fast" else ""), r["matched"] or "-",
             ", ".join(r["steps"] + r["notes"]) or "-", f"{r['turns']:,}", num(r["tokens"])]
            for r in rows
        ]  # fmt: skip
        out.append(
            f"{title}:\n" + table(["model", "priced as", "how", "turns", "tokens"], body, right=[3, 4])
        )
    if data["stale"]:
        out.append(
            "the archive's costs come from another pricing table: run `burn archive build` to re-price\n"
        )
    return "\n".join(out)
