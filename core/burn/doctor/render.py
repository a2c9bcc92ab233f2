"""``burn doctor`` as text: one block per reader, one line each for the archive and pricing, the
lines of the readers' retention checks (Claude Code's), then the warnings and notes (the same facts
as ``--json``, see docs/doctor.md)."""

from __future__ import annotations

from typing import Any

from burn.doctor.checks import DoctorReport
from burn.readkit.words import human_bytes, plural


def doctor_text(report: DoctorReport) -> str:
    """The report as text: the JSON form's facts, with each retention check's own lines."""
    d = report.to_json()
    out = [f"burn doctor · home {d['burn_home']} · {d['checked_at']}", ""]
    for s in d["sources"]:
        out.extend(_source(s))
        out.append("")
    out.append(_store(d["archive"]["store"]))
    out.append(_archive(d["archive"]))
    out.append(_pricing(d["pricing"]))
    out.extend(line for r in report.retention for line in r.lines)
    findings = d["findings"]
    if findings:
        out.append("")
    for f in findings:
        out.append(("! " if f["level"] == "warning" else "- ") + f["message"])
    return "\n".join(out) + "\n"


def _source(s: dict[str, Any]) -> list[str]:
    env = s["env_var"]
    lines = [s["reader"]]
    if env:
        lines[0] += f"  ({env}={s['env_value']})" if s["env_value"] else f"  ({env} not set: defaults)"
    for loc in s["locations"]:
        lines.append(f"  looked in  {loc['path']}" + ("" if loc["exists"] else "  (missing)"))
    if s["error"]:
        lines.append(f"  error      {s['error']}")
        return lines
    found = (
        f"  found      {plural(s['units'], 'unit')}, {plural(s['files'], 'file')}, {human_bytes(s['bytes'])}"
    )
    if s["newest_mtime"]:
        found += f", newest file {s['newest_mtime']}"
    lines.append(found)
    if s["unreadable"] or s["skipped"]:
        skipped = {**s["skipped"], **({"unreadable": s["unreadable"]} if s["unreadable"] else {})}
        lines.append("  skipped    " + ", ".join(f"{k} {v:,}" for k, v in skipped.items()))
    archived = (
        f"  archive    {plural(s['archive_turns'], 'turn')} in {plural(s['archive_sessions'], 'session')}"
    )
    if s["newest_record"]:
        archived += f", newest record {s['newest_record']}"
    lines.append(archived)
    lag = s["lag"]
    if lag["units"]:
        lines.append(
            f"  lag        {plural(lag['units'], 'unit')} not ingested ({human_bytes(lag['bytes'])}): "
            f"{lag['new']:,} new, {lag['changed']:,} changed"
        )
    else:
        lines.append("  lag        none: everything found is ingested")
    if s["gone"]:
        lines.append(
            f"  gone       {plural(s['gone'], 'ingested unit')} no longer on disk (their records are kept)"
        )
    return lines


def _store(store: dict[str, Any]) -> str:
    """Which ledger store is in use, where (no password) and whether it answers."""
    if not store:
        return "store      (none could be opened)"
    line = f"store      {store.get('store', '?')} at {store.get('where', '?')}"
    if store.get("reachable") is False:
        return f"{line} · unreachable: {store.get('unreachable')}"
    return f"{line} · reachable"


def _archive(a: dict[str, Any]) -> str:
    if a["error"]:
        return f"archive    {a['path']}: {a['error']}"
    if not a["exists"]:
        return f"archive    {a['path']}: none yet"
    parts = [f"archive    {a['path']}", f"schema v{a['schema_version']}"]
    if a["schema_version"] != a["expected_schema_version"]:
        parts.append(f"this burn needs v{a['expected_schema_version']}")
    elif a["up_to_date"] is not None:
        parts.append("up to date with the ledger" if a["up_to_date"] else "behind the ledger")
    store = a["store"]
    if "ledger_bytes" in store:
        parts.append(f"{store.get('store', 'ledger')} ledger {human_bytes(store['ledger_bytes'])}")
    return " · ".join(parts)


def _pricing(p: dict[str, Any] | None) -> str:
    if p is None:
        return "pricing    (no archive to check)"
    parts = []
    for kind in ("unpriced", "fallback"):
        rows = p[kind]
        listed = ", ".join(f"{r['model']} ({r['tokens']:,} tokens)" for r in rows) or "none"
        parts.append(f"{kind}: {listed}")
    return "pricing    " + " · ".join(parts)
