#!/usr/bin/env python3
"""Deterministic generator of realistic Claude Code transcript corpora, for burn benchmarks.

    python benchmarks/gen_claude.py --out DIR --size 1GB [--seed 1] [--files-per-project N]

writes a Claude config tree under ``DIR/projects/`` (what ``CLAUDE_CONFIG_DIR=DIR`` points a reader
at) and ``DIR/expected.json`` with the exact token totals a correct deduplicating reader must find.

The line shapes follow FORMATS.md §1 (Claude Code 2.1.x): one JSONL line per content block of an
API response, all sharing ``message.id`` + ``requestId``, with a partial ``output_tokens`` on every
line but the last; subagent files with ``.meta.json`` sidecars and ``progress/agent_progress``
copies of their assistant lines in the parent; ``agent-acompact-*`` compaction calls; resumed
sessions that begin with a copy of an earlier session; ``<synthetic>`` lines; pretty-spaced files.

The expected totals are tallied while generating (each API response is tallied once, when it is
first written), never by parsing the output, so they are an independent oracle for readers. Each
response's cost is computed with burn's pricing library and bundled table (``oracle.py``), so burn
must be importable; the transcripts themselves use only the standard library (no orjson), so the
output depends on the seed, the size and ``--files-per-project`` alone; it is byte-identical across
runs and machines on Python 3.11+.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import math
import os
import random
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oracle import Pricer, density_field

GENERATOR = "burn-bench-gen-claude"
# Bump when the output for a given (seed, size) changes, so stale cached corpora are noticed.
# 2: expected.json carries cost_usd_micros and the totals ccusage can see (``peer``).
GENERATOR_VERSION = 2

BASE_DATE = datetime(2026, 1, 5, tzinfo=UTC)
BASE_MS = int(BASE_DATE.timestamp() * 1000)
SPAN_DAYS = 60
DAY_MS = 86_400_000

MODELS = ("claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001")
SYNTHETIC_MODEL = "<synthetic>"
TOTAL_FIELDS = (
    "input",
    "output",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
    "web_search_requests",
    "turns",
    "cost_usd_micros",
)

# Feature rates. They are per session, per API response or per tool call as noted.
RESUME_RATE = 0.03  # per session: a continuation session copies it, then goes on
SPACED_RATE = 0.01  # per session: main file written with json.dumps default separators
SUBAGENT_SESSION_RATE = 0.4  # per session: the session uses Task subagents at all
TASK_RATE = 0.08  # per response in such a session: one tool call is a Task
META_SIDECAR_RATE = 0.85  # per subagent: an agent-<id>.meta.json is written
PROGRESS_COPY_RATE = 0.9  # per subagent assistant line: copied into the parent
PARTIAL_ONLY_RATE = 0.05  # per response: the final output snapshot never reached the disk
NO_REQUEST_ID_RATE = 0.002  # per response: written without requestId (proxy backends)
SYNTHETIC_RATE = 0.01  # per response: an extra CLI-written <synthetic> line follows
HUGE_SESSION_RATE = 0.001  # per session, corpora >= HUGE_MIN_CORPUS only
HUGE_MIN_CORPUS = 100_000_000
RESUME_MAX_SOURCE = 8_000_000  # bigger sessions are not resumed: the copy is held in memory
# Forced into the first responses of the showcase session (the corpus's second), so that every
# corpus, however small, has them.
SHOWCASE_FEATURES = (
    "task",
    "synthetic",
    "compact",
    "web_search",
    "partial_only",
    "no_request_id",
    "queue",
    "meta",
)

Json = dict[str, Any]


# ----------------------------------------------------------------------------------------------
# small helpers


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``1MB`` → 10**6, ``2GiB`` → 2 * 2**30, ``1.5GB``, ``500mb``, ``123`` (bytes).

    Decimal units by default, because bench.py reports MB/s as 10**6 bytes per second.
    """
    m = _SIZE_RE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 1MB, 500MB, 2GB, 1GiB)")
    number, unit, binary = m.groups()
    power = " kmgt".index(unit.lower() or " ")
    size = int(float(number) * (1024 if binary else 1000) ** power)
    if size <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return size


class IsoClock:
    """Formats epoch milliseconds as ``2026-02-11T21:24:22.960Z`` without datetime per call."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}

    def day(self, ms: int) -> str:
        d = ms // DAY_MS
        s = self._days.get(d)
        if s is None:
            s = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=d)).strftime("%Y-%m-%d")
            self._days[d] = s
        return s

    def iso(self, ms: int) -> str:
        rem = ms % DAY_MS
        h, rem = divmod(rem, 3_600_000)
        m, rem = divmod(rem, 60_000)
        s, milli = divmod(rem, 1000)
        return f"{self.day(ms)}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


CLOCK = IsoClock()

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class Ids:
    """Identifiers in the shapes Claude Code writes, all drawn from the corpus RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"

    def _b58(self, n: int) -> str:
        return "".join(self.rng.choices(_B58, k=n))

    def msg_id(self) -> str:
        return "msg_01" + self._b58(22)

    def request_id(self) -> str:
        return "req_011C" + self._b58(20)

    def tool_use_id(self) -> str:
        return "toolu_01" + self._b58(22)

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"


# ----------------------------------------------------------------------------------------------
# text


_SYLLABLES = (
    "ka", "ro", "mi", "ten", "vor", "al", "quo", "pre", "ex", "dat", "lin", "sor", "ve", "mun",
    "tri", "zel", "par", "gon", "fil", "ar", "ect", "ion", "ish", "ble", "ter", "nal", "sta",
    "cor", "dex", "pha", "un", "ob", "sim", "li", "ne",
)  # fmt: skip
_COMMON = (
    "the", "a", "to", "of", "and", "in", "is", "for", "that", "this", "with", "it", "on", "we",
    "be", "as", "not", "file", "test", "function", "error", "value", "return", "config", "update",
    "check", "now", "let", "me", "should", "will", "data", "using", "need", "first", "then",
    "path", "line", "call", "read", "run", "module", "change", "fix", "build", "session", "query",
)  # fmt: skip
_SPICE = ("—", "→", "✓", "café", "naïve", "日本語のテスト", "🚀", "…", "«ok»", "Größe")
_EXTS = ("py", "ts", "tsx", "go", "rs", "md", "json", "ex", "toml", "sql")


def make_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4)))


def make_ident(rng: random.Random) -> str:
    return "_".join(make_word(rng) for _ in range(rng.randint(1, 3)))


def make_path(rng: random.Random, root: str = "") -> str:
    parts = [make_word(rng) for _ in range(rng.randint(1, 4))]
    name = f"{make_ident(rng)}.{rng.choice(_EXTS)}"
    return "/".join([root.rstrip("/"), *parts, name] if root else [*parts, name])


@dataclass(frozen=True)
class PoolText:
    """Large pre-generated strings that responses and tool results slice from.

    Slicing a few large strings is what keeps generation fast; the pools contain what makes
    JSON parsing realistic: quotes, backslashes, newlines, tabs and non-ASCII text. Each pool
    is stored doubled so that any slice up to half its length can start anywhere.
    """

    words: tuple[str, ...]
    prose: str
    code: str
    log: str
    b64: str


