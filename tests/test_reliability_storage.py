"""Issue 11, findings 12–14: a full disk, a read-only home, a corrupt archive.

Every case runs the real ``burn`` in a subprocess on real files. The full disk is a size-limited
tmpfs (needs the right to mount: skipped with the reason otherwise) and, portably, a file-size
limit (``RLIMIT_FSIZE``: writes fail with EFBIG); the read-only home is a read-only bind mount.
After each failure the next run, with space back, must converge on the archive of an uninterrupted
ingest: the same digest, and every ledger id once.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson
import pytest

from tests.claude_lines import assistant
from tests.hosts import one_host

SESSIONS, TURNS = 12, 150


def _transcripts(claude_dir: Path) -> None:
    d = claude_dir / "projects" / "demo"
    d.mkdir(parents=True, exist_ok=True)
    for s in range(SESSIONS):
        sid = f"11111111-1111-4111-8111-{s:012d}"
        lines = (
            orjson.dumps(assistant(f"msg_{s}_{i}", 10 + i, session=sid, ts=f"2026-03-{s + 1:02d}T10:{i // 60:02d}:"
                                   f"{i % 60:02d}.000Z")) + b"\n"
            for i in range(TURNS)
        )  # fmt: skip
        (d / f"{sid}.jsonl").write_bytes(b"".join(lines))


def burn(home: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RELAYBURN_HOME": str(home)}
    env.pop("BURN_DEBUG", None)
    one_host(home)  # every home here is the same host: archives compare across homes

    def limit() -> None:  # Python ignores SIGXFSZ: a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))  # type: ignore[arg-type]

    return subprocess.run(
        [sys.executable, "-m", "burn.cli.app", *args],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=limit if fsize is not None else None,
        timeout=120,
    )


def _ok(home: Path, *args: str) -> str:
    r = burn(home, *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def digest(home: Path) -> tuple[str, dict[str, int]]:
    status = orjson.loads(_ok(home, "archive", "status", "--json"))
    return status["digest"], status["row_counts"]


def ledger_ids(home: Path) -> list[str]:
    ids = []
    for line in (home / "ledger.jsonl").read_bytes().splitlines():
        try:
            ids.append(orjson.loads(line)["id"])
        except orjson.JSONDecodeError:
            continue  # a torn line left by the failed write: skipped by every reader
    return ids


def assert_one_line(stderr: str, *wanted: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("burn: error: "), stderr
    assert "internal error" not in stderr and "rollback" not in stderr and "Traceback" not in stderr
    for w in wanted:
        assert w in lines[0], stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int], list[str]]]:
    """The archive digest, row counts and ledger ids of an uninterrupted ingest."""
    base = tmp_path_factory.mktemp("reference")
    mp = pytest.MonkeyPatch()
    mp.setenv("CLAUDE_CONFIG_DIR", str(base / "claude"))
    mp.setenv("HOME", str(base / "home"))
    for var in ("CODEX_HOME", "OPENCODE_DATA_DIR"):
        mp.setenv(var, str(base / var.lower()))
    _transcripts(base / "claude")
    _ok(base / "burn", "ingest", "-q")
    yield (*digest(base / "burn"), sorted(ledger_ids(base / "burn")))
    mp.undo()


@pytest.fixture
def data(isolated_env: Mapping[str, Path]) -> None:
    _transcripts(isolated_env["CLAUDE_CONFIG_DIR"])


def assert_converged(home: Path, reference: tuple[str, dict[str, int], list[str]]) -> None:
    assert digest(home) == reference[:2]  # nothing lost, nothing counted twice
    ids = ledger_ids(home)
    assert len(ids) == len(set(ids)) and sorted(ids) == reference[2]
    assert not list(home.glob("archive.sqlite.rebuild*"))


# -- 12: disk full ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize("limit", [50_000, 600_000, 1_000_000])  # in the ledger, its index, the archive
def test_a_file_size_limit_is_a_plain_disk_full_and_the_next_run_converges(
    tmp_path: Path, limit: int, reference: tuple[str, dict[str, int], list[str]]
) -> None:
    home = tmp_path / "burn"
    r = burn(home, "ingest", "-q", fsize=limit)
    assert r.returncode == 1
    assert_one_line(r.stderr, "disk full: cannot write ", str(home))
    export = burn(home, "export", "sessions")
    assert "being built" not in export.stderr  # nothing runs: the message must not say so
    _ok(home, "ingest", "-q")
    assert_converged(home, reference)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (remount it with ``size=`` to give space back)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True,
                       capture_output=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a size-limited tmpfs here (needs root): {exc}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.usefixtures("data")
def test_a_full_disk_says_so_rolls_back_and_the_next_run_converges(
    small_fs: Path, reference: tuple[str, dict[str, int], list[str]]
) -> None:
    home = small_fs / "burn"
    sizes = ["1m", "2m", "3m", "4m"]  # fills up in the ledger, its index, then the archive
    messages = set()
    for size in sizes:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(small_fs)], check=True)
        r = burn(home, "ingest", "-q")
        if r.returncode == 0:
            break
        assert r.returncode == 1
        assert_one_line(r.stderr, "disk full: cannot write ", str(home))
        messages.add(r.stderr.split(" (")[0])
        assert "being built" not in burn(home, "export", "sessions").stderr
    assert messages  # the disk was full at least once
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_fs)], check=True)
    _ok(home, "ingest", "-q")
    assert_converged(home, reference)


# -- 13: read-only home ----------------------------------------------------------------------------


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A read-only view of ``tmp_path/"burn"`` (a read-only bind mount: root writes through
    permission bits, not through a read-only mount)."""
    src, mnt = tmp_path / "burn", tmp_path / "ro"
    mnt.mkdir()
    try:
        subprocess.run(["mount", "--bind", str(src), str(mnt)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot bind-mount here (needs root): {exc}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mnt)], check=True, capture_output=True)
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


