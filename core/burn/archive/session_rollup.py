"""The session rollup: ``session_rollup`` in the archive, one row of aggregates per session.

What ``burn export sessions`` reads instead of grouping every table per page. Each row holds the
session's own facts and counts, its token sums (with the number of turns that reported each
field, so unknown stays unknown), its cost aggregates, its per-model rows (``by_model``, a compact
JSON array), and the subagent rollups: direct subagent children, cost including every subagent
descendant, and the last activity of the whole subtree.

Change tracking (the export cursor relies on it): ``archive_state.session_seq`` counts the write
transactions that changed at least one rollup row; a row remembers the sequence number that
created it (``created_seq``) and the one that last changed any of its values (``revision``). A
refresh that recomputes a row to the same values leaves its revision alone.

Maintenance (by :class:`burn.archive.database.Archive`, like :mod:`burn.archive.rollup`): each
incremental batch refreshes the sessions it touched and their subagent ancestors inside its own
transaction; a cold build, a rebuild and a re-pricing refresh every session once at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from burn.archive.activity import dominant
from burn.pricing.totals import COMPONENT_NAMES, COST_AGGREGATES
from burn.records import USAGE_FIELDS, ts_to_ms

# Stamps (burn.archive.database.stamps) as the sessions table and the rollup name them.
STAMP_COLUMNS = ("workflow_id", "stamp_agent", "stamp_persona", "stamp_tier")
# The session's timing aggregates (docs/accounting.md "Timing", per session): turns with a known
# duration, their sum and lower median; turns with a known latency, their lower median; output
# tokens and duration summed over the turns with both (duration > 0), the numerator and denominator
# of the session's tokens per second; user turns with a known wall time and its sum. Sums and
# medians are NULL when no turn has the value.
TIMING_COLUMNS = (
    "turns_timed", "duration_ms_total", "duration_ms_median", "latency_turns", "latency_ms_median",
    "rate_output", "rate_ms", "user_turns_timed", "wall_ms_total",
)  # fmt: skip
# Columns after (source, session_id, created_seq, revision), in table order.
FACT_COLUMNS = (
    "sort_ms", "started_ms", "ended_ms", "last_activity_ms", "parent_session_id", "relationship",
    "classification", "project_key", "cwd", "branch", "title", "usage_fidelity",
    "assistant_turns", "user_turns", "tool_calls", "compactions", "subagents",
    *(c for f in USAGE_FIELDS for c in (f, f"{f}_n")),
    "cost", "cost_n", "computed_turns", "reported_turns", "unpriced_turns", "unpriced_tokens",
    "fallback_turns", "partial_turns", "notes", "models", "by_model", "incl_cost", "incl_cost_n",
    "activity", "activity_calls", *STAMP_COLUMNS, *COMPONENT_NAMES, *TIMING_COLUMNS,
)  # fmt: skip
_INT = {"sort_ms", "assistant_turns", "user_turns", "tool_calls", "compactions", "subagents", "turns_timed",
        "latency_turns", "user_turns_timed"}  # fmt: skip

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS session_rollup (
  source TEXT NOT NULL, session_id TEXT NOT NULL, created_seq INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  {", ".join(f"{c} INTEGER NOT NULL" if c in _INT else f"{c}" for c in FACT_COLUMNS)},
  PRIMARY KEY (source, session_id));
CREATE INDEX IF NOT EXISTS session_rollup_order ON session_rollup (sort_ms, source, session_id);
CREATE TABLE IF NOT EXISTS session_models (
  source TEXT NOT NULL, session_id TEXT NOT NULL, model TEXT NOT NULL,
  PRIMARY KEY (source, session_id, model));
CREATE INDEX IF NOT EXISTS session_models_by_model ON session_models (model);
"""

# Per-model aggregates over ``turns t`` by name; a by_model entry stores [model, *their values].
_MODEL_AGGS: tuple[tuple[str, str], ...] = (
    ("turns", "COUNT(*)"),
    *((n, e) for f in USAGE_FIELDS for n, e in ((f, f"SUM(t.{f})"), (f"{f}_n", f"COUNT(t.{f})"))),
    *COST_AGGREGATES,
    ("partial_turns", "SUM(t.fidelity_usage != 'full')"),
)
# The names of a by_model entry's values, and where each sits (``entry[MODEL_ENTRY["turns"]]``).
MODEL_ENTRY: dict[str, int] = {name: i for i, name in enumerate(("model", *(n for n, _ in _MODEL_AGGS)))}
_SUMS = len(_MODEL_AGGS)  # the entry's values after the model: what a session's row sums

