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

    def _sql(self) -> tuple[str, list[Any]]:
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
        where = ("WHERE " + " AND ".join(parts)) if parts else ""
        if f["by"] in _TIME:
            span = f"SELECT MIN(t.ts_ms), MAX(t.ts_ms) FROM turns t {_FROM_S} {where}"
            lo, hi = self.archive.db.execute(span, args).fetchone()
            day = day_sql(_tz(f["timezone"]), lo or 0, hi or 0)
        else:
            day = "NULL"
        # turns and (sum, count) per usage field, as the hourly rollup defines them, then the costs
        aggs = (
            ", ".join(expr for _name, expr in rollup.AGGREGATES[: 1 + 2 * len(USAGE_FIELDS)])
            + ", "
            + COST_SQL
        )
        sql = f"""SELECT {day} AS day, t.source, t.session_id, t.model, s.project_key, {aggs}
            FROM turns t {_FROM_S} {where}
            GROUP BY day, t.source, t.session_id, t.model, s.project_key"""
        return sql, args

    def load(self) -> None:
        by = self.filters["by"]
        tz = _tz(self.filters["timezone"])
        sql, args = self._sql()
        for day, source, sid, model, project, *values in self.archive.db.execute(sql, args):
            assert len(values) == WIDTH
            if by in _TIME:
                key: Any = _bucket(day, by)
            elif by == "session":
                key = (source, sid)
            elif by == "model":
                key = model
            else:
                key = project
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = Bucket()
            bucket.add(source, sid, model, project, values)
            self.total.add(source, sid, model, project, values)
        self.tz = tz

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
        keys = sorted(self.buckets, key=lambda k: (k is None, k if k is not None else ""))
        for key in keys:
            row: dict[str, Any] = {"type": "usage", "by": by, "key": None, "source": None,
                                   "start": None, "end": None}  # fmt: skip
            if by in _TIME:
                start, end = _bounds(key, by, self.tz)
                row.update(key=key, start=start, end=end)
            elif by == "session":
                row.update(key=self.render.session(key[0], key[1]), source=key[0])
            elif by == "project":
                row["key"] = self.render.key(key)
            else:
                row["key"] = key
            row.update(self.buckets[key].parts(self.render))
            yield ((key,) if not isinstance(key, tuple) else key), row

    def summary(self) -> Mapping[str, Any] | None:
        return {"totals": self.total.parts(self.render)}

    def watermark(self) -> int:
        return 0

    def snapshot(self, watermark: int) -> tuple[int, int]:
        return 0, 0


_FROM_S = "LEFT JOIN sessions s ON s.source = t.source AND s.session_id = t.session_id"


def _bucket(day: str, by: str) -> str:
    if by == "day":
        return day
    if by == "month":
        return day[:7]
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


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
