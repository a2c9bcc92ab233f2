"""The ``http`` store: a host appends to and reads the ledger of a ``burn serve`` (docs/server.md).

Selected with ``RELAYBURN_STORAGE=http``, ``RELAYBURN_SERVER_URL=https://burn.example:8787`` and
``RELAYBURN_TOKEN`` (a ``write`` token to ingest; never printed, never logged). For CI runners and
pods that should send their records to one place without holding database credentials.

* **Append**: the batch is folded (copies of one event merged, :func:`burn.ledger.batch.fold`) and
  sent as NDJSON ledger lines in ``POST /v1/ledger`` requests of at most
  ``RELAYBURN_HTTP_BATCH`` entries (default 1000) and about 4 MiB, over one keep-alive connection.
  The server merges them as every store does (DESIGN §5), idempotently by event id.
* **Retries**: a connection error, a 5xx or a 429 is retried with exponential backoff (0.25 s,
  doubling, ``RELAYBURN_HTTP_RETRIES`` attempts in all, default 5; a ``Retry-After`` is honoured up
  to 10 s). Every request is idempotent, so a retry after a lost response only reports as
  duplicates what the first attempt appended.
* **Failure**: when the attempts are spent, or the server refuses (401/403, a rejected entry), the
  append raises a one-line :class:`~burn.errors.LedgerError` naming the server without
  credentials. ``burn ingest`` saves its cursors only after every append succeeded, so the run
  exits non-zero with no cursor past an unsent record, and the next run resends (the server keeps
  one copy).
* **Read**: the change feed is ``GET /v1/ledger?after=P&limit=N``, paged; positions are the
  server's store's.

**TLS**: an ``https://`` URL is verified against the system's trust store plus
``RELAYBURN_CA_FILE`` (a private CA's PEM file; :func:`tls_context`).

Host-local state (file cursors, ``secret.key``) stays in ``RELAYBURN_HOME``; :meth:`HttpStore.lock`
is host-local, as for the postgres store: hosts never wait for each other, the server serialises
their appends.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from burn import hookimpl
from burn.errors import BurnError, LedgerError
from burn.ledger.batch import RunLock, fold
from burn.privacy.redact import url_without_credentials
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
    # http.client and ssl (with email, socket …) load only when a request is made: every command
    # loads the store plugins, and most never use this one.
    import http.client
    import ssl

DEFAULT_BATCH = 1000  # entries per POST (the server takes up to 5000 by default)
MAX_BODY = 4 * 1024 * 1024  # bytes per POST before its entries go in the next one (server: 8 MiB)
DEFAULT_RETRIES = 5  # attempts per request, the first included
BACKOFF = 0.25  # seconds before the first retry, doubled before each next one
MAX_RETRY_AFTER = 10.0  # a server's Retry-After is honoured up to this many seconds
TIMEOUT = 60.0  # seconds per socket operation
READ_PAGE = 10_000  # entries per GET (the server's maximum)
RETRIED = {429, 500, 502, 503, 504}


class HttpStore:
    """The ledger of a ``burn serve``, over HTTP. See the module docstring."""

    name = "http"
    connects = True  # opening it costs a connection: a no-op ingest does not (burn.ingest.run)
    shared = True  # other hosts append: read commands build the local archive from it first

    def __init__(
        self,
        home: Path,
        url: str,
        token: str | None = None,
        *,
        batch: int = DEFAULT_BATCH,
        retries: int = DEFAULT_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        ca_file: str | None = None,
    ) -> None:
        self.home = home
        self.url = url
        self.shown = url_without_credentials(url)  # what messages say: never a password or token
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BurnError(f"RELAYBURN_SERVER_URL must be an http:// or https:// URL, not {self.shown!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        try:
            self._port = parts.port
        except ValueError:
            raise BurnError(f"RELAYBURN_SERVER_URL has a bad port: {self.shown!r}") from None
        self._base = parts.path.rstrip("/")  # a server behind a proxy's path prefix
        self._token = token
        self.batch = max(1, batch)
        self.retries = max(1, retries)
        self._sleep = sleep
        self._conn: http.client.HTTPConnection | None = None
        self._tls = tls_context(ca_file) if self._https else None  # a bad CA file fails here, once
        self._run_lock = RunLock(self.home / "store.lock", on_release=self.close)

    # -- transport -------------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        import http.client

        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=TIMEOUT, context=self._tls
                )
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _request(self, method: str, path: str, body: bytes | None = None) -> Any:
        """Send one request (retried as the module docstring says) and return its JSON answer;
        a :class:`LedgerError` of one line when it cannot be done."""
        import http.client
        import ssl

        headers = {"Accept": "application/json", "User-Agent": "burn-http-store"}
        if body is not None:
            headers["Content-Type"] = "application/x-ndjson"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        doing = "cannot append to" if method == "POST" else "cannot read"
        reason = ""
        wait: float | None = None  # the server's Retry-After
        for attempt in range(self.retries):
            if attempt:
                self._sleep(max(BACKOFF * 2 ** (attempt - 1), min(wait or 0.0, MAX_RETRY_AFTER)))
                wait = None
            try:
                conn = self._connection()
                conn.request(method, self._base + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                retry_after = response.getheader("Retry-After")
            except ssl.SSLCertVerificationError as exc:
                # Not retried: the next attempt would meet the same certificate.
                self.close()
                raise LedgerError(f"{doing} the burn server at {self.shown}: {untrusted(exc)}") from None
            except (OSError, http.client.HTTPException) as exc:
                # Refused, reset, timed out, or a keep-alive connection the server closed.
                self.close()
                reason = _reason(exc)
                continue
            if status == 200:
                try:
                    return orjson.loads(data)
                except orjson.JSONDecodeError:
                    raise LedgerError(
                        f"{doing} the burn server at {self.shown}: its answer is not JSON"
                    ) from None
            message = _message(data)
            if status in RETRIED:
                self.close()
                reason = f"{status} {message}"
                if retry_after and retry_after.isdigit():
                    wait = float(retry_after)
                continue
            raise LedgerError(f"{doing} the burn server at {self.shown}: {status} {message}")
        raise LedgerError(f"{doing} the burn server at {self.shown}: {reason} ({self.retries} attempts)")

    # -- locking ---------------------------------------------------------------------------------

    def lock(self) -> AbstractContextManager[None]:
        """Host-local: one ``burn ingest`` per burn home at a time (its cursors are host-local).
        The connection is closed when the outermost holder lets go."""
        return self._run_lock()

    # -- append ----------------------------------------------------------------------------------

    def append(self, records: Sequence[Record]) -> AppendResult:
        return self.append_encoded([encode(r) for r in records])

    def append_encoded(self, items: Sequence[Encoded], sink: Sink | None = None) -> AppendResult:
        """Send ``items`` in batches. ``sink`` is not told: the server's answer does not carry the
        positions it wrote, so the archive reads the new entries back (``GET /v1/ledger``)."""
        if self._run_lock.depth == 0:
            raise LedgerError("internal error: ledger append without the writer lock")
        result = AppendResult()
        if not items:
            return result
        # Folded here, not only by the server: copies of an event in two requests would otherwise
        # be written as a revision instead of merged before writing.
        pending = list(fold(items, result).values())
        for body, count in _bodies(pending, self.batch):
            answer = self._request("POST", "/v1/ledger", body)
            rejected = answer.get("rejected") or []
            if rejected:
                first = rejected[0]
                raise LedgerError(
                    f"cannot append to the burn server at {self.shown}: it refused {len(rejected)} of "
                    f"{count} entries ({first.get('error')}: {str(first.get('message'))[:200]}); "
                    "is it an older burn?"
                )
            result.appended.update(answer.get("appended") or {})
            result.revised.update(answer.get("revised") or {})
            duplicates = int(answer.get("duplicates") or 0)
            if duplicates:
                result.dropped["duplicate"] += duplicates
        return result

    # -- read ------------------------------------------------------------------------------------

    def read(self, since: int = 0, stats: ReadStats | None = None) -> Iterator[LedgerEntry]:
        """Every entry after position ``since``, in position order, a page at a time."""
        after = since
        while True:
            page = self._page(after, READ_PAGE)
            entries = page.get("entries") or []
            if stats is not None:
                skipped = page.get("skipped") or {}
                stats.lines += int(skipped.get("lines", 0))
                stats.invalid += int(skipped.get("invalid", 0))
                stats.unknown_kinds.update(skipped.get("unknown_kinds") or {})
            for entry in entries:
                if stats is not None:
                    stats.lines += 1
                kind = entry.get("kind")
                if kind not in RECORD_TYPES:  # a newer server's kind: skipped and counted
                    if stats is not None:
                        stats.unknown_kinds[f"{kind}@v{LEDGER_VERSION}"] += 1
                    continue
                yield LedgerEntry(int(entry["position"]), kind, str(entry["id"]), entry["record"])
            nxt = int(page.get("next", after))
            if len(entries) < READ_PAGE or nxt <= after:
                return
            after = nxt

    def _page(self, after: int, limit: int) -> dict[str, Any]:
        page = self._request("GET", f"/v1/ledger?after={after}&limit={limit}")
        if not isinstance(page, dict):
            raise LedgerError(f"cannot read the burn server at {self.shown}: not a ledger page")
        return page

    def position(self) -> int:
        return int(self._page(0, 1).get("end", 0))

    # -- status ----------------------------------------------------------------------------------

    def ping(self) -> None:
        """Reach the server with the token (a ledger read): a one-line error if that fails."""
        self.position()

    def identity(self) -> str:
        """The server's ledger: its URL (without credentials) and the ledger it holds."""
        ledger = self._page(0, 1).get("ledger", "")
        return f"http:{self.shown}#{ledger}"

    def status(self) -> dict[str, Any]:
        """``burn store status``: reachability and position (never the token)."""
        out: dict[str, Any] = {"store": self.name, "where": self.shown}
        try:
            out["position"] = self.position()
        except BurnError as exc:
            out["reachable"] = False
            out["error"] = str(exc)
            return out
        out["reachable"] = True
        return out

    def describe(self) -> dict[str, Any]:
        return {"store": self.name, "url": self.shown}


