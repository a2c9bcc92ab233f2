"""The entry-point cache (burn.plugins.entrypoints): current while nothing is installed, removed or
rewritten, rebuilt as soon as something is; never trusted when it is not burn's."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from burn.plugins.entrypoints import CACHE_NAME, EntryPointSpec, entry_points, install_key, scan

# Lists the burn entry points through the cache in a fresh interpreter, and whether that imported
# importlib.metadata (i.e. scanned). Third-party names only: the installed built-ins are the same
# in every run.
PROBE = """
import json, sys
from pathlib import Path
from burn.plugins.entrypoints import entry_points
found = entry_points("burn", Path(sys.argv[1]))
print(json.dumps({
    "scanned": "importlib.metadata" in sys.modules,
    "found": sorted([list(ep) for ep in found if ep.name.startswith("cachetest")]),
}))
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A directory on the probe's sys.path, empty until a test installs something into it."""
    (tmp_path / "site").mkdir()
    return tmp_path / "site"


def probe(site: Path, cache: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(cache)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def install(site: Path, version: str, entry_points_txt: str) -> Path:
    """A distribution as pip lays one out: a ``*.dist-info`` with METADATA and entry_points.txt."""
    dist_info = site / f"cachetest_dist-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: cachetest-dist\nVersion: {version}\n")
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points_txt).lstrip())
    return dist_info


def test_second_run_reads_the_cache_without_scanning(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / CACHE_NAME
    assert probe(site, cache) == {"scanned": True, "found": []}
    assert cache.is_file()
    assert probe(site, cache) == {"scanned": False, "found": []}


def test_install_rewrite_and_removal_invalidate_the_cache(site: Path, tmp_path: Path) -> None:
    cache = tmp_path / CACHE_NAME
    probe(site, cache)

    dist_info = install(site, "1.0", "[burn]\ncachetest = cachetest_mod\n")
    first = ["cachetest", "cachetest_mod", "cachetest-dist", "1.0"]
    assert probe(site, cache) == {"scanned": True, "found": [first]}
    assert probe(site, cache) == {"scanned": False, "found": [first]}

    # Rewritten in place (a legacy develop checkout re-running egg_info): no directory changes.
    (dist_info / "entry_points.txt").write_text("[burn]\ncachetest_two = cachetest_mod:plugin\n")
    second = ["cachetest_two", "cachetest_mod:plugin", "cachetest-dist", "1.0"]
    assert probe(site, cache) == {"scanned": True, "found": [second]}

    for f in dist_info.iterdir():
        f.unlink()
    dist_info.rmdir()
    assert probe(site, cache) == {"scanned": True, "found": []}
    assert probe(site, cache) == {"scanned": False, "found": []}


def test_a_corrupt_or_foreign_cache_is_rescanned_and_replaced(tmp_path: Path) -> None:
    cache = tmp_path / CACHE_NAME
    for junk in (b"{not json", b"[]", b'{"version": 1}', json.dumps({"version": 999}).encode()):
        cache.write_bytes(junk)
        assert entry_points("burn", cache) == scan("burn")
        assert json.loads(cache.read_bytes())["key"] == install_key()


def test_a_cache_that_cannot_be_written_is_not_an_error(tmp_path: Path) -> None:
    cache = tmp_path / "no-such-home" / CACHE_NAME
    assert entry_points("burn", cache) == scan("burn")
    assert not cache.parent.exists()  # the cache does not create burn's home
    assert not list(tmp_path.iterdir())


def test_a_current_cache_is_used_instead_of_a_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / CACHE_NAME
    expected = entry_points("burn", cache)
    monkeypatch.setattr(md, "entry_points", lambda **kwargs: pytest.fail("scanned"))
    assert entry_points("burn", cache) == expected
    assert {"claude", "codex", "opencode"} <= {ep.name for ep in expected}


def test_the_scan_keeps_burns_own_entry_points_with_their_distribution() -> None:
    builtins = {ep.name: ep for ep in scan("burn") if ep.distribution == "burn"}
    assert builtins["claude"] == EntryPointSpec("claude", "burn_claude", "burn", md.version("burn"))


@pytest.mark.parametrize(
    "value",
    [
        "burn_claude",
        "burn.plugins.hookspecs:register_readers",
        "burn.plugins.manager:Plugins.readers",
        "burn.plugins.entrypoints:scan [extra]",
    ],
)
def test_load_follows_entry_point_load(value: str) -> None:
    assert EntryPointSpec("x", value).load() is md.EntryPoint("x", value, "burn").load()


def test_load_of_a_missing_module_or_attribute_raises() -> None:
    with pytest.raises(ModuleNotFoundError):
        EntryPointSpec("x", "burn_no_such_module_for_tests").load()
    with pytest.raises(AttributeError):
        EntryPointSpec("x", "burn.plugins.manager:NoSuchThing").load()


def test_the_cache_is_private_and_one_others_can_write_is_not_used(tmp_path: Path) -> None:
    """The cache names modules to import: burn writes it 0600, and reads it only while no one else
    can write it (a group- or world-writable file is rescanned and replaced)."""
    cache = tmp_path / CACHE_NAME
    entry_points("burn", cache)
    assert cache.stat().st_mode & 0o777 == 0o600
    data = json.loads(cache.read_bytes())
    data["entry_points"].append(["planted", "os:getcwd", None, None])
    cache.write_text(json.dumps(data))
    assert "planted" in {ep.name for ep in entry_points("burn", cache)}  # the user's own file: used
    cache.chmod(0o666)
    assert "planted" not in {ep.name for ep in entry_points("burn", cache)}
    assert cache.stat().st_mode & 0o777 == 0o600
    assert "planted" not in cache.read_text()
