"""The ``burn`` command: a thin shell over the library (parse, call, print).

Exit codes: 0 ok, 1 runtime error (one line, no traceback), 2 usage error, 4 cursor reset.
Modules are imported inside commands so that ``burn --version`` and reports start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from burn import __version__
from burn.cli import parser
from burn.cli.parser import Parents, Parser, Register
from burn.errors import BurnError, storage_error

if TYPE_CHECKING:
    from pathlib import Path

    from burn.plugins.manager import Plugins


def _print_json(data: Any) -> None:
    import orjson

    from burn.reader import printable_json

    option = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
    try:
        out = orjson.dumps(data, option=option)
    except TypeError:  # a path that is not valid UTF-8 (surrogate escapes): show its bytes as \xff
        out = orjson.dumps(printable_json(data), option=option)
    sys.stdout.buffer.write(out)


def _load_plugins(
    kinds: tuple[str, ...] = ("readers", "exporters", "stores"), cached: bool = True
) -> Plugins:
    """Load plugins and warn once per failure among the registrations of ``kinds`` (a command that
    uses no exporter does not import them). The installed entry points come from the cache in
    burn's home (:mod:`burn.plugins.entrypoints`) unless ``cached`` is false: the commands that diagnose
    plugins scan what is installed, and write nothing."""
    from burn.plugins.entrypoints import CACHE_NAME
    from burn.plugins.manager import Plugins

    plugins = Plugins(entry_point_cache=_home() / CACHE_NAME if cached else None)
    plugins.warn_failures(kinds=kinds)
    return plugins


def _home() -> Path:
    from burn.paths import burn_home

    return burn_home()


# -- ingest ----------------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    from burn.archive import ingested
    from burn.ingest.run import ingest
    from burn.text.render import ingest_line, ingest_text, progress_printer

    home = _home()
    # Ingest makes the home anyway; made first, it also keeps the entry-point cache from the first
    # run on (a home that cannot be made is reported where it is used, as before).
    with contextlib.suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
    plugins = _load_plugins(("readers", "stores"))
    progress = None if args.quiet or args.json or not sys.stderr.isatty() else progress_printer(sys.stderr)
    before = ingested.mark(home / "archive.sqlite")
    report = ingest(home, plugins, progress=progress)
    if progress is not None:
        sys.stderr.write("\r\x1b[K")
    added = ingested.since_mark(home / "archive.sqlite", before)
    totals = report.totals()
    if args.json:
        _print_json(
            {
                "totals": totals,
                "ingested": added.as_json(),
                "sources": _sources_json(report),
                "warnings": report.warnings,
            }
        )
        return 0
    if not args.quiet:
        sys.stdout.write(
            (ingest_text(totals, report) if args.verbose else "") + ingest_line(added, totals, args.verbose)
        )
    skipped = sum(totals["invalid_skipped"].values())
    if skipped and args.verbose:
        reasons = ", ".join(f"{k} {v:,}" for k, v in totals["invalid_skipped"].items())
        sys.stderr.write(f"burn: warning: skipped {skipped:,} unreadable inputs ({reasons})\n")
    for w in [*report.warnings, *_no_agent_dirs(report, plugins)]:  # a rebuilt archive is news too
        sys.stderr.write(f"burn: warning: {w}\n")
    return 0


def _no_agent_dirs(report: Any, plugins: Plugins) -> list[str]:
    """When no reader found any of its directories, where each looked and the variable that
    points it elsewhere (as ``burn doctor`` says it); one source missing is normal, all is not."""
    from pathlib import Path

    if any(Path(root).exists() for src in report.sources.values() for root in src.roots):
        return []
    readers = plugins.readers()
    out = ["no agent data directory found: nothing to ingest"]
    for name, src in sorted(report.sources.items()):
        var = getattr(readers.get(name), "env_var", None)
        hint = f" (set {var} if the data lives elsewhere)" if var else ""
        out.append(f"{name}: looked in {', '.join(src.roots) or 'nowhere'}{hint}")
    return out


def _sources_json(report: Any) -> dict[str, Any]:
    out = {}
    for name, src in report.sources.items():
        d = src.diagnostics
        out[name] = {
            "roots": src.roots,
            "files_seen": src.files_seen,
            "files_changed": src.files_changed,
            "lines_read": d.lines_read,
            "bytes_read": d.bytes_read,
            "records_read": d.records,
            "records_appended": src.appended.lines_written,
            "duplicates_dropped": dict(sorted((d.dropped + src.appended.dropped).items())),
            "invalid_skipped": dict(sorted(d.invalid.items())),
        }
    return out


# -- summary ---------------------------------------------------------------------------------------


def cmd_summary(args: argparse.Namespace) -> int:
    from burn.archive.database import Archive
    from burn.archive.state import corrupt_as_error
    from burn.cli.store import refresh_for_read
    from burn.query import Filters
    from burn.query.summary import summarize
    from burn.text.render import summary_text

    filters = Filters.from_options(vars(args))
    refresh_for_read(_home())
    with corrupt_as_error():
        archive = Archive.in_home(_home(), readonly=True)
        try:
            data = summarize(archive, filters)
        finally:
            archive.close()
    if args.by:  # keep one breakdown
        for dimension in ("source", "model", "day", "project"):
            if dimension != args.by:
                del data[f"by_{dimension}"]
    if args.json:
        _print_json(data)
    else:
        sys.stdout.write(summary_text(data))
    return 0


# -- pricing ---------------------------------------------------------------------------------------


def cmd_pricing_show(args: argparse.Namespace) -> int:
    from burn.pricing.load import load_pricing
    from burn.text import pricing as report

    pricing = load_pricing(_home())
    if args.model is not None:
        data = report.model_json(pricing, args.model)
        if args.json:
            _print_json(data)
        else:
            sys.stdout.write(report.model_text(data))
    elif args.json:
        # Exactly the RFC 8785 bytes the digest covers (no newline): `| sha256sum` reproduces it.
        sys.stdout.buffer.write(pricing.canonical())
    else:
        sys.stdout.write(report.show_text(pricing))
    return 0


def cmd_pricing_check(args: argparse.Namespace) -> int:
    from burn.archive.database import Archive
    from burn.archive.state import corrupt_as_error
    from burn.pricing.load import load_pricing
    from burn.text import pricing as report

    home = _home()
    pricing = load_pricing(home)
    with corrupt_as_error():
        archive = Archive.in_home(home, readonly=True)
        try:
            data = report.check(archive, pricing)
        finally:
            archive.close()
    if args.json:
        _print_json(data)
    else:
        sys.stdout.write(report.check_text(data))
    return 0


# -- plugins ---------------------------------------------------------------------------------------


def cmd_plugins(args: argparse.Namespace) -> int:
    import attrs

    from burn.text.render import table

    plugins = _load_plugins(cached=False)
    infos = plugins.infos()
    if args.json:
        _print_json([attrs.asdict(i) for i in infos])
        return 0
    rows = [[i.name, i.version or "-", ", ".join(i.hooks) or "-", i.error or ""] for i in infos]
    sys.stdout.write(table(["plugin", "version", "hooks", "error"], rows))
    return 0


# -- doctor ----------------------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    from burn.doctor.checks import diagnose
    from burn.doctor.render import doctor_text

    report = diagnose(_home(), _load_plugins(cached=False))
    if args.json:
        _print_json(report.to_json())
    else:
        sys.stdout.write(doctor_text(report))
    return 0  # warnings are advice: doctor reports, it does not fail


# -- parser ----------------------------------------------------------------------------------------


def _ingest(sub: Any, pa: Parents) -> None:
    ing = sub.add_parser("ingest", help="read new agent session data into the ledger and archive",
                         parents=[pa.quiet])  # fmt: skip
    ing.add_argument(
        "--json", action="store_true", help="print the ingest counts (records, duplicates …) as JSON"
    )
    ing.add_argument("--verbose", "-v", action="store_true", help="also print records, duplicates and skips")
    ing.set_defaults(func=cmd_ingest)


def _summary(sub: Any, pa: Parents) -> None:
    summ = sub.add_parser("summary", help="token totals by source, model, day and project",
                          parents=[pa.json, pa.window])  # fmt: skip
    summ.add_argument("--by", choices=["source", "model", "day", "project"],
                      help="show one breakdown (default: all four)")  # fmt: skip
    summ.set_defaults(func=cmd_summary)


def _pricing(sub: Any, pa: Parents) -> None:
    prc = sub.add_parser("pricing", help="the pricing table: rates, provenance, unpriced models")
    prc_sub = prc.add_subparsers(dest="pricing_command", required=True, parser_class=Parser)
    show = prc_sub.add_parser("show", help="rates of the effective table (--json: the canonical table)")
    show.add_argument("--model", "-m", help="how one model id is matched and priced")
    show.add_argument("--json", action="store_true", help="without --model: the bytes the digest covers")
    show.set_defaults(func=cmd_pricing_show)
    chk = prc_sub.add_parser("check", help="archive models that are unpriced or priced by a fallback",
                             parents=[pa.json])  # fmt: skip
    chk.set_defaults(func=cmd_pricing_check)


def _plugins(sub: Any, pa: Parents) -> None:
    plg = sub.add_parser("plugins", help="list plugins, their hooks and load errors", parents=[pa.json])
    plg.set_defaults(func=cmd_plugins)


def _serve(sub: Any, pa: Parents) -> None:
    # Listed in the tree for help; burn.entry.main hands `burn serve …` to burn.server.cli.
    sub.add_parser(
        "serve", help="the contracts and the ledger over HTTP (needs burn[server]; see docs/server.md)"
    )


def _doctor(sub: Any, pa: Parents) -> None:
    doc = sub.add_parser("doctor", help="sources found, ingest lag, unpriced models, Claude Code retention",
                         parents=[pa.json])  # fmt: skip
    doc.set_defaults(func=cmd_doctor)


def _completion(sub: Any, pa: Parents) -> None:
    comp = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description='eval "$(burn completion bash)" in ~/.bashrc; see docs/cli.md',
    )
    comp.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell to complete in")
    comp.set_defaults(func=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> int:
    from burn.cli.completion import script

    sys.stdout.write(script(args.shell, build_parser(_exporter_tables(None, None))))
    return 0


Tables = dict[str, Any]


def _exporter_tables(command: str | None, name: str | None) -> Tables:
    """Exporter commands per verb, loaded only for the commands that use them: a built-in
    command needs only the built-in exporters (a third-party one cannot take its name, see
    :func:`burn.cli.contract.commands`); help, completion and other names see every plugin."""
    from burn.cli.reports import SHORTCUTS

    if command not in ("export", "report", None, "completion", *SHORTCUTS[:5]):  # not blocks, statusline
        return {"export": {}, "report": {}}
    from burn.cli.contract import commands
    from burn.plugins.manager import Plugins

    plugins = Plugins(builtin_kinds=("exporters",))
    tables = {verb: commands(verb, plugins.exporters()) for verb in ("export", "report")}
    if command in (None, "completion") or (command in tables and name not in tables[command]):
        plugins = Plugins()
        tables = {verb: commands(verb, plugins.exporters()) for verb in ("export", "report")}
    plugins.warn_failures(kinds=("exporters",))
    return tables


def groups(tables: Tables) -> list[Register]:
    """The command groups in the order ``burn --help`` lists them (add new ones here)."""
    from burn.cli import analytics, contract, maintenance, mcp, plans, reports
    from burn.cli import stamp as stamp_cli
    from burn.cli import store as store_cli

    return [
        _ingest,
        stamp_cli.register,
        _summary,
        reports.register(tables["report"], tables["export"]),
        contract.register(
            "report", "contract reports (usage, daily, weekly, monthly, activity)", tables["report"]
        ),
        contract.register("export", "export a contract surface as JSON, NDJSON or CSV", tables["export"]),
        plans.register,
        mcp.register,
        contract.register_schema,
        maintenance.register,
        _pricing,
        _plugins,
        _doctor,
        store_cli.register,
        _serve,
        analytics.register,
        _completion,
    ]


def build_parser(tables: Tables | None = None) -> Parser:
    """The ``burn`` argparse tree (with every installed exporter unless ``tables`` are given)."""
    return parser.build_parser(groups(tables if tables is not None else _exporter_tables(None, None)))


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``kill PID``, a closed terminal): unwound like Ctrl-C, so that ingest
    stops its worker processes and releases the ledger lock instead of dying around them."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``burn`` with ``argv`` (default: the process's arguments); returns the exit code.
    (``burn serve`` is dispatched one layer up, by :func:`burn.entry.main`.)"""
    words = list(sys.argv[1:] if argv is None else argv)

    def run() -> int:
        if words and words[0] in ("--version", "-V"):  # before any tree is built: fast
            sys.stdout.write(f"burn {__version__}\n")
            return 0
        args = build_parser(_exporter_tables(*parser.command_word(words))).parse_args(words)
        code: int = args.func(args)
        return code

    return guarded(run)


