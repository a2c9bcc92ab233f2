"""Load against `burn serve` on loopback: requests/s, p50/p99 latency, errors, server RSS.

Bounded in both count and time, loopback only (stdlib threads + http.client, one keep-alive
connection per client). Starts its own `burn serve --port 0` on the burn home given (build one
first: gen_corpus.py, then `burn ingest` with that corpus), measures each target at each
concurrency, and stops the server.

    python benchmarks/serve_load.py --home /tmp/burn-bench/home --clients 1,10,50 --seconds 30
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

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


def run(host: str, port: int, path: str, clients: int, seconds: float, max_requests: int,
        pid: int) -> dict[str, float]:  # fmt: skip
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    budget = [max_requests]

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    bad += 1
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            mine.append(time.perf_counter() - t)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    rss_before = rss_kb(pid)
    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    n = len(latencies)
    return {
        "clients": clients, "requests": n, "errors": errors, "rps": round(n / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if n else 0.0,
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))] * 1000, 2) if n else 0.0,
        "rss_before_mb": round(rss_before / 1024, 1), "rss_after_mb": round(rss_kb(pid) / 1024, 1),
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
