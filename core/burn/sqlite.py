"""Every SQLite connection and write transaction burn makes goes through here.

* :func:`connect` opens a database: read-write with the pragmas of that database (the
  :class:`Pragmas` constants below, one per database burn writes), or read-only through a
  ``file:`` URI built from the path (so a burn home whose path holds ``#``, ``?`` or ``%`` opens
  the file it names), optionally ``immutable``.
* :func:`transaction` is one write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on
  any exception — ``KeyboardInterrupt`` included — and only when one is still open: SQLite ends a
  transaction itself on some errors (a full disk), and a ``ROLLBACK`` then would raise "cannot
  rollback - no transaction is active" in place of the error that matters.
* :func:`held` is a write transaction that stays open across blocks until :func:`commit`, for a
  cache whose loss costs only a catch-up (the file store's index); an exception in a block rolls
  back everything since its ``BEGIN``.
* :func:`snapshot` is one read transaction: every query inside sees one state of the database;
  it is always rolled back.

Connections use ``isolation_level=None`` (autocommit): transactions are opened only by these
helpers, never implicitly by :mod:`sqlite3`. Turning a full disk or a read-only file system into a
one-line error stays with the callers (:func:`burn.errors.writing`), which know what they write.

This module imports only the standard library: the no-op ingest path (:mod:`burn.archive.state`)
uses it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote_from_bytes

# SQLite's wait for a lock held by another connection: Python's default, which every connection
# burn opens has used so far.
BUSY_TIMEOUT_S = 5.0


class Pragmas(NamedTuple):
    """The pragmas a read-write connection to one database sets when it opens (``None``: SQLite's
    default). No database burn writes uses foreign keys."""

    journal_mode: str | None = None
    synchronous: str | None = None
    cache_kib: int | None = None  # page cache size in KiB


# archive.sqlite: WAL, so that reports read while an ingest writes; NORMAL: a crash may lose the
# last transactions but never corrupts, and the archive is rebuilt from the ledger anyway. 8 MB of
# page cache: a cold build of 1 GB of transcripts (230k entries, 100 MB archive) was no faster with
# 16, 32 or 64 MB, and its peak memory 43 MB lower than with 64.
ARCHIVE = Pragmas(journal_mode="WAL", synchronous="NORMAL", cache_kib=8192)
# An archive built from the start of the ledger into a file of its own, which nothing reads until
# it is complete and swapped in (``burn.archive.database.Archive.fresh_in_home``; a failed or
# killed build leaves only that file, which is deleted): no journal and no syncs while it is
# written, since a crash loses nothing the ledger cannot give again. Every page is written once
# instead of twice (WAL, then checkpoint): about a quarter of a rebuild's time (docs/performance.md).
ARCHIVE_FRESH = Pragmas(journal_mode="OFF", synchronous="OFF", cache_kib=8192)
# The file store's index (ledger.index.sqlite): a cache rebuilt from the ledger when it lags, so
# durability is not needed; a large cache keeps the index B-tree in memory.
LEDGER_INDEX = Pragmas(journal_mode="WAL", synchronous="OFF", cache_kib=65536)
# dedupe.sqlite, the dedupe rules' facts (burn.ingest.dedupe): a cache rebuilt from the ledger
# when it lags or is lost, so durability is not needed either.
DEDUPE = Pragmas(journal_mode="WAL", synchronous="OFF")
# cursors.sqlite: the rollback journal (not WAL) is what lets a read-only connection
# (``burn status`` in a read-only home) create no file beside the database.
CURSORS = Pragmas()


def connect(
    path: Path | str,
    *,
    readonly: bool = False,
    immutable: bool = False,
    pragmas: Pragmas = CURSORS,
    timeout: float = BUSY_TIMEOUT_S,
    check_same_thread: bool = True,
) -> sqlite3.Connection:
    """A connection to the database file at ``path`` (``":memory:"``: a private in-memory one), in
    autocommit mode (use :func:`transaction`).

    Read-write connections create the file if needed and set ``pragmas``. ``readonly`` opens it
    with ``mode=ro`` and sets no pragma (the journal mode is the file's); ``immutable`` (implies
    ``readonly``) also tells SQLite that nobody changes the file, so it takes no lock and creates no
    ``-wal``/``-shm`` beside it — exact only when every committed page is in the main file.
    ``timeout`` is the busy timeout in seconds. Raises :class:`sqlite3.Error`.
    """
    if readonly or immutable:
        uri = _file_uri(path) + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
        return sqlite3.connect(
            uri, uri=True, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread
        )
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread)
    try:
        if pragmas.journal_mode is not None:
            db.execute(f"PRAGMA journal_mode={pragmas.journal_mode}")
        if pragmas.synchronous is not None:
            db.execute(f"PRAGMA synchronous={pragmas.synchronous}")
        if pragmas.cache_kib is not None:
            db.execute(f"PRAGMA cache_size=-{int(pragmas.cache_kib)}")  # negative: KiB, not pages
    except BaseException:
        db.close()
        raise
    return db


def _file_uri(path: Path | str) -> str:
    """``file:`` URI of ``path``, every byte that is not a plain path character %-escaped (the
    bytes of the file system's name: a non-UTF-8 name stays the same file)."""
    return "file:" + quote_from_bytes(os.fsencode(os.path.abspath(path)), safe="/")


@contextlib.contextmanager
def transaction(db: sqlite3.Connection, *, immediate: bool = True) -> Iterator[sqlite3.Connection]:
    """One write transaction around the block: ``BEGIN IMMEDIATE`` (``immediate=False``: a deferred
    ``BEGIN``), ``COMMIT`` when the block ends, ``ROLLBACK`` when it — or the ``COMMIT`` — raises
    anything, :class:`BaseException` included; then the exception propagates unchanged.

    The rollback happens only while a transaction is open (``db.in_transaction``): after a failed
    write SQLite may have rolled back already. A rollback that itself fails is not allowed to hide
    the exception that caused it.
    """
    db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise


@contextlib.contextmanager
def held(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that outlives the block, for a cache written in many batches whose loss
    costs only a catch-up (the file store's index): ``BEGIN IMMEDIATE`` unless one is open, and no
    ``COMMIT`` — the owner calls :func:`commit` when it is done (releasing the ledger lock). An
    exception inside rolls back everything since that ``BEGIN`` and propagates. One commit instead
    of one per batch: a random-key B-tree has most of its pages dirtied by every batch, and each
    commit wrote them all again."""
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        _rollback(db)
        raise


def commit(db: sqlite3.Connection) -> None:
    """``COMMIT`` the transaction :func:`held` left open, if there is one."""
    if db.in_transaction:
        db.execute("COMMIT")


@contextlib.contextmanager
def snapshot(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction around the block: every query in it sees the same state of the
    database, whatever other connections commit meanwhile. Always rolled back: nothing written
    inside is kept."""
    db.execute("BEGIN")
    try:
        yield db
    finally:
        _rollback(db)


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # the exception being handled is the one to show
            db.execute("ROLLBACK")
