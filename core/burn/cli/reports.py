"""The reports people reach for first: ``burn daily|weekly|monthly|session|blocks|statusline``.

``daily``, ``weekly`` and ``monthly`` are ``burn report daily|weekly|monthly``; ``session`` is
``burn export sessions`` shown as a table (subagents folded under their root, ``--flat`` lists
them). ``blocks`` shows 5-hour billing windows (:mod:`burn.query.blocks`) and ``statusline``
prints one line for Claude Code's status line hook from what the archive already has: it never
ingests (run ``burn ingest`` from a hook or a timer).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from burn.cli.contract import Table
    from burn.cli.parser import Parents

SHORTCUTS = ("daily", "weekly", "monthly", "compare", "session", "blocks", "statusline")
_HELP = {
    "daily": "tokens and cost per local day (= burn report daily)",
    "weekly": "tokens and cost per ISO week (= burn report weekly)",
    "monthly": "tokens and cost per month (= burn report monthly)",
    "compare": "models side by side per activity category (= burn report compare)",
}


def register(table: Table, exports: Table) -> Any:
    """The shortcut commands (those whose exporter is installed) plus ``blocks`` and
    ``statusline``."""
    from burn.cli.contract import add_command

    def add(sub: Any, parents: Parents) -> None:
        for name, help in _HELP.items():
            if name in table:
                exp, preset = table[name]
                add_command(sub, name, exp, "report", preset, parents, help=help)
        if "sessions" in exports:
            sp = add_command(
                sub,
                "session",
                exports["sessions"][0],
                "report",
                {},
                parents,
                help="one row per session: start, source, project, models, turns, tokens, cost",
            )
            sp.add_argument("--flat", action="store_true", help="list subagents as rows of their own")
        _blocks(sub, parents)
        _statusline(sub)

    return add


# -- blocks ------------------------------------------------------------------------------------------


def _blocks(sub: Any, parents: Parents) -> None:
    p = sub.add_parser(
        "blocks",
        help="5-hour billing windows, with burn rate and projection for the active one",
        parents=[parents.json, parents.window, parents.filters, parents.display],
    )
    p.add_argument(
        "--active", "-a", action="store_true", help="only the active block, with burn rate and projection"
    )
    p.add_argument("--recent", "-r", action="store_true", help="only blocks of the last 3 days")
    p.add_argument(
        "--token-limit",
        "-t",
        metavar="N",
        help="a token limit per block: show each block's share of it ('max': the largest block so far)",
    )
    p.add_argument("--last", type=_positive, metavar="N", help="only the last N blocks")
    p.add_argument("--order", choices=["asc", "desc"], default="asc", help="row order (default asc)")
    p.set_defaults(func=cmd_blocks)


def _positive(text: str) -> int:
    from burn.cli.parser import positive

    return positive(text)


def cmd_blocks(args: argparse.Namespace) -> int:
    from burn.archive.database import Archive
    from burn.archive.state import corrupt_as_error
    from burn.paths import burn_home
    from burn.query import Filters
    from burn.query.blocks import blocks

    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    options = dict(vars(args))
    if args.recent and args.since is None:
        options["since"] = "3d"
    if args.active and args.since is None:
        options["since"] = "10h"  # an active block started at most 5 h ago, floored to the hour
    with corrupt_as_error():
        archive = Archive.in_home(burn_home(), readonly=True)
        try:
            filters = Filters.from_options(options, now=now, db=archive.db)
            found = blocks(archive, filters)
        finally:
            archive.close()
    if args.active:
        found = [b for b in found if b.active(now_ms)]
    limit = _token_limit(args.token_limit, found)
    if args.last is not None:
        found = found[-args.last :]
    if args.order == "desc":
        found.reverse()
    if args.json:
        import orjson

        doc = {
            "timezone": filters.timezone,
            "token_limit": limit,
            "blocks": [b.as_json(now_ms) for b in found],
        }
        sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
        return 0
    sys.stdout.write(_blocks_text(found, filters.tz, filters.timezone, now_ms, limit, args))
    return 0


def _token_limit(value: str | None, found: list[Any]) -> int | None:
    from burn.errors import UsageError

    if value is None:
        return None
    if value == "max":
        return max((b.tokens for b in found), default=0) or None
    try:
        return _positive(value.replace(",", "").replace("_", ""))
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"--token-limit: {exc} (a number of tokens, or 'max')") from None


def _blocks_text(found: list[Any], tz: Any, tz_name: str, now_ms: int, limit: int | None, args: Any) -> str:
    from burn.text.money import usd
    from burn.text.render import num, table
    from burn.text.term import paint, use_color, width

    if not found:
        what = "no active block (no turn in the last 5 hours)" if args.active else "no usage in this window"
        return what + "\n"
    color = use_color(sys.stdout, args.no_color)
    rows, notes = [], []
    for b in found:
        start = datetime.fromtimestamp(b.start_ms / 1000, tz)
        active = b.active(now_ms)
        state = paint("active", "green", color) if active else ""
        share = ""
        if limit:
            pct = b.tokens * 100 // limit
            share = paint(f"{pct}%", "red" if pct >= 100 else "yellow" if pct >= 80 else "green", color)
        rows.append(
            [
                f"{start:%Y-%m-%d %H:%M}",
                state,
                ", ".join(sorted(m.removeprefix("claude-") for m in b.models)),
                f"{b.turns:,}",
                num(b.tokens),
                share,
                usd(b.cost_micros),
            ]
        )
        if active:
            tokens, cost = b.projection(now_ms)
            left = (b.end_ms - now_ms) // 60_000
            notes.append(
                f"active block: {left // 60}h {left % 60:02d}m left · burn rate "
                f"{num(round(b.tokens_per_minute()))} "
                f"tokens/min, {usd(b.cost_per_hour_micros())}/h · projected {num(tokens)} tokens, {usd(cost)}"
                + (f" ({tokens * 100 // limit}% of the limit)" if limit else "")
            )
    headers = ["block start", "", "models", "turns", "tokens", "% limit" if limit else "", "cost"]
    out = table(headers, rows, right=[3, 4, 5, 6], max_width=width(sys.stdout), shrink=(2,), color=color)
    return out + "".join(n + "\n" for n in notes) + f"(5-hour windows; times in {tz_name})\n"


# -- statusline ----------------------------------------------------------------------------------------


def _statusline(sub: Any) -> None:
    p = sub.add_parser(
        "statusline",
        help="one line for Claude Code's status line (reads its hook JSON on stdin)",
        description="Add to ~/.claude/settings.json: "
        '"statusLine": {"type": "command", "command": "burn statusline"}. '
        "Reads the archive only; keep it fresh with `burn ingest --quiet` from a hook.",
    )
    p.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR)")
    p.set_defaults(func=cmd_statusline)


def cmd_statusline(args: argparse.Namespace) -> int:
    """Never fails the status line: every problem becomes a short line, exit 0 (the fast module;
    ``burn statusline`` normally reaches it from :func:`burn.entry.main` without this tree)."""
    from burn.cli.statusline import run

    return run()
