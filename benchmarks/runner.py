"""burn against ccusage 20.0.24 on a generated corpus: speed, memory and exact totals.

Run it as ``benchmarks/run`` (docs/performance.md)::

    benchmarks/run --corpus DIR [--runs 5] [--out benchmarks/results/NAME.json]
    benchmarks/run --generate 1GB --work /tmp/burn-bench [--agents claude] [--seed 1]

``DIR`` is a corpus made by ``gen_corpus.py`` (``claude/``, ``codex/``, ``opencode/`` and an
``expected.json``) or by ``gen_claude.py`` alone (``projects/``). Per run, in this order, each
burn/ccusage pair back to back (which of the two goes first alternates between runs), so that a
noisy shared machine slows both sides of a ratio alike:

* cold: ``burn ingest`` into a fresh burn home, then the daily report, against one
  ``ccusage daily --json --offline`` (ccusage has no index: every run of it is cold);
* warm: the daily report from the existing home, against ccusage again;
* ``burn ingest`` again (nothing new: the no-op), then after appending 1 MB to one Claude session
  (the incremental ingest; the file is truncated back afterwards);
* ``burn export sessions --all --ndjson`` (rows/s) and ``burn summary --json``;
* ``burn --version`` (start-up).

Every child gets an isolated environment: the corpus's agent directories, a fresh
``RELAYBURN_HOME``, an empty ``HOME`` and ``XDG_*`` dirs, ``TZ=UTC``. burn runs through its real
console script (not a pyenv shim) with ``PYTHONDONTWRITEBYTECODE`` unset, as users run it.
ccusage runs as its native binary with ``--offline -z UTC``. Wall time is ``perf_counter`` around
the child, peak RSS is ``ru_maxrss`` from ``os.wait4`` (bench.py). Then, untimed: both tools'
totals per source against ``expected.json``; ccusage's also against the totals its own rules give
(``peer.ccusage``, see gen_claude.Tally, gen_codex.Session.token_count, gen_opencode.Context).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import BenchError, Run, dir_bytes, fmt_s, require_ok, run_child

HERE = Path(__file__).resolve().parent
CCUSAGE_VERSION = "20.0.24"
CACHE = HERE / ".cache"
AGENT_ENV = {"claude": "CLAUDE_CONFIG_DIR", "codex": "CODEX_HOME", "opencode": "OPENCODE_DATA_DIR"}
BURN_SOURCES = {"claude": "claude-code", "codex": "codex", "opencode": "opencode"}
# Variables that would point a child at other data, or change how it runs.
DROPPED_PREFIXES = ("RELAYBURN_", "BURN_", "CLAUDE_", "CODEX_", "OPENCODE_", "XDG_", "CCUSAGE_")
APPEND_BYTES = 1_000_000
TOKEN_FIELDS = ("input", "output", "cache_read", "cache_write")

Log = Callable[[str], None]


# ----------------------------------------------------------------------------------------------
# the corpus


@dataclass(frozen=True)
class Corpus:
    root: Path
    dirs: dict[str, Path]  # agent → its data directory
    expected: dict[str, Any] | None
    bytes: int
    files: int


def load_corpus(root: Path) -> Corpus:
    """A gen_corpus.py corpus (agent subdirectories) or a gen_claude.py one (``projects/``)."""
    expected_path = root / "expected.json"
    expected = json.loads(expected_path.read_text(encoding="utf-8")) if expected_path.exists() else None
    if (root / "projects").is_dir():
        dirs = {"claude": root}
        if expected is not None:
            expected = claude_only_expected(expected)
    else:
        dirs = {a: root / a for a in AGENT_ENV if (root / a).is_dir()}
    if not dirs:
        raise BenchError(f"{root} holds no corpus (make one with gen_corpus.py or gen_claude.py)")
    if expected is not None:
        fields = set(next(iter(expected["by_source"].values()), {}))
        missing = {"turns", "cost_usd_micros"} - fields
        if missing:  # checked now, not after minutes of runs
            lacks = ", ".join(sorted(missing))
            raise BenchError(f"{expected_path} lacks {lacks}: an older generator wrote it; generate it again")
    files = [p for d in dirs.values() for p in d.rglob("*") if p.is_file() and p.name != "expected.json"]
    return Corpus(root, dirs, expected, sum(p.stat().st_size for p in files), len(files))


def claude_only_expected(e: dict[str, Any]) -> dict[str, Any]:
    """A gen_claude.py expected.json in gen_corpus.py's shape (one source)."""
    totals = {**e["totals"], "reasoning": 0}
    peer = e.get("peer", {}).get("ccusage_visible")
    view = None
    if peer is not None:
        view = {
            "input": peer["input"],
            "output": peer["output"],
            "cache_read": peer["cache_read"],
            "cache_write": peer["cache_write_5m"] + peer["cache_write_1h"],
            "turns": peer["turns"],
        }
    return {
        "agents": ["claude"],
        "size_bytes": e["size_bytes"],
        "seed": e["seed"],
        "generator": e.get("generator"),
        "totals": totals,
        "by_source": {"claude": totals},
        "by_day": e["by_day"],
        "peer": {"ccusage": {"claude": view}} if view else {},
    }


