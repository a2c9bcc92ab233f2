"""Hostile input (issue 11): odd file names, bad timestamps, BOMs — every good record is kept, every
skip is counted and reported, and nothing crashes. End to end through the real readers and the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
CLAUDE_SAMPLE = SAMPLES / "claude" / "simonw_sample_session.jsonl"
CODEX_SAMPLE = SAMPLES / "codex" / "vct_codex_v0.39.0_vscode.jsonl"
OPENCODE_SAMPLE = (
    SAMPLES / "opencode" / "tokscale" / "storage" / "message" / "test-project" / "msg_test001.json"
)

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not available")
BAD = b"\xff"  # not valid UTF-8 anywhere: Python sees it as the surrogate escape U+DCFF


class Home:
    """A fresh burn home and agent directories; runs the real ``burn`` CLI in a subprocess."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dirs = {k: root / k for k in ("home", "claude", "codex", "opencode", "burn")}
        for d in self.dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        self.env = {
            "HOME": str(self.dirs["home"]),
            "CLAUDE_CONFIG_DIR": str(self.dirs["claude"]),
            "CODEX_HOME": str(self.dirs["codex"]),
            "OPENCODE_DATA_DIR": str(self.dirs["opencode"]),
            "RELAYBURN_HOME": str(self.dirs["burn"]),
            "PATH": os.environ.get("PATH", ""),
            "TZ": "UTC",
            "BURN_STRICT_PLUGINS": "1",
        }

    def burn(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "burn.cli.app", *args],
            env=self.env,
            capture_output=True,
            check=False,
            timeout=120,
        )

    def ingest(self) -> dict[str, Any]:
        done = self.burn("ingest", "--json")
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        assert b"internal error" not in done.stderr
        report: dict[str, Any] = orjson.loads(done.stdout)
        return report

    def summary(self) -> dict[str, Any]:
        done = self.burn("summary", "--json")
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        totals: dict[str, Any] = orjson.loads(done.stdout)["totals"]
        return totals


def _place(home: Path, name: bytes, subdir: bytes) -> None:
    """Copy one sample of each reader into ``home`` under file name ``name`` in directory ``subdir``."""
    b = os.fsencode
    claude = b(str(home / "claude" / "projects")) + b"/" + subdir
    codex = b(str(home / "codex" / "sessions")) + b"/" + subdir
    opencode = b(str(home / "opencode" / "storage" / "message")) + b"/ses_" + subdir
    for d in (claude, codex, opencode):
        os.makedirs(d, exist_ok=True)
    shutil.copyfile(CLAUDE_SAMPLE, claude + b"/" + name + b".jsonl")
    shutil.copyfile(CODEX_SAMPLE, codex + b"/rollout-" + name + b".jsonl")
    shutil.copyfile(OPENCODE_SAMPLE, opencode + b"/msg_" + name + b".json")


@needs_samples
def test_non_utf8_file_and_directory_names_are_ingested_by_every_reader(tmp_path: Path) -> None:
    plain = Home(tmp_path / "plain")
    _place(plain.root, b"copy", b"project")
    hostile = Home(tmp_path / "hostile")
    _place(hostile.root, b"copy" + BAD, b"proj" + BAD + b"ect")

    expected = plain.ingest()
    got = hostile.ingest()  # before the fix: exit 1, "internal error: UnicodeEncodeError … surrogates"
    assert got["totals"]["files_seen"] == expected["totals"]["files_seen"] == 3
    assert got["totals"]["records_read"] == expected["totals"]["records_read"]
    assert got["totals"]["invalid_skipped"] == expected["totals"]["invalid_skipped"]
    assert hostile.summary() == plain.summary()  # every turn and token is in the archive

    again = hostile.ingest()  # the cursors were saved: nothing is read twice
    assert again["totals"]["files_changed"] == 0 and again["totals"]["records_appended"] == 0
    ledger = (hostile.dirs["burn"] / "ledger.jsonl").read_bytes()
    ledger.decode("utf-8")  # strict: no surrogate reached the ledger


def test_non_utf8_names_in_warnings_are_escaped(tmp_path: Path) -> None:
    home = Home(tmp_path)
    projects = os.fsencode(str(home.dirs["claude"] / "projects" / "p"))
    os.makedirs(projects + b"/dir" + BAD + b".jsonl")  # a directory named like a transcript
    report = home.ingest()
    assert report["totals"]["invalid_skipped"] == {"not_a_file": 1}
    assert any(w.endswith("dir\\xff.jsonl") for w in report["warnings"])
    text = home.burn("ingest")
    assert text.returncode == 0 and b"internal error" not in text.stderr


def test_non_utf8_root_directory_is_read_and_reported(tmp_path: Path) -> None:
    home = Home(tmp_path)
    root = os.fsencode(str(tmp_path / "claude")) + BAD
    os.makedirs(root + b"/projects/p")
    home.env["CLAUDE_CONFIG_DIR"] = os.fsdecode(root)
    report = home.ingest()  # the roots are in the JSON report
    assert report["sources"]["claude-code"]["roots"] == [str(tmp_path / "claude") + "\\xff/projects"]
    doctor = home.burn("doctor", "--json")
    assert b"internal error" not in doctor.stderr and b"\\\\xff" in doctor.stdout


