"""``burn store status|copy|migrate``: the selected ledger store, and moving a ledger between
stores (docs/stores.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from burn.cli.parser import Parents, Parser
from burn.errors import BurnError


def register(sub: Any, pa: Parents) -> None:
    """The ``store`` command group in the parser tree of :mod:`burn.cli.app`."""
    st = sub.add_parser("store", help="the ledger store: status, copy to/from another store, migrate")
    st_sub = st.add_subparsers(dest="store_command", required=True, parser_class=Parser)
    status = st_sub.add_parser(
        "status", parents=[pa.json], help="which store, where, entries, position, reachable"
    )
    status.set_defaults(func=cmd_store)
    copy = st_sub.add_parser(
        "copy", parents=[pa.json, pa.quiet], help="copy every ledger entry into (or from) another store"
    )
    way = copy.add_mutually_exclusive_group(required=True)
    way.add_argument("--to", metavar="URL", help="target: postgresql://…, sqlite:///path, a directory")
    way.add_argument("--from", dest="from_", metavar="URL", help="source, copied into the selected store")
    copy.set_defaults(func=cmd_store)
    mig = st_sub.add_parser(
        "migrate", parents=[pa.json], help="bring the store's schema up to date (database stores)"
    )
    mig.set_defaults(func=cmd_store)


def cmd_store(args: argparse.Namespace) -> int:
    from burn.cli.app import _home, _load_plugins
    from burn.plugins.stores import close, open_store

    home, env = _home(), os.environ
    plugins = _load_plugins(("stores",))
    store = open_store(home, env, plugins)
    try:
        if args.store_command == "status":
            return _status(store, args.json)
        if args.store_command == "migrate":
            return _migrate(store, args.json)
        return _copy(store, args, home, env, plugins)
    finally:
        close(store)


def _status(store: Any, as_json: bool) -> int:
    from burn.plugins.stores import probe, where

    error = probe(store)
    data: dict[str, Any] = {"store": store.name, "where": where(store), "reachable": error is None}
    if error is None:
        count = getattr(store, "count", None)
        data["entries"] = count() if count is not None else sum(1 for _ in store.read())
        data["position"] = store.position()
    else:
        data["error"] = error
    if as_json:
        from burn.cli.app import _print_json

        _print_json(data)
    else:
        lines = [f"store: {data['store']}", f"where: {data['where']}"]
        if error is None:
            lines += ["reachable: yes", f"entries: {data['entries']:,}", f"position: {data['position']:,}"]
        else:
            lines.append(f"reachable: no ({error})")
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if error is None else 1


def _migrate(store: Any, as_json: bool) -> int:
    migrate = getattr(store, "migrate", None)
    steps: list[str] = [] if migrate is None else list(migrate())
    if as_json:
        from burn.cli.app import _print_json

        _print_json({"store": store.name, "migrations": migrate is not None, "applied": steps})
    elif migrate is None:
        sys.stdout.write(f"the {store.name} store has no schema to migrate\n")
    else:
        sys.stdout.write("".join(f"{s}\n" for s in steps) or f"the {store.name} store is up to date\n")
    return 0


def _copy(store: Any, args: argparse.Namespace, home: Any, env: Any, plugins: Any) -> int:
    from burn.plugins.stores import close, copy_ledger, open_store_url, probe, where

    other = open_store_url(args.to or args.from_, home, env, plugins)
    try:
        source, target = (store, other) if args.to else (other, store)
        for s in (source, target):
            error = probe(s)
            if error is not None:
                raise BurnError(f"cannot reach the {s.name} store at {where(s)}: {error}")
        tty = not (args.quiet or args.json) and sys.stderr.isatty()
        from burn.text.render import copy_progress

        result = copy_ledger(source, target, copy_progress(sys.stderr) if tty else None)
        if tty:
            sys.stderr.write("\r\x1b[K")
        data = {
            "from": {"store": source.name, "where": where(source)},
            "to": {"store": target.name, "where": where(target)},
            "entries": result.entries,
            "appended": result.appended,
            "revised": result.revised,
            "already_there": result.already,
        }
    finally:
        close(other)
    if args.json:
        from burn.cli.app import _print_json

        _print_json(data)
    elif not args.quiet:
        sys.stdout.write(
            f"copied {result.entries:,} entries from {source.name} ({where(source)}) to {target.name} "
            f"({where(target)}): {result.appended:,} new, {result.revised:,} revisions, "
            f"{result.already:,} already there\n"
        )
    return 0


def refresh_for_read(home: Any) -> None:
    """Before a read command (summary, report, export) reads the local archive: open the selected
    store (an unknown ``RELAYBURN_STORAGE`` is the one-line error) and make sure the archive is
    built from its ledger. An archive built from another ledger is rebuilt; a shared store's
    (``shared = True``: other hosts append to it) new entries are built first. A local store's
    archive is kept current by this host's ingest, so reading it costs the store nothing."""
    from burn.archive.state import read_state

    if (os.environ.get("RELAYBURN_STORAGE") or "file") == "file":
        # The built-in file store is local and this home's own: if the archive was built from it
        # (or is empty), there is nothing to do, and no plugin needs loading to know it.
        state = read_state(home / "archive.sqlite")
        position = "0" if state is None else state.get("ledger_position", "0")
        known = (
            None if state is None else state.get("ledger_identity") or ("file" if position != "0" else None)
        )
        if known in (None, "file"):
            return

    from burn.archive import database as arch
    from burn.cli.app import _load_plugins
    from burn.plugins.stores import close, open_store

    store = open_store(home, os.environ, _load_plugins(("stores",)))
    try:
        state = read_state(home / "archive.sqlite")
        shared = bool(getattr(store, "shared", False))
        if state is not None and arch.built_from(state, store) is not None:
            with store.lock():
                arch.rebuild(home, store)[0].close()
            sys.stderr.write(f"burn: warning: {arch.LedgerMismatch.warning}\n")
        elif shared and (state is None or state.get("ledger_position") != str(store.position())):
            with store.lock():
                arch.build_checked(home, store)[0].close()
    finally:
        close(store)