# ----------------------------------------------------------------------------------------------
# the tools


@dataclass(frozen=True)
class Burn:
    exe: str
    version: str
    commands: frozenset[str]
    python: str | None  # the interpreter of the console script: its bare start-up is burn's floor

    def report_argv(self) -> tuple[list[str], str]:
        """The daily report, and its label: ``burn report daily`` when this burn has it."""
        if "report" in self.commands:
            return ["report", "daily", "--json", "--timezone", "UTC"], "burn report daily --json"
        return ["summary", "--json"], "burn summary --json (no `burn report` yet)"


def find_burn(explicit: str | None) -> Burn:
    """The real console script next to this Python (a pyenv shim costs ~150 ms per call)."""
    if explicit:
        exe = shutil.which(explicit)
    else:
        script = Path(sysconfig.get_path("scripts")) / "burn"
        exe = str(script) if script.is_file() else shutil.which("burn")
    if exe is None:
        raise BenchError("burn is not installed: pip install -e . (or pass --burn PATH)")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r"\{([a-z0-9_,-]+)\}", out.stdout)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0 or m is None or version.returncode != 0:
        raise BenchError(f"`{exe} --help` failed: {out.stderr.strip()[-500:]}")
    return Burn(
        os.path.abspath(exe), version.stdout.strip(), frozenset(m.group(1).split(",")), _interpreter(exe)
    )


def _interpreter(script: str) -> str | None:
    """The Python a console script runs (its ``#!`` line), when it names one that exists."""
    try:
        with open(script, "rb") as f:
            first = f.readline(4096)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    exe = first[2:].strip().split(b" ")[0].decode(errors="replace")
    return exe if os.path.isfile(exe) and "python" in os.path.basename(exe) else None


@dataclass(frozen=True)
class Ccusage:
    exe: str
    version: str


def ensure_ccusage(cache: Path, log: Log) -> Ccusage | None:
    """ccusage 20.0.24 in ``cache`` (``npm install --save-exact`` once), or None without npm.

    The exact pin matters: later 20.0.x releases ship no linux-x64 binary (DEPS.md §4). The native
    binary is called directly — what the npm launcher execs, without node's start-up.
    """
    prefix = cache / f"ccusage-{CCUSAGE_VERSION}"
    exe = _ccusage_binary(prefix)
    if exe is None:
        npm = shutil.which("npm")
        if npm is None:
            log("npm is not installed: the ccusage columns are skipped")
            return None
        log(f"installing ccusage {CCUSAGE_VERSION} into {prefix}")
        prefix.mkdir(parents=True, exist_ok=True)
        cmd = [npm, "install", "--prefix", str(prefix), "--save-exact", f"ccusage@{CCUSAGE_VERSION}"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        exe = _ccusage_binary(prefix)
        if done.returncode != 0 or exe is None:
            log(f"npm install failed, ccusage columns skipped: {done.stderr.strip()[-400:]}")
            return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, check=False)
    version = out.stdout.strip()
    if out.returncode != 0 or CCUSAGE_VERSION not in version:
        log(f"{exe} --version said {version!r}, not {CCUSAGE_VERSION}: ccusage columns skipped")
        return None
    return Ccusage(exe, version)


def _ccusage_binary(prefix: Path) -> str | None:
    native = sorted(glob.glob(str(prefix / "node_modules/@ccusage/ccusage-*/bin/ccusage")))
    if native:
        # npm does not keep the exec bit of this file; ccusage's launcher sets it on first use.
        os.chmod(native[0], 0o755)
        return native[0]
    launcher = prefix / "node_modules/.bin/ccusage"
    return str(launcher) if launcher.exists() else None


# ----------------------------------------------------------------------------------------------
# environments


def base_env(empty: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_PREFIXES)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users have bytecode caches; this shell sets it
    env.update(
        {
            "HOME": str(empty / "home"),
            "XDG_CONFIG_HOME": str(empty / "home" / ".config"),
            "XDG_DATA_HOME": str(empty / "home" / ".local" / "share"),
            "XDG_STATE_HOME": str(empty / "home" / ".local" / "state"),
            "XDG_CACHE_HOME": str(empty / "home" / ".cache"),
            "TZ": "UTC",
        }
    )
    for agent, var in AGENT_ENV.items():
        env[var] = str(empty / agent)  # agents the corpus lacks: an empty directory
    return env


