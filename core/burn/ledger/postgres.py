"""The ``postgres`` store: one ledger shared by many hosts in a PostgreSQL database (DESIGN §6).

Selected with ``RELAYBURN_STORAGE=postgres`` and ``RELAYBURN_DATABASE_URL=postgresql://…`` (libpq's
``PG*`` variables and ``sslmode`` are honoured, as by every libpq client). Needs ``burn[postgres]``
(psycopg 3). docs/stores.md has the team setup, the DDL and the operational notes.

Tables (see :data:`MIGRATIONS`):

* ``burn_events`` — one row per event id (PRIMARY KEY): the current revision's record, its
  position, and the machine key of the host that first saw the event;
* ``burn_revisions`` — revisions a later sighting superseded (DESIGN §5), kept at their positions
  so that :meth:`PostgresStore.read` is the same change feed as the file store's;
* ``burn_head`` — one row: the last position handed out.

**Positions are handed out in commit order.** Every append is one transaction that, after its
data has been sent, locks the ``burn_head`` row (``SELECT … FOR UPDATE``), merges its batch with
what the table holds, writes it at positions ``head+1 … head+n`` and commits, which releases the
row. PostgreSQL makes a commit visible before it releases the committer's locks, so the next
writer takes its positions only after every lower position is visible: a reader that has seen
position ``p`` can never later meet a new entry at or below ``p``. A ``bigserial`` would not do:
its numbers are taken when rows are inserted, and a transaction can commit after a later-numbered
one, so a reader's high-water mark would skip the late row.

The same lock serialises the merges: every writer reads the ids it is about to write after the
previous writer committed, so concurrent sightings of one event (a partial copy of a turn on one
host, the full one on another) merge to the same record whatever the order or the interleaving of
the hosts' transactions. Holding the lock for one batch's writes — not a whole ingest — lets
hosts read and parse their sources in parallel; a row-level scheme (``FOR UPDATE`` on the batch's
ids) would still need the head lock for positions, and would need retries for new ids two hosts
insert at once.

Host-local state (file cursors, ``secret.key``, caches) stays in ``RELAYBURN_HOME``; :meth:`lock` is
a host-local lock there, like the file store's, and no connection is opened until the store is
read or appended to.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from burn import hookimpl
from burn.errors import BurnError, LedgerError
from burn.ledger.batch import RunLock, fold, plan
from burn.ledger.merge import MERGEABLE
from burn.records import RECORD_TYPES, Record
from burn.store import (
    LEDGER_VERSION,
    AppendResult,
    Encoded,
    LedgerEntry,
    ReadStats,
    Sink,
    StoreConfig,
    StoreFactory,
    encode,
)

if TYPE_CHECKING:
    import psycopg

# (version, DDL). Applied in order, each once, in one transaction under an advisory lock; a new
# version is appended here, never edited in place.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
CREATE TABLE burn_meta (key text PRIMARY KEY, value text NOT NULL);
-- Names this ledger: an archive built from another ledger (positions mean something else) is rebuilt.
INSERT INTO burn_meta VALUES ('ledger_id', gen_random_uuid()::text);
CREATE TABLE burn_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pos bigint NOT NULL
);
INSERT INTO burn_head (pos) VALUES (0);
CREATE TABLE burn_events (
  id text PRIMARY KEY,                          -- content-addressed event id
  kind text NOT NULL,
  v smallint NOT NULL,                          -- ledger line version
  pos bigint NOT NULL UNIQUE,                   -- position of the current revision
  record json NOT NULL,                         -- the record, exactly as burn encoded it
  machine text NOT NULL,                        -- machine key of the host that first saw it
  first_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE burn_revisions (
  pos bigint PRIMARY KEY,                       -- where the superseded revision was
  id text NOT NULL REFERENCES burn_events (id),
  kind text NOT NULL,
  v smallint NOT NULL,
  record json NOT NULL,
  machine text NOT NULL                         -- the host whose sighting this revision was
);
""",
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
# pg_advisory_xact_lock key for migrations: "burn" in ASCII, then the migrations' number.
_MIGRATE_LOCK = 0x6275726E_00000001
_DEFAULT_CONNECT_TIMEOUT = "10"  # seconds, unless the URL or PGCONNECT_TIMEOUT says otherwise
_DEFAULT_STATEMENT_TIMEOUT = "300s"  # unless RELAYBURN_PG_STATEMENT_TIMEOUT or the URL's options do
_READ_BATCH = 5000  # rows per fetch of the change feed
# libpq's environment variables, honoured from the store's environment (see PostgresStore._conninfo).
_PG_VARS = {
    "PGHOST": "host",
    "PGHOSTADDR": "hostaddr",
    "PGPORT": "port",
    "PGDATABASE": "dbname",
    "PGUSER": "user",
    "PGPASSWORD": "password",
    "PGPASSFILE": "passfile",
    "PGSSLMODE": "sslmode",
    "PGSSLROOTCERT": "sslrootcert",
    "PGCONNECT_TIMEOUT": "connect_timeout",
    "PGAPPNAME": "application_name",
    "PGOPTIONS": "options",
}


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise BurnError("RELAYBURN_STORAGE=postgres needs psycopg: pip install 'burn[postgres]'") from None
    return psycopg


