"""``burn export SURFACE``, ``burn report NAME`` and ``burn schema …``.

The exporters come from plugins (``register_exporters``); each contract exporter names the verb
and commands it answers. The core adds the options every surface shares: format, time window and
zone, source/project/model filters, identity profile, and for paged surfaces ``--limit``,
``--cursor`` and ``--all``. With ``--cursor`` the query is the cursor's: any query-affecting
option is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from burn.contract.framing import Format
from burn.errors import BurnError, UsageError
from burn.exporter import ContractExporter, Exporter

# Options that do not change which rows a cursor continues: allowed together with --cursor.
_PAGING = {"format", "limit", "cursor", "all", "server"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def commands(verb: str, exporters: Mapping[str, Exporter]) -> dict[str, tuple[Exporter, Mapping[str, Any]]]:
    """Command name → (exporter, preset options) for ``verb``."""
    out: dict[str, tuple[Exporter, Mapping[str, Any]]] = {}
    # The first exporter to claim a name keeps it: built-ins register first, and a third-party
    # exporter must not take over `burn report daily` by naming a command like a built-in one.
    for exp in exporters.values():
        if isinstance(exp, ContractExporter):
            if exp.verb == verb:
                for name, preset in exp.commands.items():
                    out.setdefault(name, (exp, preset))
        elif verb == "export":
            out.setdefault(exp.surface, (exp, {}))
    return dict(sorted(out.items()))


def build_parser(verb: str, name: str, exp: Exporter) -> argparse.ArgumentParser:
    p = _Parser(prog=f"burn {verb} {name}", description=(exp.__doc__ or "").strip().split("\n")[0] or None)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument(
        "--format",
        choices=["json", "ndjson"],
        default=None,
        help="output framing (default: json for export, a table for report)",
    )
    fmt.add_argument("--json", dest="format", action="store_const", const="json", help="= --format json")
    fmt.add_argument(
        "--ndjson", dest="format", action="store_const", const="ndjson", help="= --format ndjson"
    )
    if not isinstance(exp, ContractExporter):
        return p
    p.add_argument("--server", metavar="URL", default=None,
                   help="fetch from `burn serve` at URL (default: $RELAYBURN_SERVER_URL)")  # fmt: skip
    p.add_argument("--timezone", help="IANA time zone for dates and buckets (default: local)")
    p.add_argument("--since", help="YYYY-MM-DD, ISO date-time, or a duration back from now (7d, 12h, 2w)")
    p.add_argument("--until", help="YYYY-MM-DD (inclusive day), ISO date-time, or duration")
    p.add_argument("--source", action="append", help="only these sources (repeat or comma-separate)")
    p.add_argument("--project", action="append", help="only these projects: key or label (repeatable)")
    p.add_argument("--model", action="append", help="only these model ids (repeatable)")
    p.add_argument("--identity", choices=["full", "shareable", "anonymous"], default=None,
                   help="what keys, labels and paths may show (default shareable)")  # fmt: skip
    if exp.paged:
        from burn.contract.run import DEFAULT_LIMIT, MAX_LIMIT

        p.add_argument("--limit", type=int, default=None,
                       help=f"rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})")  # fmt: skip
        p.add_argument("--cursor", help="continue after the page that printed this cursor")
        p.add_argument("--all", action="store_true", default=None,
                       help="every row in one document, from one consistent snapshot")  # fmt: skip
    exp.add_arguments(p)
    return p


def run(verb: str, argv: Sequence[str], out: BinaryIO | None = None) -> int:
    from burn.plugins.manager import Plugins

    # A built-in command needs only the built-in exporters (a third-party one cannot take its name,
    # see commands()); everything else — help, other names — looks at every installed plugin.
    plugins = Plugins(builtin_kinds=("exporters",))
    table = commands(verb, plugins.exporters())
    if not argv or argv[0] not in table:
        plugins = Plugins()
        table = commands(verb, plugins.exporters())
    plugins.warn_failures(kinds=("exporters",))
    if not argv:  # a usage error like any other: one line on stderr, nothing on stdout
        raise UsageError(f"which {verb}? (known: {', '.join(table) or 'none'}; see `burn {verb} --help`)")
    if argv[0] in ("-h", "--help"):
        sys.stdout.write(f"usage: burn {verb} {{{','.join(table)}}} [options]\n")
        for name, (exp, _preset) in table.items():
            sys.stdout.write(f"  {name:<10} surface {exp.surface} v{exp.schema_version}\n")
        return 0
    name = argv[0]
    if name not in table:
        raise UsageError(f"unknown {verb} {name!r} (known: {', '.join(table) or 'none'})")
    exp, preset = table[name]
    parser = build_parser(verb, name, exp)
    parser.set_defaults(**preset)
    options = vars(parser.parse_args(list(argv[1:])))
    stdout = out if out is not None else sys.stdout.buffer
    if isinstance(exp, ContractExporter) and options.get("server") is None:
        options["server"] = os.environ.get("RELAYBURN_SERVER_URL") or None
    if options.get("server") is not None:
        return _remote(verb, name, parser, options, stdout)
    if verb == "report" and options.get("format") is None:
        return _human(exp, options, stdout)
    return execute(exp, options, stdout)


def _remote(verb: str, name: str, parser: argparse.ArgumentParser, options: dict[str, Any],
            out: BinaryIO) -> int:  # fmt: skip
    """The document from ``burn serve`` instead of the local archive (:mod:`burn.cli.remote`)."""
    import io

    import orjson

    from burn.cli import remote
    from burn.text.reports import render

    path = f"/v1/{name}" if verb == "export" else f"/v1/reports/{name}"
    token = os.environ.get("RELAYBURN_TOKEN") or None
    fmt = options.get("format")
    params = remote.query(parser, options)
    if verb == "report" and fmt is None:  # the table, rendered here from the JSON document
        buffer = io.BytesIO()
        code = remote.fetch(options["server"], path, params, "json", token, buffer)
        if code == 0:
            out.write(render(orjson.loads(buffer.getvalue())).encode())
            out.flush()
        return code
    return remote.fetch(options["server"], path, params, fmt or "json", token, out)


def _human(exp: Exporter, options: dict[str, Any], out: BinaryIO) -> int:
    """Reports print a table unless a machine format was asked for (``--json``, ``--ndjson``)."""
    import io

    import orjson

    from burn.text.reports import render

    buffer = io.BytesIO()
    code = execute(exp, options, buffer)
    if code == 0:
        out.write(render(orjson.loads(buffer.getvalue())).encode())
        out.flush()
    return code


def execute(exp: Exporter, options: dict[str, Any], out: BinaryIO, *, now: datetime | None = None,
            hostname: str | None = None, home: Path | None = None) -> int:  # fmt: skip
    from burn.contract.page_cursor import CursorReset

    try:
        document(exp, options, out, now=now, hostname=hostname, home=home)
    except CursorReset as exc:
        import orjson

        sys.stderr.buffer.write(orjson.dumps(exc.as_json()) + b"\n")
        sys.stderr.flush()
        return exc.exit_code
    return 0


def document(exp: Exporter, options: Mapping[str, Any], out: BinaryIO, *, now: datetime | None = None,
             hostname: str | None = None, home: Path | None = None, archive: Any = None) -> None:  # fmt: skip
    """Write the document ``burn export|report`` prints for parsed ``options``: the one path from
    options to a contract document, shared by the CLI and ``burn serve``. Raises
    :class:`~burn.contract.page_cursor.CursorReset` before writing anything when a cursor cannot
    continue. ``archive`` (read-only, left open) is the caller's; by default the home's is opened."""
    from burn.archive.database import Archive
    from burn.contract import run as runner
    from burn.paths import burn_home

    home = home or burn_home()
    now = now or datetime.now(UTC)
    fmt: Format = "ndjson" if options.get("format") == "ndjson" else "json"
    owned = archive is None
    if archive is None:
        archive = Archive.in_home(home, readonly=True)
    try:
        if not isinstance(exp, ContractExporter):
            _plain(exp, archive, options, out, fmt)
            return
        if options.get("cursor") is not None:
            given = sorted(k for k, v in options.items() if k not in _PAGING and v is not None
                           and k not in _presets(exp))  # fmt: skip
            if given:
                flags = ", ".join("--" + k.replace("_", "-") for k in given)
                raise UsageError(f"--cursor carries the query: drop {flags}")
        from burn.contract.filters import common
        from burn.privacy.identity import local_secret

        filters: dict[str, Any] = {}
        if options.get("cursor") is None:
            filters = common(archive.db, options, now, local_secret(home))
            filters.update(exp.filters(archive, options))
        request = runner.Request(
            fmt=fmt,
            profile=options.get("identity") or "shareable",
            filters=filters,
            cursor=options.get("cursor"),
            limit=options.get("limit"),
            all=bool(options.get("all")),
        )
        ctx = runner.Context(home=home, now=now, hostname=hostname or socket.gethostname())
        runner.export(exp, archive, request, out, ctx)
        out.flush()
    finally:
        if owned:
            archive.close()


def _presets(exp: ContractExporter) -> set[str]:
    return {k for preset in exp.commands.values() for k in preset}


def _plain(exp: Exporter, archive: Any, options: Mapping[str, Any], out: BinaryIO, fmt: str) -> None:
    """A minimal exporter: its rows framed with a short meta block, unvalidated."""
    from burn.contract.framing import Framer
    from burn.contract.meta import iso_seconds

    state = archive.state()
    framer = Framer(out, "ndjson" if fmt == "ndjson" else "json")
    archive_block = {"id": state.get("archive_id"), "generation": int(state.get("generation", 0))}
    framer.meta(
        {
            "type": "meta",
            "contract": f"burn.{exp.surface}",
            "schema_version": exp.schema_version,
            "generated_at": iso_seconds(datetime.now(UTC)),
            "archive": archive_block,
        }
    )
    for row in exp.rows(archive, options):
        framer.row(row)
    framer.end(None)


# -- schema ----------------------------------------------------------------------------------------


def schema(argv: Sequence[str]) -> int:
    from burn.contract import schemas

    p = _Parser(prog="burn schema", description="the published JSON Schemas of burn's contracts")
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser)
    sub.add_parser("list", help="schema names, versions and $id")
    show = sub.add_parser("show", help="print a schema")
    show.add_argument("name")
    val = sub.add_parser("validate", help="validate a JSON document or NDJSON stream (- = stdin)")
    val.add_argument("file")
    val.add_argument("--schema", help="schema name (default: the one the document's meta names)")
    args = p.parse_args(list(argv))
    if args.action == "list":
        for name in schemas.names():
            s = schemas.load(name)
            sys.stdout.write(f"{name}\tv{s.get('x-schema-version', '?')}\t{s.get('$id')}\n")
        return 0
    if args.action == "show":
        sys.stdout.buffer.write(schemas.text(args.name))
        return 0
    try:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise BurnError(f"cannot read {args.file}: {exc.strerror}") from exc
    surface, n, problems = schemas.validate_bytes(data, args.schema)
    if problems:
        for problem in problems[:50]:
            sys.stderr.write(f"burn: invalid: {problem}\n")
        more = len(problems) - 50
        if more > 0:
            sys.stderr.write(f"burn: … and {more} more problems\n")
        return 1
    unit = "lines" if n > 1 else "document"
    sys.stdout.write(f"valid: {surface} ({n} {unit})\n")
    return 0
