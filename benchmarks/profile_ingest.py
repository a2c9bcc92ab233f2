#!/usr/bin/env python3
"""Where a cold ``burn ingest`` spends its time: per process, and in the main process per phase.

    python benchmarks/profile_ingest.py --corpus DIR [--burn PATH] [--phases]

One cold ingest of a corpus (gen_corpus.py) into a fresh burn home, after a file-system sync (the
previous run's gigabyte of dirty pages otherwise drains during this one). Prints the wall time and
the CPU time (user + system) of the main process and of its workers together, and their peak RSS:
the main process is the critical path of a cold ingest (docs/performance.md, "Issue 19: the main
process's critical path"), so which side grew is the first question about a change.

``--phases`` runs the ingest under ``py-spy record --idle`` (py-spy must be on ``PATH``; it is not
a dependency of burn) and splits the main thread's samples into what it was doing: waiting for the
workers, the ledger append (index lookups and inserts), the archive feed (rows and inserts), the
cold build's finish (enrich, rollups, index creation) and the dedupe rules. The sampler slows the
run by about a tenth; compare phases within one run, and time changes with ``compare.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from runner import corpus_env, load_corpus, make_empty

# (label, a frame of the main thread's stack that puts a sample in it): the first that matches.
PHASES = (
    ("waiting for workers", "Future.result"),
    ("archive finish", "Build._finish"),
    ("archive feed", "_LiveArchive"),
    ("ledger append", "_append_encoded"),
    ("dedupe rules", "Deduper"),
    ("discovery", "_discover"),
)
# Frames whose callees are listed under a phase (the step of the finish, the part of the append).
DETAIL = ("Build._finish", "FileStore._append_encoded", "Archive._apply")
SAMPLE_HZ = 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, type=Path, help="a corpus made by gen_corpus.py")
    parser.add_argument("--burn", default=shutil.which("burn"), help="the burn executable (default: on PATH)")
    parser.add_argument("--phases", action="store_true", help="sample the main thread with py-spy")
    args = parser.parse_args()
    if args.burn is None:
        parser.error("no burn on PATH: give --burn")
    corpus = load_corpus(args.corpus)
    with tempfile.TemporaryDirectory(prefix="burn-profile-") as tmp:
        work = Path(tmp)
        make_empty(work / "empty")
        env = corpus_env(corpus, work / "empty", work / "burn")
        report = _run(args.burn, env, work, args.phases)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if report["returncode"] == 0 else 1


def _run(burn: str, env: dict[str, str], work: Path, phases: bool) -> dict[str, object]:
    """One cold ingest; its wall time, per-process CPU and RSS, and (``phases``) the main thread's."""
    # The child reports its own and its workers' resource usage from inside: a wrapper process
    # (py-spy) would otherwise be what os.wait4 measures.
    probe = work / "usage.json"
    code = """
import json, resource, sys, time
from burn.entry import main
t = time.perf_counter()
try:
    rc = main(["ingest", "--quiet"])
except SystemExit as exc:
    rc = exc.code
wall = time.perf_counter() - t
usage = {}
for side, who in (("main", resource.RUSAGE_SELF), ("workers", resource.RUSAGE_CHILDREN)):
    r = resource.getrusage(who)
    cpu = {"user_s": round(r.ru_utime, 2), "system_s": round(r.ru_stime, 2)}
    usage[side] = {**cpu, "peak_rss_mb": r.ru_maxrss // 1024}
with open(sys.argv[1], "w") as f:
    json.dump({"returncode": rc or 0, "wall_s": round(wall, 2), **usage}, f)
"""
    python = _python_of(burn)
    command = [python, "-c", code, str(probe)]
    raw = work / "main-thread.txt"
    if phases:
        spy = shutil.which("py-spy")
        if spy is None:
            sys.exit("profile_ingest: --phases needs py-spy on PATH (pip install py-spy)")
        command = [spy, "record", "--idle", "-r", str(SAMPLE_HZ), "-f", "raw", "-o", str(raw), "--", *command]
    os.sync()
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if not probe.exists():
        sys.exit(f"profile_ingest: the ingest did not finish: {proc.stderr.strip()[-500:]}")
    report: dict[str, object] = json.loads(probe.read_text())
    report["wall_s_with_sampler"] = round(time.perf_counter() - started, 2) if phases else None
    if phases:
        report["main_thread_s"] = _phases(raw)
    return report


def _python_of(burn: str) -> str:
    """The interpreter of a ``burn`` console script (its shebang), so that its burn is imported."""
    with open(burn, "rb") as f:
        first = f.readline().decode(errors="replace").strip()
    return first[2:].strip() if first.startswith("#!") and "python" in first else sys.executable


def _phases(raw: Path) -> dict[str, object]:
    """Seconds of main-thread samples per phase, and per callee of the :data:`DETAIL` frames."""
    phases: Counter[str] = Counter()
    detail: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("_run_module_as_main" in f or "<module> (<string>" in f for f in frames):
            continue  # another thread (the pool's manager and feeder threads)
        n = int(count)
        label = next((name for name, frame in PHASES if any(frame in f for f in frames)), "other")
        phases[label] += n
        for owner in DETAIL:
            at = [i for i, f in enumerate(frames) if owner in f]
            if at and at[-1] + 1 < len(frames):
                callee = re.sub(r" \(.*?([^/]+\.py):\d+\)$", r" (\1)", frames[at[-1] + 1])
                detail[f"{owner} → {callee}"] += n
    seconds = {name: round(n / SAMPLE_HZ, 2) for name, n in phases.most_common()}
    top = {name: round(n / SAMPLE_HZ, 2) for name, n in detail.most_common() if n >= SAMPLE_HZ // 5}
    return {"phases": seconds, "detail": top}


if __name__ == "__main__":
    sys.exit(main())
