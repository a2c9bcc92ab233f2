"""A reader's name, environment variable, locations and discovery, from its layout module."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from burn.reader import Diagnostics, SourceUnit


class Layout(Protocol):
    """Where a source keeps its files: usually a module of the plugin (``discover.py``) with an
    ``ENV_VAR`` and the functions ``locations`` and ``discover`` of :class:`burn.reader.Reader`."""

    @property
    def ENV_VAR(self) -> str | None:
        """The environment variable that overrides the default locations."""
        ...

    def locations(self, env: Mapping[str, str], home: Path, /) -> list[Path]:
        """Roots to search (see :meth:`burn.reader.Reader.locations`)."""
        ...

    def discover(self, roots: Sequence[Path], diagnostics: Diagnostics, /) -> Iterator[SourceUnit]:
        """Source units under ``roots`` (see :meth:`burn.reader.Reader.discover`)."""
        ...


class LayoutReader:
    """Base of a :class:`~burn.reader.Reader` whose locations and discovery are its ``layout``'s.

    A subclass sets ``name`` and ``layout`` and implements ``read``; ``env_var`` is
    ``layout.ENV_VAR``::

        class GatewayReader(LayoutReader):
            name = "gateway"
            layout = gateway_discover  # a module: ENV_VAR, locations(), discover()

            def read(self, unit, cursor):
                return read_jsonl(unit, cursor, GatewayParser)
    """

    name: str
    env_var: str | None = None
    layout: Layout

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "layout" in cls.__dict__ and "env_var" not in cls.__dict__:
            cls.env_var = cls.layout.ENV_VAR

    def locations(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return self.layout.locations(env, home)

    def discover(self, roots: Sequence[Path], diagnostics: Diagnostics) -> Iterator[SourceUnit]:
        return self.layout.discover(roots, diagnostics)
