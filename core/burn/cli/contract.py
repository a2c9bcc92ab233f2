"""``burn export SURFACE``, ``burn report NAME`` and ``burn schema …``.

The exporters come from plugins (``register_exporters``); each contract exporter names the verb
and commands it answers. The core adds the options every surface shares: format, time window and
zone, source/project/model filters, identity profile, and for paged surfaces ``--limit``,
``--cursor`` and ``--all``. With ``--cursor`` the query is the cursor's: any query-affecting
option is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from burn.contract.framing import Format
from burn.errors import BurnError, UsageError
from burn.exporter import ContractExporter, Exporter


def remote_command(args: argparse.Namespace, options: dict[str, Any], out: BinaryIO) -> int:
    """The command's document from ``burn serve`` (:func:`burn.cli.remote.command`)."""
    from burn.cli import remote

    return remote.command(args, options, out)


if TYPE_CHECKING:
    from burn.cli.parser import Parents

# Options that do not change which rows a cursor continues: allowed together with --cursor.
_PAGING = {"format", "limit", "cursor", "all"}


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


def describe(exp: Exporter) -> str:
    """One line for help: the exporter's docstring summary, its surface and version."""
    first = (exp.__doc__ or "").strip().split("\n")[0].rstrip(".")
    version = f"{exp.surface} v{exp.schema_version}"
    return f"{first} ({version})" if first else version


def add_contract_options(
    p: argparse.ArgumentParser, exp: Exporter, verb: str, preset: Mapping[str, Any]
) -> None:
    """The options of one contract command: format, window, filters, identity, paging, then the
    exporter's own (its ``add_arguments`` hook). An exporter option a preset fixes (``--by`` of
    ``report daily``) is hidden from help; giving it anyway is refused by :func:`options_of`."""
    from burn.cli.parser import add_filters, add_window

    formats = ["table", "json", "ndjson", "csv"] if verb == "report" else ["json", "ndjson", "csv"]
    default = "a table" if verb == "report" else "json"
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument(
        "--format",
        choices=formats,
        default=None,
        help=f"output format (default: {default}); json and ndjson are the contract",
    )
    fmt.add_argument("--json", dest="format", action="store_const", const="json", help="= --format json")
    fmt.add_argument(
        "--ndjson", dest="format", action="store_const", const="ndjson", help="= --format ndjson"
    )
    if not isinstance(exp, ContractExporter):
        return
    add_window(p)
    add_filters(p)
    p.add_argument(
        "--server",
        metavar="URL",
        default=None,
        help="fetch from `burn serve` at URL instead of the local archive (default: $RELAYBURN_SERVER_URL)",
    )
    p.add_argument(
        "--identity",
        choices=["full", "shareable", "anonymous"],
        default=None,
        help="what keys, labels and paths may show (default shareable; tables: full)",
    )
    if exp.paged:
        from burn.contract.run import DEFAULT_LIMIT, MAX_LIMIT

        p.add_argument("--limit", type=int, default=None,
                       help=f"rows per page (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})")  # fmt: skip
        p.add_argument("--cursor", help="continue after the page that printed this cursor")
        p.add_argument("--all", action="store_true", default=None,
                       help="every row in one document, from one consistent snapshot")  # fmt: skip
    before = len(p._actions)
    exp.add_arguments(p)
    for action in p._actions[before:]:
        if action.dest in preset:  # the command fixes it (`report daily` groups by day)
            action.help = argparse.SUPPRESS
    p.set_defaults(**preset)


def fixed(p: argparse.ArgumentParser, preset: Mapping[str, Any]) -> dict[str, Any]:
    """The presets a command fixes: those of the exporter's own options, hidden from help
    (a preset of a core option, like ``report activity``'s ``--since 7d``, is only a default)."""
    hidden = {a.dest for a in p._actions if a.help == argparse.SUPPRESS}
    return {k: v for k, v in preset.items() if k in hidden}


def build_parser(verb: str, name: str, exp: Exporter) -> argparse.ArgumentParser:
    """A parser of one contract command alone (the tree's subparser has the same options)."""
    from burn.cli.parser import Parser

    p = Parser(prog=f"burn {verb} {name}", description=describe(exp))
    add_contract_options(p, exp, verb, {})
    return p


Table = Mapping[str, tuple[Exporter, Mapping[str, Any]]]


def register(verb: str, what: str, table: Table) -> Callable[[Any, Parents], None]:
    """The command group ``burn VERB NAME``: one subparser per exporter command in ``table``."""
    from burn.cli.parser import Parser

    def add(sub: Any, parents: Parents) -> None:
        vp = sub.add_parser(verb, help=what, description=what)
        vp.set_defaults(func=_which, verb=verb, known=list(table))
        names = vp.add_subparsers(dest="name", metavar="NAME", parser_class=Parser)
        for name, (exp, preset) in table.items():
            add_command(names, name, exp, verb, preset, parents, help=describe(exp))

    return add


