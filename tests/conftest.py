"""Generic fixtures shared by every test module. Keep it small: module-specific fixtures live with
their tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.location import PyTestLocation

from burn.plugins.manager import Plugins

# Environment variables that point burn (or an agent reader) at real user data, or change how
# plugins load. Every test starts with them isolated or unset.
AGENT_DIRS = {
    "CLAUDE_CONFIG_DIR": "claude",
    "CODEX_HOME": "codex",
    "OPENCODE_DATA_DIR": "opencode",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_DATA_HOME": "xdg-data",
}
UNSET = ("BURN_STRICT_PLUGINS", "BURN_LOAD_PLUGINS", "BURN_DISABLE_PLUGINS", "RELAYBURN_STORAGE")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Path]:
    """Point HOME, RELAYBURN_HOME and every agent's data directory at empty temporary directories,
    so that no test ever reads the real user's agent data or writes to their ledger.

    Returns the variables set, by name. ``BURN_*`` plugin switches and ``RELAYBURN_STORAGE`` are
    unset; a test that wants strict plugins sets ``BURN_STRICT_PLUGINS`` itself.
    """
    base = tmp_path_factory.mktemp("env")
    paths = {"HOME": base / "home", "RELAYBURN_HOME": base / "relayburn"}
    paths.update({var: base / name for var, name in AGENT_DIRS.items()})
    for var, path in paths.items():
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    for var in UNSET:
        monkeypatch.delenv(var, raising=False)
    return paths


PluginsFactory = Callable[..., Plugins]


@pytest.fixture
def make_plugins() -> PluginsFactory:
    """Build a fresh :class:`Plugins` without installed entry points, registering the given
    in-test plugin objects, named after their class (``__name__`` for modules), with ``-2``,
    ``-3`` … appended when a name repeats::

        plugins = make_plugins(MyPlugin(), env={"BURN_STRICT_PLUGINS": "1"})
    """

    def make(
        *objects: object, env: Mapping[str, str] | None = None, load_entrypoints: bool = False
    ) -> Plugins:
        plugins = Plugins(env=dict(env or {}), load_entrypoints=load_entrypoints)
        for obj in objects:
            base = getattr(obj, "__name__", None) or type(obj).__name__
            name, n = base, 1
            while plugins.pm.has_plugin(name):
                n += 1
                name = f"{base}-{n}"
            plugins.register(obj, name)
        return plugins

    return make


@pytest.fixture
def plugins(make_plugins: PluginsFactory) -> Plugins:
    """An empty plugin manager: no entry points, no plugins, not strict."""
    return make_plugins()


GOLDEN = Path(__file__).resolve().parents[1] / "golden"


class GoldenJSON(JSONSnapshotExtension):
    """One pretty-printed .json file per snapshot under the top-level golden/ folder (STYLE.md §11):
    ``golden/<test module>/<test name>.json``. Update with ``pytest --snapshot-update``."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(GOLDEN / test_location.basename)


@pytest.fixture
def golden(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(GoldenJSON)