def corpus_env(corpus: Corpus, empty: Path, burn_home: Path | None = None) -> dict[str, str]:
    env = base_env(empty)
    for agent, path in corpus.dirs.items():
        env[AGENT_ENV[agent]] = str(path)
    if burn_home is not None:
        env["RELAYBURN_HOME"] = str(burn_home)
    return env


def make_empty(empty: Path) -> None:
    for name in ("home", *AGENT_ENV):
        (empty / name).mkdir(parents=True, exist_ok=True)


# ----------------------------------------------------------------------------------------------
# the incremental append: 1 MB of new Claude responses at the end of one session


def append_target(corpus: Corpus) -> Path | None:
    """The Claude main session written last (the one a user would be continuing)."""
    claude = corpus.dirs.get("claude")
    if claude is None:
        return None
    mains = list((claude / "projects").glob("*/*.jsonl"))
    return max(mains, key=lambda p: (p.stat().st_mtime_ns, p.name)) if mains else None


def append_lines(session: Path, nbytes: int, seed: int) -> tuple[bytes, dict[str, int]]:
    """Claude Code lines continuing ``session`` (a response and its bulky tool result, repeated)
    up to ``nbytes``, and the tokens a reader must add for them."""
    rng = random.Random(seed)
    first = json.loads(session.open(encoding="utf-8").readline())
    sid = first.get("sessionId") or session.stem
    cwd = first.get("cwd") or "/tmp"
    added = {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "turns": 0}
    out: list[bytes] = []
    size, t, cached = 0, 1_773_100_800_000, 40_000  # 2026-03-10, after every generated day
    while size < nbytes:
        t += rng.randint(2_000, 30_000)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t / 1000)) + f".{t % 1000:03d}Z"
        usage: dict[str, Any] = {
            "input_tokens": rng.randint(1, 9),
            "cache_creation_input_tokens": 2_000,
            "cache_read_input_tokens": cached,
            "output_tokens": rng.randint(50, 900),
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 2_000},
        }
        msg = {
            "model": "claude-sonnet-4-5-20250929",
            "id": f"msg_bench{seed:06d}{added['turns']:08d}",
            "type": "message",
            "role": "assistant",
            "usage": usage,
            "content": [
                {
                    "type": "tool_use",
                    "id": f"toolu_bench{added['turns']}",
                    "name": "Bash",
                    "input": {"command": "pytest -q"},
                }
            ],
        }
        line = {
            "parentUuid": None,
            "isSidechain": False,
            "type": "assistant",
            "sessionId": sid,
            "cwd": cwd,
            "message": msg,
            "requestId": f"req_bench{seed:06d}{added['turns']:08d}",
            "timestamp": ts,
            "uuid": f"{rng.getrandbits(128):032x}",
        }
        result = {
            "type": "user",
            "sessionId": sid,
            "cwd": cwd,
            "timestamp": ts,
            "uuid": f"{rng.getrandbits(128):032x}",
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": f"toolu_bench{added['turns']}",
                        "content": "ok " * rng.randint(1_000, 4_000),
                    }
                ],
            },
        }
        for d in (line, result):
            b = (json.dumps(d, separators=(",", ":")) + "\n").encode()
            out.append(b)
            size += len(b)
        added["input"] += int(usage["input_tokens"])
        added["output"] += int(usage["output_tokens"])
        added["cache_read"] += cached
        added["cache_write"] += 2_000
        added["turns"] += 1
        cached += 2_000
    return b"".join(out), added


