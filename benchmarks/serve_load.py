"""Load against `burn serve` on loopback: requests/s, p50/p99 latency, errors, server RSS.

Bounded in both count and time, loopback only. Starts its own `burn serve --port 0` on the burn
home given (build one first: gen_corpus.py, then `burn ingest` with that corpus; the server writes
to it, so give it a copy), measures each target at each concurrency, and stops the server. The
clients are keep-alive connections with one request in flight each, all driven by one thread
(selectors, ``recv_into``; bodies counted, not decoded), so the generator costs little CPU next to
the server on a 2-core machine.

    python benchmarks/serve_load.py --home /tmp/h --clients 1,10,50 --seconds 30 \
        [--floor] [--corpus DIR] [--post-hosts 4 --post-entries 100000]

``--floor`` also drives, after each target, a bare asyncio server that answers every request with
the same response bytes in one write: what moving that body over loopback costs with no framework.
``--in-process N`` times N cached requests per target through the ASGI application called
directly (no socket, no HTTP parsing): the application's own cost. ``--corpus DIR`` times one
``ccusage daily --json --offline`` run on the corpus the home was built
from (runner.py installs ccusage; skipped without npm). ``--post-hosts N`` measures records/s
accepted by ``POST /v1/ledger`` from N concurrent host processes (the ``http`` store), each
sending its share of the home's first ``--post-entries`` ledger entries to a server on an empty
home.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

TARGETS = {"usage_day": "/v1/reports/usage?by=day", "sessions_page": "/v1/sessions?limit=100",
           "healthz": "/healthz"}  # fmt: skip
DEFAULT_TARGETS = "usage_day,sessions_page"  # issue 14's; healthz: the framework alone


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(home: Path, log: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    """``burn serve --port 0`` on ``home``; its URL from the first line it logs."""
    env = {**os.environ, "RELAYBURN_HOME": str(home)}
    env.pop("RELAYBURN_STORAGE", None)
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "burn", "serve", "--port", "0"], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
    return proc, *_listening(proc, log)


def _listening(proc: subprocess.Popen[bytes], log: Path) -> tuple[str, int]:
    deadline = time.monotonic() + 300  # a first start builds or checks the archive
    while time.monotonic() < deadline:
        text = log.read_text()
        if text.startswith("{"):
            url = orjson.loads(text.splitlines()[0])["url"]
            host, port = url.split("//")[1].split(":")
            return host, int(port)
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {text}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


HEAD_READ = 16 * 1024


class Conn:
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.started = 0.0
        self.head = bytearray()  # the response's bytes until the end of its headers
        self.status = 0
        self.remaining = -1  # body bytes still to come; -1 until the headers are read

    def send(self, request: bytes) -> None:
        self.started = time.perf_counter()
        self.head.clear()
        self.remaining = -1
        self.sock.sendall(request)  # a few hundred bytes: the socket buffer takes them at once

    def receive(self, scratch: memoryview) -> bool:
        """Read what has arrived; True when the response is complete. The body is counted and
        dropped (read into ``scratch``), never copied or decoded."""
        # Until the headers end, small reads: only they are kept (appended to ``head``).
        n = self.sock.recv_into(scratch, 0 if self.remaining >= 0 else HEAD_READ)
        if n == 0:
            raise ConnectionError("closed by the server")
        if self.remaining < 0:
            self.head += scratch[:n]
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return False
            lines = bytes(self.head[:end]).split(b"\r\n")
            self.status = int(lines[0].split()[1])
            length = next((int(v) for k, _, v in (ln.partition(b":") for ln in lines[1:])
                           if k.strip().lower() == b"content-length"), None)  # fmt: skip
            if length is None:
                raise ConnectionError("no Content-Length (a streamed response): not a target here")
            self.remaining = length - (len(self.head) - end - 4)
        else:
            self.remaining -= n
        return self.remaining <= 0


def run(host: str, port: int, path: str, clients: int, seconds: float, max_requests: int,
        pid: int, gzip: bool = False) -> dict[str, Any]:  # fmt: skip
    """``clients`` connections, one request in flight on each, driven by one thread (selectors):
    the generator's own cost per request is a send and a few ``recv_into`` calls."""
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n"
               + ("Accept-Encoding: gzip\r\n" if gzip else "") + "\r\n").encode()  # fmt: skip
    scratch = memoryview(bytearray(4 * 1024 * 1024))
    latencies: list[float] = []
    errors = 0
    sent = 0
    sel = selectors.DefaultSelector()
    rss_before = rss_kb(pid)
    started = time.monotonic()
    stop_at = started + seconds

    def issue(conn: Conn | None) -> None:
        nonlocal sent, errors
        if time.monotonic() >= stop_at or sent >= max_requests:
            if conn is not None:
                conn.sock.close()
            return
        try:
            if conn is None:
                conn = Conn(host, port)
                sel.register(conn.sock, selectors.EVENT_READ, conn)
            sent += 1
            conn.send(request)
        except OSError:
            errors += 1
            if conn is not None:
                sel.unregister(conn.sock)
                conn.sock.close()
            issue(None)  # a new connection (the budget and the clock still bound it)

    for _ in range(clients):
        issue(None)
    while sel.get_map():
        for key, _ in sel.select(timeout=30):
            conn = key.data
            try:
                done = conn.receive(scratch)
            except (OSError, ValueError) as exc:
                errors += 1
                print(f"error: {exc}", file=sys.stderr)
                sel.unregister(conn.sock)
                conn.sock.close()
                issue(None)
                continue
            if done:
                latencies.append(time.perf_counter() - conn.started)
                if conn.status != 200:
                    errors += 1
                if time.monotonic() >= stop_at or sent >= max_requests:
                    sel.unregister(conn.sock)
                issue(conn)
    elapsed = time.monotonic() - started
    latencies.sort()
    n = len(latencies)
    return {
        "clients": clients, "requests": n, "errors": errors, "rps": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if n else 0.0,
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2) if n else 0.0,
        "rss_before_mb": round(rss_before / 1024, 1), "rss_after_mb": round(rss_kb(pid) / 1024, 1),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }  # fmt: skip


