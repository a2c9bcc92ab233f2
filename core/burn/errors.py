"""Errors whose message is shown to the user as one line, without a traceback."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator


class BurnError(Exception):
    """A runtime error the user can act on (exit code 1)."""

    exit_code = 1


class UsageError(BurnError):
    """Bad command-line usage (exit code 2)."""

    exit_code = 2


class PluginError(BurnError):
    """A plugin failed to load or to run while ``BURN_STRICT_PLUGINS=1``."""


class LedgerError(BurnError):
    """The ledger or its lock cannot be used."""


# Why a write failed, when the machine and not burn is the cause: a full disk (or a file-size
# limit, RLIMIT_FSIZE: EFBIG) or a file system that is read-only.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def storage_error(exc: BaseException, what: object) -> BurnError | None:
    """The one-line error for ``exc``, raised while writing ``what`` (a path, or words naming it),
    when it says the disk is full or the file system is read-only; ``None`` for anything else.

    Understands :class:`OSError` and :mod:`sqlite3` errors (by their ``sqlite_errorname``, so that
    this module does not import sqlite3). SQLite reports a write refused by a file-size limit as an
    I/O error, which is named as such.
    """
    if isinstance(exc, BurnError):
        return None
    if isinstance(exc, OSError):
        if exc.errno in _FULL:
            return BurnError(f"disk full: cannot write {what} ({exc.strerror})")
        if exc.errno in _READ_ONLY:
            return BurnError(f"cannot write {what}: {exc.strerror}")
        return None
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name == "SQLITE_FULL":
        return BurnError(f"disk full: cannot write {what} ({exc})")
    if name.startswith("SQLITE_IOERR_WRITE") or name.startswith("SQLITE_IOERR_TRUNCATE"):
        # SQLite keeps the errno to itself: a write it could not make is a full disk when a file
        # size limit is set (EFBIG) or the file system has no space left.
        if _limited_or_full(what):
            return BurnError(f"disk full: cannot write {what} ({exc})")
        return BurnError(f"cannot write {what}: {exc}")
    if name.startswith("SQLITE_READONLY") or name == "SQLITE_CANTOPEN":
        return BurnError(f"cannot write {what}: {exc}")
    return None


def _limited_or_full(what: object) -> bool:
    import resource

    if resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY:
        return True
    try:
        st = os.statvfs(os.path.dirname(str(what)) or ".")
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 1 << 20


@contextlib.contextmanager
def writing(what: object) -> Iterator[None]:
    """Turn a full disk or a read-only file system met inside the block into the one-line
    :func:`storage_error` naming ``what``; every other exception passes unchanged."""
    try:
        yield
    except Exception as exc:
        error = storage_error(exc, what)
        if error is None:
            raise
        raise error from exc