def add_command(
    sub: Any, name: str, exp: Exporter, verb: str, preset: Mapping[str, Any], parents: Parents, help: str
) -> argparse.ArgumentParser:
    """One contract command (``burn report daily``, or a shortcut such as ``burn daily``)."""
    cp: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
    before = {a.dest for a in cp._actions}
    add_contract_options(cp, exp, verb, preset)
    dests = tuple(sorted({a.dest for a in cp._actions} - before | set(preset)))
    cp.add_argument("--no-color", action="store_true",
                    help="no colour (also: NO_COLOR set; off when output is not a terminal)")  # fmt: skip
    if verb == "report":
        from burn.cli.parser import add_table_options

        add_table_options(cp)
    if (isinstance(exp, ContractExporter) and exp.paged) or verb == "export":
        cp.add_argument("--rows-only", action="store_true",
                        help="NDJSON rows only: no meta, summary or end lines (for naive tools)")  # fmt: skip
    if verb == "export":
        cp.add_argument("--parquet", metavar="FILE", type=Path, default=None,
                        help="write every row (the --all --rows-only NDJSON rows) to FILE as Parquet "
                             "instead of printing; needs burn[parquet] (duckdb)")  # fmt: skip
    cp.set_defaults(
        func=run_command, verb=verb, name=name, exporter=exp, preset=fixed(cp, preset), dests=dests
    )
    return cp


def _which(args: argparse.Namespace) -> int:
    # `burn export` alone: a usage error like any other, one line on stderr, nothing on stdout.
    known = ", ".join(args.known) or "none"
    raise UsageError(f"which {args.verb}? (known: {known}; see `burn {args.verb} --help`)")


def options_of(args: argparse.Namespace) -> dict[str, Any]:
    """The contract options of a parsed command line (what the exporter and runtime see). An
    option given against the command's preset (``burn report daily --by session``) is refused."""
    options = {d: getattr(args, d, None) for d in args.dests}
    for key, value in args.preset.items():
        if options.get(key) != value:
            flag = "--" + key.replace("_", "-")
            raise UsageError(
                f"{flag} cannot change `burn {args.verb} {args.name}` (its {key} is {value}); "
                f"use `burn report usage {flag} {options.get(key)}`"
            )
    return options


def run_command(args: argparse.Namespace) -> int:
    """``burn export NAME``, ``burn report NAME`` and their shortcuts: the contract or a table."""
    from burn.archive.state import corrupt_as_error
    from burn.cli.store import refresh_for_read
    from burn.paths import burn_home

    options = options_of(args)
    fmt = options.get("format")
    if isinstance(args.exporter, ContractExporter) and options.get("server") is None:
        options["server"] = os.environ.get("RELAYBURN_SERVER_URL") or None
    if getattr(args, "parquet", None) is not None:
        return _parquet(args, options)
    if options.get("server") is not None:
        return remote_command(args, options, sys.stdout.buffer)
    refresh_for_read(burn_home())  # the archive they read is built from the selected store's ledger
    with corrupt_as_error():  # exports and reports read only the archive
        if fmt == "csv" or (args.verb == "report" and fmt in (None, "table")):
            return _human(args.exporter, options, sys.stdout.buffer, args)
        if getattr(args, "last", None) is not None or getattr(args, "order", None) is not None:
            raise UsageError(
                "--last and --order shape tables and csv; json and ndjson keep the contract's order"
            )
        if getattr(args, "rows_only", False):
            options["format"] = "ndjson"
            rows = RowsOnly(sys.stdout.buffer)
            code = execute(args.exporter, options, cast("BinaryIO", rows))
            rows.flush()
            return code
        return execute(args.exporter, options, sys.stdout.buffer)


