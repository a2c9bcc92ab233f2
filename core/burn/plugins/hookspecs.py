"""burn's plugin hooks. Every hook is documented in docs/plugin-hooks.md and tested.

Hooks take a ``register`` callback, as in llm and tox: the host owns naming, duplicate detection
and error messages. Implementations may accept fewer arguments than a spec (pluggy's opt-in
arguments), so new arguments can be added without breaking plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from burn.exporter import Exporter
    from burn.reader import Reader
    from burn.store import StoreFactory
hookspec = pluggy.HookspecMarker("burn")
hookimpl = pluggy.HookimplMarker("burn")


@hookspec
def register_readers(register: Callable[[Reader], None]) -> None:
    """Register source readers.

    :param register: call once per reader with an object implementing :class:`burn.reader.Reader`
        (``name``, ``env_var``, ``locations``, ``discover``, ``read``). A second reader with a name
        already taken is refused with a warning naming both plugins.
    """


@hookspec
def register_exporters(register: Callable[[Exporter], None]) -> None:
    """Register exporters of contract surfaces.

    :param register: call once per exporter with an object implementing
        :class:`burn.exporter.Exporter` (``surface``, ``schema_version``, ``rows``). Surface names
        are unique; a duplicate is refused with a warning.
    """


@hookspec
def register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    """Register ledger stores, selected by ``RELAYBURN_STORAGE``.

    :param register: call ``register(name, factory)``; ``factory(config: StoreConfig) -> Store``
        opens the store (:class:`burn.store.StoreConfig`: the burn home, the store's URL when one
        was given, the environment). The built-in ``file`` store is registered this way.
    """