COMMANDS = [
    ("summary",),
    ("archive", "status"),
    ("pricing", "check"),
    ("report", "usage"),
    ("report", "daily", "--json"),
    ("export", "sessions", "--limit", "50"),
    ("export", "sessions", "--limit", "5"),  # needs a cursor key it cannot make
    ("export", "sessions", "--limit", "5", "--format", "ndjson"),
    ("archive", "build"),
    ("archive", "vacuum"),
    ("ingest",),
    ("doctor",),
]


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_read_only_home_works_or_fails_in_one_line_before_any_output(
    tmp_path: Path, args: tuple[str, ...], request: pytest.FixtureRequest
) -> None:
    _ok(tmp_path / "burn", "ingest", "-q")
    _ok(tmp_path / "burn", "summary")  # leaves the secret and no cursor key: the state of the report
    _ok(tmp_path / "burn", "report", "usage")
    assert not (tmp_path / "burn" / "cursor-keys").exists()
    for suffix in ("-wal", "-shm"):  # what the readers made (the WAL is empty): a reader must make them
        wal = tmp_path / "burn" / f"archive.sqlite{suffix}"
        assert not wal.exists() or suffix == "-shm" or wal.stat().st_size == 0
        wal.unlink(missing_ok=True)
    ro = request.getfixturevalue("read_only")
    r = burn(ro, *args)
    if r.returncode != 0:
        assert r.stdout == ""  # nothing written when the command cannot complete
        assert_one_line(r.stderr, str(ro))
    if args[:2] == ("export", "sessions"):  # complete documents, or none
        assert r.returncode == (1 if "5" in args else 0)
    if args[0] in ("summary", "report", "pricing", "doctor") or args[:2] == ("archive", "status"):
        assert r.returncode == 0, r.stderr  # reading needs nothing written


# -- 14: a corrupt archive -------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _garble_header(path: Path) -> None:
    with open(path, "r+b") as f:
        f.write(b"GARBAGE GARBAGE!")


def _garble_middle(path: Path) -> None:
    size = path.stat().st_size
    page = 4096
    with open(path, "r+b") as f:
        f.seek((size // page // 2) * page)  # a b-tree page's header in the middle of the file
        f.write(b"\xa5" * 64)


DAMAGE = {"truncated": _truncate, "header": _garble_header, "middle": _garble_middle}


def _damaged(home: Path, how: str) -> Path:
    _ok(home, "ingest", "-q")
    archive = home / "archive.sqlite"
    assert not Path(f"{archive}-wal").exists()  # every page is in the file being damaged
    DAMAGE[how](archive)
    return archive


@pytest.mark.usefixtures("data")
@pytest.mark.parametrize("how", ["truncated", "header"])
def test_a_corrupt_archive_is_one_line_for_readers(tmp_path: Path, how: str) -> None:
    home = tmp_path / "burn"
    _damaged(home, how)
    for args in (("summary",), ("export", "sessions"), ("report", "usage"), ("archive", "status")):
        r = burn(home, *args)
        assert r.returncode == 1 and r.stdout == ""
        assert_one_line(r.stderr, "archive is corrupt", "run `burn archive rebuild`")


@pytest.mark.usefixtures("data")
# An ingest checks no pages (that would cost every ingest a scan of the archive): a mid-file garble
# is found by `archive build` and `doctor` (PRAGMA quick_check), or where a query meets it.
@pytest.mark.parametrize(
    ("how", "command"),
    [(how, ("ingest", "-q")) for how in ("truncated", "header")]
    + [(how, ("archive", "build")) for how in ("truncated", "header", "middle")],
)
def test_a_corrupt_archive_is_rebuilt_where_the_command_may_write(
    tmp_path: Path, how: str, command: tuple[str, ...], reference: tuple[str, dict[str, int], list[str]]
) -> None:
    home = tmp_path / "burn"
    _damaged(home, how)
    r = burn(home, *command)
    assert r.returncode == 0, r.stderr
    assert "corrupt" in r.stderr and "rebuilt" in r.stderr
    assert_converged(home, reference)


@pytest.mark.usefixtures("data")
def test_doctor_finds_a_mid_file_garble(tmp_path: Path) -> None:
    home = tmp_path / "burn"
    _damaged(home, "middle")
    r = burn(home, "doctor", "--json")
    assert r.returncode == 0
    assert "archive is corrupt" in orjson.loads(r.stdout)["archive"]["error"]


@pytest.mark.usefixtures("data")
def test_a_killed_rebuild_leaves_nothing_after_the_next_run(
    tmp_path: Path, reference: tuple[str, dict[str, int], list[str]]
) -> None:
    home = tmp_path / "burn"
    _ok(home, "ingest", "-q")
    for suffix in ("", "-wal", "-shm", "-journal"):  # what SIGKILL mid-rebuild leaves
        shutil.copy(home / "archive.sqlite", home / f"archive.sqlite.rebuild{suffix}")
    _ok(home, "ingest", "-q")  # a no-op ingest
    assert_converged(home, reference)
