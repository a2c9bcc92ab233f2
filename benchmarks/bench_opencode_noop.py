#!/usr/bin/env python3
"""No-op ingest time with tens of thousands of OpenCode JSON message files present (issue 3).

    python benchmarks/bench_opencode_noop.py [--messages 20000] [--runs 5] [--profile] [--keep DIR]

Generates an OpenCode ``storage/`` tree with ``tests/opencode_db.generate_storage`` (``--messages``
message files over 100 sessions, each with a step-start, a text and two step-finish parts: 4 part
files per message), then, each in a subprocess that sees only that tree (``OPENCODE_DATA_DIR``; an
empty ``HOME``, ``CLAUDE_CONFIG_DIR``, ``CODEX_HOME``, ``XDG_*``; a fresh ``RELAYBURN_HOME``;
inherited ``BURN_*``, ``RELAYBURN_*``, ``CLAUDE_*``, ``CODEX_*``, ``OPENCODE_*``, ``XDG_*`` and
``PYTHONDONTWRITEBYTECODE`` dropped):

* ``burn ingest -q`` once on the fresh home: the cold ingest;
* ``burn ingest --json`` once: checks that a no-op reads zero lines and changes zero files;
* ``burn ingest -q`` ``--runs`` times: the no-op ingest, median, min and max;
* ``burn doctor --json`` ``--runs`` times: doctor stats every unit and companion of the same tree;
* ``burn summary --json``: its OpenCode totals are compared with the generator's.

``--profile`` also runs one no-op ingest in-process under cProfile and prints the top functions by
cumulative and by own time. The tree is written to a temporary directory and removed at the end,
unless ``--keep DIR`` names where to write (and keep) it; an existing tree there is reused.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ISOLATED_PREFIXES = ("RELAYBURN_", "BURN_", "CLAUDE_", "CODEX_", "OPENCODE_", "XDG_")


def burn_argv() -> list[str]:
    """The installed console script (what users run), else ``python -m burn.cli.app``."""
    script = Path(sysconfig.get_path("scripts")) / "burn"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "burn.cli.app"]


def isolated_env(data: Path, work: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(ISOLATED_PREFIXES) and k != "PYTHONDONTWRITEBYTECODE"
    }
    for name in ("home", "claude", "codex", "xdg-config", "xdg-data"):
        (work / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(work / "home"),
        RELAYBURN_HOME=str(work / "burn"),
        CLAUDE_CONFIG_DIR=str(work / "claude"),
        CODEX_HOME=str(work / "codex"),
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        XDG_DATA_HOME=str(work / "xdg-data"),
        OPENCODE_DATA_DIR=str(data),
        TZ="UTC",
    )
    return env


def timed(argv: Sequence[str], env: Mapping[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return seconds, result.stdout


def generate(data: Path, messages: int) -> dict[str, int]:
    sys.path.insert(0, str(ROOT))
    from tests.opencode_db import generate_storage

    expected_file = data / "expected.json"
    if expected_file.is_file():
        expected: dict[str, int] = json.loads(expected_file.read_text())
        if expected.get("messages") == messages:
            print(f"reusing the tree in {data}")
            return expected
        raise SystemExit(f"{data} holds a tree of another size: remove it or pick another --keep")
    started = time.perf_counter()
    expected = {"messages": messages, **generate_storage(data / "storage", messages)}
    expected_file.write_text(json.dumps(expected))
    files = sum(len(f) for _d, _s, f in os.walk(data / "storage"))
    print(f"generated {files:,} files ({messages:,} messages) in {time.perf_counter() - started:.1f}s")
    return expected


def stats(samples: Sequence[float]) -> str:
    return (
        f"median {statistics.median(samples):.3f}s  min {min(samples):.3f}s  max {max(samples):.3f}s"
        f"  ({len(samples)} runs)"
    )


def profile(env: Mapping[str, str]) -> None:
    """One no-op ingest in this process under cProfile (same environment as the subprocesses)."""
    os.environ.clear()
    os.environ.update(env)
    from burn.cli.app import main

    profiler = cProfile.Profile()
    profiler.enable()
    main(["ingest", "-q"])
    profiler.disable()
    for order in ("cumulative", "tottime"):
        print(f"\nno-op ingest in-process, top 15 by {order}:")
        pstats.Stats(profiler).strip_dirs().sort_stats(order).print_stats(15)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--messages", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="also profile one no-op ingest in-process")
    p.add_argument("--keep", type=Path, help="write (or reuse) the tree here and keep it")
    args = p.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="burn-bench-opencode-"))
    try:
        data = args.keep.resolve() if args.keep else scratch / "opencode"
        expected = generate(data, args.messages)
        env = isolated_env(data, scratch)
        burn = burn_argv()

        cold, _ = timed([*burn, "ingest", "-q"], env)
        print(f"cold ingest:   {cold:.3f}s")
        _, out = timed([*burn, "ingest", "--json"], env)
        totals = json.loads(out)["totals"]
        noop_ok = totals["lines_read"] == 0 and totals["files_changed"] == 0
        print(
            f"no-op check:   files seen {totals['files_seen']:,}, changed {totals['files_changed']:,}, "
            f"lines read {totals['lines_read']:,}, bytes read {totals['bytes_read']:,}"
        )
        noop = [timed([*burn, "ingest", "-q"], env)[0] for _ in range(args.runs)]
        print(f"no-op ingest:  {stats(noop)}")
        doctor = [timed([*burn, "doctor", "--json"], env)[0] for _ in range(args.runs)]
        print(f"burn doctor:   {stats(doctor)}")
        startup = [timed([*burn, "--version"], env)[0] for _ in range(args.runs)]
        print(f"burn --version {stats(startup)}")

        _, out = timed([*burn, "summary", "--json"], env)
        row: dict[str, Any] = json.loads(out)["by_source"][0]
        got = {k: row[k] for k in ("turns", "input", "output")}
        want = {k: expected[k] for k in ("turns", "input", "output")}
        print(f"totals:        {'ok' if got == want else 'MISMATCH'} {got}")
        if args.profile:
            profile(env)
        return 0 if got == want and noop_ok else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
