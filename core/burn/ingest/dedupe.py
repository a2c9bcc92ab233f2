"""Source-specific dedupe rules, applied by ingest before each append (DESIGN §5, §6).

Some duplicates are recognisable only with knowledge of one source: Claude Code's ``/btw`` replays
a main-chain message in a sidechain under a new request id, so its event id differs from the
original's and the ledger's id-based idempotence cannot see it. A reader declares such rules with
its optional ``dedupe_rules()`` method (see :class:`DedupeRule`); ingest applies them to that
reader's records before the store sees them, so that every store — the file store today, a shared
one tomorrow — only stores, and none has to know any source.

A rule works on :class:`Note` s, small tuples it takes from each record where the record is
encoded (in the worker processes: no record is decoded again on the hot path). What a rule must
remember across batches and runs (Claude: the request id of each main-chain message id) lives in
``dedupe.sqlite`` in the burn home: a host-local cache that records how much of the ledger it
covers and catches up from the store's change feed (``Store.read``) when it lags, or is rebuilt
from the whole ledger when it is missing, of another format, or ahead of the ledger.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from burn import sqlite
from burn.reader import DedupeRule, Lookup, Note, Notes
from burn.records import Record
from burn.store import Encoded, Store

__all__ = ["DedupeRule", "Deduper", "Lookup", "Note", "Notes", "rules_of", "take_notes"]

_FORMAT = "1"
_CHUNK = 4000  # keys per ``IN (…)`` query, under SQLite's variable limit
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- What each rule remembered: the first value seen for a key (``INSERT OR IGNORE``).
CREATE TABLE IF NOT EXISTS facts (rule TEXT, key TEXT, value TEXT, PRIMARY KEY (rule, key)) WITHOUT ROWID;
"""


def rules_of(reader: object) -> tuple[DedupeRule, ...]:
    """The rules a reader declares; none when it has no ``dedupe_rules`` method."""
    declare = getattr(reader, "dedupe_rules", None)
    return tuple(declare()) if declare is not None else ()


def take_notes(rules: Sequence[DedupeRule], records: Sequence[Record]) -> dict[int, Notes]:
    """The notes of ``records`` by their index (only records some rule noted), for :class:`Deduper`."""
    if not rules:
        return {}
    out: dict[int, Notes] = {}
    for i, record in enumerate(records):
        if any(record.KIND in rule.kinds for rule in rules):
            notes = tuple(_note(rule, record) for rule in rules)
            if any(n is not None for n in notes):
                out[i] = notes
    return out


def _note(rule: DedupeRule, record: Record) -> Note | None:
    return rule.note(record) if record.KIND in rule.kinds else None


