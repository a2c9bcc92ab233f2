"""Session rows from ``session_rollup`` rows (see :mod:`burn.archive.session_rollup` for the columns)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from burn.exporter import Renderer
from burn.query import (
    ACTIVITY_RULES_VERSION,
    COMPONENT_NAMES,
    MODEL_ENTRY,
    SESSION_TIMING_SQL,
    TIMING_WIDTH,
    component_values,
    group_cost_source,
    session_timing,
)
from burn.records import TOTAL_FIELDS, USAGE_FIELDS

# Where a by_model entry's values sit (burn.query.MODEL_ENTRY).
_M_TURNS = MODEL_ENTRY["turns"]
_M_SUMS = tuple(MODEL_ENTRY[f] for f in USAGE_FIELDS)
_M_KNOWN = tuple(MODEL_ENTRY[f"{f}_n"] for f in USAGE_FIELDS)
_M_COST, _M_COSTED = MODEL_ENTRY["cost_usd_micros"], MODEL_ENTRY["costed_turns"]
_M_COMPUTED, _M_REPORTED = MODEL_ENTRY["computed_turns"], MODEL_ENTRY["reported_turns"]
_M_UNPRICED, _M_FALLBACK = MODEL_ENTRY["unpriced_turns"], MODEL_ENTRY["fallback_turns"]


@functools.lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")


_HM = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_SS = [f"{s:02d}." for s in range(60)]
_FRAC = [f"{f:03d}Z" for f in range(1000)]


def iso_ms(ms: int | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC) of epoch milliseconds: arithmetic and small tables below
    the day, because timestamps per row made formatting a visible share of an export."""
    if ms is None:
        return None
    s, frac = divmod(ms, 1000)
    day, sec = divmod(s, 86400)
    minute, ss = divmod(sec, 60)
    return f"{_day(day)}{_HM[minute]}{_SS[ss]}{_FRAC[frac]}"


def tokens(sums: Sequence[int | None], known: Sequence[int]) -> dict[str, int | None]:
    """Usage fields (null when no turn reported the field) and their total."""
    out: dict[str, int | None] = {
        f: (s or 0) if n else None for f, s, n in zip(USAGE_FIELDS, sums, known, strict=True)
    }
    parts = [out[f] for f in TOTAL_FIELDS]
    out["total"] = None if all(p is None for p in parts) else sum(p or 0 for p in parts)
    return out


