"""The three-agent benchmark corpus (benchmarks/gen_corpus.py): deterministic, with every feature
the readers must handle, and with expected totals that burn's whole pipeline (ingest → ledger →
archive → summarize) reproduces exactly — tokens, turns and micro-USD cost, per source and per
UTC day. This is the "correct at scale" check of benchmarks/run, in miniature."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize

ROOT = Path(__file__).resolve().parents[1]
# The generators import their sibling modules by name, as they do when run as scripts.
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

import gen_corpus  # noqa: E402
from oracle import FIELDS  # noqa: E402

from tests.test_benchmark_generator import tree_digest  # noqa: E402

SIZE = 3_000_000
SEED = 11
Corpus = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    out = tmp_path_factory.mktemp("corpus")
    return out, gen_corpus.generate(out, SIZE, seed=SEED, jobs=1)


def corpus_env(root: Path, tmp: Path) -> dict[str, str]:
    """An environment in which burn sees the corpus and nothing else of the machine."""
    (tmp / "home").mkdir()
    return {
        "HOME": str(tmp / "home"),
        "RELAYBURN_HOME": str(tmp / "burn"),
        "CLAUDE_CONFIG_DIR": str(root / "claude"),
        "CODEX_HOME": str(root / "codex"),
        "OPENCODE_DATA_DIR": str(root / "opencode"),
        "BURN_STRICT_PLUGINS": "1",
    }


@pytest.fixture(scope="module")
def burn_summary(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``burn ingest`` then ``summarize`` over the corpus, nothing else on the machine visible."""
    root, _ = corpus
    env = corpus_env(root, tmp_path_factory.mktemp("burn"))
    home = Path(env["RELAYBURN_HOME"])
    report = ingest(home, Plugins(env=env), env)
    assert not report.totals()["invalid_skipped"], report.totals()
    archive = Archive.in_home(home, readonly=True)
    try:
        return summarize(archive, Filters.for_zone("UTC"))
    finally:
        archive.close()


def _burn_row(row: dict[str, Any]) -> dict[str, int]:
    return {name: row.get(name) or 0 for name in FIELDS}  # null (nobody reported it) is 0 here


def test_same_seed_gives_identical_tree(corpus: Corpus, tmp_path: Path) -> None:
    root, expected = corpus
    again = gen_corpus.generate(tmp_path, SIZE, seed=SEED, jobs=2)
    assert again == expected
    assert tree_digest(tmp_path) == tree_digest(root)


def test_layout_and_expected_file(corpus: Corpus) -> None:
    root, expected = corpus
    assert json.loads((root / "expected.json").read_text()) == expected
    assert expected["agents"] == ["claude", "codex", "opencode"]
    assert expected["env"] == {
        "CLAUDE_CONFIG_DIR": "claude",
        "CODEX_HOME": "codex",
        "OPENCODE_DATA_DIR": "opencode",
    }
    files = [p for p in root.rglob("*") if p.is_file() and p.name != "expected.json"]
    assert expected["size_bytes"] == sum(p.stat().st_size for p in files)
    assert SIZE <= expected["size_bytes"] < 4 * SIZE
    for agent in expected["agents"]:
        by_day = expected["by_source_day"][agent]
        assert {k: sum(d[k] for d in by_day.values()) for k in FIELDS} == expected["by_source"][agent]
    assert (
        sum(t["cost_usd_micros"] for t in expected["by_source"].values())
        == expected["totals"]["cost_usd_micros"]
    )


def test_burn_reproduces_expected_totals_per_source(corpus: Corpus, burn_summary: dict[str, Any]) -> None:
    _, expected = corpus
    agent_of = {source: agent for agent, source in gen_corpus.BURN_SOURCES.items()}
    got = {agent_of[row["source"]]: _burn_row(row) for row in burn_summary["by_source"]}
    assert got == expected["by_source"]
    assert _burn_row(burn_summary["totals"]) == expected["totals"]
    assert all(t["turns"] > 50 and t["cost_usd_micros"] > 0 for t in got.values())


def test_burn_reproduces_expected_totals_per_day(corpus: Corpus, burn_summary: dict[str, Any]) -> None:
    _, expected = corpus
    got = {row["day"]: _burn_row(row) for row in burn_summary["by_day"]}
    assert got == expected["by_day"]


def test_codex_corpus_has_every_shape(corpus: Corpus) -> None:
    root, expected = corpus
    f = expected["sources"]["codex"]["features"]
    for name in ("forks", "subagents_with_history", "subagents_without_history", "reemits", "rate_limit_only",
                 "resets", "model_switches", "multi_model_sessions", "compactions", "archived_moved",
                 "archived_copies", "replayed_token_counts"):  # fmt: skip
        assert f[name] > 0, name
    assert 0 < f["new_build_sessions"] < f["rollouts"]  # turn ids and no turn ids
    codex = root / "codex"
    active = {p.name: p.read_bytes() for p in (codex / "sessions").rglob("rollout-*.jsonl")}
    archived = {p.name: p.read_bytes() for p in (codex / "archived_sessions").glob("rollout-*.jsonl")}
    assert any(active.get(name) == data for name, data in archived.items()), (
        "archived copy of an active rollout"
    )
    assert any(name not in active for name in archived), "a rollout moved to archived_sessions"
    metas = [json.loads(data.split(b"\n", 1)[0])["payload"] for data in active.values()]
    assert any("forked_from_id" in m for m in metas)
    assert any(isinstance(m["source"], dict) and "subagent" in m["source"] for m in metas)
    lines = [json.loads(line) for data in active.values() for line in data.splitlines()]
    assert any(d["type"] == "event_msg" and d["payload"].get("type") == "token_count" and d["payload"]["info"] is None
               for d in lines)  # fmt: skip


