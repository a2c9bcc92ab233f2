"""Load against `burn serve` on loopback: requests/s, p50/p99 latency, errors, server RSS.

Bounded in both count and time, loopback only (stdlib threads + http.client, one keep-alive
connection per client). Starts its own `burn serve --port 0` on the burn home given (build one
first: gen_corpus.py, then `burn ingest` with that corpus), measures each target at each
concurrency, and stops the server.

    python benchmarks/serve_load.py --home /tmp/burn-bench/home --clients 1,10,50 --seconds 30
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

TARGETS = {"usage_day": "/v1/reports/usage?by=day", "sessions_page": "/v1/sessions?limit=100"}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(home: Path) -> tuple[subprocess.Popen[bytes], str, int, Path]:
    log = home / "serve-load.log"
    env = {**os.environ, "RELAYBURN_HOME": str(home)}
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "burn", "serve", "--port", "0"], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log.read_text()
        if text.startswith("{"):
            url = orjson.loads(text.splitlines()[0])["url"]
            host, port = url.split("//")[1].split(":")
            return proc, host, int(port), log
        if proc.poll() is not None:
            raise SystemExit(f"burn serve exited: {text}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("burn serve did not start")


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="a burn home with an archive")
    ap.add_argument("--clients", default="1,10,50", help="concurrencies (default 1,10,50)")
    ap.add_argument("--seconds", type=float, default=30.0, help="per target and concurrency (default 30)")
    ap.add_argument("--max-requests", type=int, default=100_000, help="per run, whatever the time")
    args = ap.parse_args(argv)
    proc, host, port, _log = start(args.home)
    try:
        for name, path in TARGETS.items():
            for clients in (int(c) for c in args.clients.split(",")):
                result = run(host, port, path, clients, args.seconds, args.max_requests, proc.pid)
                print(orjson.dumps({"target": name, **result}).decode(), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
