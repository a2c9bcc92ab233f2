"""Identity helpers: session ids of main and subagent transcripts."""

from __future__ import annotations

SOURCE = "claude-code"


def session_ids(
    line_session: str | None,
    agent_id: str | None,
    parent_hint: str | None,
    fallback: str,
) -> tuple[str, str | None]:
    """``(session_id, parent_session_id)`` of a line: the one place that derives session ids.

    ``agent_id`` is given only for subagent lines (a line of a subagent file, a sidechain line that
    names its agent, an ``agent_progress`` copy, or a ``toolUseResult.agentId`` link). A subagent's
    session is ``"<parent>/agent-<agent_id>"``, where the parent is the line's ``sessionId`` or,
    when the line has none, the session directory the file lives in. So the subagent file's line
    and the parent's progress copy of the same response land in the same session. Main-transcript
    lines use their ``sessionId`` and fall back to the file stem.
    """
    if agent_id:
        parent = line_session or parent_hint
        if parent:
            return f"{parent}/agent-{agent_id}", parent
        return f"agent-{agent_id}", None
    return line_session or fallback, None
