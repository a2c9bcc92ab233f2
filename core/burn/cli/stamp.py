"""``burn stamp SESSION --workflow W --agent A --persona P --tier T`` (docs/stamps.md)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from burn.cli.parser import Parents
from burn.errors import UsageError
from burn.records import STAMP_FIELDS


def cmd_stamp(args: argparse.Namespace) -> int:
    """Append one ``stamp`` record to the ledger and bring the archive up to date. The session
    need not be ingested yet: the stamp applies when it is."""
    from burn.archive import database as arch
    from burn.cli.app import _home, _load_plugins
    from burn.ingest.stamps import clean_value, now_ts
    from burn.plugins.stores import open_store
    from burn.records import Stamp

    values = {f: clean_value(f"--{f}", getattr(args, f)) for f in STAMP_FIELDS}
    if not any(values.values()):
        raise UsageError("burn stamp: give at least one of --workflow, --agent, --persona, --tier")
    session = args.session.strip()
    if not session:
        raise UsageError("burn stamp: SESSION is empty")
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    store = open_store(home, os.environ, _load_plugins(("stores",)))
    record = Stamp(session_id=session, ts=now_ts(), source=args.source or None, origin="cli", **values)
    with store.lock():
        store.append([record])
        a, _result, _damage = arch.build_checked(home, store)
        a.close()
    shown = ", ".join(f"{f}={v}" for f, v in values.items() if v)
    sys.stdout.write(f"stamped {session}: {shown}\n")
    return 0


def register(sub: Any, pa: Parents) -> None:
    p = sub.add_parser(
        "stamp",
        help="attach a workflow, agent, persona or tier to a session (reports group and filter by them)",
        parents=[pa.quiet],
    )
    p.add_argument("session", metavar="SESSION", help="the session id (as `burn export sessions` shows it)")
    p.add_argument("--source", help="only the session of this source (default: that id in every source)")
    for field in STAMP_FIELDS:
        p.add_argument(f"--{field}", metavar=field.upper(), help=f"the session's {field}")
    p.set_defaults(func=cmd_stamp)
