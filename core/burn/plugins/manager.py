"""Plugin manager: loading with per-plugin failure isolation, and a typed facade over the hooks.

pluggy itself does not isolate failures: one distribution that fails to import aborts
``load_setuptools_entrypoints``, and one hookimpl that raises aborts the whole hook call. burn
loads each entry point on its own and calls each implementation on its own, so a broken
third-party plugin costs one warning line and everything else keeps working. With
``BURN_STRICT_PLUGINS=1`` (tests, CI) the first failure is fatal instead.

Switches (environment):

* ``BURN_LOAD_PLUGINS=a,b`` — allowlist of third-party entry-point names to load (empty value:
  none); burn's own built-ins always load unless denied;
* ``BURN_DISABLE_PLUGINS=a,b`` — entry-point names to block;
* ``BURN_STRICT_PLUGINS=1`` — plugin failures raise :class:`~burn.errors.PluginError`.

``Plugins(builtin_kinds=("exporters",))`` loads only burn's own plugins of those kinds
(:data:`BUILTINS`), without scanning the installed distributions: a report or export of a built-in
surface needs nothing else, and the scan (importing :mod:`importlib.metadata`, reading every
distribution's entry points) and the readers' imports cost more than its query.
``Plugins(entry_point_cache=path)`` keeps the scan's result in ``path`` between runs
(:mod:`burn.plugins.entrypoints` says when it is current).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from burn.errors import PluginError
from burn.plugins import hookspecs

if TYPE_CHECKING:
    from pathlib import Path

    from burn.exporter import Exporter
    from burn.plugins.entrypoints import EntryPointSpec
    from burn.reader import Reader
    from burn.store import StoreFactory
GROUP = "burn"

# burn's own plugins: the entry points pyproject.toml declares in the ``burn`` group, name → (module,
# the kind of thing it registers); tests/test_plugins.py checks that the two agree.
BUILTINS: dict[str, tuple[str, str]] = {
    "claude": ("burn_claude", "readers"),
    "codex": ("burn_codex", "readers"),
    "opencode": ("burn_opencode", "readers"),
    "file_store": ("burn.ledger.file", "stores"),
    "sqlite_store": ("burn.ledger.sqlite_store", "stores"),
    "postgres_store": ("burn.ledger.postgres", "stores"),
    "http_store": ("burn.ledger.http_store", "stores"),
    "export_sessions": ("burn_export_sessions", "exporters"),
    "export_usage": ("burn_export_usage", "exporters"),
    "export_activity": ("burn_export_activity", "exporters"),
    "export_compare": ("burn_export_compare", "exporters"),
}


@attrs.frozen
class PluginFailure:
    plugin: str
    stage: str  # "load" | "validate" | hook name
    error: str

    def message(self) -> str:
        where = "failed to load" if self.stage == "load" else f"failed in {self.stage}"
        return f'plugin "{self.plugin}" {where}: {self.error}'


@attrs.frozen
class PluginInfo:
    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    error: str | None = None


def _split(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}


class Plugins:
    """The plugin manager plus what it loaded, failed on, and registered."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        load_entrypoints: bool = True,
        builtin_kinds: tuple[str, ...] = (),
        entry_point_cache: Path | None = None,
    ) -> None:
        self.env = os.environ if env is None else env
        self.strict = self.env.get("BURN_STRICT_PLUGINS", "") not in ("", "0")
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self._dists: dict[str, tuple[str, str | None]] = {}  # plugin name → (distribution, version)
        self._readers: dict[str, Reader] | None = None
        self._exporters: dict[str, Exporter] | None = None
        self._stores: dict[str, StoreFactory] | None = None
        if builtin_kinds:
            self._load_builtins(builtin_kinds)
        elif load_entrypoints:
            self._load_entrypoints(entry_point_cache)
        self._validate()

    # -- loading ---------------------------------------------------------------------------------

    def _fail(self, plugin: str, stage: str, exc: BaseException) -> None:
        failure = PluginFailure(plugin, stage, f"{type(exc).__name__}: {exc}")
        if self.strict:
            raise PluginError(failure.message()) from exc
        if failure not in self.failures:  # registrations are re-collected after register()
            self.failures.append(failure)

    def _load_builtins(self, kinds: tuple[str, ...]) -> None:
        deny = _split(self.env.get("BURN_DISABLE_PLUGINS")) or set()
        for name, (module, kind) in sorted(BUILTINS.items()):
            if name in deny or kind not in kinds:
                continue
            try:
                self._register(importlib.import_module(module), name)
            except Exception as exc:
                self._fail(name, "load", exc)

    def _load_entrypoints(self, cache: Path | None) -> None:
        from burn.plugins.entrypoints import entry_points

        allow = _split(self.env.get("BURN_LOAD_PLUGINS"))
        deny = _split(self.env.get("BURN_DISABLE_PLUGINS")) or set()
        seen: dict[str, EntryPointSpec] = {}
        # Built-ins claim their names first: a third-party entry point called "claude" is ignored
        # (and reported), never loaded in place of burn's reader.
        installed = entry_points(GROUP, cache)
        for ep in sorted(installed, key=lambda e: (not _is_builtin(e), e.name)):
            if ep.name in deny or (allow is not None and ep.name not in allow and not _is_builtin(ep)):
                continue
            if ep.name in seen:
                # pluggy would skip a second plugin of the same name without a word; say so.
                taken = f"{seen[ep.name].value!r}{_from(seen[ep.name])}"
                clash = ValueError(f"entry point {ep.value!r}{_from(ep)} ignored: name taken by {taken}")
                self._fail(ep.name, "load", clash)
                continue
            seen[ep.name] = ep
        # Built-ins register last so that pluggy (last registered, first called) calls them first:
        # a third-party plugin can add readers, never take the name of a built-in one.
        for ep in sorted(seen.values(), key=lambda e: (_is_builtin(e), e.name)):
            if ep.distribution is not None:  # known even when loading fails, for `burn plugins`
                self._dists[ep.name] = (ep.distribution, ep.version)
            try:
                self._register(ep.load(), ep.name)
            except Exception as exc:  # a plugin may raise anything while importing
                self._fail(ep.name, "load", exc)

    def _register(self, plugin: object, name: str) -> None:
        try:
            self.pm.register(plugin, name=name)
        except Exception:
            # pluggy registers hookimpls one by one and leaves the ones before a failing one in
            # place; a plugin that failed to register must not run half of its hooks.
            if self.pm.get_plugin(name) is plugin:
                self.pm.unregister(plugin, name=name)
            raise

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register an in-process plugin object (tests, embedding applications)."""
        self._register(plugin, name or self.pm.get_canonical_name(plugin))
        self._readers = self._exporters = self._stores = None
        self._validate()

    def _validate(self) -> None:
        # check_pending raises on the first hookimpl without a spec (a typo'd hook name); unregister
        # offenders one at a time so the rest keep working.
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
                self.pm.unregister(exc.plugin)
                self._fail(name, "validate", exc)

    # -- calling ---------------------------------------------------------------------------------

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call every implementation of ``hook_name`` separately, isolating failures per plugin."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            self._current = impl.plugin_name
            try:
                impl.function(**{a: kwargs[a] for a in impl.argnames})
            except Exception as exc:  # isolating whatever a plugin raised is the point
                self._fail(impl.plugin_name, hook_name, exc)

    def _collect(self, hook_name: str, kind: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        owners: dict[str, str] = {}

        def register(*args: Any) -> None:
            name, obj = (args[0], args[1]) if len(args) == 2 else (_name_of(args[0], kind), args[0])
            if name in found:
                raise ValueError(f'{kind} "{name}" is already registered by plugin "{owners[name]}"')
            found[name] = obj
            owners[name] = self._current

        self.call_each(hook_name, register=register)
        return found

    def readers(self) -> dict[str, Reader]:
        """Every registered reader by name (its ``name``, the ``source`` of its records).

        The ``register_readers`` hook runs on the first call only (the result is kept): each plugin's
        implementation on its own, so one that raises loses only its own readers and is listed in
        :attr:`failures` (fatal with ``BURN_STRICT_PLUGINS=1``); a second reader with a name
        already taken is refused the same way. Ingest and doctor iterate it sorted by name.
        """
        if self._readers is None:
            self._readers = self._collect("register_readers", "reader")
        return self._readers

    def exporters(self) -> dict[str, Exporter]:
        if self._exporters is None:
            self._exporters = self._collect("register_exporters", "exporter")
        return self._exporters

    def stores(self) -> dict[str, StoreFactory]:
        if self._stores is None:
            self._stores = self._collect("register_stores", "store")
        return self._stores

    _current: str = ""

    # -- reporting -------------------------------------------------------------------------------

    def collect(self, kinds: tuple[str, ...] = ("readers", "exporters", "stores")) -> None:
        """Call registration hooks now, so that their failures are known (and, strict, raised)."""
        for kind in kinds:
            getattr(self, kind)()

    def infos(self) -> list[PluginInfo]:
        """Every plugin: registered ones with their hooks, and those that failed to load or register."""
        self.collect()
        out: list[PluginInfo] = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda np: np[0]):
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or []))
            dist, version = self._dists.get(name, (None, None))
            errors = [f.error for f in self.failures if f.plugin == name]
            out.append(
                PluginInfo(
                    name=name,
                    distribution=dist,
                    version=version,
                    hooks=hooks,
                    error="; ".join(errors) or None,
                )
            )
        registered = {i.name for i in out}
        for f in self.failures:
            if f.plugin not in registered:
                registered.add(f.plugin)
                dist, version = self._dists.get(f.plugin, (None, None))
                errors = [g.error for g in self.failures if g.plugin == f.plugin]
                out.append(
                    PluginInfo(
                        name=f.plugin,
                        distribution=dist,
                        version=version,
                        hooks=(),
                        error="; ".join(errors),
                    )
                )
        return out

    def warn_failures(
        self,
        write: Callable[[str], object] | None = None,
        kinds: tuple[str, ...] = ("readers", "exporters", "stores"),
    ) -> None:
        """One warning line per plugin failure, on stderr unless ``write`` is given.

        Registration hooks are called first, so that a plugin whose ``register_*`` raises is
        reported too, not only plugins that failed to import.
        """
        self.collect(kinds)
        # sys.stderr is looked up now, not at import time, so redirected stderr is honoured.
        out = sys.stderr.write if write is None else write
        for f in self.failures:
            out(f"burn: warning: {f.message()}\n")


def _from(ep: EntryPointSpec) -> str:
    return f" (distribution {ep.distribution})" if ep.distribution is not None else ""


def _is_builtin(ep: EntryPointSpec) -> bool:
    """burn's own entry points (:data:`BUILTINS`), which the allowlist never filters out. Matched by
    name and module rather than by reading each distribution's metadata on every command."""
    builtin = BUILTINS.get(ep.name)
    return builtin is not None and builtin[0] == ep.value


def _name_of(obj: Any, kind: str) -> str:
    # Each protocol names its key: a reader's ``name``, an exporter's ``surface`` (an exporter may
    # also carry a display ``name``; it must not become the key).
    attr = "surface" if kind == "exporter" else "name"
    name = getattr(obj, attr, None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{kind} {obj!r} has no {attr}")
    return name
