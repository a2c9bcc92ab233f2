"""The one argparse tree of ``burn``: shared option groups and one function per command group.

Every command is a real subparser. Options many commands share come from parent parsers built
here once (:func:`common`): ``--json``, ``--quiet``, the time window (``--since/-s``,
``--until/-u``, ``--timezone/-z``), the filters (``--source``, ``--project``, ``--model``) and the
display options (``--no-color``). A command group registers itself with a function taking the
subparsers and the parents (:data:`Register`); :func:`build_parser` calls them in order, so a new
group (``burn store``, ``burn serve`` …) is one more function in the list it is given.

``--machine`` selects turns by the host that first saw them (a machine key, a prefix of one, or
this host's ``RELAYBURN_MACHINE_LABEL``; docs/stores.md, "Machines").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from burn import __version__
from burn.errors import UsageError
from burn.exporter import positive as positive  # the argparse type, shared with exporter plugins
from burn.records import STAMP_FIELDS

WINDOW_FORMS = "YYYY-MM-DD, YYYYMMDD, an ISO date-time, or a duration back from now (7d, 12h, 2w)"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (exit 2), not usage text."""

    def error(self, message: str) -> Any:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


@attrs.frozen
class Parents:
    """The shared option groups, as parent parsers (``parents=[...]`` of a subparser)."""

    json: argparse.ArgumentParser
    quiet: argparse.ArgumentParser
    window: argparse.ArgumentParser
    filters: argparse.ArgumentParser
    display: argparse.ArgumentParser


def _parent() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def add_window(p: argparse.ArgumentParser) -> None:
    """``--since/-s``, ``--until/-u`` and ``--timezone/-z`` (ccusage spells them the same)."""
    p.add_argument("--since", "-s", metavar="WHEN", help=f"start of the window: {WINDOW_FORMS}")
    p.add_argument(
        "--until",
        "-u",
        metavar="WHEN",
        help="end of the window (a date includes that whole day); same forms as --since",
    )
    p.add_argument(
        "--timezone",
        "-z",
        metavar="ZONE",
        help="IANA time zone for days and times, e.g. UTC or Europe/Berlin (default: local)",
    )


def add_filters(p: argparse.ArgumentParser) -> None:
    """``--source``, ``--project``, ``--model``, ``--machine`` and the stamps ``--workflow``,
    ``--agent``, ``--persona``, ``--tier`` (repeatable, comma-separated)."""
    p.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="only these agent sources, e.g. claude, codex (repeat or comma-separate)",
    )
    p.add_argument(
        "--project",
        action="append",
        metavar="P",
        help="only these projects: a key or label from `burn summary` (repeatable)",
    )
    p.add_argument("--model", action="append", metavar="ID", help="only these model ids (repeatable)")
    p.add_argument(
        "--machine",
        action="append",
        metavar="KEY",
        help="only turns first seen by these hosts: a machine key, 8+ hex digits of one, or this "
        "host's RELAYBURN_MACHINE_LABEL (repeatable)",
    )
    for field in STAMP_FIELDS:
        help = f"only sessions stamped with these {field} values (`burn stamp`; repeatable)"
        p.add_argument(f"--{field}", action="append", metavar=field.upper(), help=help)


def common() -> Parents:
    """The shared parent parsers."""
    js = _parent()
    js.add_argument("--json", action="store_true", help="print JSON instead of text")
    quiet = _parent()
    quiet.add_argument("--quiet", "-q", action="store_true", help="print nothing but warnings and errors")
    window = _parent()
    add_window(window)
    filters = _parent()
    add_filters(filters)
    display = _parent()
    display.add_argument(
        "--no-color",
        action="store_true",
        help="no colour (also: NO_COLOR set; colour is off when output is not a terminal)",
    )
    return Parents(js, quiet, window, filters, display)


# A command group: adds its subparsers to the tree.
Register = Callable[["argparse._SubParsersAction[Parser]", Parents], None]


def build_parser(groups: Sequence[Register]) -> Parser:
    """The ``burn`` parser with the command ``groups`` registered in order."""
    p = Parser(prog="burn", description="What your AI coding agents cost, exactly.")
    p.add_argument(
        "--version",
        "-V",
        action="version",
        version=f"burn {__version__}",
        help="print burn's version and exit",
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    parents = common()
    for register in groups:
        register(sub, parents)
    return p


def command_word(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """The command and the word after it (its subcommand, if it is not an option), without
    parsing: which plugins a command line needs is known before the tree is built."""
    words = [a for a in argv if not a.startswith("-")]
    first = words[0] if words else None
    rest = argv[argv.index(first) + 1 :] if first is not None else []
    second = rest[0] if rest and not rest[0].startswith("-") else None
    return first, second


def add_table_options(p: argparse.ArgumentParser) -> None:
    """Options of human tables: ``--breakdown``, ``--last``, ``--order``."""
    p.add_argument("--breakdown", "-b", action="store_true", help="a row per model under each row")
    p.add_argument("--last", type=positive, metavar="N", help="only the last N rows (table and csv)")
    p.add_argument("--order", choices=["asc", "desc"], default=None,
                   help="row order of the table (default asc: oldest first)")  # fmt: skip
