"""``burn archive build|rebuild|status|vacuum`` and ``burn ledger verify``: keeping the archive and
the ledger sound (docs/reliability.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from burn.cli.app import _home, _load_plugins, _print_json
from burn.cli.parser import Parents, Parser
from burn.errors import UsageError


def register(sub: Any, pa: Parents) -> None:
    """The ``archive`` and ``ledger`` command groups."""
    _archive(sub, pa)
    _ledger(sub, pa)


# -- archive ---------------------------------------------------------------------------------------


def cmd_archive(args: argparse.Namespace) -> int:
    from burn.archive import database as arch
    from burn.archive.state import corrupt_as_error
    from burn.plugins.stores import open_store

    home = _home()
    if args.action == "status":
        with corrupt_as_error():
            return _archive_status(home, args.json)
    store = open_store(home, os.environ, _load_plugins(("stores",)))
    if args.action == "vacuum":
        with corrupt_as_error():
            a = arch.Archive.in_home(home, readonly=False)
            a.vacuum()
            a.close()
        sys.stdout.write("archive vacuumed\n")
        return 0
    with store.lock():
        if args.action == "rebuild":
            a, result = arch.rebuild(home, store)
        else:
            try:
                a, result, damage = arch.build_checked(home, store)
            except arch.LedgerMismatch as exc:
                a, result = arch.rebuild(home, store)
                damage = None
                sys.stderr.write(f"burn: warning: {exc.warning}\n")
            if damage is not None:
                sys.stderr.write(f"burn: warning: the archive was corrupt ({damage}) and was rebuilt\n")
        a.close()
    if args.json:
        _print_json(
            {
                "entries": result.entries,
                "applied": dict(result.applied),
                "repriced": result.repriced,
                "invalid_rows": result.invalid_rows,
                "seconds": result.seconds,
            }
        )
    else:
        repriced = f", {result.repriced:,} turns re-priced" if result.repriced else ""
        sys.stdout.write(f"archive {args.action}: {result.entries:,} ledger entries applied{repriced}\n")
    if result.invalid_rows:  # ledger entries the archive has no row for: say so, never silently
        sys.stderr.write(
            f"burn: warning: {result.invalid_rows:,} ledger entries could not be applied to the archive "
            "(invalid fields, e.g. a timestamp it cannot place)\n"
        )
    return 0


# -- ledger ----------------------------------------------------------------------------------------


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    from burn.ingest.verify_ledger import repair, verify
    from burn.ledger.file import FileStore
    from burn.plugins.stores import open_store

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
    from burn.archive.database import Archive
    from burn.plugins.stores import open_store
    from burn.text.render import status_text

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


def _archive(sub: Any, pa: Parents) -> None:
    arc = sub.add_parser("archive", help="build, rebuild, inspect or vacuum the archive", parents=[pa.json])
    arc.add_argument(
        "action",
        choices=["build", "rebuild", "status", "vacuum"],
        help="build: apply new ledger entries; rebuild: from scratch; status; vacuum",
    )
    arc.set_defaults(func=cmd_archive)


def _ledger(sub: Any, pa: Parents) -> None:
    ldg = sub.add_parser("ledger", help="check the ledger for unreadable lines")
    ldg_sub = ldg.add_subparsers(dest="ledger_command", required=True, parser_class=Parser)
    ver = ldg_sub.add_parser(
        "verify",
        parents=[pa.json],
        help="find unreadable ledger lines (exit 1 when there are some); --repair re-reads the sources",
        description="Scan the ledger for lines that cannot be read (torn or corrupted after they were "
        "written): their records are missing from the ledger. Exit 0 when there are none, 1 otherwise. "
        "With --repair, every source is read again from the start: the ledger keeps what it holds "
        "and appends only the missing records; the damaged lines are then reported as repaired.",
    )
    ver.add_argument("--repair", action="store_true", help="re-read every source to restore the lost records")
    ver.set_defaults(func=cmd_ledger_verify)
