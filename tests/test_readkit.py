"""burn.readkit: the helpers every reader uses (values, timestamps, content hashes, the JSONL read
loop, the discovery walk, the layout base class)."""

from __future__ import annotations

import hashlib
import os
import re
import types
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from burn import readkit
from burn.reader import Diagnostics, FileCursor, Reader, SourceUnit
from burn.readkit import (
    TARGET_MAX,
    InvalidJson,
    LayoutReader,
    TargetRules,
    WrongType,
    args_hash,
    command_head,
    content_bytes,
    format_utc,
    ms_to_iso,
    nonempty_str,
    normalize_ts,
    read_jsonl,
    repair_json,
    sha32,
    size_and_hash,
    tool_target,
    url_host,
    user_block,
    walk_files,
)
from burn.readkit.tail import Tail
from burn.records import Record, SessionInfo, Turn, UserBlock

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# -- values ---------------------------------------------------------------------------------------


class _Str(str):
    pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a", "a"), ("", None), (None, None), (1, None), (b"a", None), (["a"], None), (_Str("a"), None)],
)
def test_nonempty_str(value: object, expected: str | None) -> None:
    assert nonempty_str(value) == expected


# -- timestamps -----------------------------------------------------------------------------------


def test_normalize_ts_returns_the_normal_form_unchanged() -> None:
    ts = "2026-02-11T21:24:22.960Z"
    assert normalize_ts(ts) is ts


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-04-01T12:00:00+02:00", "2026-04-01T10:00:00.000Z"),
        ("2026-04-01T10:00:00.123456Z", "2026-04-01T10:00:00.123Z"),
        ("2026-04-01T10:00:00.999999-00:30", "2026-04-01T10:30:00.999Z"),
        ("2026-04-01T10:00:00", "2026-04-01T10:00:00.000Z"),  # naive: UTC
        ("2026-04-01", "2026-04-01T00:00:00.000Z"),
        ("2026-04-01T10:00:00.1x3Z", None),  # the shape of the normal form, not its digits
        ("yesterday", None),
        ("", None),
        (5, None),
        (None, None),
    ],
)
def test_normalize_ts(value: object, expected: str | None) -> None:
    assert normalize_ts(value) == expected


_ZONES = [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]


@given(st.datetimes(min_value=datetime(1970, 1, 2), timezones=st.sampled_from(_ZONES)))  # earlier: None
def test_normalize_ts_of_any_iso_string_is_its_utc_instant_in_milliseconds(dt: datetime) -> None:
    try:
        utc = dt.astimezone(UTC)
    except OverflowError:  # outside years 1-9999 once in UTC
        return
    out = normalize_ts(dt.isoformat())
    assert out == format_utc(utc)
    assert out is not None and normalize_ts(out) is out
    back = datetime.fromisoformat(out.replace("Z", "+00:00"))
    assert back == utc.replace(microsecond=utc.microsecond // 1000 * 1000)


@given(st.integers(min_value=0, max_value=253_402_300_799_999))  # years 1970-9999 (earlier: not a time)
def test_ms_to_iso_is_exact(ms: int) -> None:
    iso = ms_to_iso(ms)
    assert normalize_ts(iso) is iso
    back = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    assert (back - EPOCH) // timedelta(milliseconds=1) == ms


def test_ms_to_iso_examples_and_range() -> None:
    assert ms_to_iso(0) == "1970-01-01T00:00:00.000Z"
    assert ms_to_iso(-1) == "1969-12-31T23:59:59.999Z"
    assert ms_to_iso(1_772_362_800_123) == "2026-03-01T11:00:00.123Z"
    assert ms_to_iso(253_402_300_799_999) == "9999-12-31T23:59:59.999Z"
    for out_of_range in (253_402_300_800_000, 10**20, -(10**20)):
        with pytest.raises(ValueError):
            ms_to_iso(out_of_range)


def test_format_utc_truncates_to_milliseconds() -> None:
    assert format_utc(datetime(2026, 3, 1, 11, 0, 0, 999_999, tzinfo=UTC)) == "2026-03-01T11:00:00.999Z"
    assert format_utc(datetime(2026, 3, 1, 11, 0, 0, 0, tzinfo=UTC)) == "2026-03-01T11:00:00.000Z"


# -- content --------------------------------------------------------------------------------------


def test_sha32_is_the_first_128_bits_of_sha256() -> None:
    assert sha32(b"") == "e3b0c44298fc1c149afbf4c8996fb924"
    assert sha32(b"abc") == hashlib.sha256(b"abc").hexdigest()[:32]


def test_content_bytes() -> None:
    assert content_bytes("é\ud800") == "é\ud800".encode("utf-8", "surrogatepass")
    assert content_bytes(None) == b""
    assert content_bytes({"b": [1, 2], "a": "x"}) == b'{"b":[1,2],"a":"x"}'  # compact, in order
    assert content_bytes(2**70) == b"1180591620717411303424"  # repr: beyond orjson's integers
    assert content_bytes(3) == b"3"


def test_size_and_hash_and_user_block() -> None:
    assert size_and_hash(None) == (0, sha32(b""))
    assert size_and_hash("abcde") == (5, sha32(b"abcde"))
    assert user_block("text", "abcde") == UserBlock(
        kind="text", byte_length=5, approx_tokens=2, content_hash=sha32(b"abcde")
    )
    assert user_block("tool_result", [{"type": "text"}], "toolu_1", True) == UserBlock(
        kind="tool_result",
        byte_length=17,
        approx_tokens=5,
        content_hash=sha32(b'[{"type":"text"}]'),
        tool_use_id="toolu_1",
        is_error=True,
    )
    assert user_block("image", None).approx_tokens == 0


def test_args_hash_is_canonical_json() -> None:
    assert args_hash(None) is None
    assert args_hash({"b": 1, "a": [2, 3]}) == args_hash({"a": [2, 3], "b": 1})
    assert args_hash({"a": 1}) == sha32(b'{"a":1}')
    assert args_hash("x") == sha32(b'"x"')
    assert args_hash({"n": 2**70}) is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("git status", "git"),
        ("  FOO=1 BAR=secret  make -j4 ", "make"),
        ("TOKEN=abc", None),
        ("", None),
    ],
)
def test_command_head(command: str, expected: str | None) -> None:
    assert command_head(command) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@Example.COM:8080/path?token=x", "example.com"),
        ("example.com/path", None),
        ("http://[::1", None),  # ValueError inside urlsplit
    ],
)
def test_url_host(url: str, expected: str | None) -> None:
    assert url_host(url) == expected


