"""Human tables and CSV for ``burn report …``, ``burn daily|weekly|monthly|session`` (DESIGN §11).

Everything here is rendered from the very document ``--json`` prints, so the two never disagree.
Money comes from :func:`burn.text.money.usd` (integer micro-dollars, fixed decimals); project
keys show as their label when the document's identity profile allows one, else shortened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import attrs

from burn.text.money import usd
from burn.text.render import num, table
from burn.text.term import use_color, width

# What the cost-source words mean, printed under a table that uses them.
COST_WORDS = {
    "computed": "computed = tokens × the pricing table's rates",
    "reported": "reported = the amount the agent itself wrote in its session files",
    "mixed": "mixed = some turns computed, some reported by the agent",
}


@attrs.frozen
class View:
    """How a table is shown: per-model ``breakdown`` rows, the ``last`` N rows, row ``order``,
    subagents listed (``flat``) or folded under their root, ``color``, ``max_width`` (None: no
    limit), ``latest_ms`` (the archive's latest activity, for an empty result) and
    ``default_window`` (neither ``--since`` nor ``--until`` given: the command's default window)."""

    breakdown: bool = False
    last: int | None = None
    order: str = "asc"
    flat: bool = False
    color: bool = False
    max_width: int | None = None
    latest_ms: int | None = None
    default_window: bool = False

    @classmethod
    def from_args(cls, args: Any, stream: IO[str], latest_ms: int | None = None) -> View:
        """From parsed options (those a command lacks take their defaults)."""
        return cls(
            breakdown=bool(getattr(args, "breakdown", False)),
            last=getattr(args, "last", None),
            order=getattr(args, "order", None) or "asc",
            flat=bool(getattr(args, "flat", False)),
            color=use_color(stream, bool(getattr(args, "no_color", False))),
            max_width=width(stream),
            latest_ms=latest_ms,
            default_window=getattr(args, "since", None) is None and getattr(args, "until", None) is None,
        )


def render(doc: Mapping[str, Any], view: View | None = None) -> str:
    """The table of a usage, activity or sessions document."""
    view = view or View()
    contract = doc["meta"]["contract"]
    if contract == "burn.activity":
        return _activity(doc, view)
    if contract == "burn.sessions":
        return _sessions(doc, view)
    if contract == "burn.compare":
        return _compare(doc, view)
    return _usage(doc, view)


def cost_note(sources: Iterable[str | None]) -> str:
    """A footnote explaining the cost-source words a table shows."""
    words = [COST_WORDS[s] for s in ("computed", "reported", "mixed") if s in set(sources)]
    return "cost: " + "; ".join(words) + "\n" if words else ""


def project_label(key: str | None, projects: Mapping[str, Any]) -> str:
    """A project key as people read it: its label, else the key shortened."""
    if key is None:
        return "(unknown)"
    label = (projects.get(key) or {}).get("label")
    if label:
        return str(label)
    return key[:15] + "…" if key.startswith("sha256:") and len(key) > 16 else key


def _tokens(t: Mapping[str, Any]) -> list[str]:
    write = None
    if t.get("cache_write_5m") is not None or t.get("cache_write_1h") is not None:
        write = (t.get("cache_write_5m") or 0) + (t.get("cache_write_1h") or 0)
    return [
        num(t.get("input")),
        num(t.get("output")),
        num(t.get("cache_read")),
        num(write),
        num(t.get("total")),
    ]


def _ordered(rows: list[Any], view: View) -> list[Any]:
    if view.last is not None:
        rows = rows[-view.last :]
    return rows[::-1] if view.order == "desc" else rows


def empty(doc: Mapping[str, Any], view: View, what: str = "usage") -> str:
    """What an empty result says: the window asked for, and where the data is."""
    f = doc["meta"].get("filters") or {}
    since, until = f.get("since"), f.get("until")
    if view.latest_ms is None:
        return f"no {what} recorded yet (run `burn ingest` to read agent sessions)\n"
    tz = ZoneInfo(doc["meta"].get("timezone") or "UTC")
    latest = datetime.fromtimestamp(view.latest_ms / 1000, tz)
    if since is None and until is None:
        window = "with these filters"
    else:
        window = f"between {_day(since, tz) or 'the start'} and {_day(until, tz) or 'now'}"
    days = max(1, (datetime.now(tz) - latest).days + 1)
    hint = f" (use --since {days}d)" if since is not None and _before(view.latest_ms, since) else ""
    return f"no {what} {window}; latest activity {latest:%Y-%m-%d}{hint}\n"


def _day(value: str | None, tz: ZoneInfo) -> str | None:
    if value is None:
        return None
    return f"{datetime.fromisoformat(value).astimezone(tz):%Y-%m-%d %H:%M}"


def _before(ms: int, since: str) -> bool:
    return ms < datetime.fromisoformat(since).timestamp() * 1000


def _usage(doc: Mapping[str, Any], view: View) -> str:
    rows = doc.get("rows") or []
    if not rows:
        return empty(doc, view)
    projects = doc["meta"].get("projects") or {}
    by = rows[0].get("by", "key")
    body: list[list[str]] = []
    sources: set[str | None] = {doc["totals"]["cost"]["cost_source"]}
    for r in _ordered(rows, view):
        key = project_label(r["key"], projects) if by == "project" else str(r["key"])
        body.append(_usage_row(key, r))
        if view.breakdown:
            for m in r.get("by_model") or ():
                body.append(_usage_row(f"  └ {m['model']}", m))
                sources.add(m["cost"]["cost_source"])
        sources.add(r["cost"]["cost_source"])
    body.append(_usage_row("total", doc["totals"]))
    headers = [by, "turns", "sessions", "input", "output", "cache read", "cache write", "total", "cost"]
    out = table(headers, body, right=range(1, len(headers)), max_width=view.max_width, color=view.color,
                bold_rows=[len(body) - 1])  # fmt: skip
    return out + cost_note(sources) + f"(times in {doc['meta']['timezone']})\n"


def _usage_row(key: str, r: Mapping[str, Any]) -> list[str]:
    cost = usd(r["cost"]["total_usd_micros"])
    sessions = f"{r['sessions']:,}" if "sessions" in r else ""
    return [key, f"{r['turns']:,}", sessions, *_tokens(r["tokens"]), cost]


def _activity(doc: Mapping[str, Any], view: View) -> str:
    rows = [r for r in doc.get("rows") or [] if r.get("turns")]
    if not rows:
        return empty(doc, view, "agent activity")
    body = [
        [r["start"], f"{r['agent_seconds'] / 60:,.1f}", str(r["peak_concurrency"]), f"{r['sessions']:,}",
         f"{r['turns']:,}", num(r["output_tokens"]), usd(r["cost"]["total_usd_micros"])]
        for r in _ordered(rows, view)
    ]  # fmt: skip
    headers = ["bucket", "agent min", "peak", "sessions", "turns", "output", "cost"]
    out = table(headers, body, right=range(1, len(headers)), max_width=view.max_width, color=view.color)
    # Activity is the one report with a default window (a timeline of buckets, not all time): say so.
    window = "the last 7 days (the default; --since for more); " if view.default_window else ""
    return out + f"({window}buckets without activity omitted; times in {doc['meta']['timezone']})\n"


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def _compare(doc: Mapping[str, Any], view: View) -> str:
    rows = list(doc.get("rows") or [])
    if not rows:
        return empty(doc, view)
    body = []
    for r in rows:
        p, c = r["per_turn"], r["cost"]
        duration = r["median_duration_ms"]
        body.append(
            [r["model"].removeprefix("claude-"), r["category"] + (" *" if r["small_sample"] else ""),
             f"{r['turns']:,}", f"{r['sessions']:,}", *(num(p[f]) if p[f] is not None else "-"
             for f in ("input", "output", "cache_read", "cache_write")), usd(c["per_turn_usd_micros"]),
             usd(c["per_session_usd_micros"]), _pct(r["cache_hit_ratio"]), _pct(r["tool_error_rate"]),
             "-" if duration is None else f"{duration / 1000:,.1f}s"]
        )  # fmt: skip
    headers = ["model", "category", "turns", "sessions", "in/turn", "out/turn", "cache rd/turn",
               "cache wr/turn", "cost/turn", "cost/session", "cache hit", "tool err", "median"]  # fmt: skip
    out = table(headers, body, right=range(2, len(headers)), max_width=view.max_width, color=view.color)
    n = doc.get("min_turns", 0)
    note = f"(* fewer than {n} turns: a small sample)\n" if any(r["small_sample"] for r in rows) else ""
    return out + note


def _short_models(models: Sequence[str]) -> str:
    return ", ".join(m.removeprefix("claude-") for m in models)


def _sessions(doc: Mapping[str, Any], view: View) -> str:
    rows = list(doc.get("rows") or [])
    if not rows:
        return empty(doc, view, "sessions")
    tz = ZoneInfo(doc["meta"].get("timezone") or "UTC")
    projects = doc["meta"].get("projects") or {}
    children: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if r.get("parent_session_id"):
            children.setdefault(r["parent_session_id"], []).append(r)
    if not view.flat:  # subagents fold into their root: its cost includes theirs
        ids = {r["session_id"] for r in rows}
        rows = [r for r in rows if not r.get("parent_session_id") or r["parent_session_id"] not in ids]
    rows.sort(key=lambda r: (r.get("started_at") or "", r["session_id"]))
    body, sources = [], set()
    for r in _ordered(rows, view):
        kids = children.get(r["session_id"], []) if not view.flat else []
        cost = r["cost"]["including_children_usd_micros"] if not view.flat else r["cost"]["total_usd_micros"]
        turns = r["counts"]["assistant_turns"] + sum(k["counts"]["assistant_turns"] for k in kids)
        tokens = (r["tokens"].get("total") or 0) + sum(k["tokens"].get("total") or 0 for k in kids)
        started = _local(r.get("started_at"), tz)
        label = project_label(r.get("project_key"), projects)
        if view.flat and r.get("parent_session_id"):
            label = "└ " + label
        body.append([started, r["source"], label, _short_models(r.get("models") or []),
                     f"{turns:,}", f"{len(kids):,}" if kids else "", num(tokens), usd(cost)])  # fmt: skip
        sources.add(r["cost"]["cost_source"])
    headers = ["started", "source", "project", "models", "turns", "subagents", "tokens", "cost"]
    out = table(headers, body, right=range(4, len(headers)), max_width=view.max_width, shrink=(2, 3),
                color=view.color)  # fmt: skip
    folded = (
        ""
        if view.flat
        else "subagents folded into their root (turns, tokens and cost include them; --flat lists them)\n"
    )
    return out + cost_note(sources) + folded + f"(times in {doc['meta']['timezone']})\n"


def _local(value: str | None, tz: ZoneInfo) -> str:
    if value is None:
        return "-"
    return f"{datetime.fromisoformat(value).astimezone(tz):%Y-%m-%d %H:%M}"


# -- CSV ---------------------------------------------------------------------------------------------


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, list):
        if all(not isinstance(v, (Mapping, list)) for v in value):
            out[prefix] = ";".join("" if v is None else str(v) for v in value)
    else:
        out[prefix] = "" if value is None else value


def csv_text(doc: Mapping[str, Any], view: View | None = None) -> str:
    """The document's rows as CSV: nested fields joined with dots (``tokens.input``), lists of
    plain values joined with ``;``, lists of objects (breakdowns) left out; money stays integer
    micro-dollars, as in the contract."""
    view = view or View()
    rows = _ordered(list(doc.get("rows") or []), view)
    flat = []
    for r in rows:
        d: dict[str, Any] = {}
        _flat("", r, d)
        flat.append(d)
    columns: dict[str, None] = {}
    for d in flat:
        columns.update(dict.fromkeys(d))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    w.writeheader()
    w.writerows(flat)
    return buf.getvalue()
