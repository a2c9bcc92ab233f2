"""Time the analytics dashboard (issue 15) on a generated corpus and print the figures as JSON.
Not a test.

    python benchmarks/bench_analytics.py --corpus DIR --work W [--runs 9]

DIR is a ``gen_corpus.py`` corpus. Into a fresh burn home under W it measures:

* ``ingest_s`` — the cold ``burn ingest`` (context only; docs/performance.md has the real figure);
* ``first_build_s`` — ``burn analytics rebuild --json`` with no ``analytics.duckdb`` yet (a whole
  process: start-up, duckdb import, every turn copied), then ``rebuild_s``, the median of
  in-process rebuilds of the existing file;
* ``panels_ms`` — each panel's document (:func:`burn.analytics.document.panel`: what
  ``GET /v1/analytics/{panel}`` answers, meta block and sync check included, without HTTP), the
  median and fastest of ``--runs`` calls, for ``range=all`` (every turn) and ``range=30d``;
  ``page`` is the whole page's data in one call;
* ``incremental`` — 1 MB of new Claude responses appended to one session (the runner's append),
  ``burn ingest``, then the engine's :meth:`~burn.analytics.engine.Engine.sync` (timed, with the rows
  it read), and the page right after it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner import APPEND_BYTES, append_lines, append_target, corpus_env, load_corpus, make_empty


def _burn(argv: list[str], env: Mapping[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "burn.cli.app", *argv], env=dict(env), capture_output=True,
                          text=True, check=False)  # fmt: skip
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"burn {' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed, proc.stdout


def _timed(call: Callable[[], object], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {"median": round(statistics.median(times), 1), "min": round(min(times), 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True, help="scratch directory (emptied)")
    p.add_argument("--runs", type=int, default=9)
    args = p.parse_args()
    corpus = load_corpus(args.corpus)
    shutil.rmtree(args.work, ignore_errors=True)
    home, empty = args.work / "home", args.work / "empty"
    make_empty(empty)
    env = corpus_env(corpus, empty, home)
    import os

    os.environ.update({"RELAYBURN_HOME": str(home), "TZ": "UTC"})

    from burn.analytics.document import PANELS, panel
    from burn.analytics.engine import open_engine
    from burn.archive.database import Archive

    out: dict[str, Any] = {"corpus": {"path": str(corpus.root), "bytes": corpus.bytes, "files": corpus.files}}
    out["ingest_s"] = round(_burn(["ingest", "--quiet"], env)[0], 2)
    secs, status = _burn(["analytics", "rebuild", "--json"], env)
    out["first_build_s"] = round(secs, 2)
    out["rows"] = json.loads(status)["rows"]

    archive = Archive.in_home(home, readonly=True)
    engine = open_engine(home)
    out["rebuild_s"] = round(_timed(lambda: engine.rebuild(archive.db), 3)["median"] / 1000, 2)

    def panels() -> dict[str, Any]:
        timed: dict[str, Any] = {}
        for rng in ("all", "30d"):
            opts = {"range": rng}
            timed[rng] = {
                name: _timed(lambda n=name, o=opts: panel(n, engine, archive, home, o), args.runs)
                for name in PANELS
            }
        return timed

    out["panels_ms"] = panels()

    target = append_target(corpus)
    if target is not None:
        data, added = append_lines(target, APPEND_BYTES, seed=7)
        with target.open("ab") as f:
            f.write(data)
        secs, _ = _burn(["ingest", "--quiet"], env)
        archive.close()
        archive = Archive.in_home(home, readonly=True)
        started = time.perf_counter()
        result = engine.sync(archive.db)
        sync_ms = (time.perf_counter() - started) * 1000
        out["incremental"] = {
            "appended_bytes": len(data),
            "appended_turns": added["turns"],
            "ingest_s": round(secs, 2),
            "sync_ms": round(sync_ms, 1),
            "rebuilt": result.rebuilt,
            "rows_read": result.rows_read,
            "sessions": result.sessions,
            "page_after_ms": _timed(
                lambda: panel("page", engine, archive, home, {"range": "all"}), args.runs
            ),
        }
    engine.close()
    archive.close()
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
