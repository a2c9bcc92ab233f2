"""What a reader plugin implements, and the pieces the core hands it.

A reader turns one agent's local files into :mod:`burn.records`. It never writes anything: the
core owns cursors, the ledger and the archive. The contract, per source unit (usually one file):

``read(unit, cursor) -> ReadResult``
    Read what is new since ``cursor`` (``None`` = never read) and return the records found, the
    new cursor and diagnostics. Re-reading data already read must yield the same records (their
    ids make the ledger drop them), so a reader may always fall back to reading from the start.

Optional methods (:data:`OPTIONAL_METHODS`, documented in docs/plugin-hooks.md): ``dedupe_rules()``
(see :class:`DedupeRule`), applied by ingest, and ``retention(roots, units, now)`` (see
:class:`Retention`), asked by ``burn doctor``.

Line-oriented readers use :func:`burn.readkit.tail.open_tail` (usually through
:func:`burn.readkit.read_jsonl`), which implements the byte-offset cursor, the rewrite/truncation
detection and the "never consume a half-written line" rule once for every reader.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import attrs

from burn.records import Record

MAX_WARNINGS = 20


def _location(path: str | os.PathLike[str]) -> str:
    return os.fspath(path)


def printable(text: str) -> str:
    """``text`` as valid UTF-8 for JSON, SQLite and terminals.

    A file name that is not valid UTF-8 (``copy\\xff.jsonl``) reaches Python as text with
    surrogate escapes, which no UTF-8 encoder accepts; each such byte is shown as ``\\xff``
    instead. Text without surrogates is returned as it is (the usual case costs one encode).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape" if _only_escapes(text) else "backslashreplace")
        return raw.decode("utf-8", "backslashreplace")
    return text


