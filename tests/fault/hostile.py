"""The hostile-input corpus generator (issue 11): malformed input for the three agents' readers,
each class mixed with known good records.

Every class writes the same good base (:func:`write_good`: two Claude Code turns, two Codex
``token_count`` turns, one OpenCode storage turn and a one-turn ``opencode.db``) plus its hostile
input, into agent directories ``root/{claude,codex,opencode}``. Its reference is the good base
alone (or, for a class whose hostile input also carries good records, the same records written
plainly: :attr:`HostileClass.reference`). A class passes when ``burn ingest`` exits 0 without a
traceback, counts the hostile input under :attr:`HostileClass.counted` in its ``--json`` totals,
and ``burn summary --json`` equals the reference's: every good token kept, nothing counted twice.

Used by ``tests/fault/test_hostile.py`` and ``benchmarks/faults.py --hostile``.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson

from tests import opencode_db as oc
from tests.claude_lines import assistant, user
from tests.fault.harness import corpus_env

# A huge line: ~20 MB in the tests; the benchmark raises it (HOSTILE_HUGE_BYTES).
HUGE_BYTES = int(os.environ.get("HOSTILE_HUGE_BYTES", str(20 * 1024 * 1024)))

CLAUDE_SESSION = "11111111-1111-4111-8111-111111111111"
CODEX_SID = "ba0c0000-0000-4000-8000-0000000000aa"
OPENCODE_SESSION = "ses_hostile"


def claude_path(root: Path, session: str = CLAUDE_SESSION, name: str | None = None) -> Path:
    return root / "claude" / "projects" / "-work-demo" / (name or f"{session}.jsonl")


def codex_path(root: Path, sid: str = CODEX_SID) -> Path:
    return root / "codex" / "sessions" / "2026" / "03" / "04" / f"rollout-2026-03-04T09-00-00-{sid}.jsonl"


def opencode_storage(root: Path) -> Path:
    return root / "opencode" / "storage"


def _j(obj: Any) -> bytes:
    # json, not orjson: orjson refuses integers beyond 64 bits, which are one of the classes.
    return json.dumps(obj, separators=(",", ":")).encode()


# -- the good base ------------------------------------------------------------------------------


def claude_good() -> list[bytes]:
    return [
        _j(user("u-1", "hello", ts="2026-03-04T09:00:00.000Z")),
        _j(assistant("msg_good_1", 111, ts="2026-03-04T09:00:01.000Z", input_tokens=5, cache_read=1000)),
        _j(assistant("msg_good_2", 222, ts="2026-03-04T09:00:02.000Z", input_tokens=7, cache_read=2000)),
    ]


def _codex_usage(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def codex_line(kind: str, payload: Any, second: int) -> bytes:
    return _j({"timestamp": f"2026-03-04T09:00:{second:02d}.000Z", "type": kind, "payload": payload})


def codex_tokens(second: int, total: Any, last: Any) -> bytes:
    info = {"total_token_usage": total, "last_token_usage": last, "model_context_window": 272000}
    return codex_line("event_msg", {"type": "token_count", "info": info, "rate_limits": None}, second)


def codex_head(sid: str = CODEX_SID) -> list[bytes]:
    meta = {
        "id": sid,
        "timestamp": "2026-03-04T09:00:00.000Z",
        "cwd": "/work/demo",
        "originator": "codex_cli_rs",
        "cli_version": "0.63.0",
        "source": "cli",
        "model_provider": "openai",
    }
    return [
        codex_line("session_meta", meta, 1),
        codex_line("turn_context", {"cwd": "/work/demo", "model": "gpt-5.1-codex"}, 2),
    ]


def codex_turns() -> list[bytes]:
    first = _codex_usage(12000, 0, 600, 200)
    second = _codex_usage(27100, 11900, 1237, 411)
    return [
        codex_tokens(10, first, first),
        codex_tokens(20, second, _codex_usage(15100, 11900, 637, 211)),
    ]


def opencode_message() -> dict[str, Any]:
    return oc.assistant(
        "msg_hostile_good",
        OPENCODE_SESSION,
        tokens=oc.tokens(input=40, output=300, reasoning=20, read=5000, write=100),
    )


def write_claude(root: Path, lines: Sequence[bytes], *, prefix: bytes = b"", end: bytes = b"\n") -> Path:
    path = claude_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(prefix + b"\n".join(lines) + end)
    return path


def write_codex(root: Path, lines: Sequence[bytes]) -> Path:
    path = codex_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def write_opencode_db(path: Path) -> None:
    """A one-turn ``opencode.db`` (WAL mode, checkpointed and closed: no ``-wal`` left)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = oc.OpenCodeDB(path)
    _fill_db(db)
    db.conn.close()