def by_model(entries: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Per-model rows from a session's stored by_model entries."""
    out = []
    for e in entries:
        out.append(
            {
                "model": e[0],
                "turns": e[_M_TURNS],
                "tokens": tokens([e[i] for i in _M_SUMS], [e[i] for i in _M_KNOWN]),
                "cost": {
                    "total_usd_micros": e[_M_COST] if e[_M_COSTED] else None,
                    "cost_source": group_cost_source(e[_M_COMPUTED], e[_M_REPORTED]),
                },
                "unpriced_turns": e[_M_UNPRICED],
                "fallback_turns": e[_M_FALLBACK],
            }
        )
    return out


def _flag(column: str) -> str:
    return f"r.{column}_n"


# The columns a session row is built from, in order, several shaped by SQL so that Python only
# places values: usage fields as session rows show them (null when no turn reported the field,
# then their total), the cost source, the usage fidelity and the unknown fields.
_TOKENS_SQL = ", ".join(f"CASE WHEN {_flag(f)} THEN COALESCE(r.{f}, 0) END" for f in USAGE_FIELDS)
_TOTAL_SQL = (
    f"CASE WHEN {' OR '.join(_flag(f) for f in TOTAL_FIELDS)} THEN "
    + " + ".join(f"(CASE WHEN {_flag(f)} THEN COALESCE(r.{f}, 0) ELSE 0 END)" for f in TOTAL_FIELDS)
    + " END"
)
# Unknown fields: a bit per field that some turn did not report (usually none did: the count is
# then the session's turns), and only when some field was reported by some turns but not all, the
# object itself as JSON.
_UNKNOWN_MASK_SQL = " + ".join(
    f"(({_flag(f)} < r.assistant_turns) << {i})" for i, f in enumerate(USAGE_FIELDS)
)
_PARTIAL_SQL = (
    f"CASE WHEN {' OR '.join(f'({_flag(f)} > 0 AND {_flag(f)} < r.assistant_turns)' for f in USAGE_FIELDS)} "
    "THEN '{' || substr("
    + " || ".join(
        f"""(CASE WHEN {_flag(f)} < r.assistant_turns THEN ',"{f}":' || (r.assistant_turns - {_flag(f)})
        ELSE '' END)"""
        for f in USAGE_FIELDS
    )
    + ", 2) || '}' END"
)
_MASK_FIELDS = [
    tuple(f for i, f in enumerate(USAGE_FIELDS) if mask >> i & 1) for mask in range(1 << len(USAGE_FIELDS))
]
COLUMNS = f"""r.sort_ms, r.source, r.session_id, r.project_key, r.relationship, r.parent_session_id,
    r.classification, r.started_ms, r.ended_ms, r.last_activity_ms, r.models, r.assistant_turns,
    r.user_turns, r.tool_calls, r.compactions, r.subagents, {_TOKENS_SQL}, {_TOTAL_SQL}, r.cost,
    r.incl_cost,
    CASE WHEN r.computed_turns THEN (CASE WHEN r.reported_turns THEN 'mixed' ELSE 'computed' END)
      WHEN r.reported_turns THEN 'reported' ELSE 'none' END,
    CASE WHEN r.usage_fidelity != '' THEN r.usage_fidelity WHEN r.partial_turns THEN 'partial'
      ELSE 'full' END,
    {_UNKNOWN_MASK_SQL},
    {_PARTIAL_SQL},
    r.notes, r.unpriced_turns, r.fallback_turns, r.by_model,
    r.activity, r.activity_calls, r.workflow_id, r.stamp_agent, r.stamp_persona, r.stamp_tier,
    r.cost_n, {", ".join(f"r.{c}" for c in COMPONENT_NAMES)}, r.branch,
    (SELECT p.git_root FROM projects p WHERE p.cwd = r.cwd AND p.is_worktree = 1
     ORDER BY p.observed_at DESC, p.id DESC LIMIT 1), {SESSION_TIMING_SQL}"""
FULL_COLUMNS = ", r.cwd, r.title"
_EXTRA = 9 + len(COMPONENT_NAMES)  # the columns after by_model, up to the worktree's

_TOKEN_KEYS = (*USAGE_FIELDS, "total")
_N = len(_TOKEN_KEYS)
_TIMING = 26 + _N + _EXTRA  # where the timing columns start

RowBuilder = Callable[[Sequence[Any]], tuple[tuple[Any, ...], dict[str, Any]]]


def activity(category: str | None, calls_json: str | None) -> dict[str, Any]:
    """A session row's ``activity``: its category (``None`` without turns or tool calls), its tool
    calls per category, and the version of the rules that made the labels."""
    return {
        "category": category,
        "tool_calls": orjson.loads(calls_json) if calls_json else {},
        "rules_version": ACTIVITY_RULES_VERSION,
    }


def stamps(workflow: str | None, agent: str | None, persona: str | None, tier: str | None) -> dict[str, Any]:
    """A session row's ``stamps`` (``burn stamp``): each ``None`` when not stamped."""
    return {"workflow": workflow, "agent": agent, "persona": persona, "tier": tier}


def row_builder(
    render: Renderer, machine: str, label: Callable[[str | None], str | None] | None = None
) -> RowBuilder:
    """A function from one row of ``SELECT COLUMNS (+ FULL_COLUMNS under full)`` to its keyset
    key and its session row (docs/contracts.md). ``label`` gives a project key's label under the
    profile (``project_label``; none without it)."""
    full = render.full
    anonymous = render.profile == "anonymous"
    projects: dict[str | None, str | None] = {}
    loads = orjson.loads
    mask_fields = _MASK_FIELDS

    def build(v: Sequence[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        (sort_ms, source, sid, project, relationship, parent, classification, started, ended, last,
         models_json, turns, user_turns, tool_calls, compactions, subagents) = v[:16]  # fmt: skip
        toks = v[16 : 16 + _N]
        (cost, incl_cost, cost_source, usage, unknown_mask, unknown_json, notes, unpriced, fallback,
         by_model_json) = v[16 + _N : 26 + _N]  # fmt: skip
        category, calls_json, workflow, agent, persona, tier, cost_n = v[26 + _N : 33 + _N]
        parts = component_values(v[33 + _N : 24 + _N + _EXTRA], cost_n)
        branch, worktree_root = v[24 + _N + _EXTRA : 26 + _N + _EXTRA]
        timing = v[_TIMING : _TIMING + TIMING_WIDTH]
        if anonymous:
            shown_id = render.session(source, sid)
            shown_parent = render.session(source, parent)
            if project not in projects:
                projects[project] = render.key(project)
            shown_project = projects[project]
        else:
            shown_id, shown_parent, shown_project = sid, parent, project
        tokens_row = dict(zip(_TOKEN_KEYS, toks, strict=False))  # as many values as keys
        models = loads(models_json)
        if len(models) == 1:  # the session's own sums are its one model's
            per_model = [
                {
                    "model": models[0],
                    "turns": turns,
                    "tokens": dict(tokens_row),
                    "cost": {"total_usd_micros": cost, "cost_source": cost_source},
                    "unpriced_turns": unpriced,
                    "fallback_turns": fallback,
                }
            ]
        elif models:
            per_model = by_model(loads(by_model_json))
        else:
            per_model = []
        ended_at = iso_ms(ended)
        row: dict[str, Any] = {
            "type": "session",
            "session_id": shown_id,
            "source": source,
            "machine": machine,
            "project_key": shown_project,
            "project_label": None if label is None else label(project),
            "relationship": relationship,
            "parent_session_id": shown_parent,
            "classification": classification,
            "started_at": iso_ms(started),
            "ended_at": ended_at,
            "last_activity_at": ended_at if last == ended else iso_ms(last),
            "duration_seconds": None if started is None or ended is None else (ended - started) // 1000,
            "models": models,
            "counts": {
                "assistant_turns": turns,
                "user_turns": user_turns,
                "tool_calls": tool_calls,
                "compactions": compactions,
                "subagents": subagents,
            },
            "tokens": tokens_row,
            "cost": {
                "total_usd_micros": cost,
                "including_children_usd_micros": incl_cost,
                "cost_source": cost_source,
                "components": parts,
            },
            "by_model": per_model,
            "fidelity": {
                "usage": usage,
                "unknown_fields": (
                    loads(unknown_json) if unknown_json else dict.fromkeys(mask_fields[unknown_mask], turns)
                ),
                "notes": notes.split(",") if notes else [],
                "unpriced_turns": unpriced,
                "fallback_turns": fallback,
            },
            "activity": activity(category, calls_json),
            "stamps": stamps(workflow, agent, persona, tier),
            "worktree": render.worktree(worktree_root),
            "timing": session_timing(timing),
        }
        if not anonymous:
            row["branch"] = render.branch(branch)
        if full:
            cwd, title = v[_TIMING + TIMING_WIDTH :]
            row.update(machine_name=render.hostname, cwd=cwd, title=title)
        return (sort_ms, source, sid), row

    return build