_ALL_SESSIONS = """
SELECT source, session_id FROM sessions UNION SELECT DISTINCT source, session_id FROM turns
UNION SELECT DISTINCT source, session_id FROM user_turns
UNION SELECT DISTINCT source, session_id FROM tool_calls
UNION SELECT DISTINCT source, session_id FROM compactions
"""


def _dirty(db: sqlite3.Connection, sessions: Iterable[tuple[str, str]] | None) -> None:
    db.execute("CREATE TEMP TABLE IF NOT EXISTS dirty_sessions (source TEXT, session_id TEXT, "
               "PRIMARY KEY (source, session_id))")  # fmt: skip
    db.execute("DELETE FROM temp.dirty_sessions")
    if sessions is None:
        db.execute(f"INSERT INTO temp.dirty_sessions {_ALL_SESSIONS}")
        return
    db.executemany("INSERT OR IGNORE INTO temp.dirty_sessions VALUES (?, ?)", sessions)
    # A child's change changes its ancestors' subagent rollups; a moved child its old parent's.
    db.execute(
        """INSERT OR IGNORE INTO temp.dirty_sessions
        SELECT r.source, r.parent_session_id FROM temp.dirty_sessions d
        CROSS JOIN session_rollup r ON r.source = d.source AND r.session_id = d.session_id
        WHERE r.parent_session_id IS NOT NULL AND r.relationship = 'subagent'"""
    )
    db.execute(
        """INSERT OR IGNORE INTO temp.dirty_sessions
        WITH RECURSIVE anc(source, session_id) AS (
          SELECT source, session_id FROM temp.dirty_sessions
          UNION SELECT s.source, s.parent_session_id FROM anc
          JOIN sessions s ON s.source = anc.source AND s.session_id = anc.session_id
          WHERE s.parent_session_id IS NOT NULL AND s.relationship = 'subagent')
        SELECT source, session_id FROM anc"""
    )


def sessions_of_turn_ids(db: sqlite3.Connection, ids: list[str]) -> set[tuple[str, str]]:
    """Sessions of turns already in the archive (a revision may move a turn to another session)."""
    out: set[tuple[str, str]] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        out.update(db.execute(f"SELECT source, session_id FROM turns WHERE id IN ({marks})", chunk))
    return out


def sessions_of_cwds(db: sqlite3.Connection, cwds: Iterable[str]) -> set[tuple[str, str]]:
    """Sessions in working directories whose project was (re-)observed."""
    out: set[tuple[str, str]] = set()
    for cwd in set(cwds):
        out.update(db.execute("SELECT source, session_id FROM sessions WHERE cwd = ?", (cwd,)))
    return out


def refresh(db: sqlite3.Connection, sessions: Iterable[tuple[str, str]] | None) -> int:
    """Recompute the rows of ``sessions`` (``None``: every session), inside the caller's
    transaction. Returns the number of rows created or changed."""
    _dirty(db, sessions)
    own = _own_rows(db)
    _write_temp(db, own)
    _subtree(db)
    return _merge(db)


