"""The directory walk of discovery: every file with a given suffix under a directory tree."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from operator import attrgetter
from pathlib import Path

from burn.reader import Diagnostics

_by_name = attrgetter("name")


def walk_files(
    top: Path,
    suffix: str,
    diagnostics: Diagnostics,
    *,
    visited: set[tuple[int, int]] | None = None,
    sort: bool = False,
) -> Iterator[tuple[str, AbstractSet[str]]]:
    """``(path, names)`` of every regular file under ``top`` whose name ends with ``suffix``,
    recursively: the file's path, and the names of every entry of its directory (so that a reader
    can see a sidecar without a ``stat``). Nothing when ``top`` is not a directory. Never raises.

    Directories are listed with :func:`os.scandir` (one call per directory, file types from the
    directory entry), depth-first, entries in directory order (by name with ``sort``). Symlinked
    directories are followed; each directory is walked once, so a symlink loop or a ``top`` inside
    another is harmless — pass one ``visited`` set to several walks to share that. A matching entry
    that is not a regular file (a directory, a FIFO — never opened: it would block —, a socket, a
    broken symlink) is counted as ``not_a_file``, a directory that cannot be listed as
    ``unreadable``.
    """
    if visited is None:
        visited = set()
    try:
        st = os.stat(top)
    except OSError:
        return  # a candidate location that does not exist
    if not stat.S_ISDIR(st.st_mode):
        return
    stack: list[tuple[str, tuple[int, int]]] = [(str(top), (st.st_dev, st.st_ino))]
    while stack:
        directory, key = stack.pop()
        if key in visited:
            continue
        visited.add(key)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=_by_name) if sort else list(it)
        except OSError as exc:
            diagnostics.skip("unreadable", f"{directory}: {exc.strerror or exc}")
            continue
        names = {e.name for e in entries}
        subdirs: list[tuple[str, tuple[int, int]]] = []
        for entry in entries:
            try:
                if entry.name.endswith(suffix):
                    if entry.is_file():
                        yield entry.path, names
                    else:
                        diagnostics.skip("not_a_file", entry.path)
                elif entry.is_dir():
                    est = entry.stat()
                    subdirs.append((entry.path, (est.st_dev, est.st_ino)))
            except OSError as exc:
                diagnostics.skip("unreadable", f"{entry.path}: {exc.strerror or exc}")
        stack.extend(reversed(subdirs))
