"""Time ``burn export sessions --all --ndjson`` (and the reports) on an ingested burn home: rows per
second and the peak RSS of the exporting process. Not a test.

    python benchmarks/bench_export.py --home H                       # a home built by `burn ingest`
    python benchmarks/bench_export.py --home H --synthetic 50000     # build H with 50k sessions first

``--synthetic N`` writes N small sessions (3 turns, a user message, a tool call each; every tenth
with a subagent) straight to the ledger and builds the archive: many more sessions per byte than
a realistic corpus, so that the per-row cost shows. Unset PYTHONDONTWRITEBYTECODE for timings.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def synthesize(home: Path, n: int) -> None:
    from burn.archive.database import Archive
    from burn.ledger.file import FileStore
    from burn.records import SessionInfo, ToolCall, Turn, Usage, UserTurn

    store = FileStore(home)
    records: list[object] = []
    with store.lock():
        for i in range(n):
            sid = f"{i:08d}-0000-4000-8000-000000000000"
            ts = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z"
            records.append(SessionInfo(source="claude-code", session_id=sid, cwd=f"/src/p{i % 40}",
                                       first_seen_ts=ts, classification="interactive"))  # fmt: skip
            records.append(UserTurn(source="claude-code", session_id=sid, user_uuid=f"u{i}", ts=ts))
            for k in range(3):
                records.append(Turn(source="claude-code", session_id=sid, message_id=f"m{i}_{k}",
                                    request_id=f"r{i}_{k}", ts=ts, model="claude-sonnet-4-5-20250929",
                                    usage=Usage(input=10 + k, output=200, cache_read=5000, cache_write_5m=100,
                                                cache_write_1h=0)))  # fmt: skip
            records.append(ToolCall(source="claude-code", session_id=sid, tool_use_id=f"t{i}",
                                    message_id=f"m{i}_0", ts=ts, name="Read"))  # fmt: skip
            if i % 10 == 0:
                child = f"{sid}/agent-{i}"
                records.append(
                    SessionInfo(source="claude-code", session_id=child, parent_session_id=sid,
                                relationship="subagent", first_seen_ts=ts)
                )  # fmt: skip
                usage = Usage(input=1, output=50)
                model = "claude-haiku-4-5-20251001"
                records.append(
                    Turn(source="claude-code", session_id=child, message_id=f"c{i}", request_id=f"cr{i}",
                         ts=ts, model=model, usage=usage)
                )  # fmt: skip
            if len(records) >= 50_000:
                store.append(records)  # type: ignore[arg-type]
                records = []
        store.append(records)  # type: ignore[arg-type]
        archive = Archive.in_home(home)
        archive.build(store)
        archive.close()


def measure(home: Path, argv: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, stdout bytes) of one `burn ARGV` run."""
    env = {**os.environ, "RELAYBURN_HOME": str(home)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "burn.cli.app", *argv], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    size = 0
    while chunk := proc.stdout.read(1 << 20):
        size += len(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"burn {' '.join(argv)} failed ({status})")
    return elapsed, usage.ru_maxrss, size


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--home", type=Path, required=True)
    p.add_argument("--synthetic", type=int, default=0, help="build HOME with N synthetic sessions first")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    if args.synthetic:
        t = time.perf_counter()
        synthesize(args.home, args.synthetic)
        print(f"synthetic archive: {args.synthetic:,} sessions in {time.perf_counter() - t:.1f}s", flush=True)
        # Measure from a fresh process: on Linux a child's ru_maxrss starts from its parent's RSS at
        # fork, and building the archive made this process large.
        os.execv(
            sys.executable, [sys.executable, __file__, "--home", str(args.home), "--runs", str(args.runs)]
        )
    db = sqlite3.connect(f"file:{args.home / 'archive.sqlite'}?mode=ro", uri=True)
    rows = db.execute("SELECT count(*) FROM session_rollup").fetchone()[0]
    turns = db.execute("SELECT count(*) FROM turns").fetchone()[0]
    db.close()
    mb = (args.home / "archive.sqlite").stat().st_size / 1e6
    print(f"archive: {rows:,} sessions, {turns:,} turns, {mb:.0f} MB")
    cases = {
        "export sessions --all --ndjson": ["export", "sessions", "--all", "--ndjson"],
        "export sessions --limit 100": ["export", "sessions", "--limit", "100"],
        "report daily": ["report", "daily"],
        "report activity (7d)": ["report", "activity"],
    }
    for name, argv in cases.items():
        best = min((measure(args.home, argv) for _ in range(args.runs)), key=lambda r: r[0])
        secs, rss, size = best
        rate = f", {rows / secs:,.0f} rows/s" if "--all" in argv else ""
        print(f"{name:<34} {secs:6.2f}s  peak RSS {rss / 1024:6.1f} MiB  {size / 1e6:7.1f} MB out{rate}")


if __name__ == "__main__":
    main()
