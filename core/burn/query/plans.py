"""Plans (``burn plans``): subscriptions and budgets declared in ``$RELAYBURN_HOME/plans.toml``.

A plan covers some sources and models (none listed: all; a model ending in ``*`` is a prefix) and
resets monthly on ``reset_day`` at local midnight in its ``timezone``. A reset day past the end of
a month is that month's last day (31 in April: the 30th). Each plan is either a ``subscription``
(``price_usd`` paid per period: the value it delivered is the API-equivalent cost of the covered
usage against that price) or a ``budget`` (``budget_usd`` or ``budget_tokens``); a subscription
may also carry a budget (a soft cap to watch).

Spend comes from the hourly rollup through :func:`burn.query.base.usage_base` (whole-hour period
bounds: the rollup answers; otherwise the same sums from ``turns``). The daily burn rate is the
period's spend over the elapsed part of the period; the projection extends it to the period's end,
and the run-out day is when that rate crosses the budget. Money is integer micro-USD throughout.
"""

from __future__ import annotations

import calendar
import fnmatch
import tomllib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from burn.archive.rollup import NAMES
from burn.errors import UsageError
from burn.query.base import hour_split, usage_base
from burn.query.filters import Filters, iso_ms
from burn.query.sums import UsageSums
from burn.query.timewindow import to_ms
from burn.query.view import ArchiveView

FILE = "plans.toml"
KINDS = ("subscription", "budget")
KEYS = ("name", "kind", "price_usd", "budget_usd", "budget_tokens", "reset_day", "timezone", "sources",
        "models")  # fmt: skip
DAY_MS = 86_400_000


@attrs.frozen
class Plan:
    """One declared plan (money in integer micro-USD)."""

    name: str
    kind: str
    reset_day: int
    timezone: str
    price_micros: int | None = None
    budget_micros: int | None = None
    budget_tokens: int | None = None
    sources: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


def _micros(value: Any, where: str) -> int:
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise UsageError(f"{where}: {value!r} is not an amount of dollars") from None
    if not d.is_finite() or d < 0:
        raise UsageError(f"{where}: {value!r} is not an amount of dollars")
    return int((d * 1_000_000).to_integral_value())


def load(home: Path, default_tz: str = "UTC") -> list[Plan]:
    """The plans of ``home``'s plans.toml (none without the file). A mistake in the file is a
    :class:`UsageError` naming the plan and the key."""
    path = home / FILE
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from None
    entries = data.get("plan", [])
    if not isinstance(entries, list) or set(data) - {"plan"}:
        raise UsageError(f"{path}: declare plans as [[plan]] tables")
    plans, names = [], set()
    for i, raw in enumerate(entries, 1):
        if not isinstance(raw, dict):
            raise UsageError(f"{path}: plan {i} is not a table")
        name = str(raw.get("name") or f"plan {i}")
        where = f"{path.name}: plan {name!r}"
        unknown = sorted(set(raw) - set(KEYS))
        if unknown:  # a misspelt key would otherwise be a silent default
            raise UsageError(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(KEYS)})")
        if name in names:
            raise UsageError(f"{where}: the name is used twice")
        names.add(name)
        kind = raw.get("kind", "subscription" if "price_usd" in raw else "budget")
        if kind not in KINDS:
            raise UsageError(f"{where}: kind must be subscription or budget, not {kind!r}")
        day = raw.get("reset_day", 1)
        if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 31:
            raise UsageError(f"{where}: reset_day must be a whole number from 1 to 31")
        tz = str(raw.get("timezone") or default_tz)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"{where}: unknown timezone {tz!r}") from None
        tokens = raw.get("budget_tokens")
        if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool) or tokens <= 0):
            raise UsageError(f"{where}: budget_tokens must be a positive whole number")
        plan = Plan(
            name=name,
            kind=kind,
            reset_day=day,
            timezone=tz,
            price_micros=None if raw.get("price_usd") is None else _micros(raw["price_usd"], where),
            budget_micros=None if raw.get("budget_usd") is None else _micros(raw["budget_usd"], where),
            budget_tokens=tokens,
            sources=tuple(sorted(_strings(raw.get("sources"), where, "sources"))),
            models=tuple(sorted(_strings(raw.get("models"), where, "models"))),
        )
        if kind == "subscription" and plan.price_micros is None:
            raise UsageError(f"{where}: a subscription needs price_usd")
        if kind == "budget" and plan.budget_micros is None and plan.budget_tokens is None:
            raise UsageError(f"{where}: a budget needs budget_usd or budget_tokens")
        if plan.budget_micros is not None and plan.budget_tokens is not None:
            raise UsageError(f"{where}: give budget_usd or budget_tokens, not both")
        plans.append(plan)
    return plans