def _fill_db(db: oc.OpenCodeDB) -> None:
    db.project()
    db.session("ses_db")
    db.message(oc.user("msg_db_user", "ses_db"))
    db.message(
        oc.assistant(
            "msg_db_good", "ses_db", tokens=oc.tokens(input=9, output=90, reasoning=0, read=900, write=0)
        )
    )


def write_good(
    root: Path,
    *,
    claude: Sequence[bytes] | None = None,
    codex: Sequence[bytes] | None = None,
    db: bool = True,
) -> None:
    """The good base; ``claude``/``codex`` replace those files' lines (the good ones plus the
    class's hostile lines)."""
    for d in ("home", "claude", "codex", "opencode"):
        (root / d).mkdir(parents=True, exist_ok=True)
    write_claude(root, claude if claude is not None else claude_good())
    write_codex(root, codex if codex is not None else [*codex_head(), *codex_turns()])
    oc.write_message(opencode_storage(root), opencode_message())
    if db:
        write_opencode_db(root / "opencode" / "opencode.db")


def claude_mixed(bad: Sequence[bytes]) -> list[bytes]:
    """The good Claude lines with ``bad`` between the two assistant turns."""
    good = claude_good()
    return [good[0], good[1], *bad, good[2]]


def codex_mixed(bad: Sequence[bytes]) -> list[bytes]:
    """The good Codex lines with ``bad`` between the two token counts."""
    turns = codex_turns()
    return [*codex_head(), turns[0], *bad, turns[1]]


# -- the classes --------------------------------------------------------------------------------

Plant = Callable[[Path], None]


@attrs.frozen
class HostileClass:
    """One class of malformed input.

    ``plant(root)`` writes the good base and the hostile input; ``reference(root)`` the good
    records alone (default :func:`write_good`). ``counted``: the ``burn ingest --json`` totals
    group (``invalid_skipped``, ``repaired``, ``duplicates_dropped``, ``rereads``) whose count must
    be > 0, or ``None`` for input that is odd but valid (nothing to skip; the totals must still
    equal the reference's). ``between(root)``: for a class that changes its files between two
    ingests (the second is the one judged). ``skip``: a reason this class cannot run here.
    """

    name: str
    agent: str
    plant: Plant
    counted: str | None = "invalid_skipped"
    reference: Plant = write_good
    between: Plant | None = None
    skip: Callable[[], str | None] = lambda: None


def _claude_bad(*bad: bytes) -> Plant:
    return lambda root: write_good(root, claude=claude_mixed(bad))


def _codex_bad(*bad: bytes) -> Plant:
    return lambda root: write_good(root, codex=codex_mixed(bad))


USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")

# A bad value's stand-in in a reference: the field is left out. A record with one wrong-typed
# count is kept with that count unknown (never a silent 0), exactly as if it had no such field.
ABSENT = object()


def _set(obj: dict[str, Any], key: str, value: Any) -> None:
    if value is ABSENT:
        obj.pop(key, None)
    else:
        obj[key] = value


def _claude_usage(value: Any, n: int = 0) -> list[bytes]:
    """One assistant line per usage field holding ``value`` (its other fields good)."""
    out = []
    for i, field in enumerate(USAGE_FIELDS):
        line = assistant(f"msg_bad_{n}_{i}", 50, ts="2026-03-04T09:00:01.500Z")
        _set(line["message"]["usage"], field, value)
        out.append(_j(line))
    cc = assistant(f"msg_bad_{n}_cc", 50, ts="2026-03-04T09:00:01.500Z")
    _set(cc["message"]["usage"]["cache_creation"], "ephemeral_1h_input_tokens", value)
    out.append(_j(cc))
    return out


