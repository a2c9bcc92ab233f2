"""Human tables for ``burn report …`` when no machine format was asked for (DESIGN §11).

The table is rendered from the very document ``--json`` prints, so the two never disagree.
"""

from __future__ import annotations

from typing import Any

from burn.text.render import num, table


def _usd(micros: int | None) -> str:
    return "-" if micros is None else f"${micros / 1e6:,.4f}"


def _tokens(t: dict[str, Any]) -> list[str]:
    write = None
    if t.get("cache_write_5m") is not None or t.get("cache_write_1h") is not None:
        write = (t.get("cache_write_5m") or 0) + (t.get("cache_write_1h") or 0)
    return [
        num(t.get("input")),
        num(t.get("output")),
        num(t.get("cache_read")),
        num(write),
        num(t.get("total")),
    ]


def render(doc: dict[str, Any]) -> str:
    contract = doc["meta"]["contract"]
    if contract == "burn.activity":
        return _activity(doc)
    return _usage(doc)


def _usage(doc: dict[str, Any]) -> str:
    rows = doc.get("rows") or []
    if not rows:
        return "no usage in this window (run `burn ingest` to read agent sessions)\n"
    by = rows[0].get("by", "key")
    body = [_usage_row(r["key"], r) for r in rows]
    body.append(_usage_row("total", doc["totals"]))
    headers = [by, "turns", "sessions", "input", "output", "cache_read", "cache_write", "total", "cost"]
    return table(headers, body, right=range(1, len(headers))) + f"(times in {doc['meta']['timezone']})\n"


def _usage_row(key: str, r: dict[str, Any]) -> list[str]:
    cost = _usd(r["cost"]["total_usd_micros"])
    return [key, f"{r['turns']:,}", f"{r['sessions']:,}", *_tokens(r["tokens"]), cost]


def _activity(doc: dict[str, Any]) -> str:
    rows = [r for r in doc.get("rows") or [] if r.get("turns")]
    if not rows:
        return "no agent activity in this window\n"
    body = [
        [r["start"], f"{r['agent_seconds'] / 60:,.1f}", str(r["peak_concurrency"]), f"{r['sessions']:,}",
         f"{r['turns']:,}", num(r["output_tokens"]), _usd(r["cost"]["total_usd_micros"])]
        for r in rows
    ]  # fmt: skip
    headers = ["bucket", "agent_min", "peak", "sessions", "turns", "output", "cost"]
    out = table(headers, body, right=range(1, len(headers)))
    return out + f"(buckets without activity omitted; times in {doc['meta']['timezone']})\n"
