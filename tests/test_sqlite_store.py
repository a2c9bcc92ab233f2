"""The ``sqlite`` store end to end: selected by RELAYBURN_STORAGE, one file, integer positions,
a no-op ingest that opens no connection, a file of another format refused (the conformance suite
covers the Store contract itself)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from burn.errors import LedgerError
from burn.ingest.run import ingest
from burn.ledger.sqlite_store import SqliteStore
from burn.plugins.manager import Plugins
from burn.plugins.stores import open_store
from burn.store import StoreConfig
from burn.testing.store_conformance import turn
from tests.claude_lines import assistant, dumps, user, write_session
from tests.test_ingest import env, totals  # noqa: F401  (env is a fixture)


def test_ingest_into_sqlite_keeps_the_ledger_in_one_file_and_a_noop_opens_no_connection(
    env: dict[str, str],  # noqa: F811
) -> None:
    env["RELAYBURN_STORAGE"] = "sqlite"
    home = Path(env["RELAYBURN_HOME"])
    session = write_session(Path(env["CLAUDE_CONFIG_DIR"]), [user("u1", "hi"), assistant("msg_a", 7)])
    first = ingest(home, Plugins(env=env), env).totals()
    assert first["records_appended"] > 0
    assert (home / "burn.sqlite").is_file() and not (home / "ledger.jsonl").exists()
    assert totals(env)["output"] == 7

    before = SqliteStore.connections
    again = ingest(home, Plugins(env=env), env).totals()
    assert again["files_changed"] == 0 and again["records_appended"] == 0
    assert SqliteStore.connections == before  # the no-op ingest opened no database connection

    with session.open("ab") as f:  # a grown file: the store is opened again
        f.write(dumps([assistant("msg_b", 5, ts="2026-03-01T10:01:00.000Z")]))
    later = ingest(home, Plugins(env=env), env).totals()
    assert later["records_appended"] >= 1 and SqliteStore.connections == before + 1
    assert totals(env)["output"] == 12


def test_positions_are_the_row_numbers_and_revisions_are_new_rows(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "l.sqlite")
    assert store.position() == 0 and not (tmp_path / "l.sqlite").exists()  # reading creates nothing
    with store.lock():
        store.append([turn("a", 1), turn("b", 2)])
        store.append([turn("a", 9)])
    assert [(e.position, e.record["usage"]["output"]) for e in store.read()] == [(1, 1), (2, 2), (3, 9)]
    assert store.position() == 3 and [e.position for e in store.read(2)] == [3]


def test_the_url_names_the_file_and_other_urls_do_not_concern_it(tmp_path: Path) -> None:
    plugins = Plugins(env={})
    target = tmp_path / "volume" / "ledger.sqlite"
    store = open_store(
        tmp_path, {"RELAYBURN_STORAGE": "sqlite", "RELAYBURN_DATABASE_URL": f"sqlite://{target}"}, plugins
    )
    assert isinstance(store, SqliteStore) and store.path == target
    other = open_store(
        tmp_path, {"RELAYBURN_STORAGE": "sqlite", "RELAYBURN_DATABASE_URL": "postgresql://h/db"}, plugins
    )
    assert isinstance(other, SqliteStore) and other.path == tmp_path / "burn.sqlite"
    from burn.ledger.sqlite_store import open_sqlite_store

    assert open_sqlite_store(StoreConfig(tmp_path, "sqlite:rel/x.sqlite")).path == Path("rel/x.sqlite")


def test_a_file_of_another_format_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "burn.sqlite"
    store = SqliteStore(path)
    with store.lock():
        store.append([turn("a", 1)])
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match=r"has format 99, this burn reads format 1"):
        list(SqliteStore(path).read())
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM ledger").fetchone() == (1,)
    db.close()