RULES: TargetRules = {
    "read": ("text", ("filePath", "path")),
    "bash": ("command", ("command",)),
    "fetch": ("host", ("url",)),
}


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("read", {"filePath": "/a/b.py", "path": "/c"}, "/a/b.py"),
        ("read", {"filePath": "", "path": "/c"}, "/c"),  # the first non-empty string
        ("read", {"filePath": 7, "path": "/c"}, "/c"),
        ("read", {"other": "/c"}, None),
        ("read", ["/a"], None),  # arguments that are not an object
        ("read", {"filePath": "x" * 500}, "x" * TARGET_MAX),
        ("bash", {"command": "API_KEY=s3cret curl https://x"}, "curl"),
        ("bash", {"command": "A=1"}, None),
        ("fetch", {"url": "https://docs.example.org/a?key=s3cret"}, "docs.example.org"),
        ("fetch", {"url": "not a url"}, None),
        ("write", {"filePath": "/a"}, None),  # a tool without a rule
    ],
)
def test_tool_target(name: str, args: object, expected: str | None) -> None:
    assert tool_target(RULES, name, args) == expected


# -- read_jsonl -----------------------------------------------------------------------------------


class _Parser:
    """A toy JSONL format: ``{"id": "<session>"}`` per line."""

    def __init__(self, unit: SourceUnit, tail: Tail, diag: Diagnostics) -> None:
        self.unit = unit
        self.diag = diag
        self.start = tail.start
        self.seen = int(tail.state.get("seen", 0))  # type: ignore[call-overload]
        self.ids: list[str] = []
        self.lines: list[int] = []
        self.skipped: list[tuple[str, int]] = []

    def feed(self, d: dict[str, Any], raw: bytes, n: int) -> None:
        self.lines.append(n)
        assert raw.endswith(b"\n")
        if type(d.get("id")) is not str:
            raise WrongType
        if d["id"] == "boom":
            raise RuntimeError("a bug")
        self.ids.append(d["id"])

    def skip(self, reason: str, n: int) -> None:
        self.skipped.append((reason, n))
        self.diag.skip(reason, f"{self.unit.path}:{n}")

    def finish(self) -> Sequence[Record]:
        return [SessionInfo(source="toy", session_id=i) for i in self.ids]

    def state(self) -> Mapping[str, Any]:
        return {"seen": self.seen + len(self.ids)}


def _ids(records: Sequence[Record]) -> list[str]:
    return [r.session_id for r in records if isinstance(r, SessionInfo)]