def _usage_class(name: str, *values: Any) -> HostileClass:
    """Claude usage fields holding each of ``values`` in turn; the reference leaves them out."""

    def lines(absent: bool) -> list[bytes]:
        return [x for n, v in enumerate(values) for x in _claude_usage(ABSENT if absent else v, n)]

    return HostileClass(
        name,
        "claude",
        lambda root: write_good(root, claude=claude_mixed(lines(False))),
        reference=lambda root: write_good(root, claude=claude_mixed(lines(True))),
    )


def _codex_usage_bad(value: Any) -> list[bytes]:
    """Token counts whose every numeric field, one at a time, holds ``value``."""
    out = []
    for field in ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens"):
        bad = _codex_usage(13000, 0, 700, 200)
        bad[field] = value
        out.append(codex_tokens(15, bad, bad))
    return out


def _opencode_tokens_plant(value: Any) -> Plant:
    def plant(root: Path) -> None:
        write_good(root)
        for i, key in enumerate(("input", "output", "reasoning")):
            toks = oc.tokens(input=1, output=2, reasoning=3, read=4, write=5)
            _set(toks, key, value)
            oc.write_message(
                opencode_storage(root), oc.assistant(f"msg_bad_{i}", OPENCODE_SESSION, tokens=toks)
            )
        toks = oc.tokens(input=1, output=2)
        _set(toks["cache"], "read", value)
        oc.write_message(opencode_storage(root), oc.assistant("msg_bad_cache", OPENCODE_SESSION, tokens=toks))

    return plant


def _opencode_tokens_class(name: str, value: Any, counted: str | None = "invalid_skipped") -> HostileClass:
    """OpenCode token counts holding ``value``; the reference leaves them out."""
    return HostileClass(
        name,
        "opencode",
        _opencode_tokens_plant(value),
        counted=counted,
        reference=_opencode_tokens_plant(ABSENT),
    )


def _extra_file(make: Callable[[Path], None]) -> Plant:
    """The good base plus a hostile entry made by ``make(path)`` beside each agent's good file."""

    def plant(root: Path) -> None:
        write_good(root)
        make(claude_path(root, name="hostile.jsonl"))
        make(codex_path(root, sid="ba0c0000-0000-4000-8000-0000000000ff"))
        make(opencode_storage(root) / "message" / OPENCODE_SESSION / "msg_hostile_entry.json")

    return plant


def _empty(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(range(256)) * 64 + b"\n\x00\xff\xfe\n")


def _directory(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "inner.jsonl").write_bytes(b"")


def _symlink_loop(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    other = path.with_name("loop-" + path.name)
    os.symlink(other.name, path)
    os.symlink(path.name, other)


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def _unreadable(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'{"type":"user"}\n')
    path.chmod(0)


def _as_root() -> str | None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "runs as root: chmod 000 does not stop root's reads (directory_as_file covers EISDIR)"
    return None


def _utf8_bom(root: Path) -> None:
    write_good(root)
    write_claude(root, claude_good(), prefix=b"\xef\xbb\xbf")
    path = codex_path(root)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    msg = opencode_storage(root) / "message" / OPENCODE_SESSION / "msg_hostile_good.json"
    msg.write_bytes(b"\xef\xbb\xbf" + msg.read_bytes())


def _extra_fields(root: Path) -> None:
    lines = [orjson.loads(x) for x in claude_good()]
    for line in lines:
        line["someFutureField"] = {"nested": [1, 2, {"x": None}]}
        if "usage" in line["message"]:
            line["message"]["usage"]["future_tokens"] = 123456
    codex = [orjson.loads(x) for x in [*codex_head(), *codex_turns()]]
    for line in codex:
        line["payload"]["future"] = [True, None]
    write_good(root, claude=[_j(x) for x in lines], codex=[_j(x) for x in codex])


def _duplicated(root: Path) -> None:
    good = claude_good()
    turns = codex_turns()
    write_good(
        root, claude=[*good, good[1], good[2], good[1]], codex=[*codex_head(), turns[0], turns[1], turns[1]]
    )
    msg = opencode_storage(root) / "message" / "ses_copy" / "msg_hostile_good.json"
    msg.parent.mkdir(parents=True)
    msg.write_bytes(
        (opencode_storage(root) / "message" / OPENCODE_SESSION / "msg_hostile_good.json").read_bytes()
    )


BAD_TIMES = ("0001-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "yesterday", "", "2026-03-04T09:00:01+99:00")


def _bad_times(root: Path, *, reference: bool = False) -> None:
    """Turns with bad timestamps; the documented rule (accounting.md#timestamps) gives each the
    previous line's time, so the reference writes them with that time."""
    good = claude_good()
    extra = [
        _j(assistant(f"msg_time_{i}", 10 + i, ts="2026-03-04T09:00:01.000Z" if reference else ts))
        for i, ts in enumerate(BAD_TIMES)
    ]
    write_good(root, claude=[good[0], good[1], *extra, good[2]])


def _non_utf8_name(root: Path, *, bad: bool = True) -> None:
    write_good(root)
    name = b"copy\xff.jsonl" if bad else b"copy.jsonl"
    lines = [
        _j(
            assistant(
                "msg_named_1", 33, session="22222222-2222-4222-8222-222222222222", ts="2026-03-04T09:00:05Z"
            )
        )
    ]
    path = os.fsencode(str(claude_path(root).parent)) + b"/" + name
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


def _truncate_between(root: Path) -> None:
    path = claude_path(root)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _rewrite_between(root: Path) -> None:
    path = claude_path(root)
    size = path.stat().st_size
    path.write_bytes((b"x" * (size - 1)) + b"\n")


def _codex_truncate_between(root: Path) -> None:
    path = codex_path(root)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]))