def _strings(value: Any, where: str, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{where}: {key} must be a list of names")
    return list(value)


def _anchor(year: int, month: int, day: int) -> date:
    """The reset date in a month: ``day``, or the month's last day when it has fewer days."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    n = year * 12 + month - 1 + by
    return n // 12, n % 12 + 1


def period(reset_day: int, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The billing period containing ``now``: [start, end) at local midnights in ``tz``."""
    local = now.astimezone(tz)
    y, m = local.year, local.month
    this = _anchor(y, m, reset_day)
    if local.date() >= this:
        start, end = this, _anchor(*_shift(y, m, 1), reset_day)
    else:
        start, end = _anchor(*_shift(y, m, -1), reset_day), this
    return (datetime(start.year, start.month, start.day, tzinfo=tz),
            datetime(end.year, end.month, end.day, tzinfo=tz))  # fmt: skip


def _models(archive: ArchiveView, patterns: tuple[str, ...]) -> tuple[str, ...]:
    """Model ids of the archive a plan's patterns cover (exact, or a prefix ending in ``*``)."""
    table = "usage_hourly" if archive.state().get("rollup") == "ok" else "turns"
    known = [m for (m,) in archive.db.execute(f"SELECT DISTINCT model FROM {table}")]
    return tuple(sorted({m for m in known for p in patterns if fnmatch.fnmatchcase(m, p)}))


def _usage(archive: ArchiveView, plan: Plan, since_ms: int, until_ms: int) -> UsageSums:
    models = _models(archive, plan.models) if plan.models else ()
    if plan.models and not models:
        return UsageSums.of({})
    tz = ZoneInfo(plan.timezone)
    filters = Filters(tz=tz, timezone=plan.timezone, sources=plan.sources, models=models)
    # The whole hours from the hourly rollup; only the partial hours at the ends (a period that
    # starts at a half-hour zone's midnight, the hour now is in) from turns.
    split = hour_split(since_ms, until_ms)
    parts = [(since_ms, until_ms)] if split is None else [split[0], *split[1]]
    state = archive.state()
    bases = [usage_base(state, attrs.evolve(filters, since_ms=lo, until_ms=hi), []) for lo, hi in parts]
    sums = ", ".join(f"SUM(r.{c})" for c in NAMES)
    union = " UNION ALL ".join(f"SELECT * FROM ({b.sql})" for b in bases)
    params = {k: v for b in bases for k, v in b.params.items()}
    return UsageSums.of_row(archive.db.execute(f"SELECT {sums} FROM ({union}) r", params).fetchone())


def _round(x: float) -> int:
    return int(Decimal(x).to_integral_value())


def status(archive: ArchiveView, plan: Plan, now: datetime) -> dict[str, Any]:
    """One plan's current period as the ``burn.plans`` row."""
    tz = ZoneInfo(plan.timezone)
    start, end = period(plan.reset_day, tz, now)
    start_ms, end_ms, now_ms = to_ms(start), to_ms(end), to_ms(now)
    sums = _usage(archive, plan, start_ms, min(end_ms, now_ms))
    cost = sums.cost.as_dict()["cost_usd_micros"]
    spent = cost or 0
    tokens = sums.total
    elapsed_days = max(now_ms - start_ms, 1) / DAY_MS
    period_days = (end_ms - start_ms) / DAY_MS
    left_days = max(end_ms - now_ms, 0) / DAY_MS
    rate_micros, rate_tokens = spent / elapsed_days, tokens / elapsed_days
    proj_micros = spent + _round(rate_micros * left_days)
    proj_tokens = tokens + _round(rate_tokens * left_days)
    out: dict[str, Any] = {
        "type": "plan",
        "name": plan.name,
        "kind": plan.kind,
        "sources": list(plan.sources),
        "models": list(plan.models),
        "timezone": plan.timezone,
        "reset_day": plan.reset_day,
        "as_of": iso_ms(now_ms),
        "period": {
            "start": iso_ms(start_ms),
            "end": iso_ms(end_ms),
            "days": round(period_days, 4),
            "elapsed_days": round(elapsed_days, 4),
        },
        "turns": sums.turns,
        "tokens": tokens,
        "cost_usd_micros": cost,
        "price_usd_micros": plan.price_micros,
        "value_ratio": None if not plan.price_micros else round(spent / plan.price_micros, 4),
        "budget": None,
        "daily": {"cost_usd_micros": _round(rate_micros), "tokens": _round(rate_tokens)},
        "projection": {"cost_usd_micros": proj_micros, "tokens": proj_tokens},
        "over_budget": False,
        "runs_out_on": None,
    }
    if plan.budget_micros is not None or plan.budget_tokens is not None:
        money = plan.budget_micros is not None
        limit = plan.budget_micros if money else plan.budget_tokens
        assert limit is not None
        used, rate, projected = (
            (spent, rate_micros, proj_micros) if money else (tokens, rate_tokens, proj_tokens)
        )
        out["budget"] = {"unit": "usd_micros" if money else "tokens", "limit": limit, "used": used,
                         "share": round(used / limit, 4) if limit else None,
                         "projected_share": round(projected / limit, 4) if limit else None}  # fmt: skip
        out["over_budget"] = projected > limit
        if used >= limit:
            out["runs_out_on"] = now.astimezone(tz).date().isoformat()
        elif rate > 0:
            at = now_ms + (limit - used) / rate * DAY_MS
            if at < end_ms:
                out["runs_out_on"] = datetime.fromtimestamp(at / 1000, tz).date().isoformat()
    return out


def statuses(archive: ArchiveView, plans: list[Plan], now: datetime) -> list[dict[str, Any]]:
    """Every plan's row, in declaration order."""
    return [status(archive, plan, now) for plan in plans]


def over(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plans projected over their budget (``burn plans check``)."""
    return [r for r in rows if r["over_budget"]]


__all__ = ["FILE", "Plan", "load", "over", "period", "status", "statuses"]
