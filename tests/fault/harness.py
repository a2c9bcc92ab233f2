"""The fault harness's machinery, shared by ``tests/fault`` and ``benchmarks/faults.py``.

A run of burn is judged by its *outcome*: the set of event ids in the ledger, the archive's
digest (``burn archive status --json``) and the export's rows digest (``burn export sessions --all
--ndjson``, whose end line digests every row and nothing of the meta line's ``generated_at``). A
killed run followed by a rerun must reach the outcome of one uninterrupted run, whatever point the
kill landed at: the assertion never depends on timing, only the kill points do.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import orjson

from burn.ledger.file import FileStore

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "benchmarks") not in sys.path:  # the generators import their siblings by name
    sys.path.insert(0, str(ROOT / "benchmarks"))

BURN = [sys.executable, "-m", "burn.cli.app"]
RERUN_TIMEOUT = 120.0  # seconds; a rerun that takes longer is reported as hung
COMMANDS = ("ingest", "rebuild")
ARGV = {"ingest": ["ingest", "--quiet"], "rebuild": ["archive", "rebuild"]}


def make_corpus(out: Path, size: int = 4_000_000, seed: int = 3) -> Path:
    """A three-agent corpus of ``size`` bytes (benchmarks/gen_corpus.py), large enough that
    ``BURN_WORKERS=2`` reads it in worker processes."""
    import gen_corpus

    gen_corpus.generate(out, size, seed=seed, jobs=1)
    return out


# The burn home's key (burn.privacy.identity): the export's pseudonyms derive from it, so every home a
# harness compares gets the same one.
SECRET_KEY = bytes(range(32)).hex().encode()


def corpus_env(corpus: Path, base: Path, name: str) -> dict[str, str]:
    """An environment in which burn sees ``corpus`` and nothing else of the machine, with its own
    burn home ``base/name/burn`` (holding :data:`SECRET_KEY`)."""
    home = base / name
    (home / "home").mkdir(parents=True, exist_ok=True)
    fresh_home(home / "burn")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BURN_", "RELAYBURN_"))}
    env.update(
        HOME=str(home / "home"),
        RELAYBURN_HOME=str(home / "burn"),
        CLAUDE_CONFIG_DIR=str(corpus / "claude"),
        CODEX_HOME=str(corpus / "codex"),
        OPENCODE_DATA_DIR=str(corpus / "opencode"),
        XDG_CONFIG_HOME=str(home / "xdg-config"),
        XDG_DATA_HOME=str(home / "xdg-data"),
        BURN_WORKERS="2",
        BURN_STRICT_PLUGINS="1",
    )
    return env


def fresh_home(home: Path) -> None:
    """Empty ``home`` but for :data:`SECRET_KEY`."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    (home / "secret.key").write_bytes(SECRET_KEY)
    (home / "secret.key").chmod(0o600)


