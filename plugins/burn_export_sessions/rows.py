"""Session rows from ``session_rollup`` rows (see :mod:`burn.session_rollup` for the columns)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from burn.contract.profile import Renderer
from burn.pricing.totals import group_cost_source
from burn.records import USAGE_FIELDS
from burn.session_rollup import M_COST, M_FIELDS, M_TURNS

# The token fields a session total adds (reasoning is part of output; web searches are requests).
TOTAL_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


@functools.lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")


def iso_ms(ms: int | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC) of epoch milliseconds: arithmetic below the day, because
    three timestamps per row made formatting a visible share of an export."""
    if ms is None:
        return None
    s, frac = divmod(ms, 1000)
    day, sec = divmod(s, 86400)
    h, rem = divmod(sec, 3600)
    m, ss = divmod(rem, 60)
    return f"{_day(day)}{h:02d}:{m:02d}:{ss:02d}.{frac:03d}Z"


def tokens(sums: Sequence[int | None], known: Sequence[int]) -> dict[str, int | None]:
    """Usage fields (null when no turn reported the field) and their total."""
    out: dict[str, int | None] = {
        f: (s or 0) if n else None for f, s, n in zip(USAGE_FIELDS, sums, known, strict=True)
    }
    parts = [out[f] for f in TOTAL_FIELDS]
    out["total"] = None if all(p is None for p in parts) else sum(p or 0 for p in parts)
    return out


def by_model(entries: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        fields = e[M_FIELDS:M_COST]
        cost, cost_n, _c, _r, _rn, n_comp, n_rep, unpriced, _ut, fallback = e[M_COST : M_COST + 10]
        out.append(
            {
                "model": e[0],
                "turns": e[M_TURNS],
                "tokens": tokens(fields[0::2], fields[1::2]),
                "cost": {
                    "total_usd_micros": cost if cost_n else None,
                    "cost_source": group_cost_source(n_comp, n_rep),
                },
                "unpriced_turns": unpriced,
                "fallback_turns": fallback,
            }
        )
    return out


def session_row(r: Mapping[str, Any], render: Renderer, machine: str) -> dict[str, Any]:
    source = r["source"]
    started, ended = r["started_ms"], r["ended_ms"]
    turns = r["assistant_turns"]
    unknown = {f: turns - r[f"{f}_n"] for f in USAGE_FIELDS if r[f"{f}_n"] < turns}
    row: dict[str, Any] = {
        "type": "session",
        "session_id": render.session(source, r["session_id"]),
        "source": source,
        "machine": machine,
        "project_key": render.key(r["project_key"]),
        "relationship": r["relationship"],
        "parent_session_id": render.session(source, r["parent_session_id"]),
        "classification": r["classification"],
        "started_at": iso_ms(started),
        "ended_at": iso_ms(ended),
        "last_activity_at": iso_ms(r["last_activity_ms"]),
        "duration_seconds": (ended - started) // 1000 if started is not None and ended is not None else None,
        "models": orjson.loads(r["models"]),
        "counts": {
            "assistant_turns": turns,
            "user_turns": r["user_turns"],
            "tool_calls": r["tool_calls"],
            "compactions": r["compactions"],
            "subagents": r["subagents"],
        },
        "tokens": tokens([r[f] for f in USAGE_FIELDS], [r[f"{f}_n"] for f in USAGE_FIELDS]),
        "cost": {
            "total_usd_micros": r["cost"],
            "including_children_usd_micros": r["incl_cost"],
            "cost_source": group_cost_source(r["computed_turns"], r["reported_turns"]),
        },
        "by_model": by_model(orjson.loads(r["by_model"])),
        "fidelity": {
            "usage": r["usage_fidelity"] or ("partial" if r["partial_turns"] else "full"),
            "unknown_fields": unknown,
            "notes": r["notes"].split(",") if r["notes"] else [],
            "unpriced_turns": r["unpriced_turns"],
            "fallback_turns": r["fallback_turns"],
        },
    }
    if render.full:
        row.update(machine_name=render.hostname, cwd=r["cwd"], branch=r["branch"], title=r["title"])
    return row
