"""Claude Code's ``/btw`` replay rule, applied by burn's ingest before the ledger (``burn.ingest.dedupe``).

``/btw`` asks a side question in a sidechain that replays the main chain's last message under a
new request id: the same message, billed once, appearing as a second turn whose event id differs
(ids are made of the message id and the request id). A sidechain turn whose message id is known
from a main-chain turn with another request id is such a replay and is dropped (``btw_replay``).
Main transcripts are read before subagent files (``SourceUnit.order``), so the main-chain turn is
known by the time its replay is read.
"""

from __future__ import annotations

from collections.abc import Sequence

from burn.reader import Lookup, Note
from burn.records import Record, Turn


class BtwReplayRule:
    name = "btw_replay"
    kinds = frozenset({Turn.KIND})

    def note(self, record: Record) -> Note | None:
        """A main-chain turn is a fact (message id → request id); a sidechain turn a candidate."""
        if not isinstance(record, Turn) or not record.message_id:
            return None
        return Note(record.message_id, record.request_id, not record.is_sidechain)

    def drops(self, notes: Sequence[Note], known: Lookup) -> list[int]:
        """Sidechain turns whose message id belongs to a main-chain turn of another request id,
        known from earlier batches or (when not known yet) from this one."""
        wanted = [n.key for n in notes if not n.fact]
        if not wanted:
            return []
        main = dict(known(wanted))
        batch: dict[str, str | None] = {}
        for n in notes:
            if n.fact:
                batch.setdefault(n.key, n.value)
        for key in wanted:
            if key not in main and key in batch:
                main[key] = batch[key]
        return [i for i, n in enumerate(notes) if not n.fact and n.key in main and main[n.key] != n.value]
