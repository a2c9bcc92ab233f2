"""The activity exporter: agent-seconds, peak concurrency, cost and output tokens per time bucket,
with rollups by project, model, source and session (see :mod:`.timeline` for the rules).

Reads the messages of the range (``turns`` and ``user_turns`` by their time indexes) once; memory
grows with the messages in the range, not with the archive.
"""

from __future__ import annotations

import argparse
import bisect
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from burn.exporter import ArchiveView, Facts, Key, Page, Renderer, UsageError, plain_rows
from burn.query import Filters, group_cost_source, matching, window
from burn_export_activity.timeline import GAP_CAP, SIZES, boundaries, intervals, peak, split

MAX_BUCKETS = 100_000


class ActivityExporter:
    """Agent-seconds, concurrency, cost and output tokens per time bucket (activity contract v1)."""

    surface = "activity"
    schema_version = 1
    verb = "report"
    # Without --since/--until: the last 7 days up to now.
    commands: Mapping[str, Mapping[str, Any]] = {"activity": {"since": "7d", "until": "0h"}}
    paged = False
    order = "start"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--bucket", choices=sorted(SIZES), default="1h", help="bucket size (default 1h)")

    def filters(self, archive: ArchiveView, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"bucket": options.get("bucket") or "1h"}

    def open(self, archive: ArchiveView, filters: Mapping[str, Any], render: Renderer) -> ActivityQuery:
        q = ActivityQuery(
            archive, Filters.from_canonical(filters), str(filters.get("bucket") or "1h"), render
        )
        q.load()
        return q

    def rows(self, archive: ArchiveView, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every row under the shareable profile (the plain :class:`Exporter` use)."""
        return plain_rows(self, archive, options)


class Acc:
    __slots__ = ("cost", "cost_n", "n_comp", "n_rep", "output", "seconds", "sessions", "turns")

    def __init__(self) -> None:
        self.seconds = self.turns = self.output = self.cost = self.cost_n = self.n_comp = self.n_rep = 0
        self.sessions: set[tuple[str, str]] = set()

    def turn(self, output: int, cost: int | None, cost_source: str | None) -> None:
        self.turns += 1
        self.output += output
        if cost is not None:
            self.cost += cost
            self.cost_n += 1
        self.n_comp += cost_source == "computed"
        self.n_rep += cost_source == "reported"

    def parts(self) -> dict[str, Any]:
        return {
            "agent_seconds": self.seconds,
            "sessions": len(self.sessions),
            "turns": self.turns,
            "output_tokens": self.output,
            "cost": {
                "total_usd_micros": self.cost if self.cost_n else None,
                "cost_source": group_cost_source(self.n_comp, self.n_rep),
            },
        }


def _get(table: dict[Any, Acc], key: Any) -> Acc:
    acc = table.get(key)
    if acc is None:
        acc = table[key] = Acc()
    return acc


def _iso(s: int | None) -> str | None:
    return None if s is None else datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.define
class ActivityQuery:
    archive: ArchiveView
    filters: Filters
    bucket: str
    render: Renderer
    bounds: list[int] = attrs.field(factory=list)
    buckets: list[Acc] = attrs.field(factory=list)
    pieces: list[list[tuple[int, int]]] = attrs.field(factory=list)
    total: Acc = attrs.field(factory=Acc)
    by: dict[str, dict[Any, Acc]] = attrs.field(factory=dict)
    sessions: dict[tuple[str, str], dict[str, Any]] = attrs.field(factory=dict)
    models: dict[str, list[int]] = attrs.field(factory=dict)  # model -> [unpriced turns, fallback turns]

    def _where(self, alias: str) -> tuple[str, dict[str, Any]]:
        """Messages of the range widened by the gap cap (an interval may start before the range)
        under the filters; assistant turns (``t``) also of the models filtered."""
        where = window(f"{alias}.ts_ms", (self.bounds[0] - GAP_CAP) * 1000, self.bounds[-1] * 1000)
        where += matching(self.filters, source=f"{alias}.source", project="s.project_key",
                          session_model=(f"{alias}.source", f"{alias}.session_id"),
                          model="t.model" if alias == "t" else None, stamps="s")  # fmt: skip
        join = f"LEFT JOIN sessions s ON s.source = {alias}.source AND s.session_id = {alias}.session_id"
        return f"{join} {where.sql()}", dict(where.params)

    def load(self) -> None:
        since, until = self.filters.since_ms, self.filters.until_ms
        if since is None or until is None or until <= since:
            raise UsageError("activity needs a range: --since before --until")
        self.bounds = boundaries(since // 1000, -(-until // 1000), self.bucket, self.filters.tz)
        n = len(self.bounds) - 1
        if n > MAX_BUCKETS:  # every bucket is a row held until written: bound the document
            raise UsageError(
                f"{n:,} buckets is more than {MAX_BUCKETS:,}: use a larger --bucket or a shorter range"
            )
        self.buckets = [Acc() for _ in range(n)]
        self.pieces = [[] for _ in range(n)]
        self.by = {"project_key": {}, "model": {}, "source": {}}
        messages: dict[tuple[str, str], list[tuple[int, str | None]]] = {}
        where, args = self._where("t")
        start, end = self.bounds[0], self.bounds[-1]
        for source, sid, ts_ms, model, output, cost, cost_source, match, project in self.archive.db.execute(
            f"""SELECT t.source, t.session_id, t.ts_ms, t.model, COALESCE(t.output, 0), t.cost_usd_micros,
            t.cost_source, t.price_match, s.project_key FROM turns t {where}""",
            args,
        ):
            key, ts = (source, sid), ts_ms // 1000
            messages.setdefault(key, []).append((ts, model))
            info = self._session(key, project)
            if not start <= ts < end:
                continue
            info["models"].add(model)
            counts = self.models.setdefault(model, [0, 0])
            counts[0] += match == "unpriced"
            counts[1] += match == "fallback"
            i = bisect.bisect_right(self.bounds, ts) - 1
            for acc in self._accs(key, project, model, i):
                acc.turn(output, cost, cost_source)
                acc.sessions.add(key)
        where, args = self._where("u")
        for source, sid, ts_ms, project in self.archive.db.execute(
            f"SELECT u.source, u.session_id, u.ts_ms, s.project_key FROM user_turns u {where}", args
        ):
            messages.setdefault((source, sid), []).append((ts_ms // 1000, None))
            self._session((source, sid), project)
        for key, msgs in messages.items():
            msgs.sort(key=lambda m: (m[0], m[1] is None))
            info = self.sessions[key]
            in_range = [t for t, _ in msgs if start <= t < end]
            if in_range:
                info["first"], info["last"] = min(in_range), max(in_range)
            times = [t for t, _ in msgs]
            spans: list[list[int]] = info["spans"]
            for a, b, model in intervals(times, [m for _, m in msgs]):
                for i, lo, hi in split(a, b, self.bounds):
                    if spans and spans[-1][1] == lo:  # contiguous: one span
                        spans[-1][1] = hi
                    else:
                        spans.append([lo, hi])
                    self.pieces[i].append((lo, hi))
                    for acc in self._accs(key, info["project"], model, i):
                        acc.seconds += hi - lo
                        acc.sessions.add(key)

    def _session(self, key: tuple[str, str], project: str | None) -> dict[str, Any]:
        info = self.sessions.get(key)
        if info is None:
            info = self.sessions[key] = {"project": project, "models": set(), "first": None, "last": None,
                                         "acc": Acc(), "spans": []}  # fmt: skip
        return info

    def _accs(self, key: tuple[str, str], project: str | None, model: str | None, i: int) -> list[Acc]:
        return [self.buckets[i], self.total, self.sessions[key]["acc"], _get(self.by["project_key"], project),
                _get(self.by["model"], model), _get(self.by["source"], key[0])]  # fmt: skip

    def facts(self, page: Page | None = None) -> Facts:
        return Facts(
            models=[
                {"model": m, "unpriced": {"turns": u}, "fallback_turns": fb}
                for m, (u, fb) in sorted(self.models.items())
            ],
            project_keys=sorted(
                {
                    i["project"]
                    for i in self.sessions.values()
                    if i["project"] is not None and (i["acc"].turns or i["acc"].seconds)
                }
            ),
            cost_source=group_cost_source(self.total.n_comp, self.total.n_rep),
        )

    def rows(self, page: Page | None = None) -> Iterator[tuple[Key, Mapping[str, Any]]]:
        cut_first, cut_last = self._cut()
        last = len(self.buckets) - 1
        for i, acc in enumerate(self.buckets):
            row = {"type": "bucket", "start": _iso(self.bounds[i]), "end": _iso(self.bounds[i + 1]),
                   **acc.parts(), "peak_concurrency": peak(self.pieces[i])[0],
                   "partial": (i == 0 and cut_first) or (i == last and cut_last)}  # fmt: skip
            yield (self.bounds[i],), row

    def summary(self) -> Mapping[str, Any] | None:
        top, at = peak([p for ps in self.pieces for p in ps])

        def rollup(name: str) -> list[dict[str, Any]]:
            shown = self.render.key if name == "project_key" else (lambda k: k)
            rows = [(shown(k), acc) for k, acc in self.by[name].items()]
            rows.sort(key=lambda r: (r[0] is None, r[0] or ""))
            return [{name: k, **acc.parts()} for k, acc in rows]

        active = [(k, i) for k, i in self.sessions.items() if i["acc"].turns or i["acc"].seconds]
        active.sort(key=lambda ki: (ki[1]["first"] or 0, ki[0]))
        by_session = [
            {
                "session_id": self.render.session(k[0], k[1]),
                "source": k[0],
                "project_key": self.render.key(i["project"]),
                "models": sorted(i["models"]),
                "first_active": _iso(i["first"]),
                "last_active": _iso(i["last"]),
                **i["acc"].parts(),
                "intervals": [
                    {"start": _iso(lo), "end": _iso(hi), "active_seconds": hi - lo} for lo, hi in i["spans"]
                ],
            }
            for k, i in active
        ]
        return {
            "range": {
                "start": _iso(self.bounds[0]),
                "end": _iso(self.bounds[-1]),
                "bucket": self.bucket,
                "bucket_seconds": SIZES[self.bucket],
                "gap_cap_seconds": GAP_CAP,
                "requested_start": _iso(
                    self.filters.since_ms // 1000 if self.filters.since_ms is not None else None
                ),
                "requested_end": _iso(
                    -(-self.filters.until_ms // 1000) if self.filters.until_ms is not None else None
                ),
                "partial_start": self._cut()[0],
                "partial_end": self._cut()[1],
            },
            "peak": {"concurrency": top, "at": _iso(at)},
            "totals": self.total.parts(),
            "by_project": rollup("project_key"),
            "by_model": rollup("model"),
            "by_source": rollup("source"),
            "by_session": by_session,
        }

    def _cut(self) -> tuple[bool, bool]:
        """Whether the requested range cuts the first and the last bucket: the buckets are whole,
        so their measures then include time outside the range."""
        since, until = self.filters.since_ms, self.filters.until_ms
        first = since is not None and self.bounds[0] * 1000 < since
        last = until is not None and self.bounds[-1] * 1000 > until
        return first, last

    def watermark(self) -> int:
        return 0

    def snapshot(self, watermark: int) -> tuple[int, int]:
        return 0, 0