class _PoolBuilder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = tuple(make_word(rng) for _ in range(2500)) + _COMMON * 20

    def build(self, part: Callable[[], str], n: int) -> str:
        out: list[str] = []
        size = 0
        while size < n:
            s = part()
            out.append(s)
            size += len(s)
        text = "".join(out)
        return text + text

    def sentence(self) -> str:
        r = self.rng
        words = [r.choice(self.words) for _ in range(r.randint(4, 22))]
        if r.random() < 0.15:
            words[r.randrange(len(words))] = f"`{make_ident(r)}`"
        if r.random() < 0.03:
            words.append(r.choice(_SPICE))
        return " ".join(words).capitalize() + r.choice((". ", ". ", "? ", ": ", "! "))

    def prose_paragraph(self) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.15:
            return "".join(f"- {self.sentence()}\n" for _ in range(r.randint(2, 6))) + "\n"
        if kind < 0.22:
            return f"## {self.sentence().strip()}\n\n"
        return "".join(self.sentence() for _ in range(r.randint(1, 6))) + "\n\n"

    def code_line(self) -> str:
        r = self.rng
        indent = "    " * r.randint(0, 3) if r.random() < 0.9 else "\t" * r.randint(1, 2)
        return indent + self.fill(r.choice(_CODE_FORMS)) + "\n"

    def log_line(self) -> str:
        return self.fill(self.rng.choice(_LOG_FORMS)) + "\n"

    def fill(self, form: str) -> str:
        r = self.rng
        return form.format(
            a=make_ident(r),
            b=make_ident(r),
            c=r.choice(self.words),
            n=r.randint(0, 999),
            path=make_path(r),
            spice=r.choice(_SPICE),
            sentence=self.sentence().strip() if "{sentence}" in form else "",
        )


_CODE_FORMS = (
    "def {a}({b}, {c}=None):",
    '{a} = {b}.get("{c}", {n})',
    "if ({a} != null && {b}.length > {n}) {{",
    'return "{c}\\n" + {a};',
    "// {sentence}",
    "{a} := regexp.MustCompile(`\\d+\\s*{c}`)",
    'raise ValueError(f"{c} {{{a}!r}} is not a \\"{b}\\"")',
    '    "{a}": "{c}\\\\{b}",',
    "}}",
    "",
)
_LOG_FORMS = (
    "src/{path}:{n}:    {a}({c})",
    "PASSED tests/test_{a}.py::test_{b}",
    "FAILED tests/test_{a}.py::test_{b} - AssertionError: {sentence}",
    "warning: unused variable `{a}` --> {path}:{n}",
    "{n} files changed, {n} insertions(+)",
    "/home/dev/{path}",
    "  {spice} {sentence}",
)


@functools.cache
def pool_text() -> PoolText:
    """The text pool, built once per process from a fixed seed (the corpus seed varies the slicing)."""
    b = _PoolBuilder(random.Random("burn-bench-text-pool-1"))
    return PoolText(
        words=b.words,
        prose=b.build(b.prose_paragraph, 300_000),
        code=b.build(b.code_line, 500_000),
        log=b.build(b.log_line, 200_000),
        b64=base64.b64encode(b.rng.randbytes(150_000)).decode("ascii") * 2,
    )


