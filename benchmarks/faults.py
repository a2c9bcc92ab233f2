#!/usr/bin/env python3
"""The fault harness of tests/fault at larger counts: SIGKILL of the main process or of its whole
process group at seeded random points of a cold ``burn ingest`` and of ``burn archive rebuild``,
each followed by a rerun that must reach the uninterrupted run's outcome (ledger ids, archive
digest, export rows digest) without hanging.

    python benchmarks/faults.py [--kills 200] [--seed 1] [--size 4MB] [--json]
                                [--hostile [--huge 300MB]]

Prints: kill points, killed mid-run, converged, hung, lost (event ids), duplicated (archive rows).
``--hostile`` also runs every class of tests/fault/hostile.py (its huge line ``--huge`` long) and
prints hostile classes tried / passed. Exit status 1 when any kill point did not converge or any
hostile class failed. docs/reliability.md ("Fault harness") has the
figures of a run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gen_claude import parse_size  # noqa: E402

from tests.fault.harness import Tally, baseline, corpus_env, kill_points, make_corpus, run_kill_point  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=200, help="kill points (default 200)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", type=parse_size, default=parse_size("4MB"), help="corpus size (default 4MB)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--hostile", action="store_true", help="also run the hostile-input classes")
    ap.add_argument("--huge", type=parse_size, default=parse_size("300MB"), help="--hostile's huge line")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="burn-faults-") as tmp:
        base = Path(tmp)
        corpus = make_corpus(base / "corpus", args.size, seed=args.seed)
        _, expected, ingested, spans = baseline(corpus, base)
        env = corpus_env(corpus, base, "killed")
        tally = Tally()
        for i, point in enumerate(kill_points(args.kills, args.seed, spans), 1):
            run_kill_point(point, env, ingested, expected, tally)
            if not args.json:
                print(f"\r{i}/{args.kills} kill points", end="", file=sys.stderr, flush=True)
    hostile = run_hostile(args.huge) if args.hostile else None
    figures = {
        "seed": args.seed,
        "corpus_bytes": args.size,
        "workers": 2,
        "uninterrupted_seconds": {k: round(v, 3) for k, v in spans.items()},
        **tally.figures(),
        "seconds": round(time.perf_counter() - started, 1),
        "failures": tally.failures,
    }
    if hostile is not None:
        figures["hostile"] = hostile
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(file=sys.stderr)
        for key, value in figures.items():
            print(f"{key:24} {value}")
    hostile_ok = hostile is None or hostile["passed"] == hostile["tried"]
    return 0 if tally.converged == tally.kill_points and hostile_ok else 1


def run_hostile(huge: int) -> dict[str, object]:
    """Every hostile class, judged as tests/fault/test_hostile.py judges it."""
    from tests.fault import hostile

    hostile.HUGE_BYTES = huge
    tried = passed = 0
    skipped: dict[str, str] = {}
    failures: dict[str, list[str]] = {}
    references: dict[object, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="burn-hostile-") as tmp:
        for i, cls in enumerate(hostile.CLASSES):
            reason = cls.skip()
            if reason:
                skipped[cls.name] = reason
                continue
            if cls.reference not in references:
                references[cls.reference] = hostile.reference_summary(cls, Path(tmp) / f"ref-{i}")
            tried += 1
            result = hostile.run_class(cls, Path(tmp) / f"class-{i}", references[cls.reference])
            if result.problems:
                failures[cls.name] = result.problems
            else:
                passed += 1
    return {
        "classes": len(hostile.CLASSES),
        "tried": tried,
        "passed": passed,
        "huge_line_bytes": huge,
        "skipped": skipped,
        "failures": failures,
    }


if __name__ == "__main__":
    sys.exit(main())