# ----------------------------------------------------------------------------------------------
# memory of a process tree


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc/<pid>/task/<tid>/children``)."""
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        for children in glob.glob(f"/proc/{p}/task/*/children"):
            with contextlib.suppress(OSError, ValueError):  # the process ended meanwhile
                stack.extend(int(c) for c in Path(children).read_text().split())
    return out


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (a forked worker's copy-on-write memory) counted once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class TreeSampler:
    """Peak summed PSS of a process tree, sampled every ``interval`` seconds in a thread.

    ``ru_maxrss`` from ``wait4`` is the largest *single* process: a burn ingest with worker
    processes uses more than that in total, so both figures are reported. Linux only (0 elsewhere).
    """

    # 100 ms: reading smaps_rollup walks the process's page tables, and on a 2-core machine that
    # CPU is taken from the command measured (every 20 ms, it added 0.3–1.9 s to a 10 s ingest).
    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(p) for p in _tree(self.pid)))
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


@dataclass(frozen=True)
class Measured:
    """A finished child and the peak PSS of its process tree (MB)."""

    run: Run
    tree_mb: float

    @property
    def seconds(self) -> float:
        return self.run.seconds

    @property
    def stdout(self) -> bytes:
        return self.run.stdout


def run_sampled(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> Measured:
    """:func:`bench.run_child` plus the peak PSS of the child's whole process tree (Linux; elsewhere
    the child's peak RSS stands in).

    The file system is synced first, outside the timing: otherwise a command that syncs a file
    (the archive's WAL checkpoint does) pays for writing back what the commands before it left
    dirty — an incremental ingest a few seconds after the cold one flushed ~50 ms of the cold
    ingest's 200 MB, which no user's incremental ingest, run minutes apart, does."""
    os.sync()
    samplers: list[TreeSampler] = []

    def watch(pid: int) -> Callable[[], float]:
        samplers.append(TreeSampler(pid))
        return samplers[0].stop

    run = run_child(argv, env, timeout, watch if sys.platform == "linux" else None)
    return Measured(run, samplers[0].peak_kb / 1024 if samplers else run.peak_rss_mb)


# ----------------------------------------------------------------------------------------------
# measuring


@dataclass
class Series:
    """Repeated measurements of one command: seconds and peak RSS (MB)."""

    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)  # largest single process (wait4)
    tree_mb: list[float] = field(default_factory=list)  # peak PSS of the process tree (sampled)

    def add(self, seconds: float, rss_mb: float, tree_mb: float | None = None) -> None:
        self.seconds.append(seconds)
        self.rss_mb.append(rss_mb)
        self.tree_mb.append(rss_mb if tree_mb is None else tree_mb)

    def add_run(self, m: Measured) -> None:
        self.add(m.run.seconds, m.run.peak_rss_mb, m.tree_mb)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss(self) -> float:
        return statistics.median(self.rss_mb)

    @property
    def tree(self) -> float:
        return statistics.median(self.tree_mb)

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": [round(s, 4) for s in self.seconds],
            "median_seconds": round(self.median, 4),
            "min_seconds": round(min(self.seconds), 4),
            "max_seconds": round(max(self.seconds), 4),
            "peak_rss_mb": [round(m, 1) for m in self.rss_mb],
            "median_peak_rss_mb": round(self.rss, 1),
            "peak_tree_pss_mb": [round(m, 1) for m in self.tree_mb],
            "median_peak_tree_pss_mb": round(self.tree, 1),
        }


@dataclass
class Results:
    series: dict[str, Series] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)  # 1-minute load average before each run
    home_bytes: list[int] = field(default_factory=list)
    export_rows: int = 0
    burn_summary: Any = None
    incremental_check: dict[str, Any] | None = None

    def s(self, name: str) -> Series:
        return self.series.setdefault(name, Series())


class Bench:
    """One benchmark session: the tools, the corpus, scratch space, and the results so far."""

    def __init__(
        self, corpus: Corpus, burn: Burn, ccusage: Ccusage | None, scratch: Path, timeout: float, log: Log
    ) -> None:
        self.corpus, self.burn, self.ccusage = corpus, burn, ccusage
        self.scratch, self.timeout, self.log = scratch, timeout, log
        self.empty = scratch / "empty"
        make_empty(self.empty)
        self.res = Results()
        self.report_argv, self.report_label = burn.report_argv()
        opencode = corpus.dirs.get("opencode")
        self.preexisting = set(opencode.glob("*-wal")) if opencode else set()

    # -- children ------------------------------------------------------------------------------

    def burn_cmd(self, home: Path, *args: str) -> Measured:
        env = corpus_env(self.corpus, self.empty, home)
        m = run_sampled([self.burn.exe, *args], env, self.timeout)
        require_ok(m.run, "burn " + " ".join(args))
        return m

    def ccusage_cmd(self, *extra: str) -> Measured:
        assert self.ccusage is not None
        env = corpus_env(self.corpus, self.empty)
        argv = [self.ccusage.exe, "daily", "--json", "--offline", "-z", "UTC", *extra]
        try:
            m = run_sampled(argv, env, self.timeout)
            require_ok(m.run, "ccusage daily --json --offline")
            return m
        finally:
            self.undo_ccusage_side_effects()

    def undo_ccusage_side_effects(self) -> None:
        """ccusage opens ``opencode.db`` as a WAL reader, which creates ``-wal`` and ``-shm`` files
        next to it (OpenCode would too, while running). Remove the ones the corpus did not have,
        so that every burn command sees the corpus as generated (an empty WAL holds no data)."""
        opencode = self.corpus.dirs.get("opencode")
        if opencode is None:
            return
        for db in opencode.glob("opencode*.db"):
            wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
            if wal.exists() and wal.stat().st_size == 0 and wal not in self.preexisting:
                wal.unlink()
                shm.unlink(missing_ok=True)

    def pair(self, i: int, burn_side: Callable[[], None], name: str) -> None:
        """burn and ccusage back to back; who goes first alternates between runs."""
        sides: list[Callable[[], None]] = [burn_side]
        if self.ccusage is not None:
            sides.append(lambda: self.res.s(f"ccusage_{name}").add_run(self.ccusage_cmd()))
        for side in sides if i % 2 else reversed(sides):
            side()

    # -- one run -------------------------------------------------------------------------------

    def run_once(self, i: int) -> None:
        self.res.loads.append(os.getloadavg()[0])
        home = self.scratch / f"home-{i}"
        try:
            self.pair(i, lambda: self.cold(home), "cold")
            self.pair(
                i,
                lambda: self.res.s("burn_report_warm").add_run(self.burn_cmd(home, *self.report_argv)),
                "warm",
            )
            self.res.s("burn_ingest_noop").add_run(self.burn_cmd(home, "ingest", "--quiet"))
            summary = self.burn_cmd(home, "summary", "--json")  # before the append: the corpus's totals
            self.res.s("burn_summary").add_run(summary)
            self.res.burn_summary = json.loads(summary.stdout)
            self.export(home)
            self.incremental(home, i)
            self.res.s("burn_version").add_run(self.burn_cmd(home, "--version"))
            if self.burn.python is not None:
                env = corpus_env(self.corpus, self.empty, home)
                self.res.s("python_startup").add_run(
                    run_sampled([self.burn.python, "-c", "pass"], env, self.timeout)
                )
            self.res.home_bytes.append(dir_bytes(home))
        finally:
            shutil.rmtree(home, ignore_errors=True)
        cold = self.res.s("burn_cold")
        self.log(f"run {i}: cold {fmt_s(cold.seconds[-1])} ({cold.tree_mb[-1]:.0f} MB)")

    def cold(self, home: Path) -> None:
        ingest = self.burn_cmd(home, "ingest", "--quiet")
        report = self.burn_cmd(home, *self.report_argv)
        self.res.s("burn_ingest_cold").add_run(ingest)
        self.res.s("burn_report_first").add_run(report)
        rss = max(ingest.run.peak_rss_mb, report.run.peak_rss_mb)
        self.res.s("burn_cold").add(ingest.seconds + report.seconds, rss, max(ingest.tree_mb, report.tree_mb))

    def incremental(self, home: Path, i: int) -> None:
        target = append_target(self.corpus)
        if target is None:
            return
        size = target.stat().st_size
        data, added = append_lines(target, APPEND_BYTES, seed=i)
        try:
            with open(target, "ab") as f:
                f.write(data)
            self.res.s("burn_ingest_incremental").add_run(self.burn_cmd(home, "ingest", "--quiet"))
            if self.res.incremental_check is None:  # once: did burn count exactly what was appended?
                after = json.loads(self.burn_cmd(home, "summary", "--json").stdout)
                self.res.incremental_check = {"appended_bytes": len(data), "added": added, "summary": after}
        finally:
            with open(target, "r+b") as f:
                f.truncate(size)

    def export(self, home: Path) -> None:
        if "export" not in self.burn.commands:
            return
        run = self.burn_cmd(home, "export", "sessions", "--all", "--ndjson")
        self.res.s("burn_export").add_run(run)
        self.res.export_rows = run.stdout.count(b"\n")

    # -- correctness (untimed) -----------------------------------------------------------------

    def ccusage_by_agent(self) -> dict[str, dict[str, float]] | None:
        if self.ccusage is None:
            return None
        doc = json.loads(self.ccusage_cmd("--by-agent").stdout)
        agg: dict[str, dict[str, float]] = {}
        for row in doc.get("daily", []):
            for a in row.get("agents", []):
                t = agg.setdefault(a["agent"], {})
                for k, v in a.items():
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        t[k] = t.get(k, 0) + v
        return agg


# ----------------------------------------------------------------------------------------------
# correctness tables


def burn_by_source(summary: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    agent_of = {s: a for a, s in BURN_SOURCES.items()}
    out: dict[str, dict[str, int]] = {}
    for row in summary.get("by_source", []):
        agent = agent_of.get(row["source"], row["source"])
        out[agent] = {
            "input": row.get("input") or 0,
            "output": row.get("output") or 0,
            "cache_read": row.get("cache_read") or 0,
            "cache_write": (row.get("cache_write_5m") or 0) + (row.get("cache_write_1h") or 0),
            "turns": row.get("turns") or 0,
            "cost_usd_micros": row.get("cost_usd_micros") or 0,
        }
    return out


def expected_by_source(expected: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    return {
        agent: {
            "input": t["input"],
            "output": t["output"],
            "cache_read": t["cache_read"],
            "cache_write": t["cache_write_5m"] + t["cache_write_1h"],
            "turns": t["turns"],
            "cost_usd_micros": t["cost_usd_micros"],
        }
        for agent, t in expected["by_source"].items()
    }


def ccusage_fields(t: Mapping[str, float]) -> dict[str, float]:
    return {
        "input": t.get("inputTokens", 0),
        "output": t.get("outputTokens", 0),
        "cache_read": t.get("cacheReadTokens", 0),
        "cache_write": t.get("cacheCreationTokens", 0),
        "cost_usd_micros": round(t.get("totalCost", t.get("costUSD", 0)) * 1_000_000),
    }


def correctness(
    corpus: Corpus, summary: Mapping[str, Any], peer: Mapping[str, Mapping[str, float]] | None
) -> dict[str, Any]:
    """Per source and field: expected, burn, ccusage, and what ccusage's own rules predict."""
    if corpus.expected is None:
        return {"checked": False}
    exp = expected_by_source(corpus.expected)
    got = burn_by_source(summary)
    rules = corpus.expected.get("peer", {}).get("ccusage", {})
    rows = []
    for agent in exp:
        cc = ccusage_fields(peer.get(agent, {})) if peer is not None else None
        for name in (*TOKEN_FIELDS, "turns", "cost_usd_micros"):
            rows.append(
                {
                    "source": agent,
                    "field": name,
                    "expected": exp[agent][name],
                    "burn": got.get(agent, {}).get(name, 0),
                    "ccusage": None if cc is None or name == "turns" else cc[name],
                    "ccusage_rules": (rules.get(agent) or {}).get(name),
                }
            )
    days = {r["day"]: r for r in summary.get("by_day", [])}
    day_bad = [
        d
        for d, t in corpus.expected["by_day"].items()
        if any((days.get(d, {}).get(k) or 0) != t[k] for k in ("input", "output", "cache_read", "turns"))
    ]
    return {
        "checked": True,
        "burn_exact": all(r["burn"] == r["expected"] for r in rows),
        "days": len(corpus.expected["by_day"]),
        "days_differing": day_bad,
        "rows": rows,
        "ccusage_matches_its_rules": None
        if peer is None
        else all(
            _agrees(r, rules) for r in rows if r["ccusage_rules"] is not None and r["ccusage"] is not None
        ),
    }


def _agrees(row: Mapping[str, Any], rules: Mapping[str, Any]) -> bool:
    """ccusage against its rules' totals: tokens exactly; cost up to per-turn rounding (burn rounds
    each turn to a micro-dollar, ccusage sums floats): half a micro-dollar per turn, plus one."""
    if row["field"] != "cost_usd_micros":
        return bool(row["ccusage"] == row["ccusage_rules"])
    turns = (rules.get(row["source"]) or {}).get("turns", 0)
    return bool(abs(row["ccusage"] - row["ccusage_rules"]) <= turns // 2 + 1)


# ----------------------------------------------------------------------------------------------
# the report


def results_json(bench: Bench, runs: int, check: dict[str, Any]) -> dict[str, Any]:
    res, corpus = bench.res, bench.corpus
    cold = res.s("burn_ingest_cold").median
    export = res.series.get("burn_export")
    inc = res.incremental_check
    return {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "load_average_1m": {
            "min": min(res.loads),
            "median": statistics.median(res.loads),
            "max": max(res.loads),
        },
        "corpus": {
            "path": str(corpus.root),
            "agents": sorted(corpus.dirs),
            "bytes": corpus.bytes,
            "files": corpus.files,
            "seed": (corpus.expected or {}).get("seed"),
            "turns": (corpus.expected or {}).get("totals", {}).get("turns"),
        },
        "burn": {
            "exe": bench.burn.exe,
            "version": bench.burn.version,
            "report": bench.report_label,
            "commit": git_commit(),
        },
        "ccusage": None
        if bench.ccusage is None
        else {"exe": bench.ccusage.exe, "version": bench.ccusage.version},
        "runs": runs,
        "series": {name: s.as_json() for name, s in sorted(res.series.items())},
        "ingest_cold_mb_per_s": round(corpus.bytes / 1e6 / cold, 1),
        "burn_home_bytes": statistics.median(res.home_bytes),
        "export_rows": res.export_rows,
        "export_rows_per_s": round(res.export_rows / export.median) if export else None,
        "incremental": None
        if inc is None
        else {
            "appended_bytes": inc["appended_bytes"],
            "added": inc["added"],
            "exact": incremental_exact(inc, corpus),
        },
        "correctness": check,
    }


def git_commit() -> str | None:
    """The burn checkout's commit (``+dirty`` with uncommitted changes): what the numbers measure."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "../core", "../plugins"],
            cwd=HERE,
            capture_output=True,
            text=True,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def incremental_exact(inc: Mapping[str, Any], corpus: Corpus) -> bool | None:
    """Whether burn's totals after the append are the expected totals plus what was appended."""
    if corpus.expected is None:
        return None
    t = inc["summary"]["totals"]
    e, a = corpus.expected["totals"], inc["added"]
    cache_write = (t.get("cache_write_5m") or 0) + (t.get("cache_write_1h") or 0)
    return bool(
        t["input"] == e["input"] + a["input"]
        and t["output"] == e["output"] + a["output"]
        and t["cache_read"] == e["cache_read"] + a["cache_read"]
        and cache_write == e["cache_write_5m"] + e["cache_write_1h"] + a["cache_write"]
        and t["turns"] == e["turns"] + a["turns"]
    )


def _row(name: str, s: Mapping[str, Any] | None, note: str = "") -> str:
    if s is None:
        return f"| {name} | – | – | {note} |"
    times = f"{fmt_s(s['median_seconds'])} ({fmt_s(s['min_seconds'])}–{fmt_s(s['max_seconds'])})"
    memory = f"{s['median_peak_rss_mb']:,.0f} / {s['median_peak_tree_pss_mb']:,.0f}"
    return f"| {name} | {times} | {memory} | {note} |"


def markdown(data: Mapping[str, Any]) -> str:
    c, s, load = data["corpus"], data["series"], data["load_average_1m"]
    cc = s.get("ccusage_cold")
    lines = [
        f"Corpus: {c['bytes'] / 1e6:,.0f} MB, {c['files']:,} files, {c['turns']:,} turns "
        f"({', '.join(c['agents'])}; seed {c['seed']}). {data['burn']['version']} "
        f"(commit {data['burn']['commit']}), "
        + (data["ccusage"]["version"] if data["ccusage"] else "no ccusage")
        + f"; {data['runs']} runs, medians (min–max); {data['host']['cpus']} CPUs, load average "
        f"{load['min']:.1f}–{load['max']:.1f} (median {load['median']:.1f}) during the runs.",
        "",
        "| measurement | wall time, median (min–max) | peak MB: process RSS / tree PSS | notes |",
        "|---|---:|---:|---|",
    ]

    def ratio(a: str, b: str) -> str:
        return f"{s[a]['median_seconds'] / s[b]['median_seconds']:,.1f}×"

    ingest = fmt_s(s["burn_ingest_cold"]["median_seconds"])
    cold_note = f"ingest {ingest} = **{data['ingest_cold_mb_per_s']:,.0f} MB/s**"
    if cc:
        cold_note += f"; **{ratio('burn_cold', 'ccusage_cold')}** the time of one ccusage run"
    lines.append(_row(f"cold: `burn ingest` + `{data['burn']['report']}`", s["burn_cold"], cold_note))
    lines.append(_row("cold: `ccusage daily --json --offline`", cc, "reads every file on every run"))
    warm_note = f"ccusage takes **{ratio('ccusage_warm', 'burn_report_warm')}** as long" if cc else ""
    lines.append(_row(f"warm: `{data['burn']['report']}`", s["burn_report_warm"], warm_note))
    lines.append(_row("warm: `ccusage daily --json --offline`", s.get("ccusage_warm")))
    lines.append(_row("no-op `burn ingest`", s["burn_ingest_noop"], "nothing changed"))
    inc = data["incremental"]
    if inc:
        mb, turns = inc["appended_bytes"] / 1e6, inc["added"]["turns"]
        note = f"after appending {mb:.1f} MB ({turns} turns) to one session"
        note += "; totals exact" if inc["exact"] else ("; **totals wrong**" if inc["exact"] is False else "")
        lines.append(_row("incremental `burn ingest`", s.get("burn_ingest_incremental"), note))
    if data["export_rows_per_s"]:
        note = f"{data['export_rows']:,} rows, **{data['export_rows_per_s']:,} rows/s**"
        lines.append(_row("`burn export sessions --all --ndjson`", s["burn_export"], note))
    lines.append(_row("`burn summary --json`", s["burn_summary"]))
    lines.append(_row("`burn --version`", s["burn_version"], "start-up"))
    if s.get("python_startup"):
        lines.append(
            _row(
                "`python -c pass`",
                s["python_startup"],
                "burn's interpreter, bare: the floor of every command",
            )
        )
    lines.append("")
    lines.append(f"burn home after ingest: {data['burn_home_bytes'] / 1e6:,.0f} MB.")
    lines.append("")
    lines.extend(correctness_markdown(data["correctness"]))
    return "\n".join(lines) + "\n"


def _fmt(v: Any, field_name: str) -> str:
    if v is None:
        return "–"
    if field_name == "cost_usd_micros":
        return f"${v / 1e6:,.4f}"
    return f"{v:,}"


def correctness_markdown(check: Mapping[str, Any]) -> list[str]:
    if not check.get("checked"):
        return ["Correctness: not checked (no expected.json)."]
    status = "**exact**" if check["burn_exact"] else "**MISMATCH**"
    out = [
        f"Totals per source against expected.json: burn {status}"
        + (f"; by UTC day: {check['days'] - len(check['days_differing'])} of {check['days']} days exact.")
        + (
            ""
            if check["ccusage_matches_its_rules"] is None
            else " ccusage equals the totals its own rules give: "
            + ("yes." if check["ccusage_matches_its_rules"] else "NO.")
        ),
        "",
        "| source | field | expected | burn | ccusage | expected by ccusage's rules |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in check["rows"]:
        mark = "" if r["burn"] == r["expected"] else " ✗"
        out.append(
            f"| {r['source']} | {r['field']} | {_fmt(r['expected'], r['field'])} | "
            f"{_fmt(r['burn'], r['field'])}{mark} | {_fmt(r['ccusage'], r['field'])} | "
            f"{_fmt(r['ccusage_rules'], r['field'])} |"
        )
    return out


# ----------------------------------------------------------------------------------------------


def generate(size: str, work: Path, agents: str, seed: int, log: Log) -> Path:
    """A corpus in ``work`` (reused when one with the same parameters is already there)."""
    name = f"corpus-{size.lower()}-{agents.replace(',', '-')}-s{seed}"
    out = work / name
    if (out / "expected.json").exists():
        log(f"reusing {out}")
        return out
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        str(HERE / "gen_corpus.py"),
        "--out",
        str(out),
        "--size",
        size,
        "--agents",
        agents,
        "--seed",
        str(seed),
    ]
    subprocess.run(cmd, check=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="benchmarks/run", description="burn against ccusage 20.0.24 on a corpus."
    )
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", type=Path, help="a corpus made by gen_corpus.py or gen_claude.py")
    src.add_argument(
        "--generate", metavar="SIZE", help="generate a corpus of SIZE (e.g. 1GB) into --work first"
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "burn-bench",
        help="where --generate writes (default: $TMPDIR/burn-bench; not the repository)",
    )
    ap.add_argument("--agents", default="claude,codex,opencode", help="agents for --generate")
    ap.add_argument("--seed", type=int, default=1, help="seed for --generate")
    ap.add_argument("--runs", type=int, default=5, help="repetitions, medians reported (default 5)")
    ap.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/<date>-<size>.json)")
    ap.add_argument("--burn", help="the burn executable (default: the console script of this Python)")
    ap.add_argument("--no-ccusage", action="store_true", help="skip the peer columns")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before a command is killed")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be >= 1")

    def log(msg: str) -> None:
        print(f"run: {msg}", file=sys.stderr, flush=True)

    try:
        root = (
            args.corpus.resolve()
            if args.corpus
            else generate(args.generate, args.work, args.agents, args.seed, log)
        )
        corpus = load_corpus(root)
        burn = find_burn(args.burn)
        ccusage = None if args.no_ccusage else ensure_ccusage(CACHE, log)
        log(f"{burn.version} ({burn.exe}); corpus {corpus.bytes / 1e6:,.0f} MB in {corpus.files:,} files")
        with tempfile.TemporaryDirectory(prefix="burn-run-") as tmp:
            bench = Bench(corpus, burn, ccusage, Path(tmp), args.timeout, log)
            if ccusage is not None:
                bench.ccusage_cmd()  # warm-up: brings the corpus into the page cache for both tools
            for i in range(1, args.runs + 1):
                bench.run_once(i)
            check = correctness(corpus, bench.res.burn_summary, bench.ccusage_by_agent())
    except BenchError as exc:
        print(f"run: error: {exc}", file=sys.stderr)
        return 2
    data = results_json(bench, args.runs, check)
    text = markdown(data)
    out = args.out or HERE / "results" / f"{time.strftime('%Y%m%d-%H%M%S')}-{corpus.bytes // 10**6}MB.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    out.with_suffix(".md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    log(f"wrote {out} and {out.with_suffix('.md').name}")
    return 0 if not check.get("checked") or check["burn_exact"] else 1