class TextPool:
    """Text for one corpus: slices of :func:`pool_text` at offsets drawn from the corpus RNG.

    ``density`` divides every text length (prompts, replies, tool inputs and outputs): the same
    draws from the RNG, so the same sessions and turns, in fewer bytes — a denser corpus holds
    more (and shorter) turns per MB. At 1 (the default) the output is byte-identical to before.
    """

    def __init__(self, rng: random.Random, density: float = 1.0) -> None:
        self.rng = rng
        self.pool = pool_text()
        self.density = density

    def word(self) -> str:
        return self.rng.choice(self.pool.words)

    def ident(self) -> str:
        return make_ident(self.rng)

    def path(self, root: str = "") -> str:
        return make_path(self.rng, root)

    def _slice(self, pool: str, n: int) -> str:
        if self.density != 1:
            n = max(min(n, 16), int(n / self.density))  # short texts stay non-empty
        half = len(pool) // 2
        if n > half:
            return (pool[:half] * (n // half + 1))[:n]
        start = self.rng.randrange(half)
        return pool[start : start + n]

    def text(self, n: int) -> str:
        return self._slice(self.pool.prose, n)

    def code_text(self, n: int) -> str:
        return self._slice(self.pool.code, n)

    def log_text(self, n: int) -> str:
        return self._slice(self.pool.log, n)

    def signature(self, n: int) -> str:
        return self._slice(self.pool.b64, n)


# ----------------------------------------------------------------------------------------------
# expected totals


def _zero_totals() -> dict[str, int]:
    return dict.fromkeys(TOTAL_FIELDS, 0)


@dataclass(frozen=True)
class RequestUsage:
    """The usage fields every line of one API response repeats; only output grows."""

    input: int
    cache_5m: int
    cache_1h: int
    cache_read: int
    service_tier: str


@dataclass
class Tally:
    """What a correct reader must report: each response counted once, at its earliest line.

    ``peer`` is what ccusage 20.0.24 reports instead, by three rules of its own (measured on these
    corpora, docs/performance.md): it skips lines without the bytes ``"usage":{`` (pretty-spaced
    files, FORMATS §1.9); it prefers a non-sidechain copy of a response (the ``agent_progress``
    copy in the parent) over the subagent's own lines, even when that copy lacks the final output;
    and it does not deduplicate lines without ``requestId`` (every streamed line counts).
    """

    totals: dict[str, int] = field(default_factory=_zero_totals)
    by_day: dict[str, dict[str, int]] = field(default_factory=dict)
    peer: dict[str, int] = field(default_factory=_zero_totals)
    keys: set[tuple[str, str | None]] = field(default_factory=set)
    pricer: Pricer = field(default_factory=Pricer)

    def add(
        self,
        key: tuple[str, str | None],
        ts_ms: int,
        model: str,
        u: RequestUsage,
        output: int,
        web: int,
    ) -> None:
        # Ids come from a 128-bit-ish random space; a repeat would make the oracle wrong.
        if key in self.keys:
            raise AssertionError(f"generator produced a duplicate response key {key}")
        self.keys.add(key)
        usage = {
            "input": u.input,
            "output": output,
            "cache_write_5m": u.cache_5m,
            "cache_write_1h": u.cache_1h,
            "cache_read": u.cache_read,
            "web_search_requests": web,
        }
        cost = self.pricer.cost(model, usage, CLOCK.iso(ts_ms))
        day = self.by_day.setdefault(CLOCK.day(ts_ms), _zero_totals())
        for target in (self.totals, day):
            for name, value in usage.items():
                target[name] += value
            target["turns"] += 1
            target["cost_usd_micros"] += cost

    def add_peer(self, u: RequestUsage, outputs: list[int]) -> None:
        """The entries ccusage counts for one response: one per output value (none: unseen)."""
        for output in outputs:
            p = self.peer
            p["input"] += u.input
            p["output"] += output
            p["cache_write_5m"] += u.cache_5m
            p["cache_write_1h"] += u.cache_1h
            p["cache_read"] += u.cache_read
            p["turns"] += 1


@dataclass
class Stats:
    """Feature counts, written to expected.json so a corpus documents what it contains."""

    sessions: int = 0
    resumed_sessions: int = 0
    spaced_files: int = 0
    subagents: int = 0
    meta_sidecars: int = 0
    compactions: int = 0
    progress_copies: int = 0
    partial_only_responses: int = 0
    no_request_id_responses: int = 0
    synthetic_lines: int = 0
    web_search_responses: int = 0
    max_line_bytes: int = 0


def usage_json(u: RequestUsage, output: int, web: int | None) -> Json:
    """The usage object of one line; the final line has the 2.1.x final-line shape."""
    if web is None:
        return {
            "input_tokens": u.input,
            "cache_creation_input_tokens": u.cache_5m + u.cache_1h,
            "cache_read_input_tokens": u.cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": u.cache_5m,
                "ephemeral_1h_input_tokens": u.cache_1h,
            },
            "output_tokens": output,
            "service_tier": u.service_tier,
            "inference_geo": "not_available",
        }
    return {
        "input_tokens": u.input,
        "cache_creation_input_tokens": u.cache_5m + u.cache_1h,
        "cache_read_input_tokens": u.cache_read,
        "output_tokens": output,
        "server_tool_use": {"web_search_requests": web, "web_fetch_requests": 0},
        "service_tier": u.service_tier,
        "cache_creation": {"ephemeral_1h_input_tokens": u.cache_1h, "ephemeral_5m_input_tokens": u.cache_5m},
        "inference_geo": "",
        "iterations": [],
    }


def block_chars(block: Json) -> int:
    """Roughly how much text a content block holds; output tokens are about a quarter of it."""
    kind = block["type"]
    if kind == "thinking":
        return len(block["thinking"])
    if kind == "text":
        return len(block["text"])
    return 40 + len(json.dumps(block["input"], ensure_ascii=False))


# ----------------------------------------------------------------------------------------------
# output


def dumps_compact(d: Json) -> str:
    return json.dumps(d, ensure_ascii=False, separators=(",", ":"))


def dumps_spaced(d: Json) -> str:
    return json.dumps(d, ensure_ascii=False)


class Transcript:
    """One JSONL file being built in memory: its encoded lines and its uuid chain."""

    def __init__(self, relpath: str, dumps: Callable[[Json], str], stats: Stats) -> None:
        self.relpath = relpath
        self.dumps = dumps
        self.stats = stats
        self.lines: list[bytes] = []
        self.nbytes = 0
        self.last_uuid: str | None = None
        self.last_ms = 0

    def add(self, d: Json, ts_ms: int) -> None:
        b = (self.dumps(d) + "\n").encode("utf-8")
        self.lines.append(b)
        self.nbytes += len(b)
        self.last_ms = max(self.last_ms, ts_ms)
        if len(b) > self.stats.max_line_bytes:
            self.stats.max_line_bytes = len(b)
        uuid = d.get("uuid")
        if isinstance(uuid, str):
            self.last_uuid = uuid


class CorpusWriter:
    """Writes finished files with one large write each and counts files, lines and bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = 0
        self.lines = 0
        self.bytes = 0
        self._dirs: set[Path] = set()

    def _write(self, relpath: str, data: bytes, mtime_ms: int) -> None:
        path = self.root / relpath
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        with open(path, "wb") as f:
            f.write(data)
        # Agents' files carry the time of their last line; readers may sort or skip by mtime.
        os.utime(path, ns=(mtime_ms * 1_000_000, mtime_ms * 1_000_000))
        self.files += 1
        self.bytes += len(data)

    def transcript(self, t: Transcript) -> None:
        self.lines_file(t.relpath, t.lines, t.last_ms)

    def lines_file(self, relpath: str, lines: list[bytes], mtime_ms: int) -> None:
        """A JSONL file from its encoded lines (also used by the other agents' generators)."""
        self._write(relpath, b"".join(lines), mtime_ms)
        self.lines += len(lines)

    def document(self, relpath: str, data: bytes, mtime_ms: int) -> None:
        """A file that is not JSONL (a JSON document, a database): counted in files and bytes."""
        self._write(relpath, data, mtime_ms)

    def sidecar(self, relpath: str, d: Json, mtime_ms: int) -> None:
        self._write(relpath, json.dumps(d).encode("utf-8"), mtime_ms)


# ----------------------------------------------------------------------------------------------
# corpus shape: projects and session plans


@dataclass(frozen=True)
class Project:
    cwd: str
    dirname: str
    branch: str


def encode_cwd(cwd: str) -> str:
    """Claude Code's lossy project directory name: every non-alphanumeric becomes ``-``."""
    return re.sub(r"[^A-Za-z0-9]", "-", cwd)


def make_project(rng: random.Random, pool: TextPool, index: int) -> Project:
    user = rng.choice(("dev", "alex", "sam", "kim", "jo"))
    name = f"{pool.word()}-{pool.word()}" if rng.random() < 0.6 else pool.word()
    name = f"{name}{index}"  # unique, so two projects never share a directory
    kind = rng.random()
    if kind < 0.5:
        cwd = f"/home/{user}/projects/{name}"
    elif kind < 0.7:
        cwd = f"/home/{user}/src/{pool.word()}/{name}"
    elif kind < 0.85:
        cwd = f"/Users/{user}/code/{name}"
    elif kind < 0.97:
        cwd = f"/home/{user}/projects/{name}-worktrees/{name}-{pool.ident()[:6]}"
    else:
        cwd = f"C:\\Users\\{user}\\source\\repos\\{name}"
    branch = rng.choice(("main", "main", "main", "master", f"feat/{pool.word()}-{pool.word()}", ""))
    return Project(cwd=cwd, dirname=encode_cwd(cwd), branch=branch)


@dataclass
class SessionPlan:
    """What one session will contain; ``showcase`` forces every rare feature early."""

    budget: int
    start_ms: int
    project: Project
    max_result: int
    spaced: bool = False
    subagents: bool = False
    showcase: bool = False


def draw_budget(rng: random.Random, corpus_size: int, remaining: int) -> int:
    """Bytes for one session: mostly tens of KB, a long tail of MBs, rarely tens of MBs."""
    if corpus_size >= HUGE_MIN_CORPUS and rng.random() < HUGE_SESSION_RATE:
        budget = rng.randint(8_000_000, min(80_000_000, corpus_size // 12))
    else:
        budget = min(int(rng.lognormvariate(math.log(50_000), 1.3)), 4_000_000)
    # Small corpora still get several sessions, so every feature fits into 1 MB.
    return max(4_000, min(budget, max(20_000, corpus_size // 8), remaining))


# ----------------------------------------------------------------------------------------------
# one session


TOOLS = ("Bash", "Read", "Edit", "Grep", "Glob", "Write", "TodoWrite", "WebFetch", "WebSearch")
TOOL_WEIGHTS = (30, 28, 16, 9, 5, 4, 4, 2, 2)
SUBAGENT_TOOLS = ("Read", "Grep", "Glob", "Bash", "WebFetch", "WebSearch")
SUBAGENT_TOOL_WEIGHTS = (35, 25, 15, 15, 6, 4)
AGENT_TYPES = ("general-purpose", "Explore", "Plan", "code-reviewer")


@dataclass
class Response:
    """An API response as generated: its lines' message dicts and the tool calls it made."""

    lines: list[Json]
    tool_uses: list[Json]
    usage: RequestUsage | None = None
    output: int = 0  # what a correct reader counts (the largest snapshot)

    def line_outputs(self) -> list[int]:
        return [int(d["message"]["usage"]["output_tokens"]) for d in self.lines]


class Session:
    """Generates one session: the main transcript plus its subagent and compaction files."""

    def __init__(
        self,
        plan: SessionPlan,
        rng: random.Random,
        pool: TextPool,
        ids: Ids,
        tally: Tally,
        stats: Stats,
    ) -> None:
        self.plan = plan
        self.rng = rng
        self.pool = pool
        self.ids = ids
        self.tally = tally
        self.stats = stats
        self.session_id = ids.uuid()
        self.now = plan.start_ms
        day_index = max(0, (plan.start_ms - BASE_MS) // DAY_MS)
        # Versions advance over the 60 days, as users update Claude Code.
        self.version = f"2.1.{min(60, 8 + day_index * 3 // 4 + rng.randint(0, 3))}"
        self.model = rng.choices(MODELS, weights=(45, 45, 10))[0]
        self.branch = plan.project.branch if rng.random() < 0.8 else f"fix/{pool.word()}"
        self.slug = f"{pool.word()}-{pool.word()}-{pool.word()}"
        # Users with hooks configured get a hook_progress line per hook around every tool call;
        # in real transcripts these are often the most numerous lines.
        self.hooks_per_event = rng.choice((0, 0, 1, 1, 2, 3)) or int(plan.showcase)
        self.ttl = rng.choices(("1h", "5m", "mixed"), weights=(60, 30, 10))[0]
        self.dumps = dumps_spaced if plan.spaced else dumps_compact
        self.main = Transcript(f"projects/{plan.project.dirname}/{self.session_id}.jsonl", self.dumps, stats)
        self.side_files: list[Transcript] = []
        self.sidecars: list[tuple[str, Json, int]] = []
        # Responses without requestId as ccusage saw them: a resumed copy is counted again.
        self.unkeyed: list[tuple[RequestUsage, list[int]]] = []
        self.turns_done = 0
        # Tokens in the main conversation's context window (system prompt and tools to start
        # with), and how many of them are already in the prompt cache.
        self.context = rng.randint(12_000, 25_000)
        self.cached = 0
        self.compact_at = rng.randint(140_000, 175_000)
        # A showcase session puts each rare feature in its first responses, so that even a 1 MB
        # corpus has all of them; the session does not end before they are all out.
        self.pending_showcase = list(SHOWCASE_FEATURES) if plan.showcase else []
        if plan.showcase:
            self.compact_at = self.context + 3_000

    # -- bookkeeping ---------------------------------------------------------------------------

    def tick(self, lo: int, hi: int) -> int:
        self.now += self.rng.randint(lo, hi)
        return self.now

    def total_bytes(self) -> int:
        return self.main.nbytes + sum(t.nbytes for t in self.side_files)

    def over_budget(self) -> bool:
        return self.total_bytes() >= self.plan.budget and not self.pending_showcase

    def take_showcase(self, feature: str) -> bool:
        """Consume a pending showcase feature (callers take at most one per response)."""
        if feature in self.pending_showcase:
            self.pending_showcase.remove(feature)
            return True
        return False

    def envelope(self, t: Transcript, kind: str, agent_id: str | None = None) -> Json:
        d: Json = {
            "parentUuid": t.last_uuid,
            "isSidechain": agent_id is not None,
            "userType": "external",
            "cwd": self.plan.project.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": self.branch,
        }
        if agent_id is not None:
            d["agentId"] = agent_id
        if self.turns_done:
            d["slug"] = self.slug
        d["type"] = kind
        return d

    # -- the session ---------------------------------------------------------------------------

    def run(self) -> None:
        if self.rng.random() < 0.7:
            self.hook_progress(self.main, "SessionStart", "SessionStart:startup", None)
        while not self.over_budget():
            self.user_turn()

    def user_turn(self) -> None:
        t = self.main
        self.tick(5_000, 900_000 if self.rng.random() < 0.9 else 6 * 3_600_000)
        if self.take_showcase("queue") or self.rng.random() < 0.08:
            self.queue_operation()
        prompt_uuid = self.ids.uuid()
        self.file_history_snapshot(prompt_uuid)
        self.user_prompt(prompt_uuid)
        self.turns_done += 1
        steps = min(40, 1 + int(self.rng.expovariate(1 / 5)))
        for step in range(steps):
            resp = self.assistant_response(t, self.model, last=step == steps - 1)
            for tool in resp.tool_uses:
                self.run_tool(tool, resp)
            if self.take_showcase("synthetic") or self.rng.random() < SYNTHETIC_RATE:
                self.synthetic_line()
            if self.context >= self.compact_at and (self.take_showcase("compact") or self.rng.random() < 0.9):
                self.compact()
            if not resp.tool_uses or self.over_budget():
                break
        self.end_of_turn()

    # -- non-usage lines -----------------------------------------------------------------------

    def hook_progress(
        self, t: Transcript, event: str, name: str, tool_use_id: str | None, agent_id: str | None = None
    ) -> None:
        d = self.envelope(t, "progress", agent_id)
        d["data"] = {
            "type": "hook_progress",
            "hookEvent": event,
            "hookName": name,
            "command": f"${{CLAUDE_PLUGIN_ROOT}}/hooks/{self.pool.word()}-{self.pool.word()}.sh",
        }
        ref = tool_use_id or self.ids.uuid()
        d["parentToolUseID"] = ref
        d["toolUseID"] = ref
        ts = self.tick(5, 400)
        d["timestamp"] = CLOCK.iso(ts)
        d["uuid"] = self.ids.uuid()
        t.add(d, ts)

    def queue_operation(self) -> None:
        ts = self.tick(10, 2_000)
        op = self.rng.choice(("enqueue", "dequeue", "remove"))
        d: Json = {
            "type": "queue-operation",
            "operation": op,
            "timestamp": CLOCK.iso(ts),
            "sessionId": self.session_id,
        }
        if op == "enqueue":
            d["content"] = self.pool.text(self.rng.randint(20, 600))
        self.main.add(d, ts)

    def file_history_snapshot(self, message_id: str) -> None:
        backups: Json = {}
        for _ in range(self.rng.choice((0, 0, 1, 2, 5))):
            backups[self.pool.path()] = {
                "backupFileName": f"{self.ids.hex(16)}@v{self.rng.randint(1, 9)}",
                "version": self.rng.randint(1, 9),
                "backupTime": CLOCK.iso(self.now),
            }
        d = {
            "type": "file-history-snapshot",
            "messageId": message_id,
            "snapshot": {
                "messageId": message_id,
                "trackedFileBackups": backups,
                "timestamp": CLOCK.iso(self.now),
            },
            "isSnapshotUpdate": bool(backups) and self.rng.random() < 0.5,
        }
        self.main.add(d, self.now)

    def user_prompt(self, uuid: str) -> None:
        r = self.rng
        d = self.envelope(self.main, "user")
        n = int(r.lognormvariate(math.log(250), 1.2))
        content: Any = self.pool.text(max(8, min(n, 20_000)))
        if r.random() < 0.05:
            command = f"<command-name>/{self.pool.word()}</command-name>"
            content = f"{command}\n<command-args>{content[:80]}</command-args>"
        elif r.random() < 0.004:
            # a pasted screenshot: the rare multi-hundred-KB user line
            data = self.pool.signature(r.randint(60_000, 400_000))
            content = [
                {"type": "text", "text": content},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}},
            ]
        d["message"] = {"role": "user", "content": content}
        d["uuid"] = uuid
        ts = self.tick(20, 500)
        d["timestamp"] = CLOCK.iso(ts)
        d["thinkingMetadata"] = {"maxThinkingTokens": 31999}
        d["todos"] = []
        d["permissionMode"] = r.choice(("default", "acceptEdits", "bypassPermissions"))
        self.main.add(d, ts)
        self.context += n // 4

    def end_of_turn(self) -> None:
        r = self.rng
        if r.random() < 0.3:
            d = self.envelope(self.main, "system")
            d.update(
                {
                    "subtype": "stop_hook_summary",
                    "hookCount": 1,
                    "hookInfos": [{"command": f"~/.claude/hooks/{self.pool.word()}.sh"}],
                    "hookErrors": [],
                    "preventedContinuation": False,
                    "stopReason": "",
                    "hasOutput": r.random() < 0.5,
                    "level": "suggestion",
                }
            )
            ts = self.tick(20, 2_000)
            d["timestamp"] = CLOCK.iso(ts)
            d["uuid"] = self.ids.uuid()
            self.main.add(d, ts)
        if r.random() < 0.5:
            d = self.envelope(self.main, "system")
            d.update({"subtype": "turn_duration", "durationMs": r.randint(2_000, 3_000_000)})
            ts = self.tick(5, 100)
            d["timestamp"] = CLOCK.iso(ts)
            d["uuid"] = self.ids.uuid()
            d["isMeta"] = False
            self.main.add(d, ts)

    def synthetic_line(self) -> None:
        """A CLI-written assistant line: model <synthetic>, zero usage, no requestId."""
        d = self.envelope(self.main, "assistant")
        error = self.rng.random() < 0.4
        text = "API Error: Rate limit reached" if error else "No response requested."
        d["message"] = {
            "id": self.ids.uuid(),
            "model": SYNTHETIC_MODEL,
            "role": "assistant",
            "stop_reason": "stop_sequence",
            "stop_sequence": "",
            "type": "message",
            "usage": {
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                "service_tier": None,
                "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
            },
            "content": [{"type": "text", "text": text}],
        }
        d["isApiErrorMessage"] = error
        if error:
            d["error"] = "rate_limit"
            d["apiErrorStatus"] = 429
        d["uuid"] = self.ids.uuid()
        ts = self.tick(50, 3_000)
        d["timestamp"] = CLOCK.iso(ts)
        self.main.add(d, ts)
        self.stats.synthetic_lines += 1

    # -- API responses -------------------------------------------------------------------------

    def request_usage(self, context: int, cached: int) -> RequestUsage:
        r = self.rng
        if r.random() < 0.03:
            cached = min(cached, r.randint(0, 15_000))  # a cache miss (expired TTL)
        write = max(0, context - cached)
        if self.ttl == "1h":
            w5, w1 = 0, write
        elif self.ttl == "5m":
            w5, w1 = write, 0
        else:
            w5 = r.randint(0, write)
            w1 = write - w5
        inp = r.choice((1, 3, 3, 6, 8, 10)) if cached else r.randint(4, 3_000)
        tier = "standard" if r.random() < 0.98 else "priority"
        return RequestUsage(input=inp, cache_5m=w5, cache_1h=w1, cache_read=cached, service_tier=tier)

    def make_blocks(
        self, model: str, last: bool, tools: tuple[str, ...], weights: tuple[int, ...], force_tool: str | None
    ) -> tuple[list[Json], list[Json]]:
        """Content blocks of one response: [thinking] [text] tool_use*; the last step has no tools."""
        r, p = self.rng, self.pool
        blocks: list[Json] = []
        if model != MODELS[2] and r.random() < 0.55:
            thinking = p.text(int(r.lognormvariate(math.log(600), 1.0)))
            blocks.append(
                {"type": "thinking", "thinking": thinking, "signature": p.signature(r.randint(200, 3_000))}
            )
        if last or r.random() < 0.6:
            n = int(r.lognormvariate(math.log(900 if last else 300), 1.0))
            blocks.append({"type": "text", "text": p.text(min(n, 30_000))})
        tool_uses: list[Json] = []
        if not last:
            n_tools = 1 + r.randint(1, 6) if r.random() < 0.2 else 1
            names = r.choices(tools, weights=weights, k=n_tools)
            if force_tool is not None:
                names[0] = force_tool
            tool_uses = [self.tool_use(name) for name in names]
        if not blocks and not tool_uses:
            blocks.append({"type": "text", "text": p.text(r.randint(20, 400))})
        return blocks + tool_uses, tool_uses

    def response_flags(self, last: bool) -> tuple[str | None, bool, bool]:
        """(forced tool, partial only, without requestId) for one main-transcript response."""
        r = self.rng
        force_tool = None
        partial_only = r.random() < PARTIAL_ONLY_RATE
        no_request_id = r.random() < NO_REQUEST_ID_RATE
        if not last:
            if self.take_showcase("task") or (self.plan.subagents and r.random() < TASK_RATE):
                force_tool = "Task"
            elif self.take_showcase("web_search"):
                force_tool, partial_only = "WebSearch", False
            elif self.take_showcase("partial_only"):
                partial_only = True
            elif self.take_showcase("no_request_id"):
                no_request_id = True
        return force_tool, partial_only, no_request_id

    def assistant_response(
        self,
        t: Transcript,
        model: str,
        last: bool,
        agent_id: str | None = None,
        context: tuple[int, int] | None = None,
        tools: tuple[str, ...] = TOOLS,
        weights: tuple[int, ...] = TOOL_WEIGHTS,
        defer_peer: bool = False,
    ) -> Response:
        """One streamed API response: one line per content block, sharing id, requestId, usage.

        ``context`` is (tokens, cached tokens) of a subagent's or summarizer's own context;
        ``None`` means the main conversation's, which this response then grows. ``defer_peer``:
        the caller tallies the ccusage view once it knows the response's progress copies.
        """
        r = self.rng
        in_main = context is None
        if in_main:
            force_tool, partial_only, no_request_id = self.response_flags(last)
        else:
            force_tool, partial_only, no_request_id = None, r.random() < PARTIAL_ONLY_RATE, False
        blocks, tool_uses = self.make_blocks(model, last, tools, weights, force_tool)
        ctx, cached = (self.context, self.cached) if context is None else context
        u = self.request_usage(ctx, cached)
        sizes = [block_chars(b) for b in blocks]
        partials = self.partial_outputs(sizes)
        final = max(sum(sizes) // 4 + r.randint(0, 200), partials[-1] + r.randint(1, 60))
        web = 0
        if any(b["name"] == "WebSearch" for b in tool_uses):
            web = r.randint(1, 3) if force_tool == "WebSearch" else r.randint(0, 2)
        msg_id = self.ids.msg_id()
        request_id = None if no_request_id else self.ids.request_id()
        stop = "tool_use" if tool_uses else "end_turn"
        lines: list[Json] = []
        first_ms = 0
        for i, block in enumerate(blocks):
            has_final = i == len(blocks) - 1 and not partial_only
            usage = usage_json(u, final, web) if has_final else usage_json(u, partials[i], None)
            message = {
                "model": model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": stop if has_final and r.random() < 0.3 else None,
                "stop_sequence": None,
                "usage": usage,
            }
            d = self.envelope(t, "assistant", agent_id)
            del d["type"]  # Claude Code writes message and requestId before type
            d["message"] = message
            if request_id is not None:
                d["requestId"] = request_id
            d["type"] = "assistant"
            d["uuid"] = self.ids.uuid()
            ts = self.tick(300, 2_500) if i == 0 else self.tick(200, 8_000)
            first_ms = first_ms or ts
            d["timestamp"] = CLOCK.iso(ts)
            t.add(d, ts)
            lines.append(d)
        # What a max-output reader keeps: the final line, or the largest partial without one.
        output = partials[-1] if partial_only else final
        counted_web = 0 if partial_only else web
        self.tally.add((msg_id, request_id), first_ms, model, u, output, counted_web)
        response = Response(lines=lines, tool_uses=tool_uses, usage=u, output=output)
        if agent_id is None or not defer_peer:
            self.peer_seen(t, response, request_id is None)
        self.stats.partial_only_responses += partial_only
        self.stats.no_request_id_responses += no_request_id
        self.stats.web_search_responses += counted_web > 0
        if in_main:
            self.cached = u.cache_read + u.cache_5m + u.cache_1h
            self.context = self.cached + u.input + output
        return response

    def peer_seen(
        self, t: Transcript, resp: Response, unkeyed: bool, copies: list[int] | None = None
    ) -> None:
        """Tally what ccusage counts for a response written to ``t`` (see :class:`Tally`);
        ``copies``: the outputs of its ``agent_progress`` copies in the parent, for subagents."""
        assert resp.usage is not None
        if copies and self.main.dumps is dumps_compact:
            outputs = [max(copies)]  # the parent's copy wins, whatever the subagent file says
        elif t.dumps is dumps_spaced:
            outputs = []
        elif unkeyed:
            outputs = resp.line_outputs()
            self.unkeyed.append((resp.usage, outputs))
        else:
            outputs = [resp.output]
        self.tally.add_peer(resp.usage, outputs)

    def partial_outputs(self, sizes: list[int]) -> list[int]:
        """Output snapshots on the lines of one response, non-decreasing.

        2.1.x mostly repeats one small number (1, 8, 10…) on every line; older builds wrote a
        growing count. Both shapes are produced.
        """
        r = self.rng
        if r.random() < 0.65:
            return [r.choice((1, 1, 2, 3, 4, 8, 8, 10, 11, 12, 26, 30))] * len(sizes)
        out: list[int] = []
        total = 0
        for n in sizes:
            total += max(1, n // 5)
            out.append(total)
        return out

    # -- tools ---------------------------------------------------------------------------------

    def tool_use(self, name: str) -> Json:
        p, r = self.pool, self.rng
        root = self.plan.project.cwd
        inputs: dict[str, Callable[[], Json]] = {
            "Bash": lambda: {
                "command": f"{p.word()} {p.path()} | head -n {r.randint(5, 200)}",
                "description": p.text(r.randint(15, 60)).strip(),
            },
            "Read": lambda: {"file_path": p.path(root)},
            "Edit": lambda: {
                "file_path": p.path(root),
                "old_string": p.code_text(r.randint(20, 1_500)),
                "new_string": p.code_text(r.randint(20, 2_500)),
            },
            "Grep": lambda: {"pattern": f"{p.ident()}\\(", "path": root, "output_mode": "content"},
            "Glob": lambda: {"pattern": f"**/*.{r.choice(_EXTS)}"},
            "Write": lambda: {"file_path": p.path(root), "content": p.code_text(r.randint(200, 12_000))},
            "TodoWrite": lambda: {
                "todos": [
                    {
                        "content": p.text(r.randint(20, 90)).strip(),
                        "status": r.choice(("pending", "in_progress", "completed")),
                        "activeForm": p.text(r.randint(20, 60)).strip(),
                    }
                    for _ in range(r.randint(1, 8))
                ]
            },
            "WebFetch": lambda: {
                "url": f"https://{p.word()}.example.com/{p.word()}",
                "prompt": p.text(r.randint(40, 300)),
            },
            "WebSearch": lambda: {"query": p.text(r.randint(20, 80)).strip()},
            "Task": lambda: {
                "description": p.text(r.randint(15, 50)).strip(),
                "prompt": p.text(r.randint(200, 4_000)),
                "subagent_type": r.choice(AGENT_TYPES),
            },
        }
        return {
            "type": "tool_use",
            "id": self.ids.tool_use_id(),
            "name": name,
            "input": inputs[name](),
            "caller": {"type": "direct"},
        }

    def result_size(self) -> int:
        """Tool output bytes: median ~1.5 KB, mostly under 50 KB, a tail of a few hundred KB.

        Most tools repeat the output in ``toolUseResult``, so lines are up to twice as long.
        The tail is capped for small corpora, where one such line would be most of the corpus.
        """
        r = self.rng
        if r.random() < 0.004:
            return min(r.randint(100_000, 250_000), self.plan.max_result)
        return min(int(r.lognormvariate(math.log(1_500), 1.3)), 50_000)

    def tool_result(
        self,
        t: Transcript,
        tool: Json,
        resp: Response,
        agent_id: str | None,
        content: str | None = None,
        extra: Json | None = None,
    ) -> Json:
        """The user line carrying a tool's output; most tools repeat it in ``toolUseResult``."""
        r, p = self.rng, self.pool
        name = tool["name"]
        if content is None:
            n = self.result_size()
            content = p.code_text(n) if name in ("Read", "Write", "Edit") else p.log_text(n)
        result: Json | str
        if name == "Bash":
            result = {"stdout": content, "stderr": "", "interrupted": False, "isImage": False}
        elif name == "Read":
            lines = content.count("\n") + 1
            result = {
                "type": "text",
                "file": {
                    "filePath": tool["input"]["file_path"],
                    "content": content,
                    "numLines": lines,
                    "startLine": 1,
                    "totalLines": lines,
                },
            }
        elif name == "Edit":
            result = {
                "filePath": tool["input"]["file_path"],
                "oldString": tool["input"]["old_string"],
                "newString": tool["input"]["new_string"],
                "originalFile": p.code_text(r.randint(500, 20_000)),
                "structuredPatch": [],
                "userModified": False,
                "replaceAll": False,
            }
            content = f"The file {tool['input']['file_path']} has been updated."
        elif extra is not None:
            result = extra
        else:
            result = content
        d = self.envelope(t, "user", agent_id)
        d["message"] = {
            "role": "user",
            "content": [
                {
                    "tool_use_id": tool["id"],
                    "type": "tool_result",
                    "content": content,
                    "is_error": r.random() < 0.03,
                }
            ],
        }
        d["uuid"] = self.ids.uuid()
        ts = self.tick(30, 30_000)
        d["timestamp"] = CLOCK.iso(ts)
        d["toolUseResult"] = result
        d["sourceToolAssistantUUID"] = resp.lines[-1]["uuid"]
        t.add(d, ts)
        return d

    def run_tool(self, tool: Json, resp: Response) -> None:
        r = self.rng
        for _ in range(self.hooks_per_event):
            self.hook_progress(self.main, "PreToolUse", f"PreToolUse:{tool['name']}", tool["id"])
        if tool["name"] == "Task":
            self.run_subagent(tool, resp)
        else:
            if tool["name"] == "Bash" and r.random() < 0.3:
                self.bash_progress(tool)
            d = self.tool_result(self.main, tool, resp, None)
            self.context += len(d["message"]["content"][0]["content"]) // 4
        for _ in range(self.hooks_per_event):
            self.hook_progress(self.main, "PostToolUse", f"PostToolUse:{tool['name']}", tool["id"])

    def bash_progress(self, tool: Json) -> None:
        for i in range(self.rng.randint(1, 4)):
            d = self.envelope(self.main, "progress")
            out = self.pool.log_text(self.rng.randint(100, 3_000))
            d["data"] = {
                "type": "bash_progress",
                "output": out,
                "fullOutput": out,
                "elapsedTimeSeconds": i + 1,
                "totalLines": out.count("\n"),
                "timeoutMs": 120_000,
            }
            d["toolUseID"] = f"bash-progress-{i}"
            d["parentToolUseID"] = tool["id"]
            d["uuid"] = self.ids.uuid()
            ts = self.tick(500, 1_500)
            d["timestamp"] = CLOCK.iso(ts)
            self.main.add(d, ts)

    # -- subagents -----------------------------------------------------------------------------

    def subagent_dir(self) -> str:
        return f"projects/{self.plan.project.dirname}/{self.session_id}/subagents"

    def run_subagent(self, task: Json, resp: Response) -> None:
        """A Task call: the subagent's own file, its sidecar, and progress copies in the parent."""
        r = self.rng
        agent_id = "a" + self.ids.hex(6 if r.random() < 0.5 else 16)
        sub = Transcript(f"{self.subagent_dir()}/agent-{agent_id}.jsonl", dumps_compact, self.stats)
        self.side_files.append(sub)
        self.stats.subagents += 1
        prompt = task["input"]["prompt"]
        model = self.model if r.random() < 0.2 else r.choice(MODELS[1:])
        progress_ref = {"toolUseID": f"agent_msg_{self.ids.msg_id()[4:]}", "parentToolUseID": task["id"]}

        first = self.envelope(sub, "user", agent_id)
        first["message"] = {"role": "user", "content": prompt}
        first["uuid"] = self.ids.uuid()
        ts = self.tick(50, 500)
        first["timestamp"] = CLOCK.iso(ts)
        sub.add(first, ts)
        self.agent_progress(agent_id, prompt, first, progress_ref)

        context = r.randint(9_000, 20_000) + len(prompt) // 4
        cached = 0
        budget = int(r.lognormvariate(math.log(60_000), 1.0))
        steps = r.randint(2, 14)
        for step in range(steps):
            last = step == steps - 1 or sub.nbytes > budget
            sub_resp = self.assistant_response(
                sub, model, last, agent_id, (context, cached), SUBAGENT_TOOLS, SUBAGENT_TOOL_WEIGHTS, True
            )
            copies: list[int] = []
            for line in sub_resp.lines:
                if r.random() < PROGRESS_COPY_RATE:
                    self.agent_progress(agent_id, prompt, line, progress_ref)
                    copies.append(line["message"]["usage"]["output_tokens"])
            self.peer_seen(sub, sub_resp, False, copies)
            u = sub_resp.lines[0]["message"]["usage"]
            cached = u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
            context = cached + u["input_tokens"] + 200
            for tool in sub_resp.tool_uses:
                d = self.tool_result(sub, tool, sub_resp, agent_id)
                context += len(d["message"]["content"][0]["content"]) // 4
                if r.random() < 0.3:
                    self.agent_progress(agent_id, prompt, d, progress_ref)
            if last:
                break

        self.task_result(task, resp, agent_id, sub)
        if self.take_showcase("meta") or r.random() < META_SIDECAR_RATE:
            meta = {
                "agentType": task["input"]["subagent_type"],
                "description": task["input"]["description"],
                "toolUseId": task["id"],
            }
            self.sidecars.append((f"{self.subagent_dir()}/agent-{agent_id}.meta.json", meta, self.now))
            self.stats.meta_sidecars += 1

    def agent_progress(self, agent_id: str, prompt: str, line: Json, ref: Json) -> None:
        """Copy a subagent line into the parent, as Claude Code 2.1.x does while it runs."""
        inner: Json = {"type": line["type"], "timestamp": line["timestamp"]}
        if line["type"] == "assistant":
            inner["message"] = {**line["message"], "context_management": None}
            if "requestId" in line:
                inner["requestId"] = line["requestId"]
            self.stats.progress_copies += 1
        else:
            inner["message"] = line["message"]
        inner["uuid"] = line["uuid"]
        d = self.envelope(self.main, "progress")
        d["data"] = {
            "message": inner,
            "normalizedMessages": [],
            "type": "agent_progress",
            "prompt": prompt,
            "agentId": agent_id,
        }
        d.update(ref)
        d["uuid"] = self.ids.uuid()
        ts = self.tick(1, 3)
        d["timestamp"] = CLOCK.iso(ts)
        self.main.add(d, ts)

    def task_result(self, task: Json, resp: Response, agent_id: str, sub: Transcript) -> None:
        r = self.rng
        answer = self.pool.text(r.randint(300, 6_000))
        text = f"{answer}\nagentId: {agent_id} (for resuming to continue this agent's work if needed)"
        extra = {
            "status": "completed",
            "prompt": task["input"]["prompt"],
            "agentId": agent_id,
            "content": [{"type": "text", "text": answer}],
            "totalDurationMs": r.randint(5_000, 900_000),
            "totalTokens": r.randint(5_000, 200_000),
            "totalToolUseCount": len(sub.lines) // 3,
        }
        self.tool_result(self.main, task, resp, None, content=text, extra=extra)
        self.context += len(text) // 4

    # -- compaction ----------------------------------------------------------------------------

    def compact(self) -> None:
        """An auto-compaction: the summarizer call in agent-acompact-*, a boundary in the parent."""
        r = self.rng
        agent_id = f"acompact-{self.ids.hex(6)}"
        t = Transcript(f"{self.subagent_dir()}/agent-{agent_id}.jsonl", dumps_compact, self.stats)
        self.side_files.append(t)
        self.stats.compactions += 1
        for _ in range(r.randint(0, 2)):
            d = self.envelope(t, "user", agent_id)
            d["message"] = {
                "role": "user",
                "content": f"<system-reminder>\n{self.pool.text(r.randint(200, 2_000))}",
            }
            d["isMeta"] = True
            d["uuid"] = self.ids.uuid()
            ts = self.tick(10, 100)
            d["timestamp"] = CLOCK.iso(ts)
            t.add(d, ts)
        d = self.envelope(t, "user", agent_id)
        d["parentUuid"] = self.main.last_uuid
        d["message"] = {"role": "user", "content": self.pool.text(r.randint(6_000, 9_000))}
        d["uuid"] = self.ids.uuid()
        ts = self.tick(10, 100)
        d["timestamp"] = CLOCK.iso(ts)
        t.add(d, ts)
        pre_tokens = self.context
        resp = self.assistant_response(t, self.model, True, agent_id, (self.context, self.cached))
        summary = resp.lines[-1]["message"]["content"][0].get("text", "")

        boundary = self.envelope(self.main, "system")
        boundary["parentUuid"] = None
        boundary["logicalParentUuid"] = self.main.last_uuid
        boundary.update({"subtype": "compact_boundary", "content": "Conversation compacted", "isMeta": False})
        ts = self.tick(100, 1_000)
        boundary["timestamp"] = CLOCK.iso(ts)
        boundary["uuid"] = self.ids.uuid()
        boundary["level"] = "info"
        boundary["compactMetadata"] = {
            "trigger": "auto" if r.random() < 0.85 else "manual",
            "preTokens": pre_tokens,
        }
        self.main.add(boundary, ts)
        d = self.envelope(self.main, "user")
        d["message"] = {
            "role": "user",
            "content": "This session is being continued from a previous "
            "conversation that ran out of context. " + summary,
        }
        d["isVisibleInTranscriptOnly"] = True
        d["isCompactSummary"] = True
        d["uuid"] = self.ids.uuid()
        d["timestamp"] = CLOCK.iso(ts)
        self.main.add(d, ts)
        self.context = r.randint(12_000, 20_000) + len(summary) // 4
        self.cached = 0
        self.compact_at = r.randint(140_000, 175_000)


# ----------------------------------------------------------------------------------------------
# the corpus


@dataclass(frozen=True)
class Options:
    out: Path
    size: int
    seed: int
    files_per_project: int
    density: float = 1.0


class Corpus:
    """Draws session plans until the size is reached and writes every session as it finishes."""

    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.rng = random.Random(opts.seed)
        self.pool = TextPool(self.rng, opts.density)
        self.ids = Ids(self.rng)
        self.tally = Tally()
        self.stats = Stats()
        self.writer = CorpusWriter(opts.out)
        self.projects: list[Project] = []
        self.sessions_in_project = 0
        self.max_result = max(20_000, opts.size // 20)

    def project(self) -> Project:
        if not self.projects or self.sessions_in_project >= self.opts.files_per_project:
            self.projects.append(make_project(self.rng, self.pool, len(self.projects)))
            self.sessions_in_project = 0
        self.sessions_in_project += 1
        return self.projects[-1]

    def run(self) -> Json:
        # Session 0 is written pretty-spaced and session 1 is the showcase (every rare feature,
        # then resumed once), so that even the smallest corpus has every feature.
        index = 0
        while self.writer.bytes < self.opts.size or index < 2:
            remaining = max(0, self.opts.size - self.writer.bytes)
            plan = SessionPlan(
                budget=draw_budget(self.rng, self.opts.size, remaining),
                start_ms=BASE_MS + self.rng.randrange(SPAN_DAYS * DAY_MS),
                project=self.project(),
                max_result=self.max_result,
                spaced=index == 0 or self.rng.random() < SPACED_RATE,
                subagents=index == 1 or self.rng.random() < SUBAGENT_SESSION_RATE,
                showcase=index == 1,
            )
            session = self.session(plan)
            resumable = session.main.nbytes <= RESUME_MAX_SOURCE
            if resumable and (plan.showcase or self.rng.random() < RESUME_RATE):
                self.resume(session)
            index += 1
        return self.expected()

    def session(self, plan: SessionPlan) -> Session:
        s = Session(plan, self.rng, self.pool, self.ids, self.tally, self.stats)
        s.run()
        self.write(s)
        return s

    def resume(self, source: Session) -> None:
        """``claude --resume`` in older builds: a new file that starts with the old one's lines."""
        plan = SessionPlan(
            budget=source.main.nbytes + draw_budget(self.rng, self.opts.size, 10**12) // 2,
            start_ms=source.main.last_ms + self.rng.randint(60_000, 2 * DAY_MS),
            project=source.plan.project,
            max_result=self.max_result,
            spaced=source.plan.spaced,
            subagents=source.plan.subagents,
        )
        self.sessions_in_project += 1
        # The same (message.id, requestId) pairs reappear; only sessionId is rewritten.
        placeholder = b"\x00pending-session-id\x00"
        old = source.session_id.encode()
        copied = [line.replace(old, placeholder) for line in source.main.lines]
        s = Session(plan, self.rng, self.pool, self.ids, self.tally, self.stats)
        new = s.session_id.encode()
        s.main.lines.extend(line.replace(placeholder, new) for line in copied)
        s.main.nbytes = sum(map(len, s.main.lines))
        s.main.last_ms = plan.start_ms
        s.main.last_uuid = source.main.last_uuid
        s.turns_done = source.turns_done
        for usage, outputs in source.unkeyed:  # ccusage does not deduplicate them: counted again
            self.tally.add_peer(usage, outputs)
        s.run()
        self.write(s)
        self.stats.resumed_sessions += 1

    def write(self, s: Session) -> None:
        self.writer.transcript(s.main)
        for t in s.side_files:
            self.writer.transcript(t)
        for relpath, meta, mtime in s.sidecars:
            self.writer.sidecar(relpath, meta, mtime)
        self.stats.sessions += 1
        self.stats.spaced_files += s.plan.spaced

    def expected(self) -> Json:
        return {
            "generator": {"name": GENERATOR, "version": GENERATOR_VERSION},
            "seed": self.opts.seed,
            **density_field(self.opts.density),
            "target_size_bytes": self.opts.size,
            "size_bytes": self.writer.bytes,
            "files": self.writer.files,
            "lines": self.writer.lines,
            "files_per_project": self.opts.files_per_project,
            "projects": len(self.projects),
            "totals": self.tally.totals,
            "by_day": dict(sorted(self.tally.by_day.items())),
            "peer": {"ccusage_visible": self.tally.peer},
            "features": vars(self.stats),
        }


def parse_density(text: str) -> float:
    """``--density``: a factor ≥ 1 that divides text lengths (32: ~200 turns/MB, mixed)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"not a density: {text!r} (a number from 1 to 100, e.g. 32)")
    return value


def generate(out: Path, size: int, seed: int = 1, files_per_project: int = 40, density: float = 1.0) -> Json:
    """Write a corpus into ``out`` (which must not contain one yet) and return expected.json."""
    opts = Options(out=out, size=size, seed=seed, files_per_project=files_per_project, density=density)
    expected = Corpus(opts).run()
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return expected


def corpus_parser(doc: str | None, out_help: str) -> argparse.ArgumentParser:
    """The options every generator takes (``gen_codex.py`` and ``gen_opencode.py`` use it too)."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help=out_help)
    ap.add_argument("--size", type=parse_size, required=True, help="total bytes, e.g. 1MB, 500MB, 2GB, 1GiB")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--density",
        type=parse_density,
        default=1.0,
        help="divide text lengths by this factor: more, shorter turns per MB (default 1)",
    )
    ap.add_argument("--force", action="store_true", help="replace an existing corpus in --out")
    ap.add_argument("--quiet", action="store_true")
    return ap


def replace_corpus(
    ap: argparse.ArgumentParser, out: Path, force: bool, dirs: Sequence[str], files: Sequence[str]
) -> None:
    """Make ``out`` ready for a new corpus: a generator's ``dirs`` and ``files`` in it are an older
    corpus, removed with ``--force`` and an error without (``expected.json`` always counts)."""
    files = (*files, "expected.json")
    if any((out / name).exists() for name in (*dirs, *files)):
        if not force:
            ap.error(f"{out} already holds a corpus; pass --force to replace it")
        for name in dirs:
            shutil.rmtree(out / name, ignore_errors=True)
        for name in files:
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def print_summary(expected: Json, out: Path, started: float, turns_are: str) -> None:
    """The line a generator prints on stderr when it is done."""
    secs = time.perf_counter() - started
    mb = expected["size_bytes"] / 1e6
    lines = f" ({expected['lines']:,} lines)" if expected["lines"] else ""  # a database has none
    print(
        f"wrote {mb:,.1f} MB in {expected['files']:,} files{lines} to {out} in {secs:.1f} s "
        f"({mb / secs:,.0f} MB/s); {expected['totals']['turns']:,} {turns_are}",
        file=sys.stderr,
    )


def main(argv: list[str] | None = None) -> int:
    ap = corpus_parser(__doc__, "directory to create the Claude config tree in")
    ap.add_argument(
        "--files-per-project",
        type=int,
        default=40,
        help="main session transcripts per project directory (default 40)",
    )
    args = ap.parse_args(argv)
    if args.files_per_project < 1:
        ap.error("--files-per-project must be >= 1")
    out: Path = args.out
    replace_corpus(ap, out, args.force, ["projects"], [])
    started = time.perf_counter()
    expected = generate(out, args.size, args.seed, args.files_per_project, args.density)
    if not args.quiet:
        print_summary(expected, out, started, "unique API responses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
