"""Session rows shaped partly in SQL (``burn_export_sessions.rows``) equal, byte for byte, the rows
of the plain Python shaping they replaced (``reference_row`` below), on generated rollup rows:
unknown and partially reported fields, several models, costs of every source, every profile."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from burn.archive import session_rollup, tables
from burn.contract.profile import Renderer
from burn.pricing.totals import COMPONENT_NAMES, group_cost_source
from burn.pricing.totals import components as cost_components
from burn.records import USAGE_FIELDS
from burn_export_sessions.rows import (
    COLUMNS,
    FULL_COLUMNS,
    activity,
    by_model,
    iso_ms,
    row_builder,
    stamps,
    tokens,
)

SECRET = bytes(range(32))


def reference_row(r: Mapping[str, Any], render: Renderer, machine: str) -> dict[str, Any]:
    """A session row from a ``session_rollup`` row, field by field in Python."""
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
        "project_label": None,
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
            "components": cost_components({c: r[c] for c in COMPONENT_NAMES}, r["cost_n"]),
        },
        "by_model": by_model(orjson.loads(r["by_model"])),
        "fidelity": {
            "usage": r["usage_fidelity"] or ("partial" if r["partial_turns"] else "full"),
            "unknown_fields": unknown,
            "notes": r["notes"].split(",") if r["notes"] else [],
            "unpriced_turns": r["unpriced_turns"],
            "fallback_turns": r["fallback_turns"],
        },
        "activity": activity(r["activity"], r["activity_calls"]),
        "stamps": stamps(r["workflow_id"], r["stamp_agent"], r["stamp_persona"], r["stamp_tier"]),
        "worktree": None,  # no linked worktree observed in these rollups
        "timing": {
            "turns_timed": r["turns_timed"],
            "duration_ms_total": r["duration_ms_total"],
            "duration_ms_median": r["duration_ms_median"],
            "latency_turns": r["latency_turns"],
            "latency_ms_median": r["latency_ms_median"],
            "output_tokens_per_s": None
            if not r["rate_ms"]
            else str(
                (Decimal(r["rate_output"]) * 1000 / r["rate_ms"]).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
            ),
            "user_turns_timed": r["user_turns_timed"],
            "wall_ms_total": r["wall_ms_total"],
        },
    }
    if render.profile != "anonymous":
        row["branch"] = render.branch(r["branch"])
    if render.full:
        row.update(machine_name=render.hostname, cwd=r["cwd"], title=r["title"])
    return row


_small = st.integers(0, 6)
_text = st.none() | st.text(max_size=6)


@st.composite
def _model(draw: st.DrawFn, name: str) -> list[Any]:
    turns = draw(_small)
    usage = []
    for _ in USAGE_FIELDS:  # (sum, turns that reported it): none, some or all of the turns
        known = draw(st.sampled_from([0, turns, min(turns, 1)]))
        usage += [draw(st.integers(0, 10**9)) if known else 0, known]
    costed = draw(st.integers(0, turns))
    computed = draw(st.integers(0, costed))
    cost = [draw(st.integers(0, 10**12)), costed, 0, 0, 0, computed, costed - computed,
            draw(st.integers(0, turns)), draw(st.integers(0, 10**6)), draw(st.integers(0, turns))]  # fmt: skip
    parts = [draw(st.integers(0, 10**9)) for _ in COMPONENT_NAMES]
    parts[COMPONENT_NAMES.index("c_reasoning_n")] = draw(st.integers(0, computed))
    return [name, turns, *usage, *cost, *parts, draw(st.integers(0, turns))]


@st.composite
def _session(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(["m-a", "m-b", "m\u00e9", "\ue000x"]), max_size=3, unique=True))
    times = draw(st.lists(st.integers(0, 4 * 10**12), max_size=3))
    return {
        "parent_session_id": draw(st.none() | st.just("parent")),
        "relationship": draw(st.sampled_from(["root", "subagent"])),
        "classification": draw(st.sampled_from([None, "interactive", "automated"])),
        "project_key": draw(st.none() | st.sampled_from(["sha256:aa", "sha256:bb"])),
        "cwd": draw(_text),
        "branch": draw(_text),
        "title": draw(_text),
        "usage_fidelity": draw(st.sampled_from([None, "", "full", "partial", "none"])),
        "times": times,
        "models": [draw(_model(n)) for n in sorted(names)],
        "user_turns": draw(_small),
        "tool_calls": draw(_small),
        "compactions": draw(_small),
        "notes": set(draw(st.lists(st.sampled_from(["a", "b"]), max_size=2))),
        "categories": draw(st.dictionaries(st.sampled_from(["coding", "git", "reading"]), st.integers(1, 5))),
        "stamps": [draw(_text) for _ in session_rollup.STAMP_COLUMNS],
        **draw(_timing()),
    }


@st.composite
def _timing(draw: st.DrawFn) -> dict[str, Any]:
    """A session's timing aggregates as :func:`session_rollup._own_rows` collects them."""
    durations = draw(st.lists(st.integers(0, 10**7), max_size=5))
    latencies = draw(st.lists(st.integers(0, 10**6), max_size=len(durations)))
    rated_ms = draw(st.sampled_from([0, sum(durations)]))
    walls = draw(st.lists(st.integers(0, 10**8), max_size=3))
    return {
        "timing": [len(durations), sum(durations), len(latencies),
                   draw(st.integers(0, 10**7)) if rated_ms else 0, rated_ms, len(walls), sum(walls)],
        "durations": draw(st.permutations(durations)),
        "latencies": latencies,
    }  # fmt: skip


def _rollup(sessions: list[dict[str, Any]], subagents: list[int]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(session_rollup.SCHEMA + tables.SCHEMA)
    own = {("claude-code", f"s{i}"): s for i, s in enumerate(sessions)}
    session_rollup._write_temp(db, own)
    cols = ", ".join(session_rollup.FACT_COLUMNS)
    db.execute(f"INSERT INTO session_rollup SELECT source, session_id, 1, 1, {cols} FROM temp.new_rollup")
    for i, n in enumerate(subagents):  # the subtree columns, set by _subtree in an archive
        db.execute(
            "UPDATE session_rollup SET subagents = ?, incl_cost = CASE WHEN ? THEN COALESCE(cost, 0) + ? END,"
            " last_activity_ms = COALESCE(ended_ms + ?, last_activity_ms) WHERE session_id = ?",
            (n, n, n * 7, n * 1000, f"s{i}"),
        )
    return db


@settings(max_examples=200, deadline=None)
@given(sessions=st.lists(_session(), min_size=1, max_size=4), subagents=st.lists(_small, max_size=4))
def test_sql_shaped_rows_equal_the_python_shaping(
    sessions: list[dict[str, Any]], subagents: list[int]
) -> None:
    db = _rollup(sessions, subagents)
    order = "ORDER BY r.sort_ms, r.source, r.session_id"
    for profile in ("full", "shareable", "anonymous"):
        render = Renderer(profile, SECRET, "host")  # type: ignore[arg-type]
        cur = db.execute(f"SELECT r.* FROM session_rollup r {order}")
        names = [d[0] for d in cur.description]
        expected = [reference_row(dict(zip(names, v, strict=True)), render, "m") for v in cur]
        build = row_builder(render, "m")
        columns = COLUMNS + (FULL_COLUMNS if render.full else "")
        got = [build(v)[1] for v in db.execute(f"SELECT {columns} FROM session_rollup r {order}")]
        assert [orjson.dumps(r) for r in got] == [orjson.dumps(r) for r in expected]
