"""SIGKILL of the main process or of its whole process group at seeded random points of a cold
``burn ingest`` and of ``burn archive rebuild``; each is followed by a rerun that must reach the
uninterrupted run's outcome (ledger ids, archive digest, export rows digest) and must not hang.
benchmarks/faults.py runs the same loop at larger counts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fault.harness import (
    BURN,
    Tally,
    baseline,
    burn,
    corpus_env,
    kill_points,
    outcome,
    run_kill_point,
)

KILL_POINTS = 20
SEED = 11


def test_killed_runs_converge_on_rerun(corpus: Path, tmp_path: Path) -> None:
    _, expected, ingested, spans = baseline(corpus, tmp_path)
    env = corpus_env(corpus, tmp_path, "killed")
    tally = Tally()
    for point in kill_points(KILL_POINTS, SEED, spans):
        run_kill_point(point, env, ingested, expected, tally)
    assert tally.failures == []
    assert (tally.converged, tally.hung, tally.lost, tally.duplicated) == (KILL_POINTS, 0, 0, 0)
    assert set(tally.by) == {"ingest/main", "ingest/group", "rebuild/main", "rebuild/group"}


def test_four_concurrent_ingests_give_the_result_of_one(corpus: Path, tmp_path: Path) -> None:
    solo = corpus_env(corpus, tmp_path, "solo")
    assert burn(solo, "ingest", "--quiet").returncode == 0
    env = corpus_env(corpus, tmp_path, "four")
    procs = [
        subprocess.Popen([*BURN, "ingest", "--quiet"], env=env, stderr=subprocess.PIPE) for _ in range(4)
    ]
    results = [(p.wait(120), p.stderr.read() if p.stderr else b"") for p in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0]
    # The waiting ones may say whom they wait for; nothing else.
    for _, err in results:
        assert all(line.startswith(b"burn: waiting for another burn ingest") for line in err.splitlines())
    assert outcome(env) == outcome(solo)