class Deduper:
    """Applies rules to batches before they are appended and remembers the facts of what was
    appended. Opened only while the store's writer lock is held, so that the cache stays level with
    the ledger between :meth:`filter` and :meth:`appended`: by :meth:`open` when a run is about to
    read units of a source with rules, else at the first batch that needs it (a no-op ingest never
    opens it)."""

    def __init__(self, home: Path, store: Store, rules: Mapping[str, Sequence[DedupeRule]]) -> None:
        self.path = home / "dedupe.sqlite"
        self.store = store
        self.rules = {source: tuple(r) for source, r in rules.items() if r}
        self._db: sqlite3.Connection | None = None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def open(self, sources: Iterable[str]) -> None:
        """Open the cache and catch it up now if any of ``sources`` has rules: before this run
        appends, so the catch-up reads only what other runs appended (nothing, on a first run).
        Opened at the first batch of such a source instead, it read back every entry this run had
        appended so far — a cold ingest's whole Codex ledger (docs/performance.md)."""
        if any(self.rules.get(source) for source in sources):
            self._open()

    def filter(
        self, source: str, items: Sequence[Encoded], notes: Mapping[int, Notes]
    ) -> tuple[list[Encoded], list[Notes], Counter[str]]:
        """``items`` without the records the rules of ``source`` drop; the facts the kept ones carry
        (for :meth:`appended`), and the drops by rule name."""
        rules = self.rules.get(source, ())
        dropped: Counter[str] = Counter()
        if not rules or not notes:
            return list(items), [], dropped
        db = self._open()
        drop: dict[int, str] = {}
        ordered = sorted(notes.items())
        for r, rule in enumerate(rules):
            where: list[int] = []
            batch: list[Note] = []
            for i, n in ordered:
                note = n[r]
                if note is not None:
                    where.append(i)
                    batch.append(note)
            for j in rule.drops(batch, _lookup(db, rule.name)):
                drop.setdefault(where[j], rule.name)
        kept: list[Encoded] = []
        facts: list[Notes] = []
        first: set[str] = set()
        for i, item in enumerate(items):
            reason = drop.get(i)
            if reason is None:
                kept.append(item)
                if i in notes:
                    facts.append(notes[i])
            elif item.id in first:
                dropped["duplicate"] += 1  # another copy of a record already dropped: once by rule
            else:
                first.add(item.id)
                dropped[reason] += 1
        return kept, facts, dropped

    def appended(self, source: str, facts: Sequence[Notes]) -> None:
        """Remember the facts of records just appended, and that the cache covers the ledger."""
        if self._db is None:
            return  # never opened in this run: it catches up from the ledger when it is
        rules = self.rules.get(source, ())
        rows = [
            (rule.name, n.key, n.value)
            for notes in facts
            for rule, n in zip(rules, notes, strict=False)
            if n is not None and n.fact
        ]
        self._remember(self._db, rows, self.store.position())

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- the cache -------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            db = _connect(self.path)
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            covered = int(meta.get("covered", "0"))
            if meta.get("format") != _FORMAT or meta.get("store") != self.store.name:
                covered = -1
            if covered > self.store.position():  # the ledger was replaced or truncated: start over
                covered = -1
            if covered < 0:
                with sqlite.transaction(db, immediate=False):
                    db.execute("DELETE FROM facts")
                    db.execute("DELETE FROM meta")
                    db.executemany(
                        "INSERT INTO meta VALUES (?, ?)", [("format", _FORMAT), ("store", self.store.name)]
                    )
                covered = 0
            self._db = db
            self._catch_up(db, covered)
        return self._db

    def _catch_up(self, db: sqlite3.Connection, covered: int) -> None:
        """Facts of the ledger entries after ``covered`` (appended by another run or host)."""
        from burn.convert import from_dict

        end = self.store.position()
        if covered >= end:
            return
        kinds = {kind for rules in self.rules.values() for rule in rules for kind in rule.kinds}
        rows: list[tuple[str, str, str | None]] = []
        for entry in self.store.read(covered):
            rules = self.rules.get(entry.record.get("source", ""), ())
            if entry.kind not in kinds or not rules:
                continue
            record = from_dict(entry.kind, entry.record)
            for rule in rules:
                n = _note(rule, record)
                if n is not None and n.fact:
                    rows.append((rule.name, n.key, n.value))
            end = max(end, entry.position)
        self._remember(db, rows, end)

    @staticmethod
    def _remember(db: sqlite3.Connection, rows: list[tuple[str, str, str | None]], covered: int) -> None:
        # The one transaction helper: a COMMIT that fails (a full disk) has already ended the
        # transaction, and a bare ROLLBACK then raised over the error that matters.
        with sqlite.transaction(db, immediate=False):
            _write_facts(db, rows, covered)


def _write_facts(db: sqlite3.Connection, rows: list[tuple[str, str, str | None]], covered: int) -> None:
    """Add the facts of appended records and move the ledger position they cover, in the caller's
    transaction."""
    db.executemany("INSERT OR IGNORE INTO facts VALUES (?, ?, ?)", rows)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('covered', ?)", (str(covered),))


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite.connect(path, pragmas=sqlite.DEDUPE)
    db.executescript(_SCHEMA)
    return db


def _lookup(db: sqlite3.Connection, rule: str) -> Lookup:
    def known(keys: Iterable[str]) -> dict[str, str | None]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str | None] = {}
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, value FROM facts WHERE rule = ? AND key IN ({marks})"
            found.update(db.execute(sql, (rule, *chunk)))
        return found

    return known
