"""The benchmark corpus generator (benchmarks/gen_claude.py): deterministic, complete, and with an
expected.json that agrees with an independent recount of what it wrote."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIZE = 1_000_000
SEED = 7
# The generators import their sibling modules (oracle.py) by name, as they do when run as scripts.
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))


def _load_generator() -> ModuleType:
    path = ROOT / "benchmarks" / "gen_claude.py"
    spec = importlib.util.spec_from_file_location("burn_bench_gen_claude", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks the module up in sys.modules while the class bodies run
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def jsonl_files(root: Path) -> list[Path]:
    return sorted((root / "projects").rglob("*.jsonl"))


def lines_of(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def usage_records(d: dict[str, Any]) -> dict[str, Any] | None:
    """The record carrying usage: an assistant line, or the assistant line inside agent_progress."""
    if d.get("type") == "assistant":
        return d
    data = d.get("data")
    if d.get("type") == "progress" and isinstance(data, dict) and data.get("type") == "agent_progress":
        inner = data.get("message") or {}
        if inner.get("type") == "assistant":
            return inner
    return None


def recount(root: Path) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Brute force, from the files: key (message.id, requestId) across all files, max output wins;
    each winner priced with burn's bundled table (oracle.Pricer)."""
    pricer = gen.Pricer()
    best: dict[tuple[str, str | None], tuple[tuple[int, int], dict[str, int]]] = {}
    models: dict[tuple[str, str | None], str] = {}
    first_seen: dict[tuple[str, str | None], str] = {}
    for path in jsonl_files(root):
        for d in lines_of(path):
            rec = usage_records(d)
            if rec is None or rec["message"].get("model") == "<synthetic>":
                continue
            m = rec["message"]
            u = m["usage"]
            cc = u.get("cache_creation") or {}
            row = {
                "input": u["input_tokens"],
                "output": u["output_tokens"],
                "cache_write_5m": cc.get("ephemeral_5m_input_tokens", 0),
                "cache_write_1h": cc.get("ephemeral_1h_input_tokens", 0),
                "cache_read": u["cache_read_input_tokens"],
                "web_search_requests": (u.get("server_tool_use") or {}).get("web_search_requests", 0),
            }
            key = (m["id"], rec.get("requestId"))
            rank = (
                row["output"],
                row["input"] + row["output"] + row["cache_write_5m"] + row["cache_write_1h"],
            )
            if key not in best or rank > best[key][0]:
                best[key] = (rank, row)
                models[key] = m["model"]
            ts = rec["timestamp"]  # ISO UTC with ms and Z: string order is time order
            first_seen[key] = min(first_seen.get(key, ts), ts)
    fields = gen.TOTAL_FIELDS
    totals = dict.fromkeys(fields, 0)
    by_day: dict[str, dict[str, int]] = {}
    for key, (_, row) in best.items():
        day = by_day.setdefault(first_seen[key][:10], dict.fromkeys(fields, 0))
        cost = pricer.cost(models[key], row, first_seen[key])
        for target in (totals, day):
            for name, value in row.items():
                target[name] += value
            target["turns"] += 1
            target["cost_usd_micros"] += cost
    return totals, dict(sorted(by_day.items()))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("corpus")
    expected = gen.generate(out, SIZE, seed=SEED)
    return out, expected