def test_read_jsonl_counts_rejected_lines_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        b'{"id": "s1"}\n'
        b"\n"  # blank: ignored, not counted
        b'{"id": ["x"]}\n'  # wrong_type (the parser says so)
        b'["s9"]\n'  # wrong_type: not an object
        b"null\n"  # wrong_type
        b'{"id": \n'  # invalid_json
        b'{"id": "s\xff2"}\n'  # invalid UTF-8: repaired
        b'{"id": "boom"}\n'  # unparseable
        b'{"id": "s3"}\n'
        b'{"id": "half'  # not yet a complete line
    )
    parsers: list[_Parser] = []

    def parser(unit: SourceUnit, tail: Tail, diag: Diagnostics) -> _Parser:
        parsers.append(_Parser(unit, tail, diag))
        return parsers[-1]

    got = read_jsonl(SourceUnit(path), None, parser)
    assert parsers[0].lines == [1, 3, 7, 8, 9]  # the objects, by line number in this read
    assert _ids(got.records) == ["s1", "s\ufffd2", "s3"]
    d = got.diagnostics
    assert (d.files_read, d.lines_read, d.records) == (1, 9, 3)
    assert d.invalid == {"wrong_type": 3, "invalid_json": 1, "unparseable": 1}
    assert d.repaired == {"invalid_utf8": 1}
    assert f"skipped (wrong_type): {path}:3" in d.warnings
    assert f"skipped (invalid_json): {path}:6" in d.warnings
    assert got.cursor is not None
    assert got.cursor.offset == path.stat().st_size - len(b'{"id": "half')
    assert got.cursor.state == {"seen": 3}


def test_read_jsonl_resumes_at_the_cursor_with_the_parser_state(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id": "s1"}\n{"id": "s2')
    first = read_jsonl(SourceUnit(path), None, _Parser)
    with path.open("ab") as f:
        f.write(b'"}\n{"id": "s3"}\n')
    second = read_jsonl(SourceUnit(path), first.cursor, _Parser)
    assert _ids(first.records) == ["s1"] and _ids(second.records) == ["s2", "s3"]
    assert second.cursor is not None and second.cursor.state == {"seen": 3}
    assert second.diagnostics.lines_read == 2


def test_read_jsonl_of_a_fifo_or_missing_file_keeps_the_cursor(tmp_path: Path) -> None:
    fifo = tmp_path / "f.jsonl"
    os.mkfifo(fifo)
    cursor = FileCursor(inode=1, size=2, mtime_ns=3, offset=0, head="")
    got = read_jsonl(SourceUnit(fifo), cursor, _Parser)
    assert (got.records, got.cursor, got.diagnostics.invalid) == ((), cursor, {"not_a_file": 1})
    got = read_jsonl(SourceUnit(tmp_path / "missing.jsonl"), None, _Parser)
    assert (got.records, got.cursor, got.diagnostics.invalid) == ((), None, {"unreadable": 1})
    assert got.diagnostics.files_read == 0


def test_read_jsonl_of_a_file_that_fails_mid_read_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"id": "s1"}\n{"id": "s2"}\n')

    def lines(self: Tail) -> Iterator[tuple[int, bytes]]:
        yield 0, b'{"id": "s1"}\n'
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Tail, "lines", lines)
    got = read_jsonl(SourceUnit(path), None, _Parser)
    assert (got.records, got.cursor, got.diagnostics.invalid) == ((), None, {"unreadable": 1})
    assert any("Input/output error" in w for w in got.diagnostics.warnings)


def test_repair_json() -> None:
    diag = Diagnostics()
    assert repair_json(b"  \r\n", diag) is None
    assert repair_json(b'{"a": "\xff"}\n', diag) == {"a": "\ufffd"}
    assert diag.repaired == {"invalid_utf8": 1}
    for raw in (b'{"a": \n', b'{"a": "\xff\n'):
        with pytest.raises(InvalidJson):
            repair_json(raw, diag)
    assert diag.repaired == {"invalid_utf8": 1} and not diag.invalid


# -- walk_files -----------------------------------------------------------------------------------


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}\n")
    return path


