#!/usr/bin/env python3
"""Measure the installed ``burn`` CLI on a generated corpus (see gen_claude.py).

    python benchmarks/bench.py --corpus DIR [--runs 5] [--json OUT] [--burn PATH]

Every command runs in a subprocess that sees only the corpus: ``CLAUDE_CONFIG_DIR=DIR``, a fresh
``RELAYBURN_HOME``, an empty ``HOME`` and empty ``CODEX_HOME`` / ``OPENCODE_DATA_DIR``, so no real
agent data on this machine is read. Each run measures, in this order:

* ``burn --version``                      startup time;
* ``burn ingest --quiet`` on a fresh home  "cold" ingest: wall time, MB/s, peak RSS;
* ``burn ingest --quiet`` again            no-op ingest on the same home;
* ``burn summary --json``                  report time and peak RSS; its totals are compared with
                                           ``DIR/expected.json``.

Medians over ``--runs`` are printed as a markdown table (and written as JSON with ``--json``).
Peak RSS is ``ru_maxrss`` of the child from ``os.wait4``, i.e. the largest process of the burn
process tree that was waited for. "Cold" means a fresh burn home, not a cold OS page cache.

Exit status: 0 when every command succeeded and the totals match, 1 on a totals mismatch, 2 when
``burn`` or one of its commands is missing or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

# Fields compared between expected.json and `burn summary --json` (names are shared).
COMPARED_FIELDS = (
    "input",
    "output",
    "cache_read",
    "cache_write_5m",
    "cache_write_1h",
    "web_search_requests",
    "turns",
)
# Environment variables that would make burn read or write somewhere else than we tell it.
ISOLATED_PREFIXES = ("RELAYBURN_", "BURN_", "CLAUDE_", "CODEX_", "OPENCODE_", "XDG_")


class BenchError(Exception):
    """A setup or command failure; the message is printed as is and the exit status is 2."""


# ----------------------------------------------------------------------------------------------
# running one child


@dataclass(frozen=True)
class Run:
    """One finished child process."""

    argv: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: bytes
    stderr: bytes


def _maxrss_mb(ru_maxrss: int) -> float:
    # Linux reports KiB, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def run_child(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    watch: Callable[[int], Callable[[], object]] | None = None,
) -> Run:
    """Run ``argv`` and measure it with ``os.wait4``, which returns the child's own rusage.

    Output goes to temporary files rather than pipes: ``communicate()`` would reap the child
    itself and lose its rusage. ``watch`` is called with the child's pid once it started and
    returns what to call once it ended (``runner.py`` samples the process tree's memory so).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=dict(env), stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        ended = watch(proc.pid) if watch is not None else None
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        if ended is not None:
            ended()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting
        out.seek(0)
        err.seek(0)
        return Run(
            argv=tuple(argv),
            seconds=seconds,
            peak_rss_mb=_maxrss_mb(usage.ru_maxrss),
            returncode=proc.returncode,
            stdout=out.read(),
            stderr=err.read(),
        )


def require_ok(run: Run, what: str) -> Run:
    """Turn a failed command into a clear message (a missing subcommand is the usual case)."""
    if run.returncode == 0:
        return run
    stderr = run.stderr.decode("utf-8", "replace").strip()
    tail = "\n".join(stderr.splitlines()[-15:]) or "(no output on stderr)"
    cmd = " ".join(run.argv)
    if run.returncode == 2 and ("invalid choice" in stderr or "unrecognized arguments" in stderr):
        raise BenchError(f"this burn does not support `{what}` yet ({cmd} exited 2):\n{tail}")
    if run.returncode < 0:
        raise BenchError(f"`{what}` was killed by signal {-run.returncode} (timeout?): {cmd}\n{tail}")
    raise BenchError(f"`{what}` failed with exit status {run.returncode}: {cmd}\n{tail}")


# ----------------------------------------------------------------------------------------------
# isolated environments


@contextmanager
def scratch_dir(parent: Path, prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def isolated_env(corpus: Path, burn_home: Path, empty: Path) -> dict[str, str]:
    """The environment of every burn child: the corpus, a given burn home, nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    env.update(
        {
            "HOME": str(empty / "home"),
            "CLAUDE_CONFIG_DIR": str(corpus),
            "RELAYBURN_HOME": str(burn_home),
            "CODEX_HOME": str(empty / "codex"),
            "OPENCODE_DATA_DIR": str(empty / "opencode"),
            "XDG_CONFIG_HOME": str(empty / "home" / ".config"),
            "XDG_DATA_HOME": str(empty / "home" / ".local" / "share"),
            "XDG_STATE_HOME": str(empty / "home" / ".local" / "state"),
            # Days in `burn summary` are local days; UTC makes them comparable with expected.json.
            "TZ": "UTC",
        }
    )
    return env


def make_empty_dirs(empty: Path) -> None:
    for name in ("home", "codex", "opencode"):
        (empty / name).mkdir(parents=True, exist_ok=True)


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------------------------
# corpus and expected totals


@dataclass(frozen=True)
class Corpus:
    path: Path
    bytes: int
    files: int
    expected: dict[str, Any] | None


def load_corpus(path: Path) -> Corpus:
    projects = path / "projects"
    if not projects.is_dir():
        raise BenchError(f"{path} is not a corpus: {projects} does not exist (make one with gen_claude.py)")
    files = [p for p in projects.rglob("*") if p.is_file()]
    expected_path = path / "expected.json"
    expected = json.loads(expected_path.read_text(encoding="utf-8")) if expected_path.exists() else None
    return Corpus(path=path, bytes=sum(p.stat().st_size for p in files), files=len(files), expected=expected)


@dataclass
class Comparison:
    """expected.json against ``burn summary --json``: totals, and by_day where burn has it."""

    rows: list[tuple[str, int | None, Any]] = field(default_factory=list)
    day_mismatches: list[tuple[str, str, int | None, Any]] = field(default_factory=list)
    days_compared: int = 0
    note: str = ""

    @property
    def totals_ok(self) -> bool:
        return bool(self.rows) and all(_same(e, a) for _, e, a in self.rows)


def _same(expected: int | None, actual: Any) -> bool:
    # burn writes null for a field no turn reported ("unknown is never zero"); 0 is what we expect.
    return expected == (0 if actual is None else actual)


def _as_int(value: Any) -> Any:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _burn_days(summary: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """``by_day`` as {day: fields}: burn writes a list of rows with a ``day`` key (or a mapping)."""
    by_day = summary.get("by_day")
    if isinstance(by_day, Mapping):
        return {str(k): v for k, v in by_day.items() if isinstance(v, Mapping)}
    if isinstance(by_day, list):
        return {str(r["day"]): r for r in by_day if isinstance(r, Mapping) and "day" in r}
    return {}


def compare(expected: Mapping[str, Any], summary: Any) -> Comparison:
    result = Comparison()
    totals = summary.get("totals") if isinstance(summary, Mapping) else None
    if not isinstance(totals, Mapping):
        result.note = "`burn summary --json` has no `totals` object"
        return result
    for name in COMPARED_FIELDS:
        result.rows.append((name, expected["totals"].get(name), _as_int(totals.get(name))))
    days = _burn_days(summary)
    if not days:
        result.note = "`burn summary --json` has no `by_day` rows; days not compared"
        return result
    for day in sorted(set(expected.get("by_day", {})) | set(days)):
        want = expected.get("by_day", {}).get(day, {})
        got = days.get(day, {})
        result.days_compared += 1
        for name in COMPARED_FIELDS:
            if not _same(want.get(name, 0), _as_int(got.get(name, 0))):
                result.day_mismatches.append((day, name, want.get(name, 0), got.get(name)))
    return result


# ----------------------------------------------------------------------------------------------
# the benchmark


@dataclass
class Series:
    """Repeated measurements of one command."""

    seconds: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)

    def add(self, run: Run) -> None:
        self.seconds.append(run.seconds)
        self.rss_mb.append(run.peak_rss_mb)

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": [round(s, 4) for s in self.seconds],
            "median_seconds": round(statistics.median(self.seconds), 4),
            "min_seconds": round(min(self.seconds), 4),
            "max_seconds": round(max(self.seconds), 4),
            "peak_rss_mb": [round(m, 1) for m in self.rss_mb],
            "median_peak_rss_mb": round(statistics.median(self.rss_mb), 1),
        }


@dataclass
class Results:
    version: Series = field(default_factory=Series)
    ingest_cold: Series = field(default_factory=Series)
    ingest_noop: Series = field(default_factory=Series)
    summary: Series = field(default_factory=Series)
    home_bytes: list[int] = field(default_factory=list)
    summaries: list[Any] = field(default_factory=list)


def find_burn(explicit: str | None) -> str:
    exe = shutil.which(explicit or "burn")
    if exe is None:
        if explicit:
            raise BenchError(f"{explicit} is not an executable file")
        raise BenchError("`burn` is not on PATH: install burn (pip install -e .) or pass --burn PATH")
    return os.path.abspath(exe)


def bench(corpus: Corpus, burn: str, runs: int, timeout: float, log: Callable[[str], None]) -> Results:
    res = Results()
    with tempfile.TemporaryDirectory(prefix="burn-bench-") as tmp:
        scratch = Path(tmp)
        empty = scratch / "empty"
        make_empty_dirs(empty)
        for i in range(1, runs + 1):
            with scratch_dir(scratch, "home-") as home:
                env = isolated_env(corpus.path, home, empty)
                res.version.add(require_ok(run_child([burn, "--version"], env, timeout), "burn --version"))
                cold = require_ok(run_child([burn, "ingest", "--quiet"], env, timeout), "burn ingest --quiet")
                res.ingest_cold.add(cold)
                res.home_bytes.append(dir_bytes(home))
                res.ingest_noop.add(
                    require_ok(run_child([burn, "ingest", "--quiet"], env, timeout), "burn ingest")
                )
                summary = require_ok(
                    run_child([burn, "summary", "--json"], env, timeout), "burn summary --json"
                )
                res.summary.add(summary)
                try:
                    res.summaries.append(json.loads(summary.stdout))
                except ValueError as exc:
                    raise BenchError(f"`burn summary --json` did not print JSON: {exc}") from exc
                log(f"run {i}/{runs}: cold ingest {cold.seconds:.2f} s, {cold.peak_rss_mb:.0f} MB peak")
        # Anything burn wrote under the empty HOME escaped RELAYBURN_HOME and is worth knowing.
        strays = sorted(str(p.relative_to(empty)) for p in empty.rglob("*") if p.is_file())
        if strays:
            log(f"warning: burn wrote outside RELAYBURN_HOME: {', '.join(strays[:5])}")
    return res


# ----------------------------------------------------------------------------------------------
# reporting


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def burn_version(burn: str) -> str:
    try:
        out = subprocess.run([burn, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BenchError(f"cannot run `{burn} --version`: {exc}") from exc
    if out.returncode != 0:
        raise BenchError(f"`{burn} --version` failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return out.stdout.strip()


def _totals(summary: Any) -> Any:
    return summary.get("totals") if isinstance(summary, Mapping) else None


def report_json(
    corpus: Corpus, burn: str, version: str, runs: int, res: Results, cmp: Comparison | None
) -> Any:
    mb = corpus.bytes / 1e6
    cold = statistics.median(res.ingest_cold.seconds)
    return {
        "corpus": {
            "path": str(corpus.path),
            "bytes": corpus.bytes,
            "files": corpus.files,
            "lines": corpus.expected.get("lines") if corpus.expected else None,
            "seed": corpus.expected.get("seed") if corpus.expected else None,
            "generator": corpus.expected.get("generator") if corpus.expected else None,
        },
        "burn": {"path": burn, "version": version},
        "host": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "runs": runs,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "startup": res.version.as_json(),
        "ingest_cold": {**res.ingest_cold.as_json(), "mb_per_s": round(mb / cold, 2) if cold else None},
        "ingest_noop": res.ingest_noop.as_json(),
        "summary": res.summary.as_json(),
        "burn_home_bytes": statistics.median(res.home_bytes),
        "correctness": None
        if cmp is None
        else {
            "totals_ok": cmp.totals_ok,
            "totals": {name: {"expected": e, "burn": a} for name, e, a in cmp.rows},
            "days_compared": cmp.days_compared,
            "day_mismatches": [
                {"day": d, "field": f, "expected": e, "burn": a} for d, f, e, a in cmp.day_mismatches
            ],
            "note": cmp.note,
            "stable_across_runs": all(_totals(s) == _totals(res.summaries[0]) for s in res.summaries),
        },
    }


def report_markdown(data: Mapping[str, Any], cmp: Comparison | None) -> str:
    c = data["corpus"]
    lines = [
        f"## burn benchmark — {data['burn']['version']}",
        "",
        f"Corpus `{c['path']}`: {c['bytes'] / 1e6:,.1f} MB, {c['files']:,} files"
        + (f", {c['lines']:,} lines" if c["lines"] else "")
        + (f" (seed {c['seed']})" if c["seed"] is not None else "")
        + f". {data['runs']} runs, medians; {data['host']['platform']}, {data['host']['cpus']} CPUs.",
        "",
        "| measurement | median | min | max | peak RSS (MB) | notes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    cold = data["ingest_cold"]
    cold_note = f"**{cold['mb_per_s']:,.1f} MB/s**; burn home {data['burn_home_bytes'] / 1e6:,.1f} MB"
    rows = (
        ("`burn --version`", data["startup"], "startup"),
        ("cold `burn ingest --quiet`", cold, cold_note),
        ("no-op `burn ingest --quiet`", data["ingest_noop"], "second run, same home"),
        ("`burn summary --json`", data["summary"], ""),
    )
    for name, s, note in rows:
        times = " | ".join(fmt_s(s[k]) for k in ("median_seconds", "min_seconds", "max_seconds"))
        lines.append(f"| {name} | {times} | {s['median_peak_rss_mb']:,.0f} | {note} |")
    lines.append("")
    lines.extend(correctness_markdown(cmp, data))
    return "\n".join(lines) + "\n"


def correctness_markdown(cmp: Comparison | None, data: Mapping[str, Any]) -> list[str]:
    if cmp is None:
        return ["Correctness: not checked (the corpus has no expected.json)."]
    status = "OK" if cmp.totals_ok else "**MISMATCH**"
    out = [f"Correctness of `burn summary --json` totals against expected.json: {status}", ""]
    out += ["| field | expected | burn | difference |", "|---|---:|---:|---:|"]
    for name, e, a in cmp.rows:
        diff = (a or 0) - (e or 0) if isinstance(a, int) or a is None else "n/a"
        mark = "" if _same(e, a) else " ✗"
        shown = "null" if a is None else (f"{a:,}" if isinstance(a, int) else repr(a))
        diff_s = f"{diff:+,}" if isinstance(diff, int) else diff
        out.append(f"| {name}{mark} | {e:,} | {shown} | {diff_s} |")
    out.append("")
    if cmp.note:
        out.append(f"Note: {cmp.note}.")
    if cmp.days_compared:
        if cmp.day_mismatches:
            days = sorted({d for d, *_ in cmp.day_mismatches})
            out.append(f"by_day (UTC): {len(days)} of {cmp.days_compared} days differ, e.g.:")
            out.append("")
            out += ["| day | field | expected | burn |", "|---|---|---:|---:|"]
            out += [f"| {d} | {f} | {e} | {a} |" for d, f, e, a in cmp.day_mismatches[:10]]
        else:
            out.append(f"by_day (UTC): all {cmp.days_compared} days match.")
    correctness = data.get("correctness") or {}
    if not correctness.get("stable_across_runs", True):
        out.append("")
        out.append("**Warning:** `burn summary --json` printed different totals in different runs.")
    return out


# ----------------------------------------------------------------------------------------------


def fail(message: str) -> NoReturn:
    sys.stderr.write(f"bench: error: {message}\n")
    sys.exit(2)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Benchmark the burn CLI on a generated Claude Code corpus.")
    ap.add_argument("--corpus", type=Path, required=True, help="a directory made by gen_claude.py")
    ap.add_argument("--runs", type=int, default=5, help="repetitions; medians are reported (default 5)")
    ap.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON to OUT")
    ap.add_argument("--burn", help="the burn executable (default: `burn` on PATH)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before a command is killed")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be >= 1")

    def log(msg: str) -> None:
        sys.stderr.write(f"bench: {msg}\n")

    try:
        corpus = load_corpus(args.corpus.resolve())
        burn = find_burn(args.burn)
        version = burn_version(burn)
        log(f"{version} ({burn}); corpus {corpus.bytes / 1e6:,.1f} MB in {corpus.files:,} files")
        res = bench(corpus, burn, args.runs, args.timeout, log)
    except BenchError as exc:
        fail(str(exc))
    cmp = compare(corpus.expected, res.summaries[-1]) if corpus.expected else None
    data = report_json(corpus, burn, version, args.runs, res, cmp)
    sys.stdout.write(report_markdown(data, cmp))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0 if cmp is None or cmp.totals_ok else 1


if __name__ == "__main__":
    sys.exit(main())
