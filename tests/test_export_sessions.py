"""``burn export sessions``: rows, profiles, filters, subagent rollups, read-only, and the
acceptance checks on ../shared/samples (DESIGN §10)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from burn.archive.database import Archive
from burn.errors import UsageError
from burn.query import Filters
from burn.query.summary import summarize
from burn.query.timewindow import resolve_timezone
from tests.contract_fixture import (
    ROOT,
    build_fixture,
    end_of,
    env_for,
    parse,
    rows_of,
    run,
    run_ingest,
    validate,
)

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples"
ROOT_SESSION = "f38b2ffc-80a4-4f5a-81c9-bc701e7ea419"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("sessions"))


def export(home: Path, *args: str) -> bytes:
    return run(home, "export", ["sessions", *args])


@pytest.mark.parametrize("fmt", ["--json", "--ndjson"])
@pytest.mark.parametrize("profile", ["full", "shareable", "anonymous"])
def test_every_output_validates(home: Path, fmt: str, profile: str) -> None:
    data = export(home, fmt, "--identity", profile, "--all")
    validate(data, "sessions")
    assert len(rows_of(data)) == 8


def test_json_and_ndjson_carry_the_same_rows_and_digest(home: Path) -> None:
    js, nd = export(home, "--json"), export(home, "--ndjson")
    assert rows_of(js) == rows_of(nd)
    assert end_of(js) == end_of(nd)
    assert parse(js)["meta"] == parse(nd)[0]


def test_rows_digest_is_recomputable_as_documented(home: Path) -> None:
    data = export(home, "--ndjson")
    h = hashlib.sha256()
    for row in rows_of(data):  # docs/contracts.md: sha256 over JCS(row) + "\n", in order
        h.update(rfc8785.dumps(row) + b"\n")
    assert end_of(data)["rows_digest"] == "sha256:" + h.hexdigest()


def test_order_is_started_at_then_source_then_id(home: Path) -> None:
    rows = rows_of(export(home))
    keys = [(r["started_at"], r["source"], r["session_id"]) for r in rows]
    assert keys == sorted(keys)


def test_subagent_rollups(home: Path) -> None:
    rows = {r["session_id"]: r for r in rows_of(export(home, "--identity", "full"))}
    root = rows[ROOT_SESSION]
    children = [r for r in rows.values() if r["parent_session_id"] == ROOT_SESSION]
    assert len(children) == 2 and all(c["relationship"] == "subagent" for c in children)
    assert root["counts"]["subagents"] == 2
    own = root["cost"]["total_usd_micros"]
    assert root["cost"]["including_children_usd_micros"] == own + sum(
        c["cost"]["total_usd_micros"] for c in children
    )
    assert root["last_activity_at"] >= max(c["ended_at"] for c in children)
    assert root["counts"]["compactions"] == 1
    assert root["counts"]["assistant_turns"] == 14
    assert [m["model"] for m in root["by_model"]] == root["models"]
    assert sum(m["cost"]["total_usd_micros"] for m in root["by_model"]) == own


def test_totals_match_the_summary(home: Path) -> None:
    rows = rows_of(export(home, "--all"))
    archive = Archive.in_home(home, readonly=True)
    try:
        tz, name = resolve_timezone("UTC")
        summary = summarize(archive, Filters(tz=tz, timezone=name))
    finally:
        archive.close()
    t = summary["totals"]
    assert sum(r["cost"]["total_usd_micros"] or 0 for r in rows) == t["cost_usd_micros"]
    for field in ("input", "output", "cache_read"):
        assert sum(r["tokens"][field] or 0 for r in rows) == t[field]
    roots = rows_of(export(home, "--all", "--roots-only"))
    assert sum(r["cost"]["including_children_usd_micros"] or 0 for r in roots) == t["cost_usd_micros"]


def test_profiles(home: Path) -> None:
    full = rows_of(export(home, "--identity", "full"))
    shareable_doc = parse(export(home, "--identity", "shareable"))
    anonymous_doc = parse(export(home, "--identity", "anonymous"))
    assert all({"cwd", "branch", "title", "machine_name"} <= set(r) for r in full)
    assert any(r["cwd"] == "/home/dev/src/acme-api" and r["branch"] == "main" for r in full)
    for doc in (shareable_doc, anonymous_doc):
        for r in doc["rows"]:
            assert not {"cwd", "title", "machine_name"} & set(r)
        assert "/home/dev" not in str(doc)
    # branches without secrets are shareable (issue 17); anonymous rows have none
    assert [r["branch"] for r in shareable_doc["rows"]] == [r["branch"] for r in full]
    assert not any("branch" in r for r in anonymous_doc["rows"])
    anon = anonymous_doc["rows"]
    assert all(r["session_id"].startswith("hmac-sha256:") for r in anon)
    assert all(r["project_key"].startswith("hmac-sha256:") for r in anon)
    assert set(anonymous_doc["meta"]["projects"]) == {r["project_key"] for r in anon}
    assert all(set(p) == {"key", "kind", "resolution"} for p in anonymous_doc["meta"]["projects"].values())
    # the machine key is stable and never the host name
    assert len({r["machine"] for r in full}) == 1 and "fixture-host" not in full[0]["machine"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--source", "codex"], 2),
        (["--project", "acme-api"], 3),
        (["--model", "gpt-5-codex-mini,claude-opus-4-6"], 3),
        (["--roots-only"], 5),
        (["--include-children"], 8),
        (["--since", "2026-03-04", "--until", "2026-03-06", "--timezone", "UTC"], 2),
        (
            ["--since", "2026-03-02T09:36:00Z", "--until", "2026-03-02T09:37:00Z"],
            2,
        ),  # the subagent and its parent
    ],
)
def test_filters(home: Path, args: list[str], expected: int) -> None:
    data = export(home, "--ndjson", *args)
    validate(data, "sessions")
    assert len(rows_of(data)) == expected


def test_unknown_project_is_a_usage_error(home: Path) -> None:
    with pytest.raises(UsageError):
        export(home, "--project", "no-such-project")


def test_meta_bounds_pricing_and_projects_to_the_payload(home: Path) -> None:
    meta = parse(export(home, "--source", "codex"))["meta"]
    assert set(meta["pricing"]["models"]) == {"gpt-5-codex", "gpt-5-codex-mini"}
    assert meta["pricing"]["fallback"] == {"used": True, "models": ["gpt-5-codex-mini"]}
    assert len(meta["projects"]) == 1
    assert meta["quality"]["sources"]["claude-code"]["duplicates_dropped"]["streaming_split"] > 0
    assert meta["filters"]["sources"] == ["codex"]


def _tree(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def test_exports_and_reports_never_write_the_ledger_or_the_archive(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "burn"
    shutil.copytree(home, copy)
    archive = Archive.in_home(copy, readonly=True)
    digest = archive.digest()
    archive.close()
    before = _tree(copy)
    # archive.sqlite-shm is SQLite's shared-memory lock index (readers take read marks in it), not
    # content: its bytes are compared, its mtime is not.
    mtimes = {p: os.stat(copy / p).st_mtime_ns for p in before if not p.endswith("-shm")}
    for fmt in ("--json", "--ndjson"):
        export(copy, fmt, "--all")
        export(copy, fmt, "--limit", "2")
        run(copy, "report", ["usage", fmt, "--by", "session"])
        run(copy, "report", ["daily", fmt])
        run(copy, "report", ["activity", fmt, "--since", "2026-03-01", "--until", "2026-03-08"])
    assert _tree(copy) == before
    assert {p: os.stat(copy / p).st_mtime_ns for p in mtimes} == mtimes
    archive = Archive.in_home(copy, readonly=True)
    assert archive.digest() == digest
    archive.close()


def test_the_archive_is_opened_read_only(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    opened: list[str] = []
    real = sqlite3.connect

    def spy(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(str(database))
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    export(home, "--all")
    archive_opens = [d for d in opened if "archive.sqlite" in d]
    assert archive_opens and all(d.startswith("file:") and d.endswith("?mode=ro") for d in archive_opens)


# -- acceptance on ../shared/samples -----------------------------------------------------------------


def _samples_layout(dst: Path) -> dict[str, str]:
    """The shared samples arranged as each agent lays out its files."""
    claude = dst / "claude" / "projects"
    for i, f in enumerate(sorted((SAMPLES / "claude").rglob("*.jsonl"))):
        rel = f.relative_to(SAMPLES / "claude")
        if "projects" in rel.parts:
            target = claude / Path(*rel.parts[rel.parts.index("projects") + 1 :])
        else:
            target = claude / f"-samples-{i}" / f.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, target)
    for meta in (SAMPLES / "claude").rglob("*.meta.json"):
        rel = meta.relative_to(SAMPLES / "claude")
        if "projects" in rel.parts:
            target = claude / Path(*rel.parts[rel.parts.index("projects") + 1 :])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(meta, target)
    codex = dst / "codex" / "sessions"
    codex.mkdir(parents=True)
    for i, f in enumerate(sorted((SAMPLES / "codex").rglob("*.jsonl"))):
        shutil.copy(f, codex / f"rollout-{i}-{f.name}")
    env = env_for(dst, dst / "claude", dst / "codex")
    opencode = sorted(str(p) for p in (SAMPLES / "opencode").iterdir() if p.is_dir())
    env["OPENCODE_DATA_DIR"] = ",".join(opencode)
    return env


PLAIN_JSONSCHEMA = r"""
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
v = Draft202012Validator(schema)
bad = 0
for n, line in enumerate(open(sys.argv[2]), 1):
    for e in v.iter_errors(json.loads(line)):
        bad += 1
        print(f"line {n}: {e.message}")
