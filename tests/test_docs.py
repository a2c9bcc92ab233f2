"""docs/plugin-hooks.md documents every hook, and its examples run."""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from burn.archive.database import Archive
from burn.exporter import Exporter
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.plugins.stores import open_store
from burn.reader import OPTIONAL_METHODS, Reader

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_HOOKS = ROOT / "docs" / "plugin-hooks.md"
HOOK_CALLERS = {
    name: caller
    for name, caller in vars(Plugins(env={}, load_entrypoints=False).pm.hook).items()
    if not name.startswith("_")
}


def signature(hook: str) -> str:
    arg_names = [a for a in HOOK_CALLERS[hook].spec.argnames if a != "__multicall__"]
    return f"{hook}({', '.join(arg_names)})"


def sections() -> dict[str, str]:
    """Level-2 sections of the page: heading text -> body (up to the next level-2 heading)."""
    parts = re.split(r"^## (.+)$", PLUGIN_HOOKS.read_text(encoding="utf-8"), flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def example(hook: str) -> types.ModuleType:
    """The one python block of the hook's section that implements a hook, run as a module."""
    body = sections()[signature(hook)]
    blocks = [b for b in re.findall(r"^```python\n(.*?)^```$", body, flags=re.M | re.S) if "@hookimpl" in b]
    assert len(blocks) == 1, f"{hook}: expected one example implementing the hook, found {len(blocks)}"
    module = types.ModuleType(f"plugin_hooks_example_{hook}")
    exec(compile(blocks[0], f"{PLUGIN_HOOKS}#{hook}", "exec"), module.__dict__)
    return module


@pytest.mark.parametrize("hook", sorted(HOOK_CALLERS))
def test_plugin_hooks_are_documented(hook: str) -> None:
    """Every hook has a heading written as its signature (datasette's meta-test)."""
    expected = signature(hook)
    assert expected in sections(), f"Missing from plugin hook documentation: ## {expected}"


def test_no_documented_hook_is_unknown() -> None:
    documented = {h.split("(")[0] for h in sections() if re.fullmatch(r"\w+\(.*\)", h)}
    assert documented == set(HOOK_CALLERS)


def reader_protocol_rows() -> dict[str, str]:
    """The member column of the ``Reader`` protocol table: member name -> its cell."""
    body = sections()[signature("register_readers")]
    table = body.split("### The `Reader` protocol", 1)[1].split("\n\n", 2)[1]
    cells = [line.split("|")[1].strip() for line in table.splitlines()[2:]]
    return {re.match(r"`(\w+)", c).group(1): c for c in cells}  # type: ignore[union-attr]


@pytest.mark.parametrize("method", OPTIONAL_METHODS)
def test_optional_reader_methods_are_documented_and_implemented(method: str) -> None:
    """Every optional reader method the core calls is in the protocol table, marked optional, and
    implemented by a built-in reader (so burn's own tests exercise the seam: test_dedupe.py,
    test_doctor.py)."""
    rows = reader_protocol_rows()
    assert method in rows, f"optional reader method {method} missing from docs/plugin-hooks.md"
    assert rows[method].endswith("(optional)"), rows[method]
    builtins = Plugins(env={}, load_entrypoints=False)
    import burn_claude
    import burn_codex
    import burn_opencode

    for module in (burn_claude, burn_codex, burn_opencode):
        builtins.register(module, module.__name__)
    assert any(callable(getattr(r, method, None)) for r in builtins.readers().values())


def test_every_optional_method_the_core_calls_is_declared() -> None:
    """The core asks readers for optional methods with ``getattr(reader, "…")``: each is declared."""
    core = ROOT / "core" / "burn"
    called = {
        m
        for path in core.rglob("*.py")
        for m in re.findall(r'getattr\(reader, "(\w+)"', path.read_text(encoding="utf-8"))
    }
    assert called == set(OPTIONAL_METHODS)


CHECKS: dict[str, Callable[[Plugins], dict[str, Any]]] = {
    "register_readers": Plugins.readers,
    "register_exporters": Plugins.exporters,
    "register_stores": Plugins.stores,
}


@pytest.mark.parametrize("hook", sorted(HOOK_CALLERS))
def test_hook_example_registers(hook: str, plugins: Plugins, tmp_path: Path) -> None:
    module = example(hook)
    plugins.register(module, f"example-{hook}")
    registered = CHECKS[hook](plugins)
    assert plugins.failures == []
    assert len(registered) == 1
    [(name, obj)] = registered.items()
    if hook == "register_readers":
        assert isinstance(obj, Reader) and name == obj.name
    elif hook == "register_exporters":
        assert isinstance(obj, Exporter) and name == obj.surface
    else:
        store = obj(tmp_path)
        assert store.name == name
        for method in ("lock", "append", "read", "position", "describe"):
            assert callable(getattr(store, method)), method


def acme_line(mid: str, output: int, ts: str) -> bytes:
    row = {"id": mid, "ts": ts, "model": "acme-1", "input": 10, "output": output}
    return orjson.dumps(row) + b"\n"


def test_examples_work_together_through_ingest(plugins: Plugins, tmp_path: Path) -> None:
    """The reader feeds the memory store through a real ingest; the exporter reads the archive."""
    for hook in sorted(HOOK_CALLERS):
        plugins.register(example(hook), f"example-{hook}")
    home, acme = tmp_path / "burn", tmp_path / "acme"
    (acme / "sessions").mkdir(parents=True)
    session = acme / "sessions" / "s1.jsonl"
    session.write_bytes(
        acme_line("m1", 5, "2026-03-01T10:00:00.000Z")
        + b"{not json\n"
        + acme_line("m2", 7, "2026-03-01T10:01:00.000Z")
    )
    env = {"ACME_HOME": str(acme), "RELAYBURN_STORAGE": "memory", "HOME": str(tmp_path / "home")}

    first = ingest(home, plugins, env).sources["acme"]
    assert first.appended.appended == {"turn": 2}
    assert first.diagnostics.invalid == {"invalid_line": 1}
    again = ingest(home, plugins, env).sources["acme"]
    assert again.appended.lines_written == 0
    with session.open("ab") as f:
        f.write(acme_line("m3", 11, "2026-03-01T10:02:00.000Z"))
    later = ingest(home, plugins, env).sources["acme"]
    assert later.appended.appended == {"turn": 1}
    # Read everything again from scratch: the ids make every record a duplicate.
    (home / "cursors.sqlite").unlink()
    reread = ingest(home, plugins, env).sources["acme"]
    assert reread.appended.lines_written == 0 and reread.appended.dropped == {"duplicate": 3}
    # A later snapshot of m3 with more output supersedes it: one revision.
    with session.open("ab") as f:
        f.write(acme_line("m3", 12, "2026-03-01T10:02:00.000Z"))
    revised = ingest(home, plugins, env).sources["acme"]
    assert (revised.appended.appended, revised.appended.revised) == ({}, {"turn": 1})
    assert plugins.failures == []

    store = open_store(home, env, plugins)
    assert store.describe() == {"store": "memory", "entries": 4}
    assert [e.record["message_id"] for e in store.read()] == ["m1", "m2", "m3", "m3"]
    assert [e.position for e in store.read(since=2)] == [3, 4]

    archive = Archive.in_home(home, readonly=True)
    try:
        rows = list(plugins.exporters()["models"].rows(archive, {}))
    finally:
        archive.close()
    assert rows == [{"model": "acme-1", "turns": 3, "output_tokens": 24}]
