"""The usage exporter: tokens and cost per local day, ISO week or month, or per session, model or
project, each row with breakdowns by model, project and source.

One grouped scan of ``turns`` (an index range scan with ``--since``/``--until``) at the grain
(local day, session, model, project); local days come from :func:`burn.summary.day_sql`, exact
across daylight-saving changes. Rows are sorted by key ascending (time buckets chronologically).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from burn import rollup
from burn.archive import Archive
from burn.contract.filters import bound_ms
from burn.contract.profile import Renderer
from burn.exporter import Facts, Key, Page
from burn.pricing.totals import COST_SQL
from burn.records import USAGE_FIELDS
from burn.summary import day_sql
from burn_export_usage.acc import WIDTH, Bucket

BY = ("day", "week", "month", "session", "model", "project")
_TIME = ("day", "week", "month")


class UsageExporter:
    """Tokens and cost per day, week, month, session, model or project (usage contract v1)."""

    surface = "usage"
    schema_version = 1
    verb = "report"
    commands: Mapping[str, Mapping[str, Any]] = {
        "usage": {},
        "daily": {"by": "day"},
        "weekly": {"by": "week"},
        "monthly": {"by": "month"},
    }
    row_type = "usage"
    paged = False
    order = "key"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--by", choices=BY, default="day", help="grouping of the rows (default day)")

    def filters(self, archive: Any, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"by": options.get("by") or "day"}

    def open(self, archive: Any, filters: Mapping[str, Any], render: Renderer) -> UsageQuery:
        q = UsageQuery(archive, dict(filters), render)
        q.load()
        return q

    def rows(self, archive: Any, options: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        from burn.identity import local_secret

        a: Archive = archive
        render = Renderer("shareable", local_secret(a.path.parent), "")
        q = self.open(a, {"timezone": "UTC", **self.filters(a, options), **options}, render)
        for _key, row in q.rows():
            yield row


def _tz(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@attrs.define
class UsageQuery:
    archive: Archive
    filters: dict[str, Any]
    render: Renderer
    buckets: dict[Any, Bucket] = attrs.field(factory=dict)
    total: Bucket = attrs.field(factory=Bucket)
    tz: ZoneInfo | None = None
    key: tuple[str, str, str] = ("", "", "NULL")
    stream: bool = False
    where: tuple[str, list[Any]] = ("", [])

    def _where(self) -> tuple[str, list[Any]]:
        f = self.filters
        since, until = bound_ms(f, "since"), bound_ms(f, "until")
        parts, args = [], []
        if since is not None:
            parts.append("t.ts_ms >= ?")
            args.append(since)
        if until is not None:
            parts.append("t.ts_ms < ?")
            args.append(until)
        for column, key in (("t.source", "sources"), ("s.project_key", "projects"), ("t.model", "models")):
            if f.get(key):
                parts.append(f"{column} IN ({','.join('?' * len(f[key]))})")
                args.extend(f[key])
        return ("WHERE " + " AND ".join(parts)) if parts else "", args

    def _bucket_sql(self, where: str, args: list[Any]) -> tuple[str, str, str]:
        """(WITH clauses, join, key expression) for a turn's row key: its local day, ISO week or
        month, session, model or project."""
        by = self.filters["by"]
        if by not in _TIME:
            key = {"session": f"t.source || x'{_SEP.hex()}' || t.session_id", "model": "t.model",
                   "project": "s.project_key"}[by]  # fmt: skip
            return "", "", key
        span = f"SELECT MIN(t.ts_ms), MAX(t.ts_ms) FROM turns t {_FROM_S} {where}"
        lo, hi = self.archive.db.execute(span, args).fetchone()
        tz = _tz(self.filters["timezone"])
        day = day_sql(tz, lo or 0, hi or 0)
        if by == "day":
            return "", "", day
        if by == "month":
            return "", "", f"substr({day}, 1, 7)"
        # ISO weeks from a small table of the range's local days: cheaper than date arithmetic per turn
        first = datetime.fromtimestamp((lo or 0) / 1000, tz).date()
        last = datetime.fromtimestamp((hi or 0) / 1000, tz).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        values = ", ".join(f"('{d.isoformat()}', '{_iso_week(d)}')" for d in days)
        return f"wk(day, k) AS (VALUES {values}),", f"JOIN wk ON wk.day = {day}", "wk.k"

    def _sums(
        self, key: tuple[str, str, str], where: str, args: list[Any], order: bool = False
    ) -> Iterator[Any]:
        with_, join, k = key
        # turns and (sum, count) per usage field, as the hourly rollup defines them, then the costs
        aggs = ", ".join(expr for _name, expr in rollup.AGGREGATES[: 1 + 2 * len(USAGE_FIELDS)])
        sql = f"""{"WITH " + with_.rstrip(",") if with_ else ""}
            SELECT {k} AS k, t.source, t.model, s.project_key, {aggs}, {COST_SQL}
            FROM turns t {_FROM_S} {join} {where} GROUP BY k, t.source, t.model, s.project_key
            {"ORDER BY k" if order else ""}"""
        return iter(self.archive.db.execute(sql, args))

    def load(self) -> None:
        self.tz = _tz(self.filters["timezone"])
        where, args = self._where()
        self.key = self._bucket_sql(where, args)
        # By session, rows stream from an ordered query in rows(): only the totals are kept here.
        self.stream = self.filters["by"] == "session"
        key = ("", "", "NULL") if self.stream else self.key
        for k, source, model, project, *values in self._sums(key, where, args):
            assert len(values) == WIDTH
            if not self.stream:
                bucket = self.buckets.get(k)
                if bucket is None:
                    bucket = self.buckets[k] = Bucket()
                bucket.add(source, model, project, values)
            self.total.add(source, model, project, values)
        # Distinct sessions per bucket and breakdown (0 bucket, 1 model, 2 project, 3 source), for
        # every bucket and (k NULL) for the totals.
        with_, join, k = key
        sid = f"d.source || x'{_SEP.hex()}' || d.sid"
        per_bucket = f"""
            SELECT 1, 0, k, NULL, COUNT(DISTINCT {sid}) FROM d GROUP BY k
            UNION ALL SELECT 1, 1, k, model, COUNT(DISTINCT {sid}) FROM d GROUP BY k, model
            UNION ALL SELECT 1, 2, k, project, COUNT(DISTINCT {sid}) FROM d GROUP BY k, project
            UNION ALL SELECT 1, 3, k, source, COUNT(DISTINCT {sid}) FROM d GROUP BY k, source
            UNION ALL"""
        counts = f"""WITH {with_} d AS MATERIALIZED (
              SELECT DISTINCT {k} AS k, t.source AS source, t.session_id AS sid, t.model AS model,
                     s.project_key AS project FROM turns t {_FROM_S} {join} {where})
            {"" if self.stream else per_bucket}
            SELECT 0, 0, NULL, NULL, COUNT(DISTINCT {sid}) FROM d
            UNION ALL SELECT 0, 1, NULL, model, COUNT(DISTINCT {sid}) FROM d GROUP BY model
            UNION ALL SELECT 0, 2, NULL, project, COUNT(DISTINCT {sid}) FROM d GROUP BY project
            UNION ALL SELECT 0, 3, NULL, source, COUNT(DISTINCT {sid}) FROM d GROUP BY source"""
        for in_bucket, breakdown, kk, sub, n in self.archive.db.execute(counts, args):
            target = self.buckets.get(kk) if in_bucket else self.total
            if target is not None:
                target.set_sessions(breakdown, sub, n)
        self.where = (where, args)

    def _session_buckets(self) -> Iterator[tuple[str, Bucket]]:
        """By session: one bucket per session from an ordered grouped query (flat memory)."""
        where, args = self.where
        current: tuple[str, Bucket] | None = None
        for k, source, model, project, *values in self._sums(self.key, where, args, order=True):
            if current is None or current[0] != k:
                if current is not None:
                    yield current
                current = (k, Bucket())
            current[1].add(source, model, project, values)
        if current is not None:
            yield current

    def facts(self, page: Page | None = None) -> Facts:
        t = self.total
        models = []
        for model, acc in sorted(t.by_model.items()):
            c = acc.cost.as_dict()
            models.append({"model": model, "unpriced": c["unpriced"], "fallback_turns": c["fallback_turns"]})
        return Facts(
            models=models,
            project_keys=sorted(k for k in t.by_project if k is not None),
            cost_source=t.total.cost.as_dict()["cost_source"],
        )

    def rows(self, page: Page | None = None) -> Iterator[tuple[Key, Mapping[str, Any]]]:
        by = self.filters["by"]
        if self.stream:
            buckets: Iterator[tuple[Any, Bucket]] = self._session_buckets()
        else:
            keys = sorted(self.buckets, key=lambda k: (k is None, k if k is not None else ""))
            buckets = ((k, self.buckets[k]) for k in keys)
        for key, bucket in buckets:
            if self.stream:  # one session: every breakdown entry is that session
                for acc in (bucket.total, *bucket.by_model.values(), *bucket.by_project.values(),
                            *bucket.by_source.values()):  # fmt: skip
                    acc.sessions = 1
            row: dict[str, Any] = {"type": "usage", "by": by, "key": None, "source": None,
                                   "start": None, "end": None}  # fmt: skip
            if by in _TIME:
                start, end = _bounds(key, by, self.tz)
                row.update(key=key, start=start, end=end)
            elif by == "session":
                source, sid = key.split(_SEP.decode(), 1)
                row.update(key=self.render.session(source, sid), source=source)
            elif by == "project":
                row["key"] = self.render.key(key)
            else:
                row["key"] = key
            row.update(bucket.parts(self.render))
            yield (key,), row

    def summary(self) -> Mapping[str, Any] | None:
        return {"totals": self.total.parts(self.render)}

    def watermark(self) -> int:
        return 0

    def snapshot(self, watermark: int) -> tuple[int, int]:
        return 0, 0


_FROM_S = "LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id"
_SEP = b"\x1f"  # joins source and session id into one SQL key (neither contains it)


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _first_day(key: str, by: str) -> date:
    if by == "day":
        return date.fromisoformat(key)
    if by == "month":
        return date.fromisoformat(key + "-01")
    y, w = key.split("-W")
    return date.fromisocalendar(int(y), int(w), 1)


def _next_first(day: date, by: str) -> date:
    if by == "day":
        return day + timedelta(days=1)
    if by == "week":
        return day + timedelta(days=7)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _bounds(key: str, by: str, tz: Any) -> tuple[str, str]:
    from burn.contract.filters import iso

    first = _first_day(key, by)
    nxt = _next_first(first, by)
    return iso(datetime(first.year, first.month, first.day, tzinfo=tz)), iso(
        datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    )
