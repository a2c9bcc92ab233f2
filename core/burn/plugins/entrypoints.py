"""The installed distributions' entry points of one group, cached between runs.

Finding them the standard way imports :mod:`importlib.metadata` (with its ``email``, ``zipfile``
and ``csv`` imports) and reads every installed distribution's metadata, on every ``burn ingest``
(docs/performance.md), for a list that changes only when something is installed or removed. So the list
is kept in a small JSON file, keyed (as stevedore's entry-point cache is) on everything an install
changes:

* the environment (``sys.prefix``, ``sys.version``) and ``sys.path`` (not ``sys.executable``:
  ``python`` and ``python3`` in one virtual environment see the same distributions);
* each ``sys.path`` entry's mtime: installing or removing a distribution adds or deletes its
  ``*.dist-info`` directory there;
* the size and mtime of the ``entry_points.txt`` of every ``*.dist-info`` / ``*.egg-info`` directory
  of a path entry: a metadata file rewritten in place (a legacy ``setup.py develop`` checkout on
  ``sys.path``) changes no directory.

Checking the key costs one listing per path entry and one stat per installed distribution (well
under a millisecond). Any difference, and a missing, unreadable or corrupt cache, means a scan
with :mod:`importlib.metadata`; the cache is then rewritten (atomically; a cache that cannot be
written is not an error, the next run scans again). ``burn plugins`` and ``burn doctor`` do not
use the cache: they scan, so what they show is what is installed, and they write nothing.

The cache names modules to import, so it is written private (``0600``) and ignored unless it is
the user's own file and writable by no one else.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

CACHE_NAME = "entry-points.json"  # in burn's home, beside the ledger
CACHE_VERSION = 1
METADATA_SUFFIXES = (".dist-info", ".egg-info")


class EntryPointSpec(NamedTuple):
    """One entry point: ``value`` is ``module[:attr[.attr…]]``; the distribution that declares it,
    when known."""

    name: str
    value: str
    distribution: str | None = None
    version: str | None = None

    def load(self) -> Any:
        """Import the module and resolve the attribute path (``EntryPoint.load``'s rules)."""
        target = self.value.split("[", 1)[0]  # extras (``mod:obj [extra]``) do not change what loads
        module, _, attr_path = target.partition(":")
        obj: Any = importlib.import_module(module.strip())
        for attr in filter(None, attr_path.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def entry_points(group: str, cache: Path | None = None) -> list[EntryPointSpec]:
    """The entry points of ``group`` of every installed distribution; from ``cache`` when it is
    current (see the module docstring), else scanned, and then written to ``cache``. Without a
    cache, scanned."""
    if cache is None:
        return scan(group)
    key = install_key()
    cached = _read(cache, group, key)
    if cached is not None:
        return cached
    found = scan(group)
    _write(cache, group, key, found)
    return found


def scan(group: str) -> list[EntryPointSpec]:
    import importlib.metadata as md

    found = []
    for ep in md.entry_points(group=group):
        dist = ep.dist
        if dist is None:
            found.append(EntryPointSpec(ep.name, ep.value))
        else:
            found.append(EntryPointSpec(ep.name, ep.value, dist.name, dist.version))
    return found


def install_key() -> list[Any]:
    """What an install or removal changes (module docstring), as a JSON-comparable list."""
    key: list[Any] = [sys.prefix, sys.version]
    for entry in sys.path:
        key.append([entry, *_stat(entry or ".")])
        try:
            with os.scandir(entry or ".") as listing:
                names = sorted(e.name for e in listing if e.name.endswith(METADATA_SUFFIXES))
        except OSError:  # a zip file, or a path that does not exist (yet): its mtime covers it
            continue
        for name in names:
            key.append([name, *_stat(os.path.join(entry, name, "entry_points.txt"))])
    return key


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def _read(cache: Path, group: str, key: list[Any]) -> list[EntryPointSpec] | None:
    import orjson

    try:
        with open(cache, "rb") as f:
            if not _trusted(os.fstat(f.fileno())):
                return None
            data = orjson.loads(f.read())
        if data["version"] != CACHE_VERSION or data["group"] != group or data["key"] != key:
            return None
        return [EntryPointSpec(*spec) for spec in data["entry_points"]]
    except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable or not ours: rescan
        return None


def _trusted(st: os.stat_result) -> bool:
    """The cache names modules to import, so it is used only as burn writes it: the user's own file,
    writable by no one else (as ssh treats its files). Elsewhere than POSIX, any file is."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or (st.st_uid == getuid() and not st.st_mode & 0o022)


def _write(cache: Path, group: str, key: list[Any], found: list[EntryPointSpec]) -> None:
    import orjson

    data = {"version": CACHE_VERSION, "group": group, "key": key, "entry_points": [list(s) for s in found]}
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(orjson.dumps(data))
        os.replace(tmp, cache)
    except OSError:  # no home yet, read-only home: the next run scans again
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
