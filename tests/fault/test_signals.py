"""Issue 11, finding 1: killing only the main ``burn ingest`` process (SIGKILL, SIGTERM, SIGHUP)
while its workers run left them alive holding ``ledger.lock``, and every later ingest waited
forever, printing nothing."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from burn.ledger.file import FileStore
from tests.fault.harness import BURN, alive, burn, children, corpus_env, outcome

GUARD = 60.0  # seconds: only a hang reaches it


def _wait_for(what: str, check: object, guard: float = GUARD) -> None:
    deadline = time.monotonic() + guard
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: still not the case after {guard:.0f} s")
        time.sleep(0.001)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_killing_the_main_process_takes_its_workers_down(corpus: Path, tmp_path: Path, sig: int) -> None:
    env = corpus_env(corpus, tmp_path, "killed")
    solo = corpus_env(corpus, tmp_path, "solo")
    assert burn(solo, "ingest", "--quiet").returncode == 0
    proc = subprocess.Popen([*BURN, "ingest", "--quiet"], env=env, stderr=subprocess.PIPE)
    workers: list[int] = []

    def forked() -> bool:
        workers[:] = children(proc.pid)
        return bool(workers) or proc.poll() is not None

    _wait_for("the ingest's workers started", forked)
    assert workers, "the ingest ended before it forked its workers"
    os.kill(proc.pid, sig)
    stderr = proc.communicate(timeout=GUARD)[1].decode()
    if sig == signal.SIGKILL:
        assert proc.returncode == -sig
    else:  # a clean stop: one line, the conventional status, no traceback
        assert (proc.returncode, stderr) == (128 + sig, f"burn: terminated ({signal.Signals(sig).name})\n")
    _wait_for("every worker died with the main process", lambda: not any(alive(w) for w in workers))
    # The next ingest neither waits nor loses anything.
    rerun = burn(env, "ingest", "--quiet", timeout=GUARD)
    assert (rerun.returncode, rerun.stderr) == (0, b"")
    assert outcome(env) == outcome(solo)


def test_workers_run_at_a_lower_priority_than_the_main_process(corpus: Path, tmp_path: Path) -> None:
    """The main process (appends, the archive) is a cold ingest's critical path: the workers yield
    the CPU to it (``nice`` + :data:`burn.ingest.workers.WORKER_NICE`), and the run is unchanged."""
    from burn.ingest.workers import WORKER_NICE

    env = corpus_env(corpus, tmp_path, "niced")
    solo = corpus_env(corpus, tmp_path, "solo")
    assert burn(solo, "ingest", "--quiet").returncode == 0
    proc = subprocess.Popen([*BURN, "ingest", "--quiet"], env=env, stderr=subprocess.PIPE)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    niced = min(ours + WORKER_NICE, 19)
    seen: dict[int, int] = {}  # worker pid -> its priority when last looked at
    mains: list[int] = []

    def reniced() -> bool:
        # A worker is seen with the parent's priority until its first line has run.
        for pid in children(proc.pid):
            with contextlib.suppress(OSError):  # gone meanwhile
                seen[pid] = os.getpriority(os.PRIO_PROCESS, pid)
        with contextlib.suppress(OSError):
            mains.append(os.getpriority(os.PRIO_PROCESS, proc.pid))
        return niced in seen.values() or proc.poll() is not None

    _wait_for("a worker at the lower priority", reniced)
    assert proc.wait(timeout=GUARD) == 0
    assert seen, "the ingest ended before it forked its workers"
    assert max(seen.values()) == niced and set(mains) == {ours}
    assert outcome(env) == outcome(solo)


HOLD_AND_DIE = """
import os, signal, sys, time
from pathlib import Path
from burn.ledger.file import FileStore
with FileStore(Path(sys.argv[1])).lock():
    child = os.fork()
    if child == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # let the test read the parent's output to its end
        os.dup2(devnull, 2)
        time.sleep(120)
        os._exit(0)
    print(child, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_forked_child_does_not_hold_the_ledger_lock(tmp_path: Path) -> None:
    """The lock belongs to the open file: a child that inherited its descriptor kept it locked
    after the parent died. Now a forked child closes it."""
    home = tmp_path / "burn"
    proc = subprocess.run([sys.executable, "-c", HOLD_AND_DIE, str(home)], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    child = int(proc.stdout)
    try:
        assert alive(child)
        fd = os.open(home / "ledger.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError before the fix
        finally:
            os.close(fd)
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_waiting_ingest_says_whom_it_waits_for(tmp_path: Path, isolated_env: dict[str, Path]) -> None:
    env = dict(os.environ)
    home = Path(env["RELAYBURN_HOME"])
    store = FileStore(home)
    with store.lock():
        proc = subprocess.Popen([*BURN, "ingest", "--quiet"], env=env, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stderr.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(GUARD)
        assert line == [
            f"burn: waiting for another burn ingest (pid {os.getpid()}) to finish — {home / 'ledger.lock'}\n"
        ]
        assert proc.poll() is None  # still waiting
    assert proc.wait(GUARD) == 0
    assert proc.stderr.read() == ""