# -- in-process: the application's own cost of a cached request ----------------------------------------


def in_process(home: Path, path: str, calls: int) -> dict[str, Any]:
    """Milliseconds per cached ``GET path`` through the ASGI application called directly (no
    socket, no HTTP parsing, the access log line dropped): the median of 5 rounds of ``calls``."""
    from burn.plugins.manager import Plugins
    from burn.plugins.stores import open_store
    from burn.server import app as served
    from burn.server.keeper import Keeper
    from burn.server.tokens import Keyring

    plugins = Plugins()
    keeper = Keeper(home, open_store(home, os.environ, plugins))
    keeper.start(0)
    server = served.Server(home, keeper, dict(plugins.exporters()), Keyring(home), served.Config())
    application = served.create_app(server)
    served._log = lambda event: None  # what is measured is the request, not a write to stderr
    route, _, query = path.partition("?")
    scope = {"type": "http", "method": "GET", "path": route, "raw_path": route.encode(), "root_path": "",
             "query_string": query.encode(), "headers": [(b"host", b"bench")], "scheme": "http",
             "http_version": "1.1", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    async def rounds() -> list[float]:
        await application(dict(scope), receive, send)  # the render: the calls below hit the cache
        out = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(calls):
                await application(dict(scope), receive, send)
            out.append((time.perf_counter() - t) / calls * 1000)
        return out

    try:
        ms = asyncio.run(rounds())
    finally:
        keeper.close()
    median = round(statistics.median(ms), 3)
    return {"mode": "in_process", "path": path, "calls": calls, "ms_per_request": median,
            "rounds_ms": [round(m, 3) for m in ms]}  # fmt: skip


# -- the floor: the same bytes from a bare asyncio server ---------------------------------------------


def floor_serve(body_file: Path) -> None:
    """Answer every request on a loopback port with one prebuilt response, written at once."""
    body = body_file.read_bytes()
    response = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    response += body

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: Any = transport
            self.pending = b""

        def data_received(self, data: bytes) -> None:
            self.pending += data
            while b"\r\n\r\n" in self.pending:
                self.pending = self.pending.partition(b"\r\n\r\n")[2]
                self.transport.write(response)

    async def serve() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        server = await asyncio.get_running_loop().create_server(Protocol, sock=sock)
        port = sock.getsockname()[1]
        sys.stderr.write(orjson.dumps({"url": f"http://127.0.0.1:{port}"}).decode() + "\n")
        sys.stderr.flush()
        await server.serve_forever()

    asyncio.run(serve())


def fetch(host: str, port: int, path: str) -> bytes:
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=300)
    conn.request("GET", path)
    body = conn.getresponse().read()
    conn.close()
    return body