def test_walk_files_finds_every_match_once_and_counts_what_it_cannot_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "top"
    a = _touch(top / "b" / "a.jsonl")
    _touch(top / "b" / "a.meta.json")
    c = _touch(top / "c.jsonl")
    _touch(top / "dir.jsonl" / "inside.jsonl")  # a directory named like a match: not entered
    os.mkfifo(top / "fifo.jsonl")
    (top / "dangling.jsonl").symlink_to(tmp_path / "nowhere")
    (top / "b" / "loop").symlink_to(top)  # a symlink loop: walked once
    locked = _touch(top / "locked" / "x.jsonl").parent
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    diag = Diagnostics()
    found = dict(walk_files(top, ".jsonl", diag))
    assert sorted(found) == sorted(str(p) for p in (a, c))
    assert found[str(a)] == {"a.jsonl", "a.meta.json", "loop"}
    assert diag.invalid == {"not_a_file": 3, "unreadable": 1}


def test_walk_files_order_and_shared_visited(tmp_path: Path) -> None:
    names = ["m.jsonl", "a.jsonl", "z.jsonl", "b.jsonl"]
    for name in names:
        _touch(tmp_path / "top" / name)
    _touch(tmp_path / "top" / "sub" / "s.jsonl")
    diag = Diagnostics()
    got = [Path(p).name for p, _ in walk_files(tmp_path / "top", ".jsonl", diag, sort=True)]
    assert got == ["a.jsonl", "b.jsonl", "m.jsonl", "z.jsonl", "s.jsonl"]  # then depth-first
    visited: set[tuple[int, int]] = set()
    assert len(list(walk_files(tmp_path / "top", ".jsonl", diag, visited=visited))) == 5
    assert list(walk_files(tmp_path / "top" / "sub", ".jsonl", diag, visited=visited)) == []
    assert list(walk_files(tmp_path / "top", ".jsonl", diag, visited=visited)) == []
    assert not diag.invalid


def test_walk_files_of_a_missing_top_or_a_file_yields_nothing(tmp_path: Path) -> None:
    diag = Diagnostics()
    assert list(walk_files(tmp_path / "missing", ".jsonl", diag)) == []
    assert list(walk_files(_touch(tmp_path / "f.jsonl"), ".jsonl", diag)) == []
    assert not diag.invalid and not diag.warnings


# -- LayoutReader ---------------------------------------------------------------------------------