def printable_json(value: Any) -> Any:
    """A JSON-able ``value`` with :func:`printable` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k): printable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_json(v) for v in value]
    return value


def _only_escapes(text: str) -> bool:
    # surrogateescape can encode only the surrogates it produces (U+DC80..U+DCFF)
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in text)


@attrs.frozen
class SourceUnit:
    """One thing a reader reads incrementally: normally one file.

    ``order`` sorts units within one ingest (lower first); Claude Code reads main transcripts
    before subagent files so that a ``/btw`` replay is recognised as such. ``hints`` carries what
    discovery learned from the layout (e.g. the parent session of a subagent file).
    ``companions`` are files whose changes also mean the unit changed (a SQLite database's
    ``-wal`` file): the core's stat-only fingerprint covers them too.

    ``path`` may be given as a string or a path and reads back as a :class:`~pathlib.Path`;
    ``key`` is the same location as a string (the cursor's key).
    """

    # Stored as the string: discovery builds one unit per file on every ingest, no-op or not, and
    # a no-op needs only the string (to stat it and to look its cursor up). The Path is built when
    # a reader asks for it, i.e. only for the units that are read.
    key: str = attrs.field(alias="path", converter=_location)
    order: int = 0
    hints: Mapping[str, str] = attrs.field(factory=dict)
    # Strings are accepted as well as paths: a reader with hundreds of thousands of companions
    # (OpenCode's part files) saves building a Path for each on every no-op ingest.
    companions: tuple[str | Path, ...] = ()

    @property
    def path(self) -> Path:
        return Path(self.key)


@attrs.frozen
class FileCursor:
    """Where reading of one unit stopped, plus what proves the file is still the same file.

    ``head`` is a hash of the file's first bytes (up to the offset); a file rewritten in place or
    replaced keeps its name but not its head, and is then read again from the start.
    ``state`` is reader-owned JSON (Codex keeps running totals there). ``fingerprint`` is set by
    the core: the unit's stat fingerprint taken just before the read (see :func:`fingerprint`).
    """

    inode: int
    size: int
    mtime_ns: int
    offset: int
    head: str
    state: Mapping[str, Any] = attrs.field(factory=dict)
    fingerprint: str | None = None


def fingerprint(unit: SourceUnit) -> str | None:
    """Stat-only fingerprint of a unit (size, mtime, inode of its path and companions).

    ``None`` when the unit's path cannot be stat'ed. Equal fingerprints mean "unchanged": a no-op
    ingest compares these and opens nothing.
    """
    try:
        st = os.stat(unit.key)
    except OSError:
        return None
    own = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    if not unit.companions:  # most units: no list to build and join
        return own
    parts = [own]
    for path in unit.companions:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            parts.append("-")  # a companion that does not exist (yet) is a state too
            continue
        except OSError:
            return None
        parts.append(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    return "|".join(parts)


@attrs.define
class Diagnostics:
    """Counts of what a read did, merged into the ingest summary.

    ``invalid`` counts skipped input by reason (``invalid_json``, ``wrong_type``, ``invalid_utf8``,
    ``line_too_long``, ``unreadable`` …); ``dropped`` counts records dropped by a dedupe rule.
    """

    files_read: int = 0
    lines_read: int = 0
    bytes_read: int = 0
    records: int = 0
    invalid: Counter[str] = attrs.field(factory=Counter)
    dropped: Counter[str] = attrs.field(factory=Counter)
    repaired: Counter[str] = attrs.field(factory=Counter)
    rereads: Counter[str] = attrs.field(factory=Counter)
    warnings: list[str] = attrs.field(factory=list)

    def warn(self, message: str) -> None:
        """Record a human-readable warning (bounded, so a corrupt tree cannot flood memory)."""
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(printable(message))

    def skip(self, reason: str, where: str | None = None) -> None:
        """Count one skipped line or file; warn once per reason with its first location."""
        first = self.invalid[reason] == 0
        self.invalid[reason] += 1
        if first and where:
            self.warn(f"skipped ({reason}): {where}")

    def add(self, other: Diagnostics) -> None:
        self.files_read += other.files_read
        self.lines_read += other.lines_read
        self.bytes_read += other.bytes_read
        self.records += other.records
        self.invalid.update(other.invalid)
        self.dropped.update(other.dropped)
        self.repaired.update(other.repaired)
        self.rereads.update(other.rereads)
        for w in other.warnings:
            self.warn(w)


@attrs.frozen
class ReadResult:
    """What :meth:`Reader.read` returns: the records found, the cursor to store (``None`` stores
    nothing, so the unit is read again next time) and the read's diagnostics."""

    records: Sequence[Record]
    cursor: FileCursor | None
    diagnostics: Diagnostics


@runtime_checkable
class Reader(Protocol):
    """A source of records. Register instances with the ``register_readers`` hook.

    :ivar name: source name written into every record (``claude-code``, ``codex`` …).
    :ivar env_var: environment variable that overrides the default locations (comma-separated).
    """

    name: str
    env_var: str | None

    def locations(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """Roots to search, from ``env`` (the override variable) or the defaults under ``home``."""
        ...

    def discover(self, roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
        """Yield every source unit under ``roots``; count what cannot be read in ``diagnostics``."""
        ...

    def read(self, unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
        """Read what is new in ``unit`` since ``cursor``. Must not raise for bad input."""
        ...

    # Optional: ``dedupe_rules() -> Sequence[DedupeRule]``, the source's own dedupe rules (see
    # :class:`DedupeRule`); ingest applies them to this reader's records before every append, so
    # that no store has to know a source. Claude Code declares its ``/btw`` replay rule this way.
    #
    # Optional: ``retention(roots, units, now) -> Retention`` (see :class:`RetentionCheck`):
    # what the agent's own cleanup of its files means for the units not ingested yet, reported by
    # ``burn doctor``. Claude Code's ``cleanupPeriodDays`` is checked this way.


OPTIONAL_METHODS = ("dedupe_rules", "retention")
"""The optional :class:`Reader` methods (each documented in docs/plugin-hooks.md)."""


@attrs.frozen
class UnitStat:
    """One discovered unit as ``burn doctor`` stat'ed it (it never reads one), for ``retention``.

    ``mtime_ns`` is the unit's own file's modification time (what an agent's cleanup looks at);
    ``pending`` means the next ``burn ingest`` would read it (no cursor, or a changed fingerprint).
    """

    path: str
    mtime_ns: int
    bytes: int
    pending: bool


@attrs.frozen
class RetentionWarning:
    """One advice line of a retention check: ``warning`` when data may be lost, ``note`` otherwise.
    ``code`` is the finding's stable code in ``burn doctor --json`` (document it in docs/doctor.md)."""

    level: Literal["warning", "note"]
    code: str
    message: str


@attrs.frozen
class Retention:
    """What a reader's optional ``retention(roots, units, now)`` returns to ``burn doctor``.

    ``roots`` are the reader's ``locations()``, ``units`` one :class:`UnitStat` per unit its
    ``discover()`` yielded that could be stat'ed, ``now`` the doctor's clock. The method must only
    read (stat, small settings files) and should not raise; if it does, doctor reports a
    ``reader_error``.

    :ivar key: the top-level ``burn doctor --json`` key its ``entries`` are listed under
        (``claude_retention``); it must end in ``_retention``.
    :ivar entries: one JSON object per retention policy found (a config directory, say).
    :ivar lines: the text report's lines, one per entry.
    :ivar warnings: the findings they lead to, in order.
    """

    key: str
    entries: Sequence[Mapping[str, Any]] = ()
    lines: Sequence[str] = ()
    warnings: Sequence[RetentionWarning] = ()


class RetentionCheck(Protocol):
    """The optional ``retention`` method of a :class:`Reader`, as ``burn doctor`` calls it."""

    def __call__(self, roots: Sequence[Path], units: Sequence[UnitStat], now: datetime) -> Retention: ...


class Note(NamedTuple):
    """What a rule needs of one record. ``fact``: the record establishes ``key → value`` for later
    records (kept once it is appended); otherwise the record is a candidate the rule may drop."""

    key: str
    value: str | None
    fact: bool


Notes = tuple[Note | None, ...]
"""The notes of one record, one per rule of its reader (``None`` where a rule passed)."""

Lookup = Callable[[Iterable[str]], Mapping[str, str | None]]
"""The values remembered for the given keys (keys never remembered are absent). Call it once per
batch with every key: it is one indexed query per few thousand keys."""


class DedupeRule(Protocol):
    """A dedupe rule a reader declares with its optional ``dedupe_rules()`` (:mod:`burn.ingest.dedupe`
    applies it in ingest, before the store sees the records).

    :ivar name: the reason its drops are counted under (``duplicates_dropped`` in ``burn ingest``).
    :ivar kinds: the record kinds it takes notes of (the cache is rebuilt from those only).
    """

    name: str
    kinds: frozenset[str]

    def note(self, record: Record) -> Note | None:
        """What the rule needs of ``record``, or ``None`` when the record plays no part. Runs in the
        worker processes; must be cheap and must not raise."""
        ...

    def drops(self, notes: Sequence[Note], known: Lookup) -> list[int]:
        """The indexes in ``notes`` (one batch, in append order) of the records to drop. ``known``
        looks up the facts of earlier batches; facts of this batch are in ``notes``."""
        ...


def split_env_paths(value: str | None) -> list[Path]:
    """Paths from a comma-separated environment value (``CLAUDE_CONFIG_DIR=a,b``), blanks dropped."""
    if not value:
        return []
    return [Path(p.strip()).expanduser() for p in value.split(",") if p.strip()]
