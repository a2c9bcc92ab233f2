"""``burn ledger verify``: find ledger lines that cannot be read, and have their sources re-read.

A ledger line that a crash tore or a disk garbled after its source's cursor was saved is skipped
by every reader of the ledger: its record is gone from the ledger (the archive may still hold it,
until a rebuild), and nothing would ever read its source again (issue 11). :func:`scan` finds such
lines (not valid JSON, or not a ledger entry; entries of kinds or versions this burn does not know
are not damage: newer burns write them). :func:`repair` makes the next ingest read every source
again from the start: it forgets the cursors and the ledger's index (which would still know the
lost ids) and then ingests. The ledger drops by event id what it already holds, so the re-read
appends exactly the missing records. The ledger is never rewritten: the damaged lines stay, and
their offsets are recorded in ``ledger.repaired.json`` so that they are reported as repaired.

Only the ``file`` store has lines to verify.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from burn.store import LEDGER_VERSION

if TYPE_CHECKING:
    from burn.ingest.run import IngestReport
    from burn.ledger.file import FileStore
    from burn.plugins.manager import Plugins

REPAIRED_NAME = "ledger.repaired.json"
_PREVIEW = 80  # bytes of a damaged line shown


@attrs.frozen
class Damage:
    """One unreadable ledger line: where it starts, its 1-based number, its length, why."""

    offset: int
    line: int
    length: int
    reason: str  # "invalid_json", "not_an_entry" or "torn_tail"
    preview: str


@attrs.define
class Verification:
    ledger: str
    lines: int = 0
    bytes: int = 0
    damaged: list[Damage] = attrs.field(factory=list)  # not repaired yet
    repaired: list[Damage] = attrs.field(factory=list)  # re-read by an earlier repair
    restored: int | None = None  # records a repair appended (None: no repair ran)

    @property
    def ok(self) -> bool:
        return not self.damaged

    def text(self) -> str:
        """What ``burn ledger verify`` prints: a verdict line, then one line per damaged line."""
        out = [f"ledger {self.ledger}: {self.lines:,} lines, {self.bytes:,} bytes"]
        if self.restored is not None:
            out.append(f"re-read every source: {self.restored:,} missing records restored")
        if self.repaired:
            out.append(f"{len(self.repaired):,} unreadable lines repaired (their sources were re-read)")
        for d in self.damaged:
            out.append(f"line {d.line:,} (byte {d.offset:,}, {d.length:,} bytes): {d.reason}: {d.preview}")
        if self.damaged:
            out.append(
                f"{len(self.damaged):,} unreadable lines: their records are missing from the ledger;"
                " run `burn ledger verify --repair` to read their sources again"
            )
        else:
            out.append("ok: no unreadable line awaits repair")
        return "\n".join(out) + "\n"

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["ok"] = self.ok
        return data


def scan(path: Path) -> tuple[int, list[Damage]]:
    """The number of lines of the ledger at ``path`` and its unreadable ones, in order (a missing
    ledger has none)."""
    damaged: list[Damage] = []
    number = offset = 0
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below; a missing ledger is not an error)
    except FileNotFoundError:
        return 0, damaged
    with f:
        for number, line in enumerate(f, 1):
            reason = _unreadable(line)
            if reason is not None:
                preview = line[:_PREVIEW].decode("utf-8", "backslashreplace").rstrip("\n")
                damaged.append(Damage(offset, number, len(line), reason, preview))
            offset += len(line)
    return number, damaged


def _unreadable(line: bytes) -> str | None:
    """Why ``line`` is not a ledger entry this or a later burn can read (``None``: it is)."""
    if not line.endswith(b"\n"):
        return "torn_tail"
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "invalid_json"
    if not isinstance(obj, dict) or not {"v", "kind", "id", "record"} <= obj.keys():
        return "not_an_entry"
    if obj["v"] == LEDGER_VERSION and not (isinstance(obj["id"], str) and isinstance(obj["record"], dict)):
        return "not_an_entry"
    return None


def verify(home: Path) -> Verification:
    """Scan the ledger of ``home``; damage an earlier repair handled is listed as repaired."""
    path = home / "ledger.jsonl"
    done = _repaired_offsets(home)
    lines, damaged = scan(path)
    result = Verification(str(path), lines, path.stat().st_size if path.exists() else 0)
    for damage in damaged:
        (result.repaired if damage.offset in done else result.damaged).append(damage)
    return result


def repair(home: Path, store: FileStore, plugins: Plugins) -> tuple[Verification, IngestReport | None]:
    """Verify and, when there is unrepaired damage, re-read every source (module docstring)."""
    from burn.ingest.read_cursors import CursorFile
    from burn.ingest.run import ingest

    with store.lock():  # no ingest appends while the cursors and the index are forgotten
        result = verify(home)
        if result.ok:
            return result, None
        store.drop_index()
        CursorFile.load(home).forget()
    # An ingest started meanwhile does the re-read as well; ours then finds nothing missing.
    report = ingest(home, plugins)
    result.restored = report.totals()["records_appended"]
    _write_repaired(home, _repaired_offsets(home) | {d.offset for d in result.damaged})
    result.repaired.extend(result.damaged)
    result.damaged = []
    return result, report


def _repaired_offsets(home: Path) -> set[int]:
    try:
        data = orjson.loads((home / REPAIRED_NAME).read_bytes())
        return {int(o) for o in data["offsets"]}
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return set()  # none, or unreadable: report the damage again; a repair is idempotent


def _write_repaired(home: Path, offsets: set[int]) -> None:
    tmp = home / f"{REPAIRED_NAME}.tmp"
    tmp.write_bytes(orjson.dumps({"offsets": sorted(offsets)}))
    os.replace(tmp, home / REPAIRED_NAME)