def test_opencode_corpus_has_every_shape(corpus: Corpus) -> None:
    root, expected = corpus
    f = expected["sources"]["opencode"]["features"]
    for name in ("db_sessions", "json_sessions", "both_sessions", "child_sessions", "multi_step_messages",
                 "sdk6_messages", "subscription_messages", "unpriced_messages", "aborted_messages",
                 "zero_messages", "compactions"):  # fmt: skip
        assert f[name] > 0, name
    data = root / "opencode"
    json_ids = {p.stem for p in (data / "storage" / "message").rglob("*.json")}
    conn = sqlite3.connect(f"file:{data / 'opencode.db'}?mode=ro", uri=True)
    try:
        db_ids = {row[0] for row in conn.execute("SELECT id FROM message")}
        parents = conn.execute("SELECT count(*) FROM session WHERE parent_id IS NOT NULL").fetchone()[0]
    finally:
        conn.close()
    assert json_ids & db_ids and json_ids - db_ids and db_ids - json_ids  # both, JSON only, DB only
    assert parents > 0


def test_peer_view_differs_only_by_named_rules(corpus: Corpus) -> None:
    """The ccusage view equals burn's where no rule applies: Codex cache reads, OpenCode turns
    (ccusage counts messages, burn one turn per step of a multi-step message)."""
    _, expected = corpus
    peer, by_source = expected["peer"]["ccusage"], expected["by_source"]
    assert peer["codex"]["cache_read"] == by_source["codex"]["cache_read"]
    assert peer["codex"]["input"] <= by_source["codex"]["input"]
    extra = expected["sources"]["opencode"]["features"]["extra_step_turns"]
    assert extra > 0 and peer["opencode"]["turns"] == by_source["opencode"]["turns"] - extra
    assert peer["opencode"]["output"] < by_source["opencode"]["output"]  # last step only, no reasoning
    assert peer["claude"] != {k: by_source["claude"][k] for k in peer["claude"] if k in by_source["claude"]}


def test_parallel_cold_ingest_gives_the_archive_a_rebuild_gives(
    corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A cold ingest feeds the archive each append's entries as it writes them, while its workers
    read on; a rebuild reads them back from the ledger. Same rows, same digest."""
    from burn.archive.database import rebuild
    from burn.ledger.file import FileStore

    root, _ = corpus
    env = dict(corpus_env(root, tmp_path_factory.mktemp("derived")), BURN_WORKERS="2")
    home = Path(env["RELAYBURN_HOME"])
    report = ingest(home, Plugins(env=env), env)
    assert report.archive is not None and report.archive.ledger.lines == 0  # nothing read back
    live = Archive.in_home(home, readonly=True)
    expected = (live.digest(), live.counts())
    live.close()
    store = FileStore(home)
    with store.lock():
        rebuilt, result = rebuild(home, store)
    assert result.ledger.lines == result.entries > 1000
    assert (rebuilt.digest(), rebuilt.counts()) == expected
    rebuilt.close()


def test_every_record_the_readers_make_encodes_as_the_cattrs_converter_does(
    corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``to_dict`` (compiled per class) against ``converter.unstructure``, on real records: the
    ledger line of every record of the corpus is the same bytes either way; and ``from_dict``
    reads every one of them back to the record (as ``converter.structure`` would)."""
    import orjson

    from burn.convert import converter, from_dict, to_dict
    from burn.paths import user_home
    from burn.reader import Diagnostics

    root, _ = corpus
    env = corpus_env(root, tmp_path_factory.mktemp("convert"))
    kinds: set[str] = set()
    for reader in Plugins(env=env).readers().values():
        diag = Diagnostics()
        for unit in reader.discover(reader.locations(env, user_home(env)), diag):
            for record in reader.read(unit, None).records:
                kinds.add(record.KIND)
                line = orjson.dumps(to_dict(record))
                assert line == orjson.dumps(converter.unstructure(record))
                assert from_dict(record.KIND, orjson.loads(line)) == record
    assert {"turn", "tool_call", "tool_result", "user_turn", "session"} <= kinds


def test_compare_runs_two_burns_alternately_and_leaves_the_corpus_as_it_was(
    corpus: Corpus, capsys: pytest.CaptureFixture[str]
) -> None:
    """benchmarks/compare.py end to end, with the installed burn on both sides: every command is
    timed once per side and round, and the 1 MB append is undone."""
    import compare
    from runner import find_burn

    root, _ = corpus
    before = tree_digest(root)
    burn = find_burn(None).exe
    assert compare.main(["--corpus", str(root), "--a", burn, "--b", burn, "--rounds", "2", "--cold"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert set(rows) == {"command", "cold", "noop", "warm", "incremental"}
    assert "2 rounds" in out
    assert tree_digest(root) == before


def test_profile_ingest_reports_a_cold_ingest_per_process(corpus: Corpus) -> None:
    """benchmarks/profile_ingest.py (docs/performance.md, "Profiling a cold ingest") runs one cold
    ingest of a corpus through an installed burn and reports its time and each side's CPU."""
    import shutil
    import subprocess

    burn = shutil.which("burn")
    if burn is None:
        pytest.skip("no burn console script on PATH")
    root, _ = corpus
    script = ROOT / "benchmarks" / "profile_ingest.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--corpus", str(root), "--burn", burn],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["returncode"] == 0 and report["wall_s"] > 0
    assert report["main"]["user_s"] + report["main"]["system_s"] > 0
    assert report["main"]["peak_rss_mb"] > 10 and set(report["workers"]) == {
        "user_s",
        "system_s",
        "peak_rss_mb",
    }
    assert report["wall_s_with_sampler"] is None  # no --phases: py-spy is not burn's dependency
