#!/usr/bin/env python3
"""Two burns, A and B, on one corpus, alternating: is a change faster, and by how much?

    python benchmarks/compare.py --corpus DIR --a OLD/bin/burn --b NEW/bin/burn [--rounds 12] [--cold]

On a shared machine, numbers taken minutes apart differ by more than most changes do (the same
no-op ingest measured 245 ms one hour and 285 ms the next here). ``benchmarks/run`` alternates
burn and ccusage for that reason; this alternates two burns (two virtual environments, e.g. one
installed from a ``git worktree`` of the old commit): each round runs every command with A then B,
or B then A (the order flips every round), so that whatever the machine does slows both alike.

Per round, in each side's own burn home (made by one untimed cold ingest, or a timed one per round
with ``--cold``): the no-op ``burn ingest``, ``burn report daily --json`` (warm), and the
incremental ``burn ingest`` after appending 1 MB to the newest Claude session (the same bytes for
both sides; truncated back and settled with an untimed ingest afterwards). Child environments,
the file-system sync before each timed command and the append are the runner's (``runner.py``).
Prints the median and minimum of each command per side, and B's median against A's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench import BenchError, fmt_s, require_ok
from runner import (
    APPEND_BYTES,
    Corpus,
    append_lines,
    append_target,
    corpus_env,
    load_corpus,
    make_empty,
    run_sampled,
)

COMMANDS = ("cold", "noop", "warm", "incremental")
REPORT = ("report", "daily", "--json")


class Side:
    """One burn under comparison, with its burn home and its samples per command."""

    def __init__(self, label: str, exe: str, corpus: Corpus, work: Path) -> None:
        self.label = label
        self.exe = exe
        self.home = work / f"home-{label}"
        self.env = corpus_env(corpus, work / "empty", self.home)
        self.seconds: dict[str, list[float]] = {c: [] for c in COMMANDS}

    def run(self, *args: str, timed: str | None = None, timeout: float = 3600) -> None:
        m = run_sampled([self.exe, *args], self.env, timeout)
        require_ok(m.run, f"{self.label}: burn {' '.join(args)}")
        if timed is not None:
            self.seconds[timed].append(m.seconds)

    def fresh_home(self, timed: bool) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        self.run("ingest", "--quiet", timed="cold" if timed else None)


def compare(corpus: Corpus, a: Side, b: Side, rounds: int, cold: bool) -> None:
    target = append_target(corpus)
    for side in (a, b):
        side.fresh_home(timed=False)
    for i in range(rounds):
        order = (a, b) if i % 2 == 0 else (b, a)
        if cold:
            for side in order:
                side.fresh_home(timed=True)
        for side in order:
            side.run("ingest", "--quiet", timed="noop")
        for side in order:
            side.run(*REPORT, timed="warm")
        if target is None:
            continue
        size = target.stat().st_size
        data, _ = append_lines(target, APPEND_BYTES, seed=1000 + i)
        for side in order:
            try:
                with open(target, "ab") as f:
                    f.write(data)
                side.run("ingest", "--quiet", timed="incremental")
            finally:
                with open(target, "r+b") as f:
                    f.truncate(size)
            side.run("ingest", "--quiet")  # the truncation, read now: the next no-op is a no-op
        print(f"round {i + 1}/{rounds} done", file=sys.stderr)


def table(a: Side, b: Side) -> str:
    lines = [
        f"| command | A: {a.exe} | B: {b.exe} | B against A |",
        "|---|---:|---:|---:|",
    ]
    for command in COMMANDS:
        sa, sb = a.seconds[command], b.seconds[command]
        if not sa or not sb:
            continue
        ma, mb = statistics.median(sa), statistics.median(sb)
        lines.append(
            f"| {command} | {fmt_s(ma)} (min {fmt_s(min(sa))}) | {fmt_s(mb)} (min {fmt_s(min(sb))}) "
            f"| {(mb - ma) * 1000:+.0f} ms ({(mb / ma - 1) * 100:+.0f}%) |"
        )
    return "\n".join(lines) + f"\n\n{len(a.seconds['noop'])} rounds, medians (min); the order alternates.\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True, help="made by gen_corpus.py or gen_claude.py")
    ap.add_argument("--a", required=True, help="burn executable A (the baseline)")
    ap.add_argument("--b", required=True, help="burn executable B (the change)")
    ap.add_argument("--rounds", type=int, default=12, help="alternating rounds (default 12)")
    ap.add_argument("--cold", action="store_true", help="also time a cold ingest per round (slow)")
    args = ap.parse_args(argv)
    try:
        corpus = load_corpus(args.corpus)
        with tempfile.TemporaryDirectory(prefix="burn-compare-") as tmp:
            work = Path(tmp)
            make_empty(work / "empty")
            a, b = Side("a", args.a, corpus, work), Side("b", args.b, corpus, work)
            compare(corpus, a, b, args.rounds, args.cold)
            sys.stdout.write(table(a, b))
    except BenchError as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