assert "burn" not in sys.modules
print("ok" if not bad else "invalid")
sys.exit(1 if bad else 0)
"""


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/samples is not available")
def test_samples_export_validates_with_burn_and_with_plain_jsonschema(tmp_path: Path) -> None:
    env = _samples_layout(tmp_path)
    run_ingest(env)
    proc_env = {**os.environ, **env}
    burn = [sys.executable, "-m", "burn.cli.app"]
    out = subprocess.run([*burn, "export", "sessions", "--all", "--ndjson"], env=proc_env,
                         capture_output=True, check=True).stdout  # fmt: skip
    assert len(out.splitlines()) > 10
    check = subprocess.run([*burn, "schema", "validate", "-"], input=out, env=proc_env, capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    assert check.stdout.startswith(b"valid: sessions")
    (tmp_path / "out.ndjson").write_bytes(out)
    plain = subprocess.run(
        [sys.executable, "-c", PLAIN_JSONSCHEMA, str(ROOT / "contracts" / "v1" / "sessions.schema.json"),
         str(tmp_path / "out.ndjson")], capture_output=True, text=True)  # fmt: skip
    assert plain.returncode == 0 and plain.stdout.strip() == "ok", plain.stdout + plain.stderr


def test_timestamps_format_like_datetime() -> None:
    from datetime import UTC, datetime

    from burn_export_sessions.rows import iso_ms

    for ms in (0, 999, 1772444098916, 1772444098000, 4102444800123, 951782400000):  # leap day 2000
        expected = (
            datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
        )
        assert iso_ms(ms) == expected
    assert iso_ms(None) is None


def test_a_stale_rollup_is_an_error_not_a_short_answer(home: Path, tmp_path: Path) -> None:
    import sqlite3

    from burn.errors import BurnError

    copy = tmp_path / "burn"
    shutil.copytree(home, copy)
    db = sqlite3.connect(copy / "archive.sqlite")
    db.execute("UPDATE archive_state SET value = 'stale' WHERE key = 'rollup'")
    db.commit()
    db.close()
    with pytest.raises(BurnError, match="not complete"):
        export(copy)
