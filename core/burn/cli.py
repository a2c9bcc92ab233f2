"""The ``burn`` command: a thin shell over the library (parse, call, print).

Exit codes: 0 ok, 1 runtime error (one line, no traceback), 2 usage error, 4 cursor reset.
Modules are imported inside commands so that ``burn --version`` and reports start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from burn import __version__
from burn.errors import BurnError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from burn.plugins import Plugins


def _print_json(data: Any) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


def _load_plugins(
    kinds: tuple[str, ...] = ("readers", "exporters", "stores"), cached: bool = True
) -> Plugins:
    """Load plugins and warn once per failure among the registrations of ``kinds`` (a command that
    uses no exporter does not import them). The installed entry points come from the cache in
    burn's home (:mod:`burn.entrypoints`) unless ``cached`` is false: the commands that diagnose
    plugins scan what is installed, and write nothing."""
    from burn.entrypoints import CACHE_NAME
    from burn.plugins import Plugins

    plugins = Plugins(entry_point_cache=_home() / CACHE_NAME if cached else None)
    plugins.warn_failures(kinds=kinds)
    return plugins


def _home() -> Path:
    from burn.paths import burn_home

    return burn_home()


# -- ingest ----------------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    from burn.ingest import ingest
    from burn.render import ingest_text, progress_printer

    home = _home()
    # Ingest makes the home anyway; made first, it also keeps the entry-point cache from the first
    # run on (a home that cannot be made is reported where it is used, as before).
    with contextlib.suppress(OSError):
        home.mkdir(parents=True, exist_ok=True)
    plugins = _load_plugins(("readers", "stores"))
    progress = None if args.quiet or args.json or not sys.stderr.isatty() else progress_printer(sys.stderr)
    report = ingest(home, plugins, progress=progress)
    if progress is not None:
        sys.stderr.write("\r\x1b[K")
    totals = report.totals()
    if args.json:
        _print_json({"totals": totals, "sources": _sources_json(report), "warnings": report.warnings})
    elif not args.quiet:
        sys.stdout.write(ingest_text(totals, report))
    skipped = sum(totals["invalid_skipped"].values())
    if skipped and not args.json:
        reasons = ", ".join(f"{k} {v:,}" for k, v in totals["invalid_skipped"].items())
        sys.stderr.write(f"burn: warning: skipped {skipped:,} unreadable inputs ({reasons})\n")
        for w in report.warnings:
            sys.stderr.write(f"burn: warning: {w}\n")
    return 0


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
    from burn.archive import Archive
    from burn.render import summary_text
    from burn.summary import summarize
    from burn.timeutil import parse_bound, resolve_timezone, to_ms

    tz, tz_name = resolve_timezone(args.timezone)
    since = to_ms(parse_bound(args.since, tz, end=False)) if args.since else None
    until = to_ms(parse_bound(args.until, tz, end=True)) if args.until else None
    archive = Archive.in_home(_home(), readonly=True)
    try:
        data = summarize(archive, tz, tz_name, since, until)
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


# -- archive ---------------------------------------------------------------------------------------


def cmd_archive(args: argparse.Namespace) -> int:
    from burn import archive as arch
    from burn.stores import open_store

    home = _home()
    if args.action == "status":
        return _archive_status(home, args.json)
    store = open_store(home, os.environ, _load_plugins(("stores",)))
    if args.action == "vacuum":
        a = arch.Archive.in_home(home, readonly=False)
        a.vacuum()
        a.close()
        sys.stdout.write("archive vacuumed\n")
        return 0
    with store.lock():
        if args.action == "rebuild":
            a, result = arch.rebuild(home, store)
        else:
            a = arch.Archive.in_home(home)
            result = a.build(store)
        a.close()
    if args.json:
        _print_json(
            {
                "entries": result.entries,
                "applied": dict(result.applied),
                "repriced": result.repriced,
                "seconds": result.seconds,
            }
        )
    else:
        repriced = f", {result.repriced:,} turns re-priced" if result.repriced else ""
        sys.stdout.write(f"archive {args.action}: {result.entries:,} ledger entries applied{repriced}\n")
    return 0


# -- ledger ----------------------------------------------------------------------------------------


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from burn.ledger_verify import repair, verify
    from burn.store_file import FileStore
    from burn.stores import open_store

    home = _home()
    plugins = _load_plugins(("readers", "stores") if args.repair else ("stores",))
    store = open_store(home, os.environ, plugins)
    if not isinstance(store, FileStore):
        raise UsageError(f"`burn ledger verify` checks the file store's lines; this home uses {store.name!r}")
    if args.repair:
        result = repair(home, store, plugins)[0]
    else:
        with store.lock():  # a running ingest's last line is not torn: wait for it to finish
            result = verify(home)
    if args.json:
        _print_json(result.to_json())
    else:
        sys.stdout.write(result.text())
    return 0 if result.ok else 1


def _archive_status(home: Any, as_json: bool) -> int:
    from burn.archive import Archive
    from burn.render import status_text
    from burn.stores import open_store

    archive = Archive.in_home(home, readonly=True)
    try:
        state = archive.state()
        store = open_store(home, os.environ, _load_plugins(("stores",)))
        data = {
            "archive": str(archive.path),
            "archive_bytes": archive.path.stat().st_size,
            "schema_version": int(state["schema_version"]),
            "archive_id": state["archive_id"],
            "generation": int(state["generation"]),
            "ledger_position": int(state["ledger_position"]),
            **store.describe(),
            "last_build_at": state.get("last_build_at"),
            "rebuilt_at": state.get("rebuilt_at"),
            "created_at": state.get("created_at"),
            "row_counts": archive.counts(),
            "digest": archive.digest(),
        }
    finally:
        archive.close()
    if as_json:
        _print_json(data)
    else:
        sys.stdout.write(status_text(data))
    return 0


# -- pricing ---------------------------------------------------------------------------------------


def cmd_pricing_show(args: argparse.Namespace) -> int:
    from burn.pricing import report
    from burn.pricing.load import load_pricing

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
    from burn.archive import Archive
    from burn.pricing import report
    from burn.pricing.load import load_pricing

    home = _home()
    pricing = load_pricing(home)
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

    from burn.render import table

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
    from burn.doctor import diagnose
    from burn.doctor_render import doctor_text

    data = diagnose(_home(), _load_plugins(cached=False)).to_json()
    if args.json:
        _print_json(data)
    else:
        sys.stdout.write(doctor_text(data))
    return 0  # warnings are advice: doctor reports, it does not fail


# -- contracts -------------------------------------------------------------------------------------


def cmd_contract(args: argparse.Namespace) -> int:
    from burn.contract import cli as contract_cli

    argv = ["--help", *args.args] if args.contract_help else args.args
    if args.verb == "schema":
        return contract_cli.schema(argv)
    return contract_cli.run(args.verb, argv)


# -- parser ----------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's default prints usage; keep it one clear line
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="burn", description="What your AI coding agents cost, exactly.")
    p.add_argument("--version", action="version", version=f"burn {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ing = sub.add_parser("ingest", help="read new agent session data into the ledger and archive")
    ing.add_argument("--json", action="store_true", help="print the ingest summary as JSON")
    ing.add_argument("--quiet", "-q", action="store_true", help="print nothing but warnings")
    ing.set_defaults(func=cmd_ingest)

    summ = sub.add_parser("summary", help="token totals by source, model, day and project")
    summ.add_argument("--json", action="store_true")
    summ.add_argument("--timezone", help="IANA time zone for days (default: local)")
    summ.add_argument("--since", help="YYYY-MM-DD, ISO date-time, or duration such as 7d")
    summ.add_argument("--until", help="YYYY-MM-DD (inclusive), ISO date-time, or duration")
    summ.add_argument(
        "--by", choices=["source", "model", "day", "project"], help="show one breakdown (default: all four)"
    )
    summ.set_defaults(func=cmd_summary)

    arc = sub.add_parser("archive", help="build, rebuild, inspect or vacuum the archive")
    arc.add_argument("action", choices=["build", "rebuild", "status", "vacuum"])
    arc.add_argument("--json", action="store_true")
    arc.set_defaults(func=cmd_archive)

    ldg = sub.add_parser("ledger", help="check the ledger for unreadable lines")
    ldg_sub = ldg.add_subparsers(dest="ledger_command", required=True, parser_class=_Parser)
    ver = ldg_sub.add_parser(
        "verify",
        help="find unreadable ledger lines (exit 1 when there are some); --repair re-reads the sources",
        description="Scan the ledger for lines that cannot be read (torn or corrupted after they were "
        "written): their records are missing from the ledger. Exit 0 when there are none, 1 otherwise. "
        "With --repair, every source is read again from the start: the ledger keeps what it holds "
        "and appends only the missing records; the damaged lines are then reported as repaired.",
    )
    ver.add_argument("--repair", action="store_true", help="re-read every source to restore the lost records")
    ver.add_argument("--json", action="store_true")
    ver.set_defaults(func=cmd_ledger_verify)

    prc = sub.add_parser("pricing", help="the pricing table: rates, provenance, unpriced models")
    prc_sub = prc.add_subparsers(dest="pricing_command", required=True, parser_class=_Parser)
    show = prc_sub.add_parser("show", help="rates of the effective table (--json: the canonical table)")
    show.add_argument("--model", "-m", help="how one model id is matched and priced")
    show.add_argument("--json", action="store_true", help="without --model: the bytes the digest covers")
    show.set_defaults(func=cmd_pricing_show)
    chk = prc_sub.add_parser("check", help="archive models that are unpriced or priced by a fallback")
    chk.add_argument("--json", action="store_true")
    chk.set_defaults(func=cmd_pricing_check)

    plg = sub.add_parser("plugins", help="list plugins, their hooks and load errors")
    plg.add_argument("--json", action="store_true")
    plg.set_defaults(func=cmd_plugins)

    # Contract surfaces (burn.contract.cli): the exporter plugins own the options after the name.
    for verb, what in (("export", "export a contract surface (sessions)"),
                       ("report", "contract reports (usage, daily, weekly, monthly, activity)"),
                       ("schema", "list, show or validate the contracts' JSON Schemas")):  # fmt: skip
        cp = sub.add_parser(verb, help=what, add_help=False)
        cp.add_argument("-h", "--help", action="store_true", dest="contract_help")  # handled below
        cp.add_argument("args", nargs=argparse.REMAINDER)
        cp.set_defaults(func=cmd_contract, verb=verb)

    doc = sub.add_parser("doctor", help="sources found, ingest lag, unpriced models, Claude Code retention")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)
    return p


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``kill PID``, a closed terminal): unwound like Ctrl-C, so that ingest
    stops its worker processes and releases the ledger lock instead of dying around them."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated(signum)


def main(argv: Sequence[str] | None = None) -> int:
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_terminated)
    try:
        args = build_parser().parse_args(argv)
        code: int = args.func(args)
        return code
    except BurnError as exc:
        sys.stderr.write(f"burn: error: {exc}\n")
        return exc.exit_code
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
        sys.stderr.write(
            f"burn: internal error: {type(exc).__name__}: {exc} "
            "(set BURN_DEBUG=1 for the traceback, and please report it)\n"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