@needs_samples
def test_a_utf8_bom_on_the_first_line_loses_nothing(tmp_path: Path) -> None:
    plain = Home(tmp_path / "plain")
    _place(plain.root, b"copy", b"project")
    bom = Home(tmp_path / "bom")
    _place(bom.root, b"copy", b"project")
    files = [
        *bom.dirs["claude"].rglob("*.jsonl"),
        *bom.dirs["codex"].rglob("*.jsonl"),
        *bom.dirs["opencode"].rglob("*.json"),
    ]
    assert len(files) == 3
    for f in files:
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())

    expected = plain.ingest()["totals"]
    got = bom.ingest()["totals"]  # before the fix: the first line counted as invalid_json
    assert got["invalid_skipped"] == expected["invalid_skipped"]
    assert got["records_read"] == expected["records_read"]
    assert bom.summary() == plain.summary()


def test_lines_after_a_bom_keep_their_byte_offsets(tmp_path: Path) -> None:
    from burn.reader import Diagnostics
    from burn.readkit.tail import open_tail

    path = tmp_path / "t.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a":1}\n{"b":2}\n')
    tail = open_tail(path, None, Diagnostics())
    assert tail is not None
    assert list(tail.lines()) == [(0, b'{"a":1}\n'), (11, b'{"b":2}\n')]
    with open(path, "ab") as f:
        f.write(b'{"c":3}\n')
    again = open_tail(path, tail.cursor, Diagnostics())
    assert again is not None and not again.fresh
    assert list(again.lines()) == [(19, b'{"c":3}\n')]  # the cursor resumes after the BOM'd head


def test_turns_with_bad_timestamps_reach_the_archive_or_are_counted(tmp_path: Path) -> None:
    from tests.claude_lines import assistant, write_session

    stamps = [
        "2026-03-01T10:00:00.000Z",
        "0001-01-01T00:00:00Z",  # parseable, out of range: the previous line's time is used
        "0001-01-01T00:00:00.000Z",  # the same in the normalised shape (no parsing on that path)
        "2026-13-45T99:99:99.000Z",
        "2026-13-45T99:99:99Z",
        "yesterday",
        "",
        "2026-03-01T10:00:00+99:00",
        "2026-03-01T10:00:00+05:00",
    ]
    home = Home(tmp_path)
    write_session(home.dirs["claude"], [assistant(f"msg_{i}", 1, ts=ts) for i, ts in enumerate(stamps)])
    report = home.ingest()
    skipped = report["totals"]["invalid_skipped"]
    # before: 5 of these turns in the ledger but not in the archive, and no counter. Now a line
    # without a usable time takes the previous line's (the Claude reader's rule): all are kept.
    assert skipped == {}
    assert home.summary()["turns"] == len(stamps)
    rebuilt = home.burn("archive", "rebuild", "--json")
    assert orjson.loads(rebuilt.stdout)["invalid_rows"] == 0 and b"warning" not in rebuilt.stderr


def test_archive_build_reports_rows_it_could_not_apply(tmp_path: Path) -> None:
    home = Home(tmp_path)
    bad = {"source": "claude-code", "session_id": "s", "ts": "not a time", "model": "m", "usage": {}}
    entry = {"v": 1, "kind": "turn", "id": "0" * 32, "record": bad}  # written by an older burn
    (home.dirs["burn"] / "ledger.jsonl").write_bytes(orjson.dumps(entry) + b"\n")
    done = home.burn("archive", "rebuild", "--json")
    assert done.returncode == 0 and orjson.loads(done.stdout)["invalid_rows"] == 1  # before: not reported
    assert b"1 ledger entries could not be applied to the archive" in done.stderr


def test_a_record_whose_time_the_archive_cannot_place_is_dropped_and_counted() -> None:
    from burn.ingest.sanitize import sanitize
    from burn.reader import Diagnostics
    from burn.records import Turn, Usage

    def turn(mid: str, ts: str) -> Turn:
        return Turn(
            source="x",
            session_id="s",
            message_id=mid,
            request_id=None,
            ts=ts,
            model="m",
            usage=Usage(input=1),
        )

    diag = Diagnostics()
    bad = ["0001-01-01T00:00:00.000Z", "2026-13-45T99:99:99Z", "yesterday", "2026-03-01T10:00:00+99:00"]
    kept = sanitize([turn("ok", "2026-03-01T10:00:00.000Z"), *(turn(b, b) for b in bad)], {}, diag)
    assert [t.message_id for t in kept if isinstance(t, Turn)] == ["ok"]
    assert diag.invalid == {"invalid_timestamp": 4} and "0001-01-01" in diag.warnings[0]


def test_a_directory_is_observed_again_when_an_earlier_session_started_in_it(tmp_path: Path) -> None:
    """A process observes a working directory at its first session there, and again only for a
    session that started earlier, so that the ledger's earliest observation does not depend on
    which process read which unit (tests/test_ingest_pipeline.py)."""
    from burn.ingest.sanitize import sanitize
    from burn.reader import Diagnostics
    from burn.records import ProjectObservation, SessionInfo

    cwd = str(tmp_path / "app")

    def session(sid: str, ts: str) -> SessionInfo:
        return SessionInfo(source="x", session_id=sid, cwd=cwd, first_seen_ts=ts)

    observed: dict[str, str] = {}
    times = ["2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z", "2026-01-15T00:00:00.000Z"]
    out = sanitize([session(f"s{i}", ts) for i, ts in enumerate(times)], observed, Diagnostics())
    later = sanitize([session("s9", "2026-01-20T00:00:00.000Z")], observed, Diagnostics())
    seen = [r.observed_at for r in out if isinstance(r, ProjectObservation)]
    assert seen == ["2026-02-01T00:00:00.000Z", "2026-01-15T00:00:00.000Z"]
    assert [r.KIND for r in later] == ["session"] and observed == {cwd: "2026-01-15T00:00:00.000Z"}