def _bodies(items: Sequence[Encoded], batch: int) -> Iterator[tuple[bytes, int]]:
    """NDJSON request bodies of at most ``batch`` ledger lines and about :data:`MAX_BODY` bytes."""
    lines: list[bytes] = []
    size = 0
    for item in items:
        line = b'{"v":%d,"kind":%s,"id":%s,"record":%s}\n' % (
            LEDGER_VERSION,
            orjson.dumps(item.kind),
            orjson.dumps(item.id),
            item.data,
        )
        if lines and (len(lines) >= batch or size + len(line) > MAX_BODY):
            yield b"".join(lines), len(lines)
            lines, size = [], 0
        lines.append(line)
        size += len(line)
    if lines:
        yield b"".join(lines), len(lines)


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The TLS context of burn's HTTP clients (this store, ``burn report|export --server``).

    The system's trust store as OpenSSL finds it (so ``SSL_CERT_FILE``/``SSL_CERT_DIR`` apply as
    for any OpenSSL program), plus the PEM certificates of ``ca_file`` (``RELAYBURN_CA_FILE``):
    a team's private CA is *added* to the public ones, as ``NODE_EXTRA_CA_CERTS`` does, so one
    setting serves a server behind a public certificate and one behind a private CA alike.
    Certificates and host names are always verified; there is no switch to turn that off.
    """
    import ssl

    ctx = ssl.create_default_context()
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "no PEM certificate in it"
            raise BurnError(f"RELAYBURN_CA_FILE={ca_file}: cannot load it ({why})") from None
    return ctx


def untrusted(exc: ssl.SSLCertVerificationError) -> str:
    """A certificate the client does not trust, in one line, with what to do about it."""
    why = exc.verify_message or exc.reason or "certificate verify failed"
    return (
        f"its TLS certificate is not trusted ({why}); if it is signed by a private CA, set "
        "RELAYBURN_CA_FILE to that CA's PEM file"
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"


def _message(data: bytes) -> str:
    """The server's problem+json message (its ``error`` code and text), or the body's start."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return " ".join(data[:200].decode("utf-8", "replace").split())
    if isinstance(body, dict):
        return f"{body.get('error', '')}: {body.get('message', '')}".strip(": ")
    return ""


def open_http_store(config: StoreConfig) -> HttpStore:
    """The registered factory (connects on first use): the server at ``config.url`` when it is an
    http(s) URL (``burn store copy --to https://…``), else ``RELAYBURN_SERVER_URL``; the bearer
    token from ``RELAYBURN_TOKEN``."""
    env: Mapping[str, str] = config.env or os.environ
    url = config.url if config.url and config.url.startswith(("http://", "https://")) else None
    url = url or env.get("RELAYBURN_SERVER_URL")
    if not url:
        raise BurnError("RELAYBURN_STORAGE=http needs RELAYBURN_SERVER_URL (the burn serve URL)")
    batch = env.get("RELAYBURN_HTTP_BATCH", "")
    retries = env.get("RELAYBURN_HTTP_RETRIES", "")
    return HttpStore(
        config.home,
        url,
        env.get("RELAYBURN_TOKEN") or None,
        batch=int(batch) if batch.isdigit() else DEFAULT_BATCH,
        retries=int(retries) if retries.isdigit() else DEFAULT_RETRIES,
        ca_file=env.get("RELAYBURN_CA_FILE") or None,
    )


@hookimpl
def register_stores(register: Callable[[str, StoreFactory], None]) -> None:
    register("http", open_http_store)
