"""Human-readable output: aligned tables that fit the terminal, ingest and summary text, progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from burn.text.money import usd
from burn.text.term import cell_width, pad, paint, truncate


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    right: Iterable[int] = (),
    *,
    max_width: int | None = None,
    shrink: Sequence[int] = (0,),
    color: bool = False,
    bold_rows: Iterable[int] = (),
) -> str:
    """Aligned columns two spaces apart. With ``max_width``, the ``shrink`` columns (labels,
    keys) are cut with an ellipsis, widest first, until the table fits (never below 6 cells);
    widths are terminal cells (:func:`burn.text.term.cell_width`). ``color``: bold headers and
    ``bold_rows`` (indices into ``rows``, e.g. a total)."""
    right = set(right)
    bold = set(bold_rows)
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(cell_width(r[i]) for r in cells) for i in range(len(headers))]
    if max_width is not None:
        over = sum(widths) + 2 * (len(widths) - 1) - max_width
        while over > 0:
            candidates = [i for i in shrink if widths[i] > 6]
            if not candidates:
                break
            i = max(candidates, key=lambda c: widths[c])
            widest_other = max([widths[c] for c in candidates if c != i] + [6])
            step = min(over, widths[i] - max(widest_other, 6)) or 1
            widths[i] -= step
            over -= step

    def line(r: list[str], style: bool) -> str:
        parts = [pad(truncate(c, w), w, i in right) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        text = "  ".join(parts).rstrip()
        return paint(text, "bold", style)

    out = [line(cells[0], color), "  ".join("-" * w for w in widths)]
    out.extend(line(r, color and n in bold) for n, r in enumerate(cells[1:]))
    return "\n".join(out) + "\n"


def num(v: int | None) -> str:
    return "?" if v is None else f"{v:,}"


def mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def ingest_line(ingested: Any, totals: dict[str, Any], verbose: bool) -> str:
    """The one line ``burn ingest`` ends with: turns written, the sessions they are in, their cost,
    and how many inputs were skipped (the details with ``-v``)."""
    from burn.readkit.words import plural

    skipped = sum(totals["invalid_skipped"].values())
    if not ingested.turns:
        line = f"nothing new to ingest ({plural(totals['files_seen'], 'file')} checked)"
    else:
        line = f"ingested {plural(ingested.turns, 'turn')} in {plural(ingested.sessions, 'session')}"
        line += f" · {usd(ingested.cost_usd_micros)}"
        if ingested.unpriced:
            line += f" (+{plural(ingested.unpriced, 'unpriced turn')})"
    if skipped:
        line += f" · {plural(skipped, 'input')} skipped" + ("" if verbose else " (run with -v for details)")
    return line + "\n"


def ingest_text(totals: dict[str, Any], report: Any) -> str:
    """What ``burn ingest -v`` prints: files, lines and records read, ledger entries appended by
    kind, duplicates and skips by reason, and the archive build."""
    by_kind = ", ".join(f"{k} {v:,}" for k, v in totals["appended_by_kind"].items())
    lines = [
        f"files: {totals['files_seen']:,} seen, {totals['files_changed']:,} changed",
        f"read: {totals['lines_read']:,} lines ({mb(totals['bytes_read'])}), "
        f"{totals['records_read']:,} records",
        f"ledger: {totals['records_appended']:,} records appended"
        + (f" ({by_kind})" if by_kind else "")
        + (f", {totals['revisions']:,} of them revisions" if totals["revisions"] else ""),
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


class _Bar:
    """The one progress bar of burn (ingest, ``store copy``): a bar and a percentage, what is done,
    throughput and an ETA from the rate so far; redrawn at most ten times a second."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.last = 0.0
        self.started: dict[str, float] = {}

    def draw(self, label: str, frac: float, detail: str, rate: Callable[[float], str] | None = None) -> None:
        now = time.monotonic()
        start = self.started.setdefault(label, now)
        if now - self.last < 0.1 and frac < 1:
            return
        self.last = now
        elapsed = max(now - start, 1e-6)
        frac = min(max(frac, 0.0), 1.0)
        bar = "█" * int(frac * 20) + "░" * (20 - int(frac * 20))
        eta = f", ETA {int(elapsed / frac - elapsed)}s" if 0 < frac < 1 and elapsed > 0.5 else ""
        speed = f" at {rate(elapsed)}" if rate is not None and elapsed > 0.5 else ""
        self.stream.write(f"\r\x1b[K{label} {bar} {frac:4.0%} {detail}{speed}{eta}")
        self.stream.flush()

    def phase(self, label: str) -> None:
        """A step without a count (``building the archive…``)."""
        self.stream.write(f"\r\x1b[K{label}…")
        self.stream.flush()


def progress_printer(stream: IO[str]) -> Callable[[str, int, int, int], None]:
    """Ingest's progress on a TTY (the caller checks): files done of the total, MB read and MB/s."""
    bar = _Bar(stream)

    def show(reader: str, done: int, total: int, bytes_read: int) -> None:
        if total == 0:  # a phase without a count
            bar.phase(reader)
            return
        bar.draw(
            reader,
            done / total,
            f"{done:,}/{total:,} files, {mb(bytes_read)}",
            lambda elapsed: f"{bytes_read / elapsed / 1e6:,.1f} MB/s",
        )

    return show


def copy_progress(stream: IO[str]) -> Callable[[int, int, int], None]:
    """``burn store copy``'s progress on a TTY: entries copied, the share of the source ledger's
    positions done, entries per second and an ETA (the same bar as ingest)."""
    bar = _Bar(stream)

    def show(entries: int, done: int, end: int) -> None:
        bar.draw(
            "copying", done / end if end else 1.0, f"{entries:,} entries", lambda e: f"{entries / e:,.0f}/s"
        )

    return show
