"""Derived columns of the archive's content tables, recomputed per session after each batch.

Rows arrive in ledger order, and a session's rows may span batches (a turn before its tool calls,
a revision of the session record after both), so the columns that depend on a session's other
rows are recomputed for every session a batch touched, inside the batch's transaction (a cold
build recomputes every session once at the end). The same ledger gives the same values whichever
way it was read. What is computed (docs/archive.md):

* ``tool_calls.call_index`` (position in the session by time, then tool use id) and ``turn_id``
  (the turn whose message id the call names; without one — Codex writes its token count after the
  calls of its response — the session's first turn at or after the call);
* ``turns.turn_index`` (position in the session by time, then id) and ``turns.activity``
  (:mod:`burn.archive.activity` over the turn's tool calls; ``conversation`` without any);
* ``tool_result_events.message_id`` / ``call_index`` (of the call it answers), ``event_index``
  (position in the session by time, then id), ``agent_id`` (the subagent it reports on) and
  ``event_source`` (``subagent_notification`` when it links a subagent, else ``tool_result``);
* ``sessions.message_count`` (turns + user messages), ``has_content`` (any turn, user message or
  tool call), ``activity`` (the session's category);
* ``sessions.workflow_id``, ``stamp_agent``, ``stamp_persona``, ``stamp_tier``: per field, the
  value of the latest stamp that sets it (by stamp time, then id), from stamps of the session's
  source or of any source.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from burn.archive.activity import RANK_SQL

# sessions column → stamps column (burn.archive.session_rollup.STAMP_COLUMNS in the same order).
STAMPED = (("workflow_id", "workflow"), ("stamp_agent", "agent"), ("stamp_persona", "persona"),
           ("stamp_tier", "tier"))  # fmt: skip

# The indexes over columns refresh() writes: a build from an empty archive creates them after it.
DERIVED_INDEXES = frozenset({"turns_by_activity", "tool_calls_by_turn"})

_DIRTY = "temp.enrich_sessions"
_TOP = "temp.enrich_turn_activity"  # turn id → the category most of its calls have


def _rows(table: str, alias: str, every: bool) -> str:
    """The rows of ``table`` (as ``alias``) a refresh recomputes: those of the dirty sessions, or
    (``every``) the whole table, scanned without a join — a cold build's one refresh, where the
    join looked every row's session up for nothing (docs/performance.md)."""
    if every:
        return f"{table} {alias}"
    return (f"{_DIRTY} d CROSS JOIN {table} {alias} "
            f"ON {alias}.source = d.source AND {alias}.session_id = d.session_id")  # fmt: skip


def _statements(every: bool) -> tuple[str, ...]:
    """The refresh's statements, over the dirty sessions' rows or (``every``) every row. The
    UPDATEs find their rows by rowid, not by text id: one index lookup less per row."""
    turns, calls = _rows("turns", "t", every), _rows("tool_calls", "c", every)
    results = _rows("tool_result_events", "r", every)
    return (
        # Calls: their turn and their position in the session, in one pass over them.
        # Every CTE here is MATERIALIZED: flattened into the UPDATE, the planner scanned the target
        # table and, for each of its rows, every dirty session (rows × sessions). And the turn a
        # call names is found by one pass numbering each message's turns (``m``), not by a
        # subquery per call, which read every turn of the call's session (calls × turns per
        # session; docs/performance.md).
        f"""WITH m AS MATERIALIZED (
          SELECT t.source, t.session_id, t.message_id, t.id,
            row_number() OVER (PARTITION BY t.source, t.session_id, t.message_id ORDER BY t.ts_ms, t.id) AS n
          FROM {turns} WHERE t.message_id IS NOT NULL),
        x AS MATERIALIZED (
          SELECT c.rowid AS row, COALESCE(m.id, CASE WHEN c.message_id IS NULL THEN
              (SELECT t.id FROM turns t WHERE t.source = c.source AND t.session_id = c.session_id
                 AND t.ts_ms >= c.ts_ms ORDER BY t.ts_ms, t.id LIMIT 1) END) AS turn_id,
            row_number() OVER (PARTITION BY c.source, c.session_id
              ORDER BY c.ts_ms, c.tool_use_id, c.id) - 1 AS i
          FROM {calls}
          LEFT JOIN m ON m.source = c.source AND m.session_id = c.session_id AND m.message_id = c.message_id
            AND m.n = 1)
        UPDATE tool_calls SET turn_id = x.turn_id, call_index = x.i FROM x
        WHERE tool_calls.rowid = x.row
          AND (tool_calls.turn_id IS NOT x.turn_id OR tool_calls.call_index IS NOT x.i)""",
        # Turns: position, and the category most of their calls have (ties: the precedence rank),
        # from the calls counted per turn and category once, into a keyed temp table: joined as a
        # CTE, the planner scanned it for every turn.
        f"DELETE FROM {_TOP}",
        f"""INSERT INTO {_TOP} SELECT turn_id, category FROM (
          SELECT turn_id, category, row_number() OVER (PARTITION BY turn_id ORDER BY n DESC, {RANK_SQL}) AS r
          FROM (SELECT c.turn_id, c.category, COUNT(*) AS n
                FROM {calls} WHERE c.turn_id IS NOT NULL GROUP BY c.turn_id, c.category)) WHERE r = 1""",
        f"""WITH x AS MATERIALIZED (
          SELECT t.rowid AS row,
            row_number() OVER (PARTITION BY t.source, t.session_id ORDER BY t.ts_ms, t.id) - 1 AS i,
            COALESCE(top.category, 'conversation') AS activity
          FROM {turns} LEFT JOIN {_TOP} top ON top.turn_id = t.id)
        UPDATE turns SET turn_index = x.i, activity = x.activity FROM x
        WHERE turns.rowid = x.row AND (turns.turn_index IS NOT x.i OR turns.activity IS NOT x.activity)""",
        # Tool results: the call they answer, their position, the subagent they report on (rows
        # whose values are unchanged are not written: most of a session's results, in an
        # incremental batch).
        f"""UPDATE tool_result_events SET message_id = x.message_id, call_index = x.call_index,
          event_index = x.i, agent_id = x.agent_id, event_source = x.event_source FROM (
          SELECT r.rowid AS row, c.message_id, c.call_index,
            row_number() OVER (PARTITION BY r.source, r.session_id ORDER BY r.ts, r.id) - 1 AS i,
            (SELECT s.agent_id FROM sessions s WHERE s.source = r.source
               AND s.session_id = r.subagent_session_id) AS agent_id,
            CASE WHEN r.subagent_session_id IS NULL THEN 'tool_result' ELSE 'subagent_notification' END
              AS event_source
          FROM {results}
          LEFT JOIN tool_calls c ON c.source = r.source AND c.session_id = r.session_id
            AND c.tool_use_id = r.tool_use_id) x
        WHERE tool_result_events.rowid = x.row AND (tool_result_events.message_id IS NOT x.message_id
          OR tool_result_events.call_index IS NOT x.call_index
          OR tool_result_events.event_index IS NOT x.i
          OR tool_result_events.agent_id IS NOT x.agent_id
          OR tool_result_events.event_source IS NOT x.event_source)""",
        *_SESSIONS,
    )