def _layout(env_var: str | None) -> types.SimpleNamespace:
    def locations(env: Mapping[str, str], home: Path) -> list[Path]:
        return [Path(env.get("TOY_DIR") or home / ".toy")]

    def discover(roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
        for root in roots:
            for path, _names in walk_files(root, ".jsonl", diagnostics):
                yield SourceUnit(Path(path))

    return types.SimpleNamespace(ENV_VAR=env_var, locations=locations, discover=discover)


def test_layout_reader_takes_env_var_locations_and_discovery_from_its_layout(tmp_path: Path) -> None:
    class ToyReader(LayoutReader):
        name = "toy"
        layout = _layout("TOY_DIR")

        def read(self, unit: SourceUnit, cursor: FileCursor | None) -> Any:
            return read_jsonl(unit, cursor, _Parser)

    reader = ToyReader()
    assert isinstance(reader, Reader)
    assert (reader.name, reader.env_var, ToyReader.env_var) == ("toy", "TOY_DIR", "TOY_DIR")
    assert reader.locations({}, tmp_path) == [tmp_path / ".toy"]
    path = _touch(tmp_path / "logs" / "s.jsonl")
    path.write_bytes(b'{"id": "s1"}\n')
    assert reader.locations({"TOY_DIR": str(tmp_path / "logs")}, tmp_path) == [tmp_path / "logs"]
    units = list(reader.discover([tmp_path / "logs"], Diagnostics()))
    assert units == [SourceUnit(path)]
    assert _ids(reader.read(units[0], None).records) == ["s1"]


def test_layout_reader_env_var_set_by_the_subclass_wins() -> None:
    class Explicit(LayoutReader):
        name = "explicit"
        env_var = None
        layout = _layout("IGNORED")

    assert Explicit.env_var is None
    assert LayoutReader.env_var is None


def test_the_package_exports_what_its_modules_define() -> None:
    for name in readkit.__all__:
        assert getattr(readkit, name) is not None
    assert sorted(readkit.__all__) == sorted(set(readkit.__all__))


def test_the_built_in_readers_use_the_kit_not_copies() -> None:
    import burn_claude.parse
    import burn_codex.usage
    import burn_opencode.ids
    from burn_claude import ClaudeReader
    from burn_codex import CodexReader
    from burn_opencode import OpenCodeReader

    assert burn_opencode.ids.ms_to_iso is ms_to_iso
    assert burn_claude.parse.WrongType is WrongType and burn_codex.usage.WrongType is WrongType
    for reader in (ClaudeReader, CodexReader, OpenCodeReader):
        assert issubclass(reader, LayoutReader)
        assert reader.env_var == reader.layout.ENV_VAR


def test_the_plugin_guide_example_reads_a_log(tmp_path: Path) -> None:
    """The parser of docs/plugins.md's reader-kit section runs, and read_jsonl drives it."""
    guide = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text(encoding="utf-8")
    section = guide.split("### 6. The reader kit", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"^```python\n(.*?)^```$", section, flags=re.M | re.S)
    module = types.ModuleType("guide_reader_kit_example")
    exec(compile(code, "docs/plugins.md#the-reader-kit", "exec"), module.__dict__)
    log = tmp_path / "day.jsonl"
    log.write_bytes(
        b'{"ts": "2026-03-01T11:00:00+01:00", "model": "m", "output_tokens": 7, "request_id": "r1"}\n'
        b'{"ts": "2026-03-01T10:00:01.000Z", "model": "m", "output_tokens": 3}\n'
        b'{"ts": "2026-03-01T10:00:02.000Z", "model": "m", "output_tokens": "3"}\n'
        b"not json\n"
    )
    got = read_jsonl(SourceUnit(log), None, module.GatewayParser)
    turns = [r for r in got.records if isinstance(r, Turn)]
    assert [(t.session_id, t.request_id, t.ts, t.usage.output) for t in turns] == [
        ("day", "r1", "2026-03-01T10:00:00.000Z", 7),
        ("day", None, "2026-03-01T10:00:01.000Z", 3),
    ]
    assert turns[1].line_hash == sha32(
        b'{"ts": "2026-03-01T10:00:01.000Z", "model": "m", "output_tokens": 3}\n'
    )
    assert got.diagnostics.invalid == {"wrong_type": 1, "invalid_json": 1}


def _expected_lines(data: bytes, start: int, limit: int) -> tuple[list[tuple[int, bytes]], int, int]:
    """What ``Tail.lines`` must give for ``data`` read from ``start``: every complete line with its
    offset (the BOM of a line at offset 0 dropped), lines over ``limit`` skipped; the offset after
    the last complete line, and how many lines it consumed."""
    out: list[tuple[int, bytes]] = []
    offset, consumed = start, 0
    while True:
        end = data.find(b"\n", offset)
        if end < 0:
            return out, offset, consumed
        line = data[offset : end + 1]
        consumed += 1
        if len(line) - 1 <= limit:
            out.append((offset, line[3:] if offset == 0 and line.startswith(b"\xef\xbb\xbf") else line))
        offset = end + 1


@given(
    st.lists(st.tuples(st.integers(0, 90), st.booleans()), max_size=30),
    st.binary(max_size=20),
    st.booleans(),
    st.integers(1, 24),
    st.integers(0, 3),
)
# Over the limit, yet found whole in the buffer: a 45-byte line from byte 1, chunks of 24.
@example([(0, True), (44, True), (3, True)], b"", False, 24, 0)
def test_tail_lines_are_every_complete_line_whatever_the_chunk_boundaries(
    lines: list[tuple[int, bool]], tail: bytes, bom: bool, chunk: int, skip: int
) -> None:
    """Chunked reading against a plain split: lines shorter and longer than a chunk and than the
    line limit, a BOM, a half-written last line, a read that starts after the first lines."""
    import tempfile

    import burn.readkit.tail as tail_module

    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(
        (b"x" * n if plain else bytes(range(32, 32 + n % 90)) * (n // 90 + 1))[:n] + b"\n"
        for n, plain in lines
    )
    data += tail.replace(b"\n", b"")
    start = sum(len(line) for line in data.splitlines(keepends=True)[:skip] if line.endswith(b"\n"))
    limit = 40
    saved = tail_module._CHUNK, tail_module.MAX_LINE_BYTES
    tail_module._CHUNK, tail_module.MAX_LINE_BYTES = chunk, limit
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "t.jsonl"
            path.write_bytes(data)
            st_ = path.stat()
            diag = Diagnostics()
            reader = Tail(path, start, start == 0, st_.st_ino, st_.st_size, st_.st_mtime_ns, diag, {})
            got = list(reader.lines())
    finally:
        tail_module._CHUNK, tail_module.MAX_LINE_BYTES = saved
    want, offset, consumed = _expected_lines(data, start, limit)
    assert got == want
    assert reader.offset == offset
    assert diag.lines_read == consumed and diag.bytes_read == offset - start
    assert diag.invalid.get("line_too_long", 0) == consumed - len(want)
