"""``burn analytics status|rebuild`` (the dashboard's DuckDB engine) and the ``burn dashboard``
entry in help (``burn.entry`` dispatches it, like ``serve``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from burn.cli.app import _print_json
from burn.cli.parser import Parents, Parser


def register(sub: Any, pa: Parents) -> None:
    """The ``dashboard`` and ``analytics`` commands."""
    _analytics(sub, pa)


def _analytics(sub: Any, pa: Parents) -> None:
    # `burn dashboard` is dispatched by burn.entry.main like serve; listed here for help.
    sub.add_parser(
        "dashboard",
        help="the analytics dashboard on a free loopback port, opened in the browser (docs/dashboard.md)",
    )
    ana = sub.add_parser(
        "analytics", help="the dashboard's DuckDB engine: status or rebuild (burn[dashboard])"
    )
    ana_sub = ana.add_subparsers(dest="analytics_command", required=True, parser_class=Parser)
    for name, text in (("status", "the engine's file, version, watermarks and rows (synced first)"),
                       ("rebuild", "drop the engine's copy and load the archive again")):  # fmt: skip
        cmd = ana_sub.add_parser(name, help=text, parents=[pa.json])
        cmd.set_defaults(func=cmd_analytics)


def cmd_analytics(args: argparse.Namespace) -> int:
    from burn.analytics.engine import opened
    from burn.archive.database import Archive
    from burn.paths import burn_home

    home = burn_home()
    archive = Archive.in_home(home, readonly=True)
    try:
        with opened(home) as engine:
            result = (
                engine.rebuild(archive.db) if args.analytics_command == "rebuild" else engine.sync(archive.db)
            )
            data = {**engine.status(), "sync": {"rebuilt": result.rebuilt, "rows_read": result.rows_read,
                                                 "sessions": result.sessions}}  # fmt: skip
    finally:
        archive.close()
    if args.json:
        _print_json(data)
    else:
        marks = data["watermarks"] or {}
        sys.stdout.write(
            f"analytics: {data['path']} ({data['bytes']} bytes, engine v{data['engine_version']})\n"
            f"rows: {data['rows']['facts']} turns, {data['rows']['projects']} projects\n"
            f"watermark: archive {marks.get('archive_id')} generation {marks.get('generation')} "
            f"session_seq {marks.get('session_seq')}\n"
            f"this run: {'rebuilt (' + result.rebuilt + ')' if result.rebuilt else 'incremental'}, "
            f"{result.rows_read['turns']} turns read\n"
        )
    return 0