def burn(
    env: Mapping[str, str], *argv: str, timeout: float = RERUN_TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    """Run ``burn argv…``; raises :class:`Hung` when it outlives ``timeout``."""
    try:
        return subprocess.run([*BURN, *argv], env=dict(env), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise Hung(f"burn {' '.join(argv)} still running after {timeout:.0f} s") from exc


class Hung(Exception):
    """A run that did not finish within its timeout."""


@attrs.frozen
class Outcome:
    """What a run left behind, compared whole."""

    ids: frozenset[str]
    rows: Mapping[str, int]
    archive_digest: str
    export_digest: str


def outcome(env: Mapping[str, str]) -> Outcome:
    home = Path(env["RELAYBURN_HOME"])
    ids = frozenset(e.id for e in FileStore(home).read())
    status = burn(env, "archive", "status", "--json")
    assert status.returncode == 0, status.stderr.decode()
    data = orjson.loads(status.stdout)
    export = burn(env, "export", "sessions", "--all", "--ndjson")
    assert export.returncode == 0, export.stderr.decode()
    end = orjson.loads(export.stdout.splitlines()[-1])
    assert end["type"] == "end", "the export has no end line"
    return Outcome(ids, dict(data["row_counts"]), data["digest"], end["rows_digest"])


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (Linux)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for init to reap it does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@attrs.frozen
class KillPoint:
    """Where one kill lands: the command, whom it kills, and after how long."""

    command: str  # "ingest" (cold) or "rebuild" (of an ingested home)
    group: bool  # the whole process group (the workers too), or the main process alone
    delay: float  # seconds after start
    sig: int = signal.SIGKILL


def kill_points(count: int, seed: int, spans: Mapping[str, float]) -> list[KillPoint]:
    """``count`` seeded kill points spread over each command's uninterrupted duration ``spans``
    (a little past it too: a kill after the end must also leave a sound home)."""
    rng = random.Random(seed)
    points = []
    for i in range(count):
        command = COMMANDS[i % len(COMMANDS)]
        points.append(KillPoint(command, bool(i // len(COMMANDS) % 2), rng.uniform(0, 1.1 * spans[command])))
    return points


@attrs.define
class Tally:
    """The harness's figures."""

    kill_points: int = 0
    killed: int = 0  # the kill landed before the command ended
    converged: int = 0
    hung: int = 0
    lost: int = 0  # event ids missing after the rerun, summed
    duplicated: int = 0  # archive rows beyond the uninterrupted run's, summed
    failures: list[str] = attrs.field(factory=list)
    by: Counter[str] = attrs.field(factory=Counter)

    def figures(self) -> dict[str, Any]:
        return {
            "kill_points": self.kill_points,
            "killed_mid_run": self.killed,
            "converged": self.converged,
            "hung": self.hung,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "by_command_and_target": dict(sorted(self.by.items())),
        }


def start(env: Mapping[str, str], command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*BURN, *ARGV[command]],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, which a group kill takes down whole
    )


def run_kill_point(
    point: KillPoint, env: Mapping[str, str], ingested: Path, expected: Outcome, tally: Tally
) -> None:
    """Kill ``point.command`` per ``point``, rerun it, and tally whether the home converged.
    ``ingested``: a burn home after one uninterrupted ingest (a rebuild starts from a copy)."""
    home = Path(env["RELAYBURN_HOME"])
    if point.command == "rebuild":
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(ingested, home)
    else:
        fresh_home(home)
    tally.kill_points += 1
    tally.by[f"{point.command}/{'group' if point.group else 'main'}"] += 1
    proc = start(env, point.command)
    try:
        proc.wait(point.delay)
    except subprocess.TimeoutExpired:
        tally.killed += 1
        if point.group:
            os.killpg(proc.pid, point.sig)
        else:
            os.kill(proc.pid, point.sig)
        proc.wait()
    name = f"{point.command} {'group' if point.group else 'main'} kill at {point.delay:.3f} s"
    try:
        rerun = burn(env, *ARGV[point.command])
        if rerun.returncode != 0:
            tally.failures.append(f"{name}: rerun exited {rerun.returncode}: {rerun.stderr.decode()[-300:]}")
            return
        got = outcome(env)
    except Hung as exc:
        tally.hung += 1
        tally.failures.append(f"{name}: hung: {exc}")
        return
    finally:
        _reap_group(proc.pid)
    lost = len(expected.ids - got.ids)
    extra = sum(max(0, n - expected.rows.get(t, 0)) for t, n in got.rows.items())
    tally.lost += lost
    tally.duplicated += extra
    if got == expected:
        tally.converged += 1
    else:
        tally.failures.append(
            f"{name}: did not converge: lost {lost}, extra rows {extra}, "
            f"ids +{len(got.ids - expected.ids)}, rows {dict(got.rows)}"
        )


def _reap_group(pgid: int) -> None:
    """Leave nothing of a killed run behind, whatever the outcome (a test must not leak)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def baseline(corpus: Path, base: Path) -> tuple[dict[str, str], Outcome, Path, dict[str, float]]:
    """One uninterrupted ingest: its environment, outcome, a copy of its home, and how long an
    ingest and a rebuild take (the span the kill points are spread over)."""
    env = corpus_env(corpus, base, "baseline")
    t0 = time.perf_counter()
    done = burn(env, *ARGV["ingest"])
    spans = {"ingest": time.perf_counter() - t0}
    assert done.returncode == 0, done.stderr.decode()
    expected = outcome(env)
    ingested = base / "ingested"
    shutil.copytree(env["RELAYBURN_HOME"], ingested)
    t0 = time.perf_counter()
    done = burn(env, *ARGV["rebuild"])
    spans["rebuild"] = time.perf_counter() - t0
    assert done.returncode == 0, done.stderr.decode()
    assert outcome(env) == expected, "a rebuild changed the outcome"
    return env, expected, ingested, spans