# The sessions' own columns, for the dirty sessions (a cold build lists every one: a few
# thousand rows, against hundreds of thousands of turns, calls and results).
_SESSIONS = (
    # Sessions: sizes and the session's category.
    f"""WITH x AS MATERIALIZED (
      SELECT s.id,
        (SELECT COUNT(*) FROM turns t WHERE t.source = s.source AND t.session_id = s.session_id)
        + (SELECT COUNT(*) FROM user_turns u WHERE u.source = s.source AND u.session_id = s.session_id) AS n,
        (SELECT COUNT(*) FROM tool_calls c
         WHERE c.source = s.source AND c.session_id = s.session_id) AS calls,
        COALESCE((SELECT category FROM tool_calls c WHERE c.source = s.source AND c.session_id = s.session_id
                  GROUP BY category ORDER BY COUNT(*) DESC, {RANK_SQL} LIMIT 1),
                 CASE WHEN EXISTS (SELECT 1 FROM turns t WHERE t.source = s.source
                                   AND t.session_id = s.session_id) THEN 'conversation' END) AS activity
      FROM {_DIRTY} d CROSS JOIN sessions s ON s.source = d.source AND s.session_id = d.session_id)
    UPDATE sessions SET message_count = x.n, has_content = x.n + x.calls > 0, activity = x.activity FROM x
    WHERE sessions.id = x.id""",
    # Sessions: stamps, later ones superseding earlier ones field by field.
    "UPDATE sessions SET "
    + ", ".join(
        f"""{column} = (SELECT st.{field} FROM stamps st WHERE st.session_id = sessions.session_id
          AND (st.source IS NULL OR st.source = sessions.source) AND st.{field} IS NOT NULL
          ORDER BY st.ts_ms DESC, st.id DESC LIMIT 1)"""
        for column, field in STAMPED
    )
    # by key, from the dirty sessions: a correlated EXISTS read every session of the archive
    + f" WHERE id IN (SELECT s.id FROM {_DIRTY} d CROSS JOIN sessions s "
    "ON s.source = d.source AND s.session_id = d.session_id)",
)

_DIRTY_ONLY = _statements(every=False)
_EVERY = _statements(every=True)

_ALL = """SELECT source, session_id FROM sessions UNION SELECT DISTINCT source, session_id FROM turns
UNION SELECT DISTINCT source, session_id FROM tool_calls
UNION SELECT DISTINCT source, session_id FROM tool_result_events"""


def sessions_of_stamps(db: sqlite3.Connection, session_ids: Iterable[str]) -> set[tuple[str, str]]:
    """The archived sessions new stamps name (a stamp without a source names every source's)."""
    out: set[tuple[str, str]] = set()
    for sid in set(session_ids):
        out.update(db.execute("SELECT source, session_id FROM sessions WHERE session_id = ?", (sid,)))
    return out


def refresh(db: sqlite3.Connection, sessions: Iterable[tuple[str, str]] | None) -> None:
    """Recompute the derived columns of ``sessions`` (``None``: every session), inside the
    caller's transaction. Run it before the session rollup, which reads ``activity``."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS enrich_sessions (source TEXT, session_id TEXT, "
               "PRIMARY KEY (source, session_id))")  # fmt: skip
    db.execute("CREATE TEMP TABLE IF NOT EXISTS enrich_turn_activity (turn_id TEXT PRIMARY KEY, "
               "category TEXT)")  # fmt: skip
    db.execute(f"DELETE FROM {_DIRTY}")
    if sessions is None:
        db.execute(f"INSERT INTO {_DIRTY} {_ALL}")
    else:
        db.executemany(f"INSERT OR IGNORE INTO {_DIRTY} VALUES (?, ?)", sessions)
    for sql in _EVERY if sessions is None else _DIRTY_ONLY:
        db.execute(sql)
