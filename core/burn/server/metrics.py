"""Prometheus text exposition (format 0.0.4), written by hand: a handful of counters and one
histogram do not justify a client library."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

# Seconds; the last bucket is +Inf. Fine below 50 ms, where a hot archive answers.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Request counts by route, method and status; latency by route; records appended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.latency: dict[str, list[int]] = {}  # route -> counts per bucket (+Inf last)
        self.latency_sum: dict[str, float] = {}
        self.appended: Counter[str] = Counter()  # kind -> new entries (revisions included)
        self.rejected: Counter[str] = Counter()  # error code -> entries refused

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, method, status)] += 1
            counts = self.latency.setdefault(route, [0] * (len(BUCKETS) + 1))
            i = next((i for i, b in enumerate(BUCKETS) if seconds <= b), len(BUCKETS))
            counts[i] += 1
            self.latency_sum[route] = self.latency_sum.get(route, 0.0) + seconds

    def count_entries(self, appended: Counter[str], rejected: Counter[str]) -> None:
        with self._lock:
            self.appended.update(appended)
            self.rejected.update(rejected)

    def render(self, gauges: Callable[[], dict[str, float]]) -> bytes:
        lines: list[str] = []
        with self._lock:
            lines += ["# HELP burn_http_requests_total HTTP requests by route, method and status.",
                      "# TYPE burn_http_requests_total counter"]  # fmt: skip
            for (route, method, status), n in sorted(self.requests.items()):
                lines.append(
                    f'burn_http_requests_total{{route="{_label(route)}",method="{method}",'
                    f'status="{status}"}} {n}'
                )
            lines += ["# HELP burn_http_request_duration_seconds Time to the response's last byte.",
                      "# TYPE burn_http_request_duration_seconds histogram"]  # fmt: skip
            for route, counts in sorted(self.latency.items()):
                r = _label(route)
                running = 0
                for bound, n in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                    running += n
                    lines.append(
                        f'burn_http_request_duration_seconds_bucket{{route="{r}",le="{bound}"}} {running}'
                    )
                lines.append(
                    f'burn_http_request_duration_seconds_sum{{route="{r}"}} {self.latency_sum[route]:.6f}'
                )
                lines.append(f'burn_http_request_duration_seconds_count{{route="{r}"}} {running}')
            lines += ["# HELP burn_ledger_appended_total Entries appended by POST /v1/ledger.",
                      "# TYPE burn_ledger_appended_total counter"]  # fmt: skip
            for kind, n in sorted(self.appended.items()):
                lines.append(f'burn_ledger_appended_total{{kind="{_label(kind)}"}} {n}')
            lines += ["# HELP burn_ledger_rejected_total Entries refused by POST /v1/ledger.",
                      "# TYPE burn_ledger_rejected_total counter"]  # fmt: skip
            for code, n in sorted(self.rejected.items()):
                lines.append(f'burn_ledger_rejected_total{{error="{_label(code)}"}} {n}')
        for name, value in sorted(gauges().items()):
            lines += [f"# TYPE {name} gauge", f"{name} {value:g}"]
        return ("\n".join(lines) + "\n").encode()
