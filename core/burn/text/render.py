"""Human-readable output: plain aligned tables (no colour codes, so ``NO_COLOR`` holds trivially)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import IO, Any


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out) + "\n"


def num(v: int | None) -> str:
    return "?" if v is None else f"{v:,}"


def mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def ingest_text(totals: dict[str, Any], report: Any) -> str:
    lines = [
        f"files: {totals['files_seen']:,} seen, {totals['files_changed']:,} changed",
        f"read: {totals['lines_read']:,} lines ({mb(totals['bytes_read'])}), "
        f"{totals['records_read']:,} records",
        f"ledger: {totals['records_appended']:,} records appended"
        + (f" ({totals['revisions']:,} revisions)" if totals["revisions"] else ""),
    ]
    if totals["duplicates_dropped"]:
        lines.append(
            "duplicates dropped: " + ", ".join(f"{k} {v:,}" for k, v in totals["duplicates_dropped"].items())
        )
    if totals["invalid_skipped"]:
        lines.append(
            "invalid skipped: " + ", ".join(f"{k} {v:,}" for k, v in totals["invalid_skipped"].items())
        )
    if totals["repaired"]:
        lines.append("repaired: " + ", ".join(f"{k} {v:,}" for k, v in totals["repaired"].items()))
    if report.archive is None:
        lines.append("archive: up to date")  # nothing was read and the archive had nothing to apply
    else:
        lines.append(
            f"archive: {report.archive.entries:,} entries applied in {report.archive.seconds:.2f}s"
            + (f", {report.archive.repriced:,} turns re-priced" if report.archive.repriced else "")
        )
    return "\n".join(lines) + "\n"


_COLS = ["turns", "input", "output", "cache_read", "cache_write", "total"]


def usd(micros: int | None) -> str:
    """Dollars from integer micro-USD with 2 to 4 decimals (``$0.7577``, ``$12.50``); exact, no float."""
    if micros is None:
        return "?"
    text = f"{(Decimal(micros) / 1_000_000).quantize(Decimal('0.0001'), rounding=ROUND_HALF_EVEN):,}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"${whole}.{frac}"


def _unpriced(r: dict[str, Any]) -> str:
    u = r.get("unpriced") or {}
    return num(u["tokens"]) if u.get("turns") else "-"


def _token_rows(key: str, rows: list[dict[str, Any]]) -> str:
    body = [
        [r[key] if r[key] is not None else "(unknown)"]
        + [num(r[c]) for c in _COLS]
        + [usd(r.get("cost_usd_micros")), _unpriced(r)]
        for r in rows
    ]
    return table([key, *_COLS, "cost", "unpriced"], body, right=range(1, len(_COLS) + 3))


def _cost_line(t: dict[str, Any], pricing: dict[str, Any]) -> str:
    line = f"cost {usd(t.get('cost_usd_micros'))} ({t.get('cost_source')})"
    if pricing.get("stale"):
        line += " · priced with an older pricing table: run `burn archive build` to re-price"
    u = t.get("unpriced") or {}
    if u.get("turns"):
        line += (
            f" · {num(u['tokens'])} tokens in {u['turns']:,} turns of unpriced models"
            " (see `burn pricing check`)"
        )
    return line + "\n"


def summary_text(data: dict[str, Any]) -> str:
    t = data["totals"]
    if not t["turns"]:
        return "no usage recorded yet in this window (run `burn ingest` to read agent sessions)\n"
    parts = [
        f"{t['turns']:,} turns in {t['sessions']:,} sessions · {num(t['total'])} tokens · "
        f"input {num(t['input'])} · output {num(t['output'])} · cache read {num(t['cache_read'])} · "
        f"cache write {num(t['cache_write'])} (days in {data['timezone']})\n",
        _cost_line(t, data.get("pricing") or {}),
    ]
    for key, title in (
        ("source", "by_source"),
        ("model", "by_model"),
        ("day", "by_day"),
        ("project", "by_project"),
    ):
        if title in data:
            parts.append("\n" + _token_rows(key, data[title]))
    return "".join(parts)


def status_text(d: dict[str, Any]) -> str:
    lines = [
        f"archive      {d['archive']} ({mb(d['archive_bytes'])})",
        f"id           {d['archive_id']} generation {d['generation']} schema v{d['schema_version']}",
        f"ledger       {d['ledger']} ({mb(d['ledger_bytes'])}), archive at byte {d['ledger_position']:,}"
        + (
            " (up to date)"
            if d["ledger_position"] >= d["ledger_bytes"]
            else " (behind: run `burn archive build`)"
        ),
        f"last build   {d.get('last_build_at') or '-'}   last rebuild {d.get('rebuilt_at') or '-'}",
        f"digest       {d['digest']}",
        "",
    ]
    rows = [[t, f"{n:,}"] for t, n in d["row_counts"].items()]
    return "\n".join(lines) + table(["table", "rows"], rows, right=[1])


def progress_printer(stream: IO[str]) -> Callable[[str, int, int, int], None]:
    """A one-line progress display on a TTY, redrawn at most ten times a second."""
    last = [0.0]

    def show(reader: str, done: int, total: int, bytes_read: int) -> None:
        if total == 0:  # a phase without a count
            stream.write(f"\r\x1b[K{reader}…")
            stream.flush()
            return
        now = time.monotonic()
        if now - last[0] < 0.1 and done != total:
            return
        last[0] = now
        stream.write(f"\r\x1b[K{reader}: {done:,}/{total:,} files, {mb(bytes_read)}")
        stream.flush()

    return show
