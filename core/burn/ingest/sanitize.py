"""What every record goes through between a reader and the ledger: sanitizing, then encoding.

Readers are third-party code; this is the one place every record passes before the ledger, so
"credentials never reach the ledger" and "counts fit every consumer" hold whatever a reader emits.
It runs in the worker process that read the unit (or in-process); ingest imports it only when
something is to be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from burn.ingest.dedupe import DedupeRule, take_notes
from burn.ingest.workers import Prepare, Prepared
from burn.privacy.identity import observe
from burn.privacy.redact import redact
from burn.privacy.remotes import clean_remote
from burn.reader import Diagnostics, ReadResult, printable_json
from burn.readkit.timefmt import valid_ts
from burn.records import USAGE_FIELDS, Record, SessionInfo, ToolCall, Turn
from burn.store import Encoded, encode


def preparer(rules: Sequence[DedupeRule] = ()) -> Prepare:
    """What a worker does with one reader's read: sanitize, take the notes of the reader's dedupe
    ``rules`` (:mod:`burn.ingest.dedupe`), encode."""
    # One reader's working directories, each with the time of the earliest session seen in it (per
    # process: each observes its own; the ledger keeps the earliest observation of all).
    observed: dict[str, str] = {}

    def prepare(result: ReadResult) -> Prepared:
        # Runs in the worker that read the unit (or in-process): sanitize, then encode.
        diag = result.diagnostics
        records = sanitize(result.records, observed, diag)
        return Prepared([_encode(r, diag) for r in records], result.cursor, diag, take_notes(rules, records))

    return prepare


def _encode(record: Record, diag: Diagnostics) -> Encoded:
    try:
        return encode(record)
    except TypeError:
        # orjson refuses strings with surrogates: a reader took a session id from a file name that
        # is not valid UTF-8 (``copy\\xff.jsonl``). Keep the record with each such byte spelled
        # ``\\xff`` (distinct per byte, so two such files stay two sessions); anything else that
        # cannot be encoded raises again, as before.
        from burn.convert import from_dict, to_dict

        escaped = from_dict(record.KIND, printable_json(to_dict(record)))
        diag.repaired["non_utf8_name"] += 1
        return encode(escaped)


def sanitize(records: Sequence[Record], observed: dict[str, str], diag: Diagnostics) -> list[Record]:
    """Redact credentials from free-form strings, refuse implausible token counts, and observe each
    working directory's project: when it is new to ``observed`` (directory → the earliest session
    start seen in it), or a session in it started earlier.

    Readers are third-party code; this is the one place every record passes before the ledger, so
    "credentials never reach the ledger" and "counts fit every consumer" hold whatever a reader emits.
    """
    out: list[Record] = []
    for rec in records:
        ts = getattr(rec, "ts", "")
        if ts != "" and not valid_ts(ts):
            # The archive could not place it in time (docs/accounting.md, "Timestamps"): dropped
            # here, counted and named, rather than kept in the ledger and missing from reports.
            where = f"{rec.KIND} in session {getattr(rec, 'session_id', None)}: timestamp {ts!r}"
            diag.skip("invalid_timestamp", where)
            continue
        if isinstance(rec, Turn):
            rec = checked_counts(rec, diag)
        elif isinstance(rec, SessionInfo):
            if rec.cwd:
                # Observed again when a session started in it earlier than any seen before: the
                # ledger keeps the earliest (burn.ledger.merge), so its state is the same however
                # the units were split between processes and in which order each read them.
                seen = observed.get(rec.cwd)
                first = rec.first_seen_ts or _now()
                if seen is None or first < seen:
                    observed[rec.cwd] = first  # observe the real directory; the observation is redacted
                    out.append(observe(rec.cwd, first))
            fields = ("cwd", "title", "git_branch", "slug", "git_remote")
            clean: dict[str, Any] = {f: redact(getattr(rec, f)) for f in fields[:-1]}
            # A remote is kept only as host/owner/repo: what does not normalize is dropped, not redacted.
            clean["git_remote"] = clean_remote(rec.git_remote)
            if any(clean[f] != getattr(rec, f) for f in fields):
                rec = attrs.evolve(rec, **clean)
        elif isinstance(rec, ToolCall) and rec.target:
            target = redact(rec.target)
            if target != rec.target:
                rec = attrs.evolve(rec, target=target)
        out.append(rec)
    return out


# Counts must survive SQLite (64-bit signed) and JSON consumers that use doubles (2^53).
MAX_COUNT = 2**53 - 1


def checked_counts(turn: Turn, diag: Diagnostics) -> Turn:
    usage = turn.usage
    bad = [
        f
        for f in USAGE_FIELDS
        if (v := getattr(usage, f)) is not None and not (isinstance(v, int) and 0 <= v <= MAX_COUNT)
    ]
    if not bad:
        return turn
    diag.skip("implausible_count", f"{turn.source} message {turn.message_id}: {', '.join(bad)}")
    notes = (*turn.fidelity.notes, "implausible_count")
    return attrs.evolve(
        turn,
        usage=attrs.evolve(usage, **dict.fromkeys(bad)),
        fidelity=attrs.evolve(turn.fidelity, usage="partial", notes=notes),
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
