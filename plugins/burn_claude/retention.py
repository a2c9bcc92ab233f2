"""Claude Code's transcript retention, checked by ``burn doctor`` through the reader's optional
``retention`` method (:class:`burn.reader.Retention`; the findings are documented in docs/doctor.md).

Claude Code deletes transcripts whose modification time is older than ``cleanupPeriodDays``
(``settings.json`` of its config directory; default 30) when it starts. A transcript that is not
(fully) ingested within :data:`MARGIN_DAYS` of that age is at risk: the warning gives the days left
for the oldest such transcript. Once ingested, its deletion loses nothing (the ledger keeps it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import attrs
import orjson

from burn.reader import Retention, RetentionWarning, UnitStat
from burn.readkit import plural
from burn.records import iso_seconds

DEFAULT_CLEANUP_DAYS = 30  # Claude Code's default when settings.json does not set it
MARGIN_DAYS = 7  # warn this many days before Claude Code may delete a transcript not yet ingested
KEY = "claude_retention"  # the `burn doctor --json` key (docs/doctor.md)
_DAY_NS = 86_400 * 10**9

Setting = Literal["settings", "default", "invalid"]


@attrs.define
class ClaudeRetention:
    """Claude Code's transcript retention for one config directory, against what is ingested."""

    config_dir: str
    settings: str
    settings_exists: bool
    cleanup_period_days: int
    setting: Setting
    transcripts: int = 0
    pending: int = 0  # transcripts not (fully) ingested
    pending_bytes: int = 0
    at_risk: int = 0  # pending ones with fewer than MARGIN_DAYS left
    oldest_pending: dict[str, Any] | None = None  # {"path", "modified", "days_left"}


def retention(roots: Sequence[Path], units: Sequence[UnitStat], now: datetime) -> Retention:
    """The reader's ``retention``: one entry, text line and its findings per config directory."""
    found = config_dirs(roots, units, now)
    return Retention(
        KEY,
        entries=[attrs.asdict(r) for r in found],
        lines=[_line(r) for r in found],
        warnings=[w for r in found for w in _warnings(r)],
    )


def cleanup_period(config_dir: Path) -> tuple[Path, bool, int, Setting]:
    """``cleanupPeriodDays`` of a Claude Code config directory's ``settings.json``: the path, whether
    it exists, the days, and where the value came from (an unreadable value counts as the default,
    as Claude Code ignores it)."""
    settings = config_dir / "settings.json"
    try:
        data = orjson.loads(settings.read_bytes())
    except FileNotFoundError:
        return settings, False, DEFAULT_CLEANUP_DAYS, "default"
    except (OSError, orjson.JSONDecodeError):
        return settings, settings.exists(), DEFAULT_CLEANUP_DAYS, "invalid"
    value = data.get("cleanupPeriodDays") if isinstance(data, dict) else None
    if value is None:
        return settings, True, DEFAULT_CLEANUP_DAYS, "default"
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return settings, True, DEFAULT_CLEANUP_DAYS, "invalid"
    return settings, True, int(value), "settings"


def config_dirs(roots: Sequence[Path], units: Sequence[UnitStat], now: datetime) -> list[ClaudeRetention]:
    """Per Claude Code config directory (the parent of each ``projects`` root): its cleanup period
    and the transcripts under it that are not ingested yet, with the days left for the oldest."""
    now_ns = int(now.timestamp() * 1e9)
    out: list[ClaudeRetention] = []
    claimed: set[str] = set()
    for root in roots:
        config_dir = root.parent if root.name == "projects" else root
        settings, exists, days, setting = cleanup_period(config_dir)
        if not exists and not root.is_dir():
            continue  # a default location Claude Code does not use here
        r = ClaudeRetention(str(config_dir), str(settings), exists, days, setting)
        prefix = str(root) + os.sep
        oldest: UnitStat | None = None
        for u in units:
            if u.path in claimed or not u.path.startswith(prefix):
                continue
            claimed.add(u.path)  # nested roots: a transcript belongs to the first one listing it
            r.transcripts += 1
            if not u.pending:
                continue
            r.pending += 1
            r.pending_bytes += u.bytes
            if _days_left(days, u.mtime_ns, now_ns) < MARGIN_DAYS:
                r.at_risk += 1
            if oldest is None or u.mtime_ns < oldest.mtime_ns:
                oldest = u
        if oldest is not None:
            r.oldest_pending = {
                "path": oldest.path,
                "modified": iso_seconds(oldest.mtime_ns // 10**6),
                "days_left": round(_days_left(days, oldest.mtime_ns, now_ns), 1),
            }
        out.append(r)
    return out


def _days_left(period_days: int, mtime_ns: int, now_ns: int) -> float:
    return period_days - (now_ns - mtime_ns) / _DAY_NS


def _line(r: ClaudeRetention) -> str:
    source = {"settings": "", "default": " (default)", "invalid": " (default: setting unreadable)"}
    line = (
        f"claude     {r.settings}: cleanupPeriodDays {r.cleanup_period_days}{source[r.setting]}"
        f" · {plural(r.transcripts, 'transcript')}, {r.pending:,} not ingested"
    )
    if r.oldest_pending is not None:
        line += f", the oldest has {r.oldest_pending['days_left']:g} days left"
    return line


def _warnings(r: ClaudeRetention) -> list[RetentionWarning]:
    out: list[RetentionWarning] = []
    where = f"cleanupPeriodDays {r.cleanup_period_days}" + (
        f" in {r.settings}" if r.setting == "settings" else " (Claude Code's default)"
    )
    if r.oldest_pending is not None and r.at_risk:
        days = r.oldest_pending["days_left"]
        when = (
            f"has {days:g} days left before Claude Code deletes it"
            if days > 0
            else "is past the cleanup period: Claude Code deletes it the next time it starts"
        )
        out.append(
            RetentionWarning(
                "warning",
                "claude_cleanup",
                f"{plural(r.at_risk, 'Claude Code transcript')} not ingested yet within {MARGIN_DAYS} "
                f"days of deletion ({where}); the oldest, {r.oldest_pending['path']}, {when}: "
                "run `burn ingest` now",
            )
        )
    if r.setting == "settings" and r.cleanup_period_days == 0:
        out.append(
            RetentionWarning(
                "warning",
                "claude_cleanup_period",
                f"cleanupPeriodDays is 0 in {r.settings}: Claude Code deletes transcripts when it starts "
                "(recent versions stop writing them), so burn sees little or nothing; set a number of days",
            )
        )
    elif r.setting == "settings" and r.cleanup_period_days < DEFAULT_CLEANUP_DAYS:
        out.append(
            RetentionWarning(
                "note",
                "claude_cleanup_period",
                f"Claude Code deletes transcripts after {r.cleanup_period_days} days ({where}): run "
                "`burn ingest` regularly, e.g. from cron or launchd (see docs/doctor.md)",
            )
        )
    if r.setting == "invalid":
        out.append(
            RetentionWarning(
                "note",
                "claude_settings_invalid",
                f"{r.settings} is unreadable or its cleanupPeriodDays is not a number; assuming "
                f"{DEFAULT_CLEANUP_DAYS} days",
            )
        )
    return out
