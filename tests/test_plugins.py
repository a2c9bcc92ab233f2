"""The plugin system: hooks, registration, failure isolation, entry-point loading, `burn plugins`.

Hooks covered here (the meta-test below checks that every hook is named in this module):
``register_readers``, ``register_exporters``, ``register_stores``.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy
import pytest

import burn
import burn.plugins.manager
from burn import hookimpl
from burn.cli.app import main
from burn.errors import PluginError
from burn.exporter import Exporter
from burn.ledger.file import FileStore, open_file_store
from burn.plugins.manager import PluginFailure, Plugins
from burn.plugins.stores import open_store
from burn.reader import Diagnostics, FileCursor, Reader, ReadResult, SourceUnit
from burn.store import StoreConfig

STRICT = {"BURN_STRICT_PLUGINS": "1"}
PluginsFactory = Callable[..., Plugins]  # the conftest fixture make_plugins


# -- test doubles: real objects implementing burn's protocols ---------------------------------------


class FakeReader:
    env_var: str | None = None

    def __init__(self, name: str) -> None:
        self.name = name

    def locations(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return []

    def discover(self, roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
        return iter(())

    def read(self, unit: SourceUnit, cursor: FileCursor | None) -> ReadResult:
        return ReadResult(records=(), cursor=cursor, diagnostics=Diagnostics())


class FakeExporter:
    schema_version = 1

    def __init__(self, surface: str) -> None:
        self.surface = surface

    def rows(self, archive: Any, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        yield {"surface": self.surface}


def reader_plugin(*readers: str | FakeReader) -> object:
    """A plugin object whose ``register_readers`` registers the given readers (or new ones, by name)."""

    class ReaderPlugin:
        @hookimpl
        def register_readers(self, register: Callable[[Reader], None]) -> None:
            for reader in readers:
                register(FakeReader(reader) if isinstance(reader, str) else reader)

    return ReaderPlugin()


class Boom:
    @hookimpl
    def register_readers(self, register: Callable[[Reader], None]) -> None:
        raise RuntimeError("boom")


# -- meta-test -------------------------------------------------------------------------------------


HOOKS = sorted(
    name for name in dir(Plugins(env={}, load_entrypoints=False).pm.hook) if not name.startswith("_")
)


def test_there_are_hooks() -> None:
    assert {"register_readers", "register_exporters", "register_stores"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_have_tests(hook: str) -> None:
    """Every plugin hook is referenced in this test module (datasette's meta-test)."""
    source = Path(__file__).read_text(encoding="utf-8")
    # The module docstring lists the hooks too; require a use in code, not only a mention there.
    code = source.split('"""', 2)[2]
    assert f"def {hook}(" in code, f"no test plugin implements {hook}"


# -- registration ----------------------------------------------------------------------------------


def test_register_readers(make_plugins: PluginsFactory) -> None:
    plugins = make_plugins(reader_plugin("alpha", "beta"))
    readers = plugins.readers()
    assert sorted(readers) == ["alpha", "beta"]
    assert all(isinstance(r, Reader) for r in readers.values())
    assert readers["alpha"].name == "alpha"
    assert plugins.failures == []


def test_register_exporters(make_plugins: PluginsFactory) -> None:
    class ExporterPlugin:
        @hookimpl
        def register_exporters(self, register: Callable[[Exporter], None]) -> None:
            register(FakeExporter("sessions"))

    plugins = make_plugins(ExporterPlugin())
    exporters = plugins.exporters()
    assert list(exporters) == ["sessions"]
    assert isinstance(exporters["sessions"], Exporter)
    assert list(exporters["sessions"].rows(None, {})) == [{"surface": "sessions"}]
    assert plugins.failures == []


def test_register_stores(make_plugins: PluginsFactory, tmp_path: Path) -> None:
    def factory(config: StoreConfig) -> FileStore:
        return FileStore(config.home / "elsewhere")

    class StorePlugin:
        @hookimpl
        def register_stores(self, register: Callable[[str, Any], None]) -> None:
            register("elsewhere", factory)

    plugins = make_plugins(StorePlugin())
    assert plugins.stores() == {"elsewhere": factory}
    store = open_store(tmp_path, {"RELAYBURN_STORAGE": "elsewhere"}, plugins)
    assert isinstance(store, FileStore)
    assert store.path.parent == tmp_path / "elsewhere"


def test_hookimpl_may_take_fewer_arguments_than_the_spec(make_plugins: PluginsFactory) -> None:
    """pluggy's opt-in arguments: an implementation taking none of the arguments still runs."""
    called: list[str] = []

    class NoArgs:
        @hookimpl
        def register_exporters(self) -> None:
            called.append("register_exporters")

    plugins = make_plugins(NoArgs())
    assert plugins.exporters() == {}
    assert called == ["register_exporters"]


def test_registered_object_without_a_name_is_refused(make_plugins: PluginsFactory) -> None:
    class Nameless:
        @hookimpl
        def register_readers(self, register: Callable[[object], None]) -> None:
            register(object())

    plugins = make_plugins(Nameless(), reader_plugin("ok"))
    assert list(plugins.readers()) == ["ok"]
    [failure] = plugins.failures
    assert (failure.plugin, failure.stage) == ("Nameless", "register_readers")
    assert "has no name" in failure.error


def test_registrations_are_keyed_by_their_protocol_attribute(make_plugins: PluginsFactory) -> None:
    """An exporter is keyed by ``surface`` even if it has a ``name``; a reader needs ``name``."""
    exporter = FakeExporter("sessions")
    exporter.name = "Sessions, as NDJSON"  # type: ignore[attr-defined]

    class Mixed:
        @hookimpl
        def register_exporters(self, register: Callable[[Exporter], None]) -> None:
            register(exporter)

        @hookimpl
        def register_readers(self, register: Callable[[object], None]) -> None:
            register(FakeExporter("not-a-reader"))

    plugins = make_plugins(Mixed())
    assert plugins.exporters() == {"sessions": exporter}
    assert plugins.readers() == {}
    [failure] = plugins.failures
    assert failure.stage == "register_readers"
    assert failure.error.startswith("ValueError: reader") and failure.error.endswith("has no name")


def test_register_resets_collected_registrations(make_plugins: PluginsFactory) -> None:
    plugins = make_plugins(reader_plugin("one"))
    assert list(plugins.readers()) == ["one"]
    plugins.register(reader_plugin("two"), "second")
    assert sorted(plugins.readers()) == ["one", "two"]


def test_builtin_plugins_load_through_entry_points(tmp_path: Path) -> None:
    plugins = Plugins(env={})
    assert plugins.failures == []
    assert plugins.stores()["file"] is open_file_store
    assert isinstance(open_store(tmp_path, {}, plugins), FileStore)
    info = {i.name: i for i in plugins.infos()}["file_store"]
    assert (info.distribution, info.version) == ("burn", burn.__version__)
    assert info.hooks == ("register_stores",)
    assert info.error is None


def test_builtin_claude_reader_loads_through_entry_points() -> None:
    if not hasattr(importlib.import_module("burn_claude"), "register_readers"):
        pytest.skip("burn_claude does not implement register_readers yet")
    plugins = Plugins(env=STRICT)
    assert isinstance(plugins.readers()["claude-code"], Reader)
    assert "register_readers" in {i.name: i for i in plugins.infos()}["claude"].hooks


# -- failure isolation -----------------------------------------------------------------------------


def test_raising_hook_is_isolated(make_plugins: PluginsFactory) -> None:
    plugins = make_plugins(reader_plugin("before"), Boom(), reader_plugin("after"))
    assert sorted(plugins.readers()) == ["after", "before"]
    assert plugins.failures == [PluginFailure("Boom", "register_readers", "RuntimeError: boom")]
    assert plugins.failures[0].message() == 'plugin "Boom" failed in register_readers: RuntimeError: boom'


def test_raising_hook_is_fatal_when_strict(make_plugins: PluginsFactory) -> None:
    plugins = make_plugins(reader_plugin("ok"), Boom(), env=STRICT)
    assert plugins.strict
    with pytest.raises(PluginError, match=r'plugin "Boom" failed in register_readers: RuntimeError: boom'):
        plugins.readers()


def test_raising_hook_is_reported_once_even_when_collected_again(make_plugins: PluginsFactory) -> None:
    plugins = make_plugins(Boom())
    plugins.readers()
    plugins.register(reader_plugin("late"), "late")
    assert list(plugins.readers()) == ["late"]
    assert len(plugins.failures) == 1


class Typo:
    @hookimpl
    def register_reader(self, register: Callable[[Reader], None]) -> None:  # not a burn hook
        register(FakeReader("typo"))


def test_typo_in_hook_name_unregisters_the_plugin(make_plugins: PluginsFactory) -> None:
    plugins = make_plugins(Typo(), reader_plugin("fine"))
    [failure] = plugins.failures
    assert (failure.plugin, failure.stage) == ("Typo", "validate")
    assert "register_reader" in failure.error
    assert not plugins.pm.has_plugin("Typo")
    assert list(plugins.readers()) == ["fine"]
    assert "Typo" in {i.name for i in plugins.infos()}


def test_typo_in_hook_name_is_fatal_when_strict(make_plugins: PluginsFactory) -> None:
    with pytest.raises(PluginError, match='plugin "Typo" failed in validate'):
        make_plugins(Typo(), env=STRICT)


def test_hookimpl_with_unknown_argument_is_not_half_registered(plugins: Plugins) -> None:
    """pluggy checks arguments while registering, hook by hook; a refused plugin must leave no
    hook behind (here: register_exporters sorts before the bad register_readers)."""

    class BadArgs:
        @hookimpl
        def register_exporters(self, register: Callable[[Exporter], None]) -> None:
            register(FakeExporter("leaked"))

        @hookimpl
        def register_readers(self, register: Callable[[Reader], None], bogus: object) -> None:
            raise AssertionError("never called")

    with pytest.raises(pluggy.PluginValidationError, match="bogus"):
        plugins.register(BadArgs(), "bad-args")
    assert not plugins.pm.has_plugin("bad-args")
    assert plugins.exporters() == {}


def test_duplicate_reader_name_is_refused(plugins: Plugins) -> None:
    mine = {"first": FakeReader("same"), "second": FakeReader("same")}
    plugins.register(reader_plugin(mine["first"]), "first")
    plugins.register(reader_plugin(mine["second"]), "second")
    readers: dict[str, object] = dict(plugins.readers())
    [failure] = plugins.failures
    assert failure.stage == "register_readers"
    assert failure.plugin in mine
    winner = "first" if failure.plugin == "second" else "second"
    # The winner's reader is kept, and the refusal names both plugins.
    assert readers == {"same": mine[winner]}
    assert f'reader "same" is already registered by plugin "{winner}"' in failure.error
    assert failure.message().startswith(f'plugin "{failure.plugin}" failed in register_readers')


def test_duplicate_store_name_is_refused(make_plugins: PluginsFactory) -> None:
    class OtherFile:
        @hookimpl
        def register_stores(self, register: Callable[[str, Any], None]) -> None:
            register("file", FileStore)

    plugins = make_plugins(OtherFile(), load_entrypoints=True)
    assert sorted(plugins.stores()) == ["file", "http", "postgres", "sqlite"]
    [failure] = plugins.failures
    assert failure.plugin in {"OtherFile", "file_store"}
    assert 'store "file" is already registered by plugin' in failure.error


def test_warn_failures_writes_to_the_current_stderr(make_plugins: PluginsFactory, capsys: Any) -> None:
    """Hook failures are collected before warning, and sys.stderr is looked up at call time."""
    plugins = make_plugins(Boom())
    plugins.warn_failures()
    err = capsys.readouterr().err
    assert err == 'burn: warning: plugin "Boom" failed in register_readers: RuntimeError: boom\n'


# -- entry-point loading ---------------------------------------------------------------------------


@pytest.fixture
def write_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Write a real module into a directory on sys.path; returns its (unique) module name."""
    site = tmp_path / "modules"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    names: list[str] = []

    def write(source: str) -> str:
        name = f"burn_test_{uuid.uuid4().hex[:12]}"
        (site / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


GOOD = """
    from burn import hookimpl
    @hookimpl
    def register_stores(register):
        from burn.ledger.file import FileStore, open_file_store
        register("good", FileStore)
"""
BROKEN = """
    import burn_no_such_dependency_for_tests
"""


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Replace the installed ``burn`` entry points with real EntryPoint objects (name -> module);
    ``keep_installed=True`` keeps the installed ones too."""

    real = md.entry_points  # burn.plugins.manager calls md.entry_points(group="burn") when it loads plugins

    def install(keep_installed: bool = False, **modules: str) -> None:
        fake = [md.EntryPoint(name=name, value=module, group="burn") for name, module in modules.items()]
        installed = list(real(group="burn")) if keep_installed else []

        def entry_points(**kwargs: Any) -> md.EntryPoints:
            assert kwargs == {"group": "burn"}
            return md.EntryPoints([*installed, *fake])

        monkeypatch.setattr(md, "entry_points", entry_points)

    return install


@pytest.fixture
def good_and_broken(write_module: Callable[[str], str], entry_points: Callable[..., None]) -> None:
    entry_points(good=write_module(GOOD), broken=write_module(BROKEN))


@pytest.mark.usefixtures("good_and_broken")
def test_broken_entry_point_is_isolated() -> None:
    plugins = Plugins(env={})
    assert plugins.pm.has_plugin("good")
    assert not plugins.pm.has_plugin("broken")
    assert list(plugins.stores()) == ["good"]
    [failure] = plugins.failures
    assert (failure.plugin, failure.stage) == ("broken", "load")
    assert failure.error.startswith(
        "ModuleNotFoundError: No module named 'burn_no_such_dependency_for_tests'"
    )
    lines: list[str] = []
    plugins.warn_failures(lines.append)
    assert lines == [f'burn: warning: plugin "broken" failed to load: {failure.error}\n']
    infos = {i.name: i for i in plugins.infos()}
    assert infos["good"].hooks == ("register_stores",) and infos["good"].error is None
    assert infos["broken"].hooks == () and infos["broken"].error == failure.error


@pytest.mark.usefixtures("good_and_broken")
def test_broken_entry_point_is_fatal_when_strict() -> None:
    with pytest.raises(PluginError, match='plugin "broken" failed to load: ModuleNotFoundError'):
        Plugins(env=STRICT)


@pytest.mark.usefixtures("good_and_broken")
def test_load_plugins_allowlist() -> None:
    plugins = Plugins(env={"BURN_LOAD_PLUGINS": "good"})
    assert [name for name, _ in plugins.pm.list_name_plugin()] == ["good"]
    assert plugins.failures == []
    assert Plugins(env={"BURN_LOAD_PLUGINS": ""}).pm.list_name_plugin() == []


@pytest.mark.usefixtures("good_and_broken")
def test_disable_plugins_denylist() -> None:
    plugins = Plugins(env={"BURN_DISABLE_PLUGINS": "broken", **STRICT})
    assert plugins.failures == []
    assert [name for name, _ in plugins.pm.list_name_plugin()] == ["good"]
    assert Plugins(env={"BURN_DISABLE_PLUGINS": " broken , good "}).pm.list_name_plugin() == []


def test_entry_point_that_fails_to_register_leaves_no_hooks(
    write_module: Callable[[str], str], entry_points: Callable[..., None]
) -> None:
    half = write_module(
        """
        from burn import hookimpl
        @hookimpl
        def register_exporters(register):
            raise AssertionError("a plugin that failed to load must not run")

        @hookimpl
        def register_readers(register, bogus):
            pass
        """
    )
    entry_points(half=half)
    plugins = Plugins(env={})
    assert not plugins.pm.has_plugin("half")
    assert plugins.exporters() == {}
    [failure] = plugins.failures
    assert (failure.plugin, failure.stage) == ("half", "load")
    assert "bogus" in failure.error


def test_entry_point_name_collision_is_reported(
    write_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = write_module(GOOD), write_module(GOOD.replace('"good"', '"other"'))
    eps = md.EntryPoints(
        [
            md.EntryPoint(name="dup", value=one, group="burn"),
            md.EntryPoint(name="dup", value=two, group="burn"),
        ]
    )
    monkeypatch.setattr(md, "entry_points", lambda group: eps)
    plugins = Plugins(env={})
    assert list(plugins.stores()) == ["good"]
    [failure] = plugins.failures
    assert (failure.plugin, failure.stage) == ("dup", "load")
    assert f"entry point {two!r} ignored: name taken by {one!r}" in failure.error


# -- `burn plugins` --------------------------------------------------------------------------------


def test_cli_plugins_table(capsys: Any) -> None:
    assert main(["plugins"]) == 0
    out, err = capsys.readouterr()
    header, rule, *rows = out.splitlines()
    assert header.split() == ["plugin", "version", "hooks", "error"]
    assert set(rule) <= {"-", " "}
    by_name = {row.split()[0]: row.split() for row in rows}
    assert by_name["file_store"][1:] == [burn.__version__, "register_stores"]
    assert err == ""


def test_cli_plugins_json_with_broken_plugins(
    write_module: Callable[[str], str], entry_points: Callable[..., None], capsys: Any
) -> None:
    raising = write_module(
        """
        from burn import hookimpl
        @hookimpl
        def register_readers(register):
            raise RuntimeError("cannot register")
        """
    )
    entry_points(keep_installed=True, broken=write_module(BROKEN), raising=raising)
    assert main(["plugins", "--json"]) == 0
    out, err = capsys.readouterr()
    infos = {i["name"]: i for i in json.loads(out)}
    assert set(infos["file_store"]) == {"name", "distribution", "version", "hooks", "error"}
    assert infos["file_store"]["hooks"] == ["register_stores"]
    assert infos["broken"]["hooks"] == []
    assert infos["broken"]["error"].startswith("ModuleNotFoundError")
    assert infos["raising"]["hooks"] == ["register_readers"]
    assert infos["raising"]["error"] == "RuntimeError: cannot register"
    assert err.splitlines() == [
        f'burn: warning: plugin "broken" failed to load: {infos["broken"]["error"]}',
        'burn: warning: plugin "raising" failed in register_readers: RuntimeError: cannot register',
    ]


@pytest.mark.usefixtures("good_and_broken")
def test_cli_strict_plugins_exits_with_one_error_line(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("BURN_STRICT_PLUGINS", "1")
    assert main(["plugins"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith('burn: error: plugin "broken" failed to load: ModuleNotFoundError')


# -- a broken third-party distribution, installed for real -----------------------------------------

DEMO_PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "burn-broken-demo"
version = "0.0.7"

[project.entry-points.burn]
broken = "burn_broken_demo"

[tool.hatch.build.targets.wheel]
packages = ["burn_broken_demo"]
"""


@pytest.fixture
def broken_distribution(tmp_path: Path) -> dict[str, str]:
    """Build and install ``burn-broken-demo`` (its module fails to import), and return an
    environment in which it is installed.

    It is installed with ``pip --target`` into a directory put on PYTHONPATH, not into the shared
    environment: other test runs in the same environment must never see it, even if this test is
    killed before it could uninstall.
    """
    # Built without network access, with the build backend of this environment.
    pytest.importorskip("hatchling", reason="building needs hatchling installed (pip install hatchling)")
    src = tmp_path / "burn-broken-demo"
    (src / "burn_broken_demo").mkdir(parents=True)
    (src / "pyproject.toml").write_text(DEMO_PYPROJECT, encoding="utf-8")
    (src / "burn_broken_demo" / "__init__.py").write_text(
        "import burn_broken_demo_missing_dependency  # noqa: F401\n", encoding="utf-8"
    )
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--target", str(site), str(src)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert (site / "burn_broken_demo-0.0.7.dist-info" / "entry_points.txt").is_file()
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
    }


def run_burn(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "burn.cli.app", *args], env=env, capture_output=True, text=True, timeout=60
    )


BROKEN_WARNING = (
    'burn: warning: plugin "broken" failed to load: ModuleNotFoundError: '
    "No module named 'burn_broken_demo_missing_dependency'"
)


def test_installed_broken_plugin_does_not_take_the_cli_down(
    broken_distribution: dict[str, str], isolated_env: dict[str, Path]
) -> None:
    env = broken_distribution

    listed = run_burn(env, "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.splitlines() == [BROKEN_WARNING]
    infos = {i["name"]: i for i in json.loads(listed.stdout)}
    assert infos["broken"]["distribution"] == "burn-broken-demo"
    assert infos["broken"]["version"] == "0.0.7"
    assert infos["broken"]["hooks"] == []
    assert infos["file_store"]["error"] is None

    table = run_burn(env, "plugins")
    assert table.returncode == 0, table.stderr
    assert table.stderr.splitlines() == [BROKEN_WARNING]
    assert any(line.split()[:2] == ["broken", "0.0.7"] for line in table.stdout.splitlines())

    ingested = run_burn(env, "ingest", "--json")
    assert ingested.returncode == 0, ingested.stderr
    assert ingested.stderr.splitlines() == [BROKEN_WARNING]
    assert "totals" in json.loads(ingested.stdout)
    assert (isolated_env["RELAYBURN_HOME"] / "archive.sqlite").is_file()

    strict = run_burn({**env, "BURN_STRICT_PLUGINS": "1"}, "ingest")
    assert strict.returncode == 1
    assert strict.stderr.splitlines() == [BROKEN_WARNING.replace("warning", "error", 1)]

    disabled = run_burn({**env, "BURN_DISABLE_PLUGINS": "broken"}, "plugins", "--json")
    assert disabled.returncode == 0
    assert disabled.stderr == ""
    assert "broken" not in {i["name"] for i in json.loads(disabled.stdout)}


def test_builtins_win_a_name_clash_and_ignore_the_allowlist(
    write_module: Callable[[str], str], entry_points: Callable[..., None]
) -> None:
    impostor = write_module(
        """
        from burn import hookimpl
        class Impostor:
            name = "claude-code"
            env_var = None

        @hookimpl
        def register_readers(register):
            register(Impostor())
        """
    )
    entry_points(keep_installed=True, aaa_impostor=impostor)
    plugins = Plugins(env={})
    readers = plugins.readers()
    assert type(readers["claude-code"]).__module__.startswith("burn_claude")
    [failure] = [f for f in plugins.failures if f.plugin == "aaa_impostor"]
    assert 'reader "claude-code" is already registered by plugin "claude"' in failure.error
    only_third_party = Plugins(env={"BURN_LOAD_PLUGINS": "aaa_impostor"})
    assert {"claude", "file_store", "aaa_impostor"} <= {n for n, _ in only_third_party.pm.list_name_plugin()}


# -- built-ins without the entry-point scan ----------------------------------------------------------


def test_builtins_table_matches_the_declared_entry_points() -> None:
    """``BUILTINS`` mirrors pyproject.toml's entry points and the installed distribution's."""
    import tomllib

    declared = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"
    ]["entry-points"]["burn"]
    assert {name: module for name, (module, _kind) in burn.plugins.manager.BUILTINS.items()} == declared
    installed = {ep.name: ep.value for ep in md.distribution("burn").entry_points if ep.group == "burn"}
    assert installed == declared
    # The kind each is filed under is the kind it registers.
    for name, (_module, kind) in burn.plugins.manager.BUILTINS.items():
        plugins = Plugins(env={"BURN_STRICT_PLUGINS": "1"}, builtin_kinds=(kind,))
        assert plugins.pm.has_plugin(name)
        assert getattr(plugins, kind)(), name


def test_builtin_kinds_load_without_scanning_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_scan(**kwargs: Any) -> Any:
        raise AssertionError("entry points scanned")

    monkeypatch.setattr(md, "entry_points", no_scan)
    plugins = Plugins(env={"BURN_STRICT_PLUGINS": "1"}, builtin_kinds=("exporters",))
    assert sorted(plugins.exporters()) == ["activity", "compare", "sessions", "usage"]
    assert plugins.readers() == {} and plugins.stores() == {}
    denied = Plugins(env={"BURN_DISABLE_PLUGINS": "export_usage"}, builtin_kinds=("exporters",))
    assert sorted(denied.exporters()) == ["activity", "compare", "sessions"]


IMPOSTOR = """
    from burn import hookimpl
    from burn_export_usage.exporter import UsageExporter

    class Impostor(UsageExporter):
        surface = "impostor"
        commands = {"daily": {"by": "model"}, "hourly": {"by": "day"}}

    @hookimpl
    def register_exporters(register):
        register(Impostor())
"""


def test_a_third_party_exporter_cannot_take_a_builtin_command_name(
    write_module: Callable[[str], str], entry_points: Callable[..., None]
) -> None:
    """`burn report daily` is the built-in report whether or not a plugin names a command `daily`
    (so that reports of built-in commands may load the built-ins only); new names are the plugin's."""
    from burn.cli.contract import commands

    entry_points(keep_installed=True, impostor=write_module(IMPOSTOR))
    table = commands("report", Plugins(env={"BURN_STRICT_PLUGINS": "1"}).exporters())
    assert table["daily"][0].surface == "usage" and table["daily"][1] == {"by": "day"}
    assert table["hourly"][0].surface == "impostor"


def test_a_third_party_entry_point_cannot_take_a_builtin_name(
    write_module: Callable[[str], str], entry_points: Callable[..., None]
) -> None:
    """An installed plugin whose entry point is called ``claude`` is ignored and reported; burn's
    Claude Code reader stays."""
    other = write_module(GOOD)
    entry_points(keep_installed=True, claude=other)
    plugins = Plugins(env={})
    assert type(plugins.pm.get_plugin("claude")).__name__ == "module"
    assert plugins.pm.get_plugin("claude").__name__ == "burn_claude"
    assert "claude-code" in plugins.readers()
    [failure] = [f for f in plugins.failures if f.plugin == "claude"]
    assert f"entry point {other!r} ignored: name taken by 'burn_claude'" in failure.error
