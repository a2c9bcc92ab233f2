"""``burn plans`` and ``burn plans check``: subscriptions and budgets (:mod:`burn.query.plans`).

``burn plans`` prints a table, or the ``burn.plans`` v1 contract (``--json``/``--ndjson``: the
meta block every contract has, one row per plan). ``burn plans check`` prints one line per plan
projected over its budget and exits 1 when there is one (for cron and CI), 0 otherwise. Both take
``--at TIME``: the plans as they stood then (the period containing TIME, its usage up to TIME).
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from burn.cli.parser import Parents


def register(sub: Any, parents: Parents) -> None:
    """The ``plans`` command and its ``check`` action."""
    from burn.cli.parser import WINDOW_FORMS, Parser

    p = sub.add_parser(
        "plans",
        help="subscriptions and budgets from plans.toml: spend, value, projection",
        description="plans are declared in $RELAYBURN_HOME/plans.toml (docs/plans.md)",
    )
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument(
        "--json", dest="format", action="store_const", const="json", help="the burn.plans contract"
    )
    fmt.add_argument("--ndjson", dest="format", action="store_const", const="ndjson", help="= NDJSON")
    p.add_argument("--no-color", action="store_true", help="no colour")
    p.set_defaults(func=cmd_plans, format=None)
    actions = p.add_subparsers(dest="plans_action", parser_class=Parser)
    chk = actions.add_parser("check", help="exit 1 when a plan is projected over its budget")
    chk.set_defaults(func=cmd_check)
    for parser in (p, chk):
        # SUPPRESS: ``plans --at T check`` keeps T (a subparser's default would overwrite it).
        parser.add_argument("--at", metavar="TIME", default=argparse.SUPPRESS,
                            help=f"as of TIME instead of now: {WINDOW_FORMS} (local time)")  # fmt: skip


def _home() -> Path:
    from burn.paths import burn_home

    return burn_home()


def _at(args: argparse.Namespace) -> datetime:
    """``--at`` (a past or future instant, read in the local zone), else now."""
    from burn.query.timewindow import parse_bound, resolve_timezone

    now = datetime.now(UTC)
    at = getattr(args, "at", None)
    if at is None:
        return now
    return parse_bound(at, resolve_timezone(None)[0], end=False, now=now, option="--at")


def rows(home: Path, now: datetime) -> tuple[list[dict[str, Any]], Any]:
    """The plans' rows at ``now`` and the archive state they were read under."""
    from burn import sqlite
    from burn.archive.database import Archive
    from burn.archive.state import corrupt_as_error
    from burn.query.plans import load, statuses
    from burn.query.timewindow import resolve_timezone

    plans = load(home, resolve_timezone(None)[1])
    with corrupt_as_error():
        archive = Archive.in_home(home, readonly=True)
        try:
            with sqlite.snapshot(archive.db):
                return statuses(archive, plans, now), archive.state()
        finally:
            archive.close()


def document(home: Path, now: datetime, fmt: str, at: datetime | None = None) -> bytes:
    """The ``burn.plans`` document (JSON or NDJSON) written at ``now``, its rows as of ``at``
    (default ``now``)."""
    from burn.archive.database import Archive
    from burn.contract import meta as metas
    from burn.contract.framing import Framer
    from burn.exporter import Facts
    from burn.query import Filters

    found, state = rows(home, now if at is None else at)
    archive = Archive.in_home(home, readonly=True)
    try:
        quality = metas.quality_block(archive.db, state)
    finally:
        archive.close()
    meta = metas.build(
        surface="plans",
        schema_version=1,
        now=now,
        state=state,
        timezone="UTC",
        filters=Filters().canonical(),
        order="declaration",
        profile="full",
        pricing=metas.pricing_block(home, state, Facts()),
        projects={},
        quality=quality,
    )
    out = io.BytesIO()
    framer = Framer(out, "ndjson" if fmt == "ndjson" else "json")
    framer.meta(meta)
    for row in found:
        framer.row(row)
    framer.end(None)
    return out.getvalue()


def cmd_plans(args: argparse.Namespace) -> int:
    at = _at(args)
    home = _home()
    if args.format:
        sys.stdout.buffer.write(document(home, datetime.now(UTC), args.format, at))
        return 0
    found, _ = rows(home, at)
    sys.stdout.write(text(found))
    return 0


def _day(instant: str, zone: str) -> str:
    """The plan's local date of a row's UTC instant (a period starts at a local midnight, which in
    Berlin is the evening before in UTC)."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(instant).astimezone(ZoneInfo(zone)).date().isoformat()


def text(found: list[dict[str, Any]]) -> str:
    """The plans as a table."""
    from burn.query.plans import FILE
    from burn.text.money import usd
    from burn.text.render import num, table

    if not found:
        return f"no plans declared (add [[plan]] tables to $RELAYBURN_HOME/{FILE}; see docs/plans.md)\n"
    body = []
    for r in found:
        b = r["budget"]
        money = b is not None and b["unit"] == "usd_micros"

        def amount(v: int | None, money: bool = money) -> str:
            return usd(v) if money else num(v or 0)

        body.append([
            r["name"], " → ".join(_day(r["period"][k], r["timezone"]) for k in ("start", "end")),
            usd(r["cost_usd_micros"]),
            num(r["tokens"]), "-" if b is None else f"{b['share'] * 100:.1f}% of {amount(b['limit'])}",
            "-" if r["value_ratio"] is None else f"{r['value_ratio']:.2f}× {usd(r['price_usd_micros'])}",
            usd(r["daily"]["cost_usd_micros"]) + "/day",
            usd(r["projection"]["cost_usd_micros"]) if b is None or money else num(r["projection"]["tokens"]),
            ("OVER " if r["over_budget"] else "") + (r["runs_out_on"] or ""),
        ])  # fmt: skip
    headers = ["plan", "period", "spent (API)", "tokens", "budget", "value", "burn rate", "projected",
               "runs out"]  # fmt: skip
    return table(headers, body, right=[2, 3, 4, 5, 6, 7])


def cmd_check(args: argparse.Namespace) -> int:
    from burn.query.plans import over

    found, _ = rows(_home(), _at(args))
    bad = over(found)
    for r in bad:
        b = r["budget"]
        sys.stdout.write(
            f"{r['name']}: projected {b['projected_share'] * 100:.1f}% of its budget by "
            f"{_day(r['period']['end'], r['timezone'])}"
            + (f" (runs out on {r['runs_out_on']})" if r["runs_out_on"] else "")
            + "\n"
        )
    return 1 if bad else 0