def floor_run(body: bytes, clients: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    (work / "floor.body").write_bytes(body)
    log = work / "floor.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--floor-serve", str(work / "floor.body")],
                                stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
    try:
        host, port = _listening(proc, log)
        return run(host, port, "/", clients, args.seconds, args.max_requests, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- ccusage on the corpus ---------------------------------------------------------------------------


def ccusage_once(corpus: Path) -> dict[str, Any]:
    """One ``ccusage daily --json --offline -z UTC`` on ``corpus``, isolated as runner.py does."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import runner
    from bench import run_child

    tool = runner.ensure_ccusage(runner.CACHE, lambda m: print(m, file=sys.stderr))
    if tool is None:
        return {"ccusage": "skipped (no npm)"}
    loaded = runner.load_corpus(corpus)
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        runner.make_empty(Path(tmp))
        env = runner.corpus_env(loaded, Path(tmp))
        done = run_child([tool.exe, "daily", "--json", "--offline", "-z", "UTC"], env, 1800)
    return {"ccusage": tool.version, "ccusage_daily_s": round(done.seconds, 2), "exit": done.returncode,
            "loadavg": Path("/proc/loadavg").read_text().split()[:3]}  # fmt: skip


# -- POST /v1/ledger from N hosts --------------------------------------------------------------------


def ledger_items(home: Path, count: int) -> list[tuple[str, str, bytes]]:
    """The first ``count`` entries of ``home``'s ledger as (kind, id, record JSON)."""
    out: list[tuple[str, str, bytes]] = []
    with (home / "ledger.jsonl").open("rb") as f:
        for line in f:
            if len(out) >= count:
                break
            e = orjson.loads(line)
            out.append((e["kind"], e["id"], orjson.dumps(e["record"])))
    return out


def _host(url: str, home: str, items: list[tuple[str, str, bytes]], batch: int, stop_at: float,
          results: Any) -> None:  # fmt: skip
    """One host: the ``http`` store's own append (fold, NDJSON batches, retries), in slices."""
    from burn.ledger.http_store import HttpStore
    from burn.store import Encoded

    store = HttpStore(Path(home), url)
    sent = appended = duplicates = 0
    began = time.monotonic()  # after the imports: the clock covers the requests
    with store.lock():
        for i in range(0, len(items), batch):
            if time.monotonic() >= stop_at:
                break
            chunk = [Encoded(*it) for it in items[i : i + batch]]
            result = store.append_encoded(chunk)
            sent += len(chunk)
            appended += sum(result.appended.values()) + sum(result.revised.values())
            duplicates += sum(result.dropped.values())
    results.put({"sent": sent, "appended": appended, "duplicates": duplicates, "began": began,
                 "ended": time.monotonic()})  # fmt: skip


def post_load(source: Path, hosts: int, entries: int, seconds: float, batch: int) -> dict[str, Any]:
    items = ledger_items(source, entries)
    with tempfile.TemporaryDirectory(prefix="serve-load-post-") as tmp:
        work = Path(tmp)
        (work / "server").mkdir()
        proc, host, port = start(work / "server", work / "serve.log")
        try:
            ctx = multiprocessing.get_context("spawn")
            results = ctx.Queue()
            stop_at = time.monotonic() + seconds
            # Disjoint, contiguous in ledger order: a host sends its own sessions, as hosts do.
            cut = [len(items) * i // hosts for i in range(hosts + 1)]
            shares = [items[cut[i] : cut[i + 1]] for i in range(hosts)]
            url = f"http://{host}:{port}"
            procs = [
                ctx.Process(target=_host, args=(url, str(work / f"host-{i}"), share, batch, stop_at, results))
                for i, share in enumerate(shares)
            ]
            rss_before = rss_kb(proc.pid)
            for p in procs:
                p.start()
            done = [results.get(timeout=seconds + 600) for _ in procs]
            # From the first host's first request to the last host's last answer.
            elapsed = max(d["ended"] for d in done) - min(d["began"] for d in done)
            for p in procs:
                p.join(timeout=60)
            rss_after = rss_kb(proc.pid)
            stored = sum(1 for _ in (work / "server" / "ledger.jsonl").open("rb"))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    sent = sum(d["sent"] for d in done)
    return {"mode": "post", "hosts": hosts, "batch": batch, "sent": sent,
            "appended": sum(d["appended"] for d in done), "duplicates": sum(d["duplicates"] for d in done),
            "server_ledger_lines": stored, "seconds": round(elapsed, 2),
            "records_per_s": round(sent / elapsed, 1), "rss_before_mb": round(rss_before / 1024, 1),
            "rss_after_mb": round(rss_after / 1024, 1),
            "loadavg": Path("/proc/loadavg").read_text().split()[:3]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="a burn home with an archive (a copy: the server writes)")
    ap.add_argument("--clients", default="1,10,50", help="concurrencies (default 1,10,50)")
    ap.add_argument("--seconds", type=float, default=30.0, help="per target and concurrency (default 30)")
    ap.add_argument("--max-requests", type=int, default=100_000, help="per run, whatever the time")
    ap.add_argument(
        "--targets", default=DEFAULT_TARGETS, help=f"of {', '.join(TARGETS)} (default {DEFAULT_TARGETS})"
    )
    ap.add_argument("--floor", action="store_true", help="also the same bytes from a bare asyncio server")
    ap.add_argument("--corpus", type=Path, help="time one ccusage daily run on this corpus")
    ap.add_argument("--post-hosts", type=int, default=0, help="POST /v1/ledger from N hosts (0: skip)")
    ap.add_argument("--post-entries", type=int, default=100_000, help="entries the hosts send in all")
    ap.add_argument(
        "--post-batch", type=int, default=1000, help="entries per POST (the http store's default)"
    )
    ap.add_argument("--post-seconds", type=float, default=120.0, help="bound on the POST run (default 120)")
    ap.add_argument("--in-process", type=int, default=0, metavar="N",
                    help="time N cached calls per target through the ASGI app (0: skip)")  # fmt: skip
    ap.add_argument("--floor-serve", type=Path, help=argparse.SUPPRESS)  # the floor's child process
    args = ap.parse_args(argv)
    if args.floor_serve is not None:
        floor_serve(args.floor_serve)
        return 0
    if args.home is None:
        ap.error("--home is required")
    if args.corpus is not None:
        print(orjson.dumps(ccusage_once(args.corpus)).decode(), flush=True)
    for name in args.targets.split(",") if args.in_process else ():
        print(orjson.dumps(in_process(args.home, TARGETS[name], args.in_process)).decode(), flush=True)
    if args.clients:
        with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
            proc, host, port = start(args.home, Path(tmp) / "serve.log")
            try:
                for name in args.targets.split(","):
                    path = TARGETS[name]
                    body = fetch(host, port, path)  # the first render, outside the measurement
                    for clients in (int(c) for c in args.clients.split(",")):
                        result = run(host, port, path, clients, args.seconds, args.max_requests, proc.pid)
                        print(
                            orjson.dumps({"target": name, "bytes": len(body), **result}).decode(), flush=True
                        )
                        if args.floor:
                            result = floor_run(body, clients, args, Path(tmp))
                            print(
                                orjson.dumps({"target": name, "server": "floor", **result}).decode(),
                                flush=True,
                            )
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    if args.post_hosts:
        result = post_load(args.home, args.post_hosts, args.post_entries, args.post_seconds, args.post_batch)
        print(orjson.dumps(result).decode(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