def guarded(run: Callable[[], int]) -> int:
    """Run a command: a user error is one line and its exit code, a bug one line (the traceback
    with ``BURN_DEBUG=1``), a full disk is said plainly, Ctrl-C is 130 and SIGTERM/SIGHUP 128 + the
    signal (both unwound, so locks and worker processes are released), a closed pipe is not an error."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)
    try:
        return run()
    except BurnError as exc:
        sys.stderr.write(f"burn: error: {exc}\n")
        return exc.exit_code
    except SystemExit as exc:  # --help and --version inside the tree: their exit code, for callers in-process
        return exc.code if isinstance(exc.code, int) else 0
    except _Terminated as exc:
        sys.stderr.write(f"burn: terminated ({signal.Signals(exc.signum).name})\n")
        return 128 + exc.signum
    except KeyboardInterrupt:
        sys.stderr.write("burn: interrupted\n")
        return 130
    except BrokenPipeError:
        # `burn export … | head`: the reader went away; that is not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug in burn or a plugin: one line, the traceback on request
        if os.environ.get("BURN_DEBUG"):
            raise
        # A full disk or a read-only home met where no caller named the file: the machine's fault.
        error = storage_error(exc, getattr(exc, "filename", None) or f"in the burn home {_home()}")
        if error is not None:
            sys.stderr.write(f"burn: error: {error}\n")
            return error.exit_code
        sys.stderr.write(
            f"burn: internal error: {type(exc).__name__}: {exc} "
            "(set BURN_DEBUG=1 for the traceback, and please report it)\n"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