def _own_rows(db: sqlite3.Connection) -> dict[tuple[str, str], dict[str, Any]]:
    # ``CROSS JOIN`` keeps the dirty sessions in the outer loop here and below: the planner knows
    # nothing of the temp table's size and scanned the archive's tables instead (each incremental
    # ingest then read every turn; ``test_refreshing_a_session_does_work_of_its_subtree...``).
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for source, sid, *facts in db.execute(
        """SELECT d.source, d.session_id, s.parent_session_id, s.relationship, s.classification,
        s.project_key, s.cwd, s.git_branch, s.title, s.usage_fidelity, s.first_seen_ts,
        s.workflow_id, s.stamp_agent, s.stamp_persona, s.stamp_tier
        FROM temp.dirty_sessions d
        LEFT JOIN sessions s ON s.source = d.source AND s.session_id = d.session_id"""
    ):
        parent, rel, cls, pkey, cwd, branch, title, fid, first_seen, *stamps = facts
        first_ms = _ms(first_seen)
        rows[(source, sid)] = {
            "parent_session_id": parent,
            "relationship": rel or "root",
            "classification": cls,
            "project_key": pkey,
            "cwd": cwd,
            "branch": branch,
            "title": title,
            "usage_fidelity": fid,
            "times": [first_ms] if first_ms is not None else [],
            "models": [],
            "user_turns": 0,
            "timing": [0, 0, 0, 0, 0, 0, 0],  # see _TIMING_AGGS, then user turns timed, wall ms
            "durations": [],
            "latencies": [],
            "tool_calls": 0,
            "compactions": 0,
            "stamps": stamps,
        }
    # The known durations and latencies come as lists (group_concat), for the medians: the same
    # pass over the session's turns, not a second (sorted) one.
    aggs = (
        ", ".join(e for _, e in _MODEL_AGGS)
        + ", MIN(t.ts_ms), MAX(t.ts_ms), group_concat(DISTINCT t.fidelity_notes), "
        + _TIMING_AGGS
        + ", group_concat(t.duration_ms), group_concat(t.latency_ms)"
    )
    for source, sid, model, *values in db.execute(
        f"""SELECT t.source, t.session_id, t.model, {aggs} FROM temp.dirty_sessions d
        CROSS JOIN turns t ON t.source = d.source AND t.session_id = d.session_id
        GROUP BY t.source, t.session_id, t.model ORDER BY t.model"""
    ):
        row = rows[(source, sid)]
        *nums, lo, hi, notes = values[: -_TIMING_N - 2]
        *timing, durations, latencies = values[-_TIMING_N - 2 :]
        row["models"].append([model, *(v or 0 for v in nums)])
        row["timing"][:_TIMING_N] = [a + (b or 0) for a, b in zip(row["timing"], timing, strict=False)]
        if durations:
            row["durations"] += map(int, durations.split(","))
        if latencies:
            row["latencies"] += map(int, latencies.split(","))
        row["times"] += [lo, hi]
        if notes:
            row.setdefault("notes", set()).update(notes.split(","))
    for source, sid, _n, prompts, lo, hi, walls, wall_ms in db.execute(
        """SELECT u.source, u.session_id, COUNT(*),
        SUM(u.is_meta = 0 AND u.is_compact_summary = 0 AND EXISTS (
          SELECT 1 FROM json_each(u.blocks) b WHERE json_extract(b.value, '$.kind') != 'tool_result')),
        MIN(u.ts_ms), MAX(u.ts_ms), COUNT(u.wall_ms), SUM(u.wall_ms)
        FROM temp.dirty_sessions d
        CROSS JOIN user_turns u ON u.source = d.source AND u.session_id = d.session_id
        GROUP BY u.source, u.session_id"""
    ):
        row = rows[(source, sid)]
        row["user_turns"] = prompts or 0
        row["times"] += [lo, hi]
        row["timing"][_TIMING_N:] = [walls, wall_ms or 0]
    for source, sid, category, n in db.execute(
        """SELECT c.source, c.session_id, c.category, COUNT(*) FROM temp.dirty_sessions d
        CROSS JOIN tool_calls c ON c.source = d.source AND c.session_id = d.session_id
        GROUP BY c.source, c.session_id, c.category ORDER BY c.category"""
    ):
        rows[(source, sid)].setdefault("categories", {})[category] = n
    for table, key in (("tool_calls", "tool_calls"), ("compactions", "compactions")):
        for source, sid, n in db.execute(
            f"""SELECT x.source, x.session_id, COUNT(*) FROM temp.dirty_sessions d
            CROSS JOIN {table} x ON x.source = d.source AND x.session_id = d.session_id
            GROUP BY x.source, x.session_id"""
        ):
            rows[(source, sid)][key] = n
    return rows


# Per (session, model) over ``turns t``: turns with a known duration, their sum, turns with a known
# latency, and output tokens and duration over the turns that have both (duration > 0).
_RATED = "t.duration_ms > 0 AND t.output IS NOT NULL"
_TIMING_AGGS = (
    f"COUNT(t.duration_ms), COALESCE(SUM(t.duration_ms), 0), COUNT(t.latency_ms), "
    f"SUM(CASE WHEN {_RATED} THEN t.output ELSE 0 END), SUM(CASE WHEN {_RATED} THEN t.duration_ms ELSE 0 END)"
)
_TIMING_N = 5