def test_same_seed_gives_identical_tree(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, _ = corpus
    again = tmp_path / "again"
    again.mkdir()
    gen.generate(again, SIZE, seed=SEED)
    assert tree_digest(again) == tree_digest(root)


def test_other_seed_gives_other_tree(corpus: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    root, expected = corpus
    other = gen.generate(tmp_path, SIZE, seed=SEED + 1)
    assert tree_digest(tmp_path) != tree_digest(root)
    assert other["totals"] != expected["totals"]


def test_expected_matches_recount(corpus: tuple[Path, dict[str, Any]]) -> None:
    root, expected = corpus
    totals, by_day = recount(root)
    assert expected["totals"] == totals
    assert expected["by_day"] == by_day
    assert json.loads((root / "expected.json").read_text()) == expected


def ccusage_recount(root: Path) -> dict[str, int]:
    """What ccusage 20.0.24 reports, by its rules (see gen_claude.Tally): lines without the bytes
    ``"usage":{`` are skipped; a non-sidechain copy beats the subagent's own lines; lines without
    requestId are each counted."""
    fields = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
    out = dict.fromkeys((*fields, "turns"), 0)
    candidates: dict[tuple[str, str], list[tuple[bool, dict[str, int]]]] = {}
    for path in jsonl_files(root):
        for line in path.open(encoding="utf-8"):
            if '"usage":{' not in line:
                continue
            d = json.loads(line)
            rec = usage_records(d)
            if rec is None or rec["message"]["model"] == "<synthetic>":
                continue
            u = rec["message"]["usage"]
            cc = u.get("cache_creation") or {}
            row = {
                "input": u["input_tokens"],
                "output": u["output_tokens"],
                "cache_read": u["cache_read_input_tokens"],
                "cache_write_5m": cc.get("ephemeral_5m_input_tokens", 0),
                "cache_write_1h": cc.get("ephemeral_1h_input_tokens", 0),
            }
            if "requestId" not in rec:
                candidates[(rec["message"]["id"], str(len(candidates)))] = [(False, row)]
            else:
                key = (rec["message"]["id"], rec["requestId"])
                candidates.setdefault(key, []).append((d.get("isSidechain") is True, row))
    for rows in candidates.values():
        preferred = [r for sidechain, r in rows if not sidechain] or [r for _, r in rows]
        best = max(preferred, key=lambda r: (sum(r.values()), r["output"]))
        for name in fields:
            out[name] += best[name]
        out["turns"] += 1
    return out


def test_peer_view_is_what_ccusage_rules_give(corpus: tuple[Path, dict[str, Any]]) -> None:
    root, expected = corpus
    peer = {k: v for k, v in expected["peer"]["ccusage_visible"].items() if k in ccusage_recount(root)}
    assert peer == ccusage_recount(root)
    assert peer != {k: expected["totals"][k] for k in peer}  # the corpus exercises those rules


def test_expected_describes_the_tree(corpus: tuple[Path, dict[str, Any]]) -> None:
    root, expected = corpus
    files = [p for p in (root / "projects").rglob("*") if p.is_file()]
    assert expected["files"] == len(files)
    assert expected["size_bytes"] == sum(p.stat().st_size for p in files)
    assert expected["lines"] == sum(len(p.read_bytes().splitlines()) for p in jsonl_files(root))
    assert SIZE <= expected["size_bytes"] < 2 * SIZE
    assert expected["seed"] == SEED
    assert set(expected["totals"]) == set(gen.TOTAL_FIELDS)
    assert all(day.startswith("2026-") for day in expected["by_day"])


def test_naive_sum_would_overcount(corpus: tuple[Path, dict[str, Any]]) -> None:
    """The corpus really contains duplicates: summing every usage line gives more."""
    root, expected = corpus
    naive_output = 0
    for path in jsonl_files(root):
        for d in lines_of(path):
            rec = usage_records(d)
            if rec is not None:
                naive_output += rec["message"]["usage"]["output_tokens"]
    assert naive_output > expected["totals"]["output"]


def test_tree_has_every_feature(corpus: tuple[Path, dict[str, Any]]) -> None:
    root, _ = corpus
    subagent_files = list((root / "projects").glob("*/*/subagents/agent-*.jsonl"))
    assert any("acompact-" not in p.name for p in subagent_files), "subagent transcript"
    assert any("acompact-" in p.name for p in subagent_files), "compaction call file"
    metas = list((root / "projects").glob("*/*/subagents/agent-*.meta.json"))
    assert metas and all(
        {"agentType", "description", "toolUseId"} <= json.loads(p.read_text()).keys() for p in metas
    )

    main_files = sorted((root / "projects").glob("*/*.jsonl"))
    keys_by_file: dict[Path, set[tuple[str, str | None]]] = {}
    seen: dict[str, int] = {}
    for path in main_files:
        keys: set[tuple[str, str | None]] = set()
        for d in lines_of(path):
            kind = d.get("type")
            if kind == "system":
                seen[f"system/{d['subtype']}"] = seen.get(f"system/{d['subtype']}", 0) + 1
            if kind == "progress":
                data = d["data"]
                seen[data["type"]] = seen.get(data["type"], 0) + 1
                if data["type"] == "agent_progress" and data["message"]["type"] == "assistant":
                    seen["progress_copy"] = seen.get("progress_copy", 0) + 1
                    assert "usage" in data["message"]["message"] and "requestId" in data["message"]
            if kind == "assistant":
                m = d["message"]
                if m["model"] == "<synthetic>":
                    seen["synthetic"] = seen.get("synthetic", 0) + 1
                elif "requestId" not in d:
                    seen["no_request_id"] = seen.get("no_request_id", 0) + 1
                if (m["usage"].get("server_tool_use") or {}).get("web_search_requests"):
                    seen["web_search"] = 1
                keys.add((m["id"], d.get("requestId")))
            seen[str(kind)] = 1
        keys_by_file[path] = keys
    for feature in (
        "system/compact_boundary",
        "agent_progress",
        "progress_copy",
        "hook_progress",
        "synthetic",
        "no_request_id",
        "web_search",
        "file-history-snapshot",
        "queue-operation",
        "user",
    ):
        assert seen.get(feature), feature

    # a resumed session: another main transcript repeats an earlier one's responses
    files = list(keys_by_file)
    assert any(keys_by_file[a] & keys_by_file[b] for i, a in enumerate(files) for b in files[i + 1 :]), (
        "resumed-session copy"
    )
    # pretty-spaced JSON (json.dumps default separators) besides the usual compact files
    styles = {line_style(p.open(encoding="utf-8").readline()) for p in main_files}
    assert styles == {"compact", "spaced"}


def line_style(line: str) -> str:
    obj = json.loads(line)
    if line.rstrip("\n") == json.dumps(obj, ensure_ascii=False, separators=(",", ":")):
        return "compact"
    if line.rstrip("\n") == json.dumps(obj, ensure_ascii=False):
        return "spaced"
    return "other"


def test_streamed_responses_have_partial_lines(corpus: tuple[Path, dict[str, Any]]) -> None:
    """Several lines share one key; input and cache are equal on all, output grows to the last."""
    root, _ = corpus
    outputs: dict[tuple[str, str | None], list[int]] = {}
    inputs: dict[tuple[str, str | None], set[tuple[int, int, int]]] = {}
    for path in jsonl_files(root):
        for d in lines_of(path):
            if d.get("type") != "assistant" or d["message"]["model"] == "<synthetic>":
                continue
            m, u = d["message"], d["message"]["usage"]
            key = (m["id"], d.get("requestId"))
            outputs.setdefault(key, []).append(u["output_tokens"])
            inputs.setdefault(key, set()).add(
                (u["input_tokens"], u["cache_read_input_tokens"], u["cache_creation_input_tokens"])
            )
    multi = [v for v in outputs.values() if len(v) > 1]
    assert len(multi) > 10
    assert any(v[-1] > max(v[:-1]) for v in multi)
    assert all(len(v) == 1 for v in inputs.values())


@pytest.mark.parametrize(
    ("text", "size"),
    [("1MB", 10**6), ("500mb", 5 * 10**8), ("2GB", 2 * 10**9), ("1.5GB", 1_500_000_000), ("1GiB", 2**30),
     ("4096", 4096), ("64 KB", 64_000)],
)  # fmt: skip
def test_parse_size(text: str, size: int) -> None:
    assert gen.parse_size(text) == size


def test_cli_refuses_to_overwrite(tmp_path: Path) -> None:
    assert gen.main(["--out", str(tmp_path), "--size", "64KB", "--quiet"]) == 0
    with pytest.raises(SystemExit):
        gen.main(["--out", str(tmp_path), "--size", "64KB", "--quiet"])
    assert gen.main(["--out", str(tmp_path), "--size", "64KB", "--quiet", "--force", "--seed", "3"]) == 0
    assert json.loads((tmp_path / "expected.json").read_text())["seed"] == 3


def test_density_packs_more_turns_per_mb_and_stays_exact(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """``--density``: the same draws in shorter texts, so many more turns per MB, and the expected
    totals still equal an independent recount of the files."""
    _, sparse = corpus
    dense = gen.generate(tmp_path, SIZE, seed=SEED, density=32)
    assert dense["density"] == 32 and "density" not in sparse
    totals, by_day = recount(tmp_path)
    assert dense["totals"] == totals
    assert dense["by_day"] == by_day

    def per_mb(e: dict[str, Any]) -> float:
        return e["totals"]["turns"] / e["size_bytes"] * 1e6

    assert per_mb(dense) > 2 * per_mb(sparse)


def test_density_is_checked_on_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        gen.main(["--out", str(tmp_path), "--size", "64KB", "--quiet", "--density", "0.5"])
    assert gen.main(["--out", str(tmp_path), "--size", "64KB", "--quiet", "--density", "8"]) == 0
    assert json.loads((tmp_path / "expected.json").read_text())["density"] == 8