def _deep(n: int) -> bytes:
    return b'{"type":"assistant","message":' + b"[" * n + b"]" * n + b"}"


def _wal_without_shm(root: Path, *, reference: bool = False) -> None:
    write_good(root, db=False)
    path = root / "opencode" / "opencode.db"
    if reference:
        write_opencode_db(path)
        return
    # Copy the database and its WAL while the writer is open (nothing checkpointed): the copy is
    # what a killed OpenCode leaves, a -wal and no -shm.
    work = root / "wal-work"
    work.mkdir()
    db = oc.OpenCodeDB(work / "opencode.db")
    db.conn.execute("PRAGMA wal_autocheckpoint=0")
    _fill_db(db)
    shutil.copyfile(work / "opencode.db", path)
    shutil.copyfile(work / "opencode.db-wal", root / "opencode" / "opencode.db-wal")
    db.conn.close()
    shutil.rmtree(work)


def _corrupt_db(root: Path) -> None:
    write_good(root)
    path = root / "opencode" / "opencode-beta.db"
    write_opencode_db(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema page garbled, the header kept
    path.write_bytes(bytes(data))


def _not_a_db(root: Path) -> None:
    write_good(root)
    (root / "opencode" / "opencode-nightly.db").write_bytes(b"this is not a database\n" * 100)


def _opencode_file(content: bytes) -> Plant:
    def plant(root: Path) -> None:
        write_good(root)
        path = opencode_storage(root) / "message" / OPENCODE_SESSION / "msg_hostile_bad.json"
        path.write_bytes(content)

    return plant


def _huge_line(root: Path) -> None:
    good = claude_good()
    path = write_claude(root, [good[0], good[1]])
    write_good(root, claude=[good[0], good[1]])
    with path.open("ab") as f:
        f.write(b'{"type":"user","message":{"content":"')
        chunk = b"A" * (1024 * 1024)
        for _ in range(HUGE_BYTES // len(chunk)):
            f.write(chunk)
        f.write(b'"}\n' + good[2] + b"\n")  # one brace short: the whole line is one skip


def _strip_nulls(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_nulls(v) for k, v in obj.items() if v is not None}
    return obj


def _null_claude(root: Path, *, reference: bool = False) -> None:
    """``null`` where an object is expected; the reference leaves those keys out (and has no
    lines that are not objects at all)."""
    nulls = []
    for i, where in enumerate(("message", "usage", "cache_creation", "content")):
        line = assistant(f"msg_null_{i}", 70, ts="2026-03-04T09:00:01.500Z")
        if where == "message":
            line["message"] = None
        elif where == "usage":
            line["message"]["usage"] = None
        elif where == "cache_creation":
            line["message"]["usage"] = {"cache_creation": None, "input_tokens": None, "output_tokens": None}
        else:
            line["message"] = {"id": f"msg_null_{i}", "content": None, "usage": None, "model": None}
        nulls.append(_j(_strip_nulls(line) if reference else line))
    scalars = [] if reference else [b"null", b"[]", b"42", b'"str"']
    write_good(root, claude=claude_mixed([*scalars, *nulls]))


def _codex_nulls(root: Path) -> None:
    bad = [
        _j({"timestamp": "2026-03-04T09:00:12.000Z", "type": "event_msg", "payload": None}),
        codex_line("event_msg", {"type": "token_count", "info": {"total_token_usage": None}}, 13),
        codex_line("event_msg", {"type": "token_count", "info": "nope"}, 14),
        codex_line("event_msg", None, 15),
        b"null",
    ]
    write_good(root, codex=codex_mixed(bad))


def _codex_backwards(root: Path) -> None:
    # Lower than the first event's totals, and not a fresh counter (its last is not its totals).
    stale = _codex_usage(8000, 0, 400, 100)
    write_good(root, codex=codex_mixed([codex_tokens(15, stale, _codex_usage(2000, 0, 100, 0))]))


def _claude_unknown(root: Path) -> None:
    unknown = [
        _j({"type": "quantum-entanglement", "uuid": "q1", "timestamp": "2026-03-04T09:00:01.500Z"}),
        _j({"type": None}),
        _j({"notype": True}),
    ]
    write_good(root, claude=claude_mixed(unknown))


def _codex_unknown(root: Path) -> None:
    write_good(root, codex=codex_mixed([codex_line("hologram", {"x": 1}, 12), _j({"no": "type"})]))


CLASSES: tuple[HostileClass, ...] = (
    HostileClass("truncated_line", "claude", _claude_bad(claude_good()[1][:60])),
    HostileClass("invalid_json", "claude", _claude_bad(b'{"type": "assistant", bad', b"{{{", b"}")),
    _usage_class("usage_strings", "100"),
    _usage_class("usage_negative", -5),
    _usage_class("usage_huge", 10**30),
    _usage_class("usage_float", 1.5),
    _usage_class("usage_bool_list_object", True, [1], {"n": 1}),
    HostileClass(
        "null_where_object", "claude", _null_claude, reference=lambda root: _null_claude(root, reference=True)
    ),
    HostileClass("huge_line", "claude", _huge_line),
    HostileClass("binary_garbage", "claude", _claude_bad(bytes(range(1, 10)) + bytes(range(14, 256)))),
    HostileClass("nul_bytes", "claude", _claude_bad(b"\x00" * 64, b'{"type":"user"\x00}')),
    HostileClass("utf8_bom", "all", _utf8_bom, counted=None),
    HostileClass(
        "invalid_utf8",
        "claude",
        _claude_bad(b'{"type":"user","message":{"content":"\xff\xfe\xc3("}}'),
        counted="repaired",
    ),
    HostileClass(
        "non_utf8_file_name",
        "claude",
        _non_utf8_name,
        counted=None,
        reference=lambda root: _non_utf8_name(root, bad=False),
    ),
    HostileClass(
        "bad_timestamps",
        "claude",
        _bad_times,
        counted=None,
        reference=lambda root: _bad_times(root, reference=True),
    ),
    HostileClass("empty_files", "all", _extra_file(_empty), counted=None),
    HostileClass("unreadable_files", "all", _extra_file(_unreadable), skip=_as_root),
    HostileClass("directory_as_file", "all", _extra_file(_directory)),
    HostileClass("symlink_loop", "all", _extra_file(_symlink_loop)),
    HostileClass("fifo", "all", _extra_file(_fifo)),
    HostileClass("binary_file", "all", _extra_file(_garbage)),
    HostileClass(
        "truncated_between_ingests", "claude", write_good, counted="rereads", between=_truncate_between
    ),
    HostileClass(
        "rewritten_between_ingests", "claude", write_good, counted="rereads", between=_rewrite_between
    ),
    HostileClass(
        "codex_truncated_between_ingests",
        "codex",
        write_good,
        counted="rereads",
        between=_codex_truncate_between,
    ),
    HostileClass("duplicated_lines", "all", _duplicated, counted="duplicates_dropped"),
    HostileClass("codex_totals_backwards", "codex", _codex_backwards),
    HostileClass("codex_usage_strings", "codex", _codex_bad(*_codex_usage_bad("100"))),
    HostileClass(
        "codex_usage_negative_float_huge",
        "codex",
        _codex_bad(*_codex_usage_bad(-1), *_codex_usage_bad(2.5), *_codex_usage_bad(10**30)),
    ),
    HostileClass("codex_nulls", "codex", _codex_nulls),
    HostileClass("codex_unknown_types", "codex", _codex_unknown, counted=None),
    HostileClass(
        "opencode_wal_without_shm",
        "opencode",
        _wal_without_shm,
        counted="repaired",
        reference=lambda root: _wal_without_shm(root, reference=True),
    ),
    HostileClass("opencode_corrupt_db", "opencode", _corrupt_db),
    HostileClass("opencode_not_a_db", "opencode", _not_a_db),
    HostileClass("opencode_invalid_json", "opencode", _opencode_file(b'{"id": "msg_hostile_bad", "role": ')),
    _opencode_tokens_class("opencode_token_strings", "100"),
    _opencode_tokens_class("opencode_token_negative", -3),
    _opencode_tokens_class("opencode_token_null", None, counted=None),  # null: unknown, as documented
    HostileClass("opencode_null_object", "opencode", _opencode_file(b"null")),
    HostileClass("deep_nesting", "claude", _claude_bad(_deep(100_000))),
    HostileClass("unknown_record_types", "claude", _claude_unknown, counted=None),
    HostileClass("extra_unknown_fields", "all", _extra_fields, counted=None),
)


# -- running a class ----------------------------------------------------------------------------


@functools.cache  # corpus_env makes the home afresh: once per root
def env_for(root: Path) -> dict[str, str]:
    """An environment in which burn sees only ``root``'s agent directories, with its own home."""
    return {**corpus_env(root, root, "burn-home"), "TZ": "UTC"}


def _burn(root: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "burn.cli.app", *argv], env=env_for(root), capture_output=True, timeout=300
    )


@attrs.frozen
class Result:
    """What one class's hostile ingest gave, and what was wrong with it (``problems`` empty: passed)."""

    name: str
    counts: dict[str, int]
    problems: list[str]


def ingest(root: Path, problems: list[str]) -> dict[str, Any]:
    done = _burn(root, "ingest", "--json")
    err = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        problems.append(f"ingest exited {done.returncode}: {err[-400:]}")
    if "Traceback" in err or "internal error" in err:
        problems.append(f"ingest printed an internal error: {err[-400:]}")
    try:
        report: dict[str, Any] = orjson.loads(done.stdout)
    except orjson.JSONDecodeError:
        problems.append(f"ingest --json printed no JSON: {done.stdout[:200]!r}")
        return {}
    return report


def summary(root: Path, problems: list[str]) -> dict[str, Any]:
    done = _burn(root, "summary", "--json")
    if done.returncode != 0:
        problems.append(f"summary exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
        return {}
    data = orjson.loads(done.stdout)
    return {"totals": data["totals"], "by_source": data["by_source"]}


def reference_summary(cls: HostileClass, root: Path) -> dict[str, Any]:
    """``burn summary --json`` (totals and per source) of an ingest of ``cls``'s good records alone."""
    problems: list[str] = []
    cls.reference(root)
    ingest(root, problems)
    got = summary(root, problems)
    assert not problems, problems
    return got


def run_class(cls: HostileClass, root: Path, expected: dict[str, Any]) -> Result:
    """Plant ``cls`` under ``root``, ingest it (twice when it changes between ingests) and judge it
    against ``expected`` (:func:`reference_summary`)."""
    problems: list[str] = []
    cls.plant(root)
    if cls.between is not None:
        ingest(root, problems)
        cls.between(root)
    report = ingest(root, problems)
    totals = report.get("totals", {})
    counts = {
        f"{group}.{key}": n
        for group in ("invalid_skipped", "repaired", "duplicates_dropped", "rereads")
        for key, n in sorted(totals.get(group, {}).items())
    }
    if cls.counted is not None and not sum(totals.get(cls.counted, {}).values()):
        problems.append(f"nothing counted under {cls.counted}: {counts}")
    got = summary(root, problems)
    if got and got != expected:
        problems.append(f"summary differs from the good records': {_diff(expected, got)}")
    return Result(cls.name, counts, problems)


def _diff(want: dict[str, Any], got: dict[str, Any]) -> str:
    a, b = want.get("totals", {}), got.get("totals", {})
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return ", ".join(f"{k}: {a.get(k)} -> {b.get(k)}" for k in keys) or "by_source differs"