def _timing(r: dict[str, Any]) -> dict[str, Any]:
    """The :data:`TIMING_COLUMNS` of a session from its summed aggregates and value lists; sums
    and medians of values no turn had are NULL, never 0."""
    n_dur, dur_ms, n_lat, rate_out, rate_ms, walls, wall_ms = r["timing"]
    durations, latencies = sorted(r["durations"]), sorted(r["latencies"])
    return {
        "turns_timed": n_dur,
        "duration_ms_total": dur_ms if n_dur else None,
        # The lower middle of an even count: a value some turn had (as ``burn compare``).
        "duration_ms_median": durations[(len(durations) - 1) // 2] if durations else None,
        "latency_turns": n_lat,
        "latency_ms_median": latencies[(len(latencies) - 1) // 2] if latencies else None,
        "rate_output": rate_out if rate_ms else None,
        "rate_ms": rate_ms or None,
        "user_turns_timed": walls,
        "wall_ms_total": wall_ms if walls else None,
    }


def _ms(ts: str | None) -> int | None:
    if not ts:
        return None
    try:
        return ts_to_ms(ts)
    except ValueError:
        return None


_TEMP_COLUMNS = ("source", "session_id", *FACT_COLUMNS)


def _write_temp(db: sqlite3.Connection, own: dict[tuple[str, str], dict[str, Any]]) -> None:
    db.execute("DROP TABLE IF EXISTS temp.new_rollup")
    db.execute(f"CREATE TEMP TABLE new_rollup ({', '.join(_TEMP_COLUMNS)}, "
               "PRIMARY KEY (source, session_id))")  # fmt: skip
    values = []
    for (source, sid), r in own.items():
        models = r["models"]
        times = [t for t in r["times"] if t is not None]
        started, ended = (min(times), max(times)) if times else (None, None)
        # Column sums over the session's models (most sessions have one: no summing needed).
        if len(models) == 1:
            totals = models[0][1:]
        elif models:
            totals = [sum(col) for col in zip(*(m[1:] for m in models), strict=True)]
        else:
            totals = [0] * _SUMS
        sums = dict(zip((n for n, _ in _MODEL_AGGS), totals, strict=True))
        fields: dict[str, Any] = {
            "sort_ms": started if started is not None else 0,
            "started_ms": started,
            "ended_ms": ended,
            "last_activity_ms": ended,
            **{k: r[k] for k in ("parent_session_id", "relationship", "classification", "project_key")},
            **{k: r[k] for k in ("cwd", "branch", "title", "usage_fidelity")},
            "assistant_turns": sums["turns"],
            "user_turns": r["user_turns"],
            "tool_calls": r["tool_calls"],
            "compactions": r["compactions"],
            "subagents": 0,
        }
        for f in USAGE_FIELDS:
            fields[f] = sums[f]
            fields[f"{f}_n"] = sums[f"{f}_n"]
        fields.update(
            cost=sums["cost_usd_micros"] if sums["costed_turns"] else None,
            cost_n=sums["costed_turns"],
            **{k: sums[k] for k in ("computed_turns", "reported_turns", "unpriced_turns")},
            **{k: sums[k] for k in ("unpriced_tokens", "fallback_turns", "partial_turns")},
            notes=",".join(sorted(r.get("notes", ()))) or None,
            models=orjson.dumps([m[0] for m in models]).decode(),
            by_model=orjson.dumps(models).decode(),
            incl_cost=None,
            incl_cost_n=0,
        )
        categories = r.get("categories", {})
        fields["activity"] = dominant(categories) or ("conversation" if models else None)
        fields["activity_calls"] = orjson.dumps(categories).decode() if categories else None
        stamps = r.get("stamps") or (None,) * len(STAMP_COLUMNS)
        fields.update(zip(STAMP_COLUMNS, stamps, strict=True))
        fields.update((c, sums[c]) for c in COMPONENT_NAMES)
        fields.update(_timing(r))
        values.append((source, sid, *(fields[c] for c in FACT_COLUMNS)))
    if values:
        marks = ",".join("?" * len(_TEMP_COLUMNS))
        db.executemany(f"INSERT INTO temp.new_rollup VALUES ({marks})", values)


def _subtree(db: sqlite3.Connection) -> None:
    """Subagent rollups of the dirty rows: direct subagent children, cost including every subagent
    descendant, last activity of the subtree. Descendants that were not refreshed come from the
    stored rollup.

    The tree is walked down ``sessions`` (``sessions_by_parent``), and each node's values are
    looked up by key, refreshed row first: the work is the size of the dirty subtrees, not of
    the archive (a union of the refreshed and every stored row grew with the archive, on every
    incremental ingest). A stored row's parent and relationship are the
    ``sessions`` row's: a change there marks the session dirty."""
    db.execute(
        """WITH RECURSIVE tree(root_source, root_id, source, session_id) AS (
          SELECT source, session_id, source, session_id FROM temp.new_rollup
          UNION SELECT t.root_source, t.root_id, s.source, s.session_id FROM tree t
          CROSS JOIN sessions s ON s.source = t.source AND s.parent_session_id = t.session_id
          WHERE s.relationship = 'subagent'),
        node AS (
          SELECT t.root_source, t.root_id, t.source, t.session_id,
                 IIF(n.source IS NULL, r.parent_session_id, n.parent_session_id) AS parent_session_id,
                 IIF(n.source IS NULL, r.cost, n.cost) AS cost,
                 IIF(n.source IS NULL, r.cost_n, n.cost_n) AS cost_n,
                 IIF(n.source IS NULL, r.ended_ms, n.ended_ms) AS ended_ms
          FROM tree t
          LEFT JOIN temp.new_rollup n ON n.source = t.source AND n.session_id = t.session_id
          LEFT JOIN session_rollup r ON r.source = t.source AND r.session_id = t.session_id
          WHERE n.source IS NOT NULL OR r.source IS NOT NULL),
        agg AS (
          SELECT root_source AS source, root_id AS session_id, SUM(cost) AS incl,
                 SUM(cost_n) AS incl_n, MAX(ended_ms) AS last,
                 SUM(parent_session_id = root_id AND source = root_source AND session_id != root_id)
                   AS children
          FROM node GROUP BY root_source, root_id)
        UPDATE temp.new_rollup SET incl_cost = agg.incl, incl_cost_n = agg.incl_n,
          last_activity_ms = agg.last, subagents = agg.children
        FROM agg WHERE agg.source = new_rollup.source AND agg.session_id = new_rollup.session_id"""
    )
    db.execute("UPDATE temp.new_rollup SET incl_cost = NULL WHERE incl_cost_n = 0")


def _merge(db: sqlite3.Connection) -> int:
    """Write rows whose values changed (new revision) and new rows (created now); drop rows of
    sessions that no longer exist. Bumps ``session_seq`` once when anything changed."""
    cols = ", ".join(FACT_COLUMNS)
    changed = db.execute(
        f"""SELECT source, session_id FROM (SELECT source, session_id, {cols} FROM temp.new_rollup
        EXCEPT SELECT r.source, r.session_id, {", ".join(f"r.{c}" for c in FACT_COLUMNS)}
        FROM temp.new_rollup n CROSS JOIN session_rollup r USING (source, session_id))"""
    ).fetchall()
    gone = db.execute(
        """SELECT r.source, r.session_id FROM temp.dirty_sessions d
        CROSS JOIN session_rollup r USING (source, session_id)
        WHERE NOT EXISTS (SELECT 1 FROM temp.new_rollup n
                          WHERE n.source = r.source AND n.session_id = r.session_id)"""
    ).fetchall()
    if not changed and not gone:
        return 0
    row = db.execute("SELECT value FROM archive_state WHERE key = 'session_seq'").fetchone()
    seq = int(row[0]) + 1 if row else 1
    db.execute("INSERT OR REPLACE INTO archive_state VALUES ('session_seq', ?)", (str(seq),))
    db.executemany("DELETE FROM session_rollup WHERE source = ? AND session_id = ?", gone)
    db.executemany("DELETE FROM session_models WHERE source = ? AND session_id = ?", gone)
    db.execute("CREATE TEMP TABLE IF NOT EXISTS changed_sessions (source TEXT, session_id TEXT)")
    db.execute("DELETE FROM temp.changed_sessions")
    db.executemany("INSERT INTO temp.changed_sessions VALUES (?, ?)", changed)
    new_cols = ", ".join(f"n.{c}" for c in FACT_COLUMNS)
    # Rows go in in export order, so that the export's ordered scan reads the table front to back.
    db.execute(
        f"""INSERT OR REPLACE INTO session_rollup (source, session_id, created_seq, revision, {cols})
        SELECT n.source, n.session_id, COALESCE(r.created_seq, ?), ?, {new_cols}
        FROM temp.changed_sessions c JOIN temp.new_rollup n USING (source, session_id)
        LEFT JOIN session_rollup r USING (source, session_id)
        ORDER BY n.sort_ms, n.source, n.session_id""",
        (seq, seq),
    )
    db.execute(
        """DELETE FROM session_models WHERE (source, session_id) IN
        (SELECT source, session_id FROM temp.changed_sessions)"""
    )
    db.execute(
        """INSERT OR IGNORE INTO session_models
        SELECT n.source, n.session_id, j.value FROM temp.changed_sessions c
        JOIN temp.new_rollup n USING (source, session_id), json_each(n.models) j"""
    )
    return len(changed) + len(gone)


def seq(db: sqlite3.Connection) -> int:
    """The archive's current session sequence number (0 before any rollup row exists)."""
    row = db.execute("SELECT value FROM archive_state WHERE key = 'session_seq'").fetchone()
    return int(row[0]) if row else 0