class PostgresStore:
    """Ledger in a PostgreSQL database. See the module docstring."""

    name = "postgres"
    connects = True  # opening it costs a connection: a no-op ingest does not (burn.ingest.run)
    shared = True  # other hosts append: read commands build the local archive from it first

    def __init__(self, home: Path, url: str | None = None, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.url = url or ""  # empty: libpq's defaults and PG* variables
        env = os.environ if env is None else env
        self.env = env
        self.statement_timeout = env.get("RELAYBURN_PG_STATEMENT_TIMEOUT") or _DEFAULT_STATEMENT_TIMEOUT
        self._conn: psycopg.Connection[Any] | None = None
        self._machine: str | None = None
        self._run_lock = RunLock(self.home / "store.lock", on_release=self.close)

    # -- connection ------------------------------------------------------------------------------

    def where(self) -> str:
        """``database 'x' on host:port`` — what error messages name (never the password)."""
        params = self._conninfo()
        host = params.get("host") or "localhost"
        port = params.get("port") or "5432"
        db = params.get("dbname") or params.get("user") or self.env.get("USER") or "?"
        return f"PostgreSQL database {db!r} on {host}:{port}"

    def _conninfo(self) -> dict[str, str]:
        """The URL's parameters, completed from the ``PG*`` variables of the store's environment
        (libpq reads only the process's own; the URL wins, as with libpq)."""
        params = _params(self.url)
        for var, key in _PG_VARS.items():
            if key not in params and self.env.get(var):
                params[key] = self.env[var]
        return params

    def _error(self, exc: Exception, doing: str) -> BurnError:
        reason = " ".join(str(exc).split())
        password = self._conninfo().get("password")
        if password:
            reason = reason.replace(password, "***")
        return LedgerError(f"{doing} {self.where()}: {reason}")

    def connect(self) -> psycopg.Connection[Any]:
        """The store's connection, opened (and the schema checked or migrated) on first use."""
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self.migrate()
        assert self._conn is not None
        return self._conn

    def _connect_only(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        psycopg = _psycopg()
        params = self._conninfo()
        params.setdefault("application_name", "burn")
        params.setdefault("connect_timeout", _DEFAULT_CONNECT_TIMEOUT)
        if "statement_timeout" not in params.get("options", ""):
            options = f"{params.get('options', '')} -c statement_timeout={self.statement_timeout}"
            params["options"] = options.strip()
        try:
            self._conn = psycopg.connect(self.url, **params)
        except psycopg.Error as exc:
            raise self._error(exc, "cannot connect to") from None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[psycopg.Connection[Any]]:
        """One transaction; a database error becomes one line naming the database, and the
        connection is dropped (a terminated backend or a restarted server leaves nothing to reuse:
        the next use reconnects)."""
        psycopg = _psycopg()
        conn = self.connect()
        try:
            with conn.transaction():
                yield conn
        except psycopg.Error as exc:
            self.close()
            raise self._error(exc, doing) from None

    # -- locking ---------------------------------------------------------------------------------

    def lock(self) -> AbstractContextManager[None]:
        """Host-local: one ``burn ingest`` per burn home at a time (its cursors are host-local).
        Hosts do not wait for each other here; each append serialises on the database. The
        connection is closed when the outermost holder lets go."""
        return self._run_lock()

    # -- append ----------------------------------------------------------------------------------

    def machine(self) -> str:
        """This host's machine key (burn.privacy.identity.machine_key of the home's secret)."""
        if self._machine is None:
            from burn.privacy.identity import local_secret, machine_key

            self._machine = machine_key(local_secret(self.home))
        return self._machine

    def append(self, records: Sequence[Record]) -> AppendResult:
        return self.append_encoded([encode(r) for r in records])

    def append_encoded(self, items: Sequence[Encoded], sink: Sink | None = None) -> AppendResult:
        if self._run_lock.depth == 0:
            raise LedgerError("internal error: ledger append without the writer lock")
        result = AppendResult()
        if not items:
            return result
        pending = fold(items, result)
        machine = self.machine()
        with self._transaction("cannot append to") as conn:
            cur = conn.cursor()
            # The lock that orders positions and merges (module docstring): held until commit.
            head: int = _one(cur, "SELECT pos FROM burn_head FOR UPDATE")
            known: dict[str, bytes | None] = {}
            first_seen: dict[str, str] = {}  # id -> the machine of a known event (kept by revisions)
            for rid, data, seen_by in cur.execute(
                "SELECT id, CASE WHEN kind = ANY(%s) THEN record::text END, machine"
                " FROM burn_events WHERE id = ANY(%s)",
                (sorted(MERGEABLE), list(pending)),
            ):
                known[rid] = None if data is None else data.encode()
                first_seen[rid] = seen_by
            written = [(item, item.id in known) for item in plan(pending, known, result)]
            if not written:
                return result
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS burn_batch"
                " (pos bigint, id text, kind text, record json, revised boolean) ON COMMIT DELETE ROWS"
            )
            with cur.copy("COPY burn_batch (pos, id, kind, record, revised) FROM STDIN") as copy:
                for n, (item, revised) in enumerate(written, head + 1):
                    copy.write_row((n, item.id, item.kind, item.data.decode(), revised))
            cur.execute(
                "INSERT INTO burn_revisions (pos, id, kind, v, record, machine)"
                " SELECT e.pos, e.id, e.kind, e.v, e.record, e.machine"
                " FROM burn_events e JOIN burn_batch b ON b.id = e.id WHERE b.revised"
            )
            cur.execute(
                "UPDATE burn_events e SET pos = b.pos, record = b.record"
                " FROM burn_batch b WHERE b.id = e.id AND b.revised"
            )
            cur.execute(
                "INSERT INTO burn_events (id, kind, v, pos, record, machine)"
                " SELECT id, kind, %s, pos, record, %s FROM burn_batch WHERE NOT revised",
                (LEDGER_VERSION, machine),
            )
            cur.execute("UPDATE burn_head SET pos = %s", (head + len(written),))
        if sink is not None:
            # What read(head) gives when no other host appended in between; the archive checks
            # that the positions join up and otherwise reads them back.
            sink(
                head,
                (
                    LedgerEntry(
                        n, item.kind, item.id, orjson.loads(item.data), first_seen.get(item.id, machine)
                    )
                    for n, (item, _) in enumerate(written, head + 1)
                ),
            )
        return result

    # -- read ------------------------------------------------------------------------------------

    def read(self, since: int = 0, stats: ReadStats | None = None) -> Iterator[LedgerEntry]:
        """Every entry after position ``since`` in position order, from one snapshot (a server-side
        cursor): positions are handed out in commit order, so none can appear later below it."""
        psycopg = _psycopg()
        conn = self.connect()
        try:
            with conn.transaction(), conn.cursor(name="burn_read") as cur:
                cur.itersize = _READ_BATCH
                cur.execute(
                    "SELECT pos, kind, id, v, record::text, machine FROM burn_events WHERE pos > %(since)s"
                    " UNION ALL"
                    " SELECT pos, kind, id, v, record::text, machine FROM burn_revisions"
                    " WHERE pos > %(since)s"
                    " ORDER BY pos",
                    {"since": since},
                )
                for pos, kind, rid, version, data, machine in cur:
                    if stats is not None:
                        stats.lines += 1
                    if version != LEDGER_VERSION or kind not in RECORD_TYPES:
                        if stats is not None:
                            stats.unknown_kinds[f"{kind}@v{version}"] += 1
                        continue
                    yield LedgerEntry(pos, kind, rid, orjson.loads(data), machine)
        except psycopg.Error as exc:
            self.close()
            raise self._error(exc, "cannot read") from None

    def position(self) -> int:
        with self._transaction("cannot read") as conn:
            pos: int = _one(conn, "SELECT pos FROM burn_head")
        return pos

    # -- status ----------------------------------------------------------------------------------

    def ping(self) -> None:
        """Connect (migrating a fresh database) and check the schema; a one-line error if not."""
        with self._transaction("cannot read") as conn:
            conn.execute("SELECT pos FROM burn_head")

    def migrate(self) -> list[str]:
        """``burn store migrate``: bring the schema to :data:`SCHEMA_VERSION`; the steps done."""
        psycopg = _psycopg()
        conn = self._connect_only()
        try:
            return _migrate(conn)
        except psycopg.Error as exc:
            self.close()
            raise self._error(exc, "cannot migrate") from None

    def identity(self) -> str:
        """This ledger's id (made by the first migration), not the connection's."""
        with self._transaction("cannot read") as conn:
            ledger_id = _one(conn, "SELECT value FROM burn_meta WHERE key = 'ledger_id'")
        return f"postgres:{ledger_id}"

    def status(self) -> dict[str, Any]:
        """``burn store status``: reachability, schema version, counts (never the password)."""
        out: dict[str, Any] = {"store": self.name, "where": self.where(), "machine": self.machine()}
        try:
            with self._transaction("cannot read") as conn:
                out["schema_version"] = _schema_version(conn)
                out["position"] = _one(conn, "SELECT pos FROM burn_head")
                out["events"] = _one(conn, "SELECT count(*) FROM burn_events")
                out["revisions"] = _one(conn, "SELECT count(*) FROM burn_revisions")
                out["machines"] = _one(conn, "SELECT count(DISTINCT machine) FROM burn_events")
                out["server_version"] = conn.info.server_version
        except BurnError as exc:
            out["reachable"] = False
            out["error"] = str(exc)
            return out
        out["reachable"] = True
        return out

    def describe(self) -> dict[str, Any]:
        return {"store": self.name, "database": self.where(), "schema_version": SCHEMA_VERSION}


def _one(conn: psycopg.Connection[Any] | psycopg.Cursor[Any], sql: str) -> Any:
    """The first column of the one row ``sql`` returns."""
    row = conn.execute(sql).fetchone()
    if row is None:
        raise LedgerError(f"the burn tables are damaged: no row for {sql!r}")
    return row[0]


def _params(url: str) -> dict[str, str]:
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return {}
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception:  # a malformed URL: psycopg.connect names the problem
        return {}


def _schema_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT to_regclass('burn_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    found = conn.execute("SELECT max(version) FROM burn_schema").fetchone()
    return int(found[0]) if found and found[0] is not None else 0


def _migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Bring the schema to :data:`SCHEMA_VERSION`, each missing version once, serialised between
    hosts by a transaction-level advisory lock; a current schema costs one query and no lock."""
    done: list[str] = []
    with conn.transaction():
        version = _schema_version(conn)
    if version == SCHEMA_VERSION:
        return done
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"the database's burn schema is version {version}, newer than this burn's "
            f"({SCHEMA_VERSION}): upgrade burn"
        )
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS burn_schema"
            " (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        version = _schema_version(conn)  # another host may have migrated while we waited
        for number, ddl in MIGRATIONS:
            if number > version:
                conn.execute(ddl.encode())
                conn.execute("INSERT INTO burn_schema (version) VALUES (%s)", (number,))
                done.append(f"schema version {number}")
                version = number
    return done


def open_postgres_store(config: StoreConfig) -> PostgresStore:
    """The registered factory (connects on first use): ``config.url`` (``RELAYBURN_DATABASE_URL``)
    or, without one, libpq's defaults and the ``PG*`` variables."""
    return PostgresStore(config.home, config.url, config.env)


@hookimpl
def register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    register("postgres", open_postgres_store)