def _parquet(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """``--parquet FILE``: every row of the NDJSON export, written as Parquet (:mod:`burn.cli.parquet`)."""
    from burn.archive.state import corrupt_as_error
    from burn.cli import parquet
    from burn.cli.store import refresh_for_read
    from burn.paths import burn_home

    parquet.require()  # the missing extra is the first thing said, before any work
    given = [flag for flag, on in (("--format/--json/--ndjson", options.get("format")),
                                   ("--rows-only", getattr(args, "rows_only", False)),
                                   ("--limit", options.get("limit")), ("--cursor", options.get("cursor")),
                                   ("--last", getattr(args, "last", None)),
                                   ("--order", getattr(args, "order", None))) if on]  # fmt: skip
    if given:
        raise UsageError(f"--parquet writes every row to its file; it takes no {', '.join(given)}")
    options = {**options, "format": "ndjson"}
    if getattr(args.exporter, "paged", False):
        options["all"] = True

    def rows(out: BinaryIO) -> int:
        lines = RowsOnly(out)
        if options.get("server") is not None:
            code = remote_command(args, options, cast("BinaryIO", lines))
        else:
            code = execute(args.exporter, options, cast("BinaryIO", lines))
        lines.flush()
        return code

    if options.get("server") is None:
        refresh_for_read(burn_home())
    with corrupt_as_error():
        code, count = parquet.write(args.parquet, rows)
    if code == 0:
        sys.stderr.write(f"wrote {count:,} rows to {args.parquet}\n")
    return code


class RowsOnly(io.RawIOBase):
    """A binary stream that passes on NDJSON row lines and drops meta, summary and end lines."""

    _SKIP = (b'{"type":"meta"', b'{"type":"summary"', b'{"type":"end"')

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self._out = out
        self._rest = b""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        lines = (self._rest + bytes(data)).split(b"\n")
        self._rest = lines.pop()
        for line in lines:
            if line and not line.startswith(self._SKIP):
                self._out.write(line + b"\n")
        return len(data)

    def flush(self) -> None:
        if not self.closed:
            self._out.flush()


def _human(exp: Exporter, options: dict[str, Any], out: BinaryIO, args: argparse.Namespace) -> int:
    """A table or CSV, rendered from the very document ``--json`` prints (so they never
    disagree). Tables show project labels: the identity profile defaults to ``full`` for them
    (a person at their own terminal), unless ``--identity`` says otherwise."""
    import orjson

    from burn.text import reports

    fmt = options.get("format") or "table"
    options = {**options, "format": "json"}
    if options.get("identity") is None and "identity" in args.dests:
        options["identity"] = "full"
    if getattr(exp, "paged", False):
        options["all"] = True
    buffer = io.BytesIO()
    code = execute(exp, options, buffer)
    if code != 0:
        return code
    doc = orjson.loads(buffer.getvalue())
    latest = None if doc.get("rows") else latest_activity()
    view = reports.View.from_args(args, sys.stdout, latest)
    text = reports.csv_text(doc, view) if fmt == "csv" else reports.render(doc, view)
    out.write(text.encode())
    out.flush()
    return code


def latest_activity() -> int | None:
    """The archive's latest turn time (UTC ms), for "no usage …; latest activity …"."""
    from burn.archive.database import Archive
    from burn.paths import burn_home
    from burn.query import time_range

    archive = Archive.in_home(burn_home(), readonly=True)
    try:
        return time_range(archive.db, None, None)[1] or None
    finally:
        archive.close()


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
        if not hostname:
            import socket  # here, not at the top: every command imports this module to build its tree

            hostname = socket.gethostname()
        ctx = runner.Context(home=home, now=now, hostname=hostname)
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


def register_schema(sub: Any, parents: Parents) -> None:
    """``burn schema list|show|validate``."""
    from burn.cli.parser import Parser

    p = sub.add_parser("schema", help="list, show or validate the contracts' JSON Schemas",
                       description="the published JSON Schemas of burn's contracts")  # fmt: skip
    actions = p.add_subparsers(dest="action", required=True, parser_class=Parser)
    ls = actions.add_parser("list", help="schema names, versions and $id", parents=[parents.json])
    ls.set_defaults(func=schema_list)
    show = actions.add_parser("show", help="print a schema")
    show.add_argument("name", help="a schema name from `burn schema list`")
    show.set_defaults(func=schema_show)
    val = actions.add_parser("validate", help="validate a JSON document or an NDJSON stream, line by line")
    val.add_argument("file", help="the file to check (- = stdin)")
    val.add_argument("--schema", help="schema name (default: the one the document's meta names)")
    val.set_defaults(func=schema_validate)


def schema_list(args: argparse.Namespace) -> int:
    """``burn schema list [--json]``."""
    from burn.contract import schemas

    listed = []
    for name in schemas.names():
        s = schemas.load(name)
        listed.append({"name": name, "schema_version": s.get("x-schema-version"), "id": s.get("$id")})
    if args.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(listed, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
        return 0
    for item in listed:
        sys.stdout.write(f"{item['name']}\tv{item['schema_version'] or '?'}\t{item['id']}\n")
    return 0


def schema_show(args: argparse.Namespace) -> int:
    """``burn schema show NAME``."""
    from burn.contract import schemas

    sys.stdout.buffer.write(schemas.text(args.name))
    return 0


def schema_validate(args: argparse.Namespace) -> int:
    """``burn schema validate FILE``: streams NDJSON line by line."""
    from burn.contract import schemas

    try:
        if args.file == "-":
            surface, n, problems = schemas.validate_stream(sys.stdin.buffer, args.schema)
        else:
            with Path(args.file).open("rb") as f:
                surface, n, problems = schemas.validate_stream(f, args.schema)
    except OSError as exc:
        raise BurnError(f"cannot read {args.file}: {exc.strerror}") from exc
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
