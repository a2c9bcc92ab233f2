"""The plugin's own tests: a fresh plugin manager, the plugin registered in-process, a real ingest.

Run them with ``pytest`` from this directory (the plugin and burn installed, e.g. ``pip install -e .``).
"""

from __future__ import annotations

from pathlib import Path

import burn.ledger.file
import orjson
from burn.archive.database import Archive
from burn.ingest.run import ingest
from burn.plugins.manager import Plugins
from burn.query import Filters
from burn.query.summary import summarize
import burn_gateway_log


def line(request_id: str, output: int, **extra: object) -> bytes:
    row = {
        "ts": "2026-03-01T10:00:00.000Z",
        "request_id": request_id,
        "session": "ci",
        "model": "gpt-5-mini",
        "input_tokens": 1200,
        "cached_tokens": 1000,
        "output_tokens": output,
        "cost_usd": "0.0005",
        **extra,
    }
    return orjson.dumps(row) + b"\n"


def make_plugins() -> Plugins:
    # No entry points: only this plugin (and burn's own ledger store, which is a plugin too),
    # whatever else is installed. Strict: a bug in the plugin fails the test, not a warning.
    plugins = Plugins(env={"BURN_STRICT_PLUGINS": "1"}, load_entrypoints=False)
    plugins.register(burn.ledger.file, "file_store")
    plugins.register(burn_gateway_log, "gateway")
    return plugins


def test_ingest_reads_new_lines_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "2026-03-01.jsonl"
    log.write_bytes(line("r1", 300) + b"{oops\n" + line("r2", 100))
    env = {"GATEWAY_LOG_DIR": str(logs), "HOME": str(tmp_path / "home")}
    home, plugins = tmp_path / "burn", make_plugins()

    first = ingest(home, plugins, env).sources["gateway"]
    assert first.appended.appended == {"turn": 2}
    assert first.diagnostics.invalid == {"invalid_line": 1}

    assert ingest(home, plugins, env).sources["gateway"].diagnostics.lines_read == 0  # no-op

    with log.open("ab") as f:
        f.write(line("r3", 50) + b'{"ts": "2026-03-01T10:')  # the half-written line waits
    later = ingest(home, plugins, env).sources["gateway"]
    assert (later.appended.appended, later.diagnostics.lines_read) == ({"turn": 1}, 1)

    archive = Archive.in_home(home, readonly=True)
    try:
        [row] = summarize(archive, Filters.for_zone("UTC"))["by_source"]
    finally:
        archive.close()
    assert row["source"] == "gateway"
    assert (row["input"], row["cache_read"], row["output"]) == (3 * 200, 3 * 1000, 450)
    assert row["reported_usd_micros"] == 1500


def test_parse_line_normalizes_and_refuses_bad_rows() -> None:
    turn = burn_gateway_log.parse_line(line("r1", 7, ts="2026-03-01T11:00:00+01:00"), "file")
    assert (turn.usage.input, turn.usage.cache_read, turn.usage.output) == (200, 1000, 7)
    assert turn.ts == "2026-03-01T10:00:00.000Z"
    for bad in ({"output_tokens": -1}, {"cached_tokens": 5000}, {"model": None}, {"ts": "yesterday"}):
        try:
            burn_gateway_log.parse_line(line("r1", 7, **bad), "file")
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
