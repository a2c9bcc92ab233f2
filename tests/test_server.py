"""``burn serve`` end to end: real server processes on random loopback ports (docs/server.md)."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from burn.ledger.file import FileStore
from tests.contract_fixture import build_fixture, env_for, validate
from tests.server_fixture import Served, cli, start

GENERATED = re.compile(rb'"generated_at":"[^"]*"')


def _same(a: bytes) -> bytes:
    return GENERATED.sub(b'"generated_at":"-"', a)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("served")
    build_fixture(base)
    return base


@pytest.fixture(scope="module")
def env(base: Path) -> dict[str, str]:
    return {**env_for(base), "TZ": "UTC"}


@pytest.fixture(scope="module")
def served(env: dict[str, str], base: Path) -> Iterator[Served]:
    s = start(env, "--refresh", "0", log=base / "serve.log")
    yield s
    s.stop()


# -- contract parity ----------------------------------------------------------------------------------

PARITY = [
    ("/v1/sessions?limit=3", ["export", "sessions", "--limit", "3"]),
    ("/v1/sessions?all=true&source=claude-code", ["export", "sessions", "--all", "--source", "claude-code"]),
    ("/v1/sessions?limit=2&format=ndjson", ["export", "sessions", "--limit", "2", "--ndjson"]),
    *[
        (f"/v1/reports/usage?by={by}", ["report", "usage", "--by", by, "--json"])
        for by in ("day", "week", "month", "session", "model", "project")
    ],
    ("/v1/reports/daily", ["report", "daily", "--json"]),
    (
        "/v1/reports/activity?since=2026-03-01&until=2026-03-10&bucket=1d",
        ["report", "activity", "--since", "2026-03-01", "--until", "2026-03-10", "--bucket", "1d", "--json"],
    ),
]


@pytest.mark.parametrize(("path", "argv"), PARITY, ids=[p for p, _ in PARITY])
def test_contract_bodies_equal_the_cli(
    served: Served, env: dict[str, str], path: str, argv: list[str]
) -> None:
    status, headers, body = served.get(path)
    assert status == 200, body
    done = cli(env, *argv)
    assert done.returncode == 0, done.stderr
    assert _same(body) == _same(done.stdout)
    surface = "sessions" if "sessions" in path else ("activity" if "activity" in path else "usage")
    validate(body, surface)
    ndjson = b"format=ndjson" in path.encode()
    assert headers["content-type"].startswith("application/x-ndjson" if ndjson else "application/json")


def test_accept_ndjson_streams_the_cli_ndjson(served: Served, env: dict[str, str]) -> None:
    status, headers, body = served.get("/v1/sessions?all=true", **{"Accept": "application/x-ndjson"})
    assert status == 200
    assert headers.get("transfer-encoding") == "chunked"  # streamed, not held whole
    done = cli(env, "export", "sessions", "--all", "--ndjson")
    assert _same(body) == _same(done.stdout)


def test_schemas_are_the_cli_bytes(served: Served, env: dict[str, str]) -> None:
    for name in ("sessions", "usage", "activity"):
        status, _, body = served.get(f"/v1/schemas/{name}")
        assert status == 200
        assert body == cli(env, "schema", "show", name).stdout
    status, headers, body = served.get("/v1/schemas/nope")
    assert (status, orjson.loads(body)["error"]) == (404, "unknown_schema")
    assert headers["content-type"] == "application/problem+json"


def test_usage_errors_are_problems_with_stable_codes(served: Served) -> None:
    for path, code in [("/v1/sessions?limit=0", "usage"), ("/v1/sessions?bogus=1", "usage"),
                       ("/v1/reports/usage?by=century", "usage"), ("/v1/sessions?all=maybe", "usage"),
                       ("/v1/reports/nope", "unknown_surface"),
                       ("/v2/x", "not_found"), ("/v1/ledger?after=-1", "usage")]:  # fmt: skip
        status, headers, body = served.get(path)
        problem = orjson.loads(body)
        assert headers["content-type"] == "application/problem+json", path
        assert problem["error"] == code, (path, problem)
        assert status == problem["status"] and 400 <= status < 500, path
    status, _, body = served.get("/v1/sessions?cursor=garbage")  # as the CLI: a reset, exit 3 there
    assert (status, orjson.loads(body)["reason"]) == (409, "invalid_cursor")
    # The CLI's message, word for word.
    assert (
        "--limit must be between 1 and 10000"
        in orjson.loads(served.get("/v1/sessions?limit=0")[2])["message"]
    )


def test_openapi_and_health_and_metrics(served: Served) -> None:
    doc = served.json("/openapi.json")
    assert doc["openapi"] == "3.1.0"
    assert {"/v1/sessions", "/v1/reports/usage", "/v1/ledger", "/healthz", "/metrics"} <= set(doc["paths"])
    assert served.json("/healthz") == {"status": "ok", "store": "file"}
    served.get("/v1/reports/usage?by=day")
    text = served.get("/metrics")[2].decode()
    assert 'burn_http_requests_total{route="/v1/reports/{name}",method="GET",status="200"}' in text
    assert 'burn_http_request_duration_seconds_bucket{route="/v1/reports/{name}",le="+Inf"}' in text
    assert "burn_archive_lag 0" in text


# -- the ledger over HTTP ---------------------------------------------------------------------------


def _ledger_lines(home: Path) -> list[bytes]:
    return (home / "ledger.jsonl").read_bytes().splitlines()


def test_ledger_feed_pages_the_whole_ledger(served: Served, base: Path) -> None:
    home = base / "burn"
    got: list[dict[str, Any]] = []
    after, pages = 0, 0
    while True:
        page = served.json(f"/v1/ledger?after={after}&limit=7")
        got += page["entries"]
        pages += 1
        if page["next"] == page["end"]:
            break
        after = page["next"]
    store = FileStore(home)
    want = [(e.position, e.kind, e.id, e.record) for e in store.read(0)]
    assert [(e["position"], e["kind"], e["id"], e["record"]) for e in got] == want
    assert pages == -(-len(want) // 7) or pages == len(want) // 7 + 1


# -- a fresh server per test below: they write --------------------------------------------------------


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Served, dict[str, str], Path]]:
    build_fixture(tmp_path)
    env = {**env_for(tmp_path), "TZ": "UTC"}
    s = start(env, "--refresh", "0", "--max-body-bytes", "200000", "--max-batch", "50",
              "--body-timeout", "1", log=tmp_path / "serve.log")  # fmt: skip
    yield s, env, tmp_path / "burn"
    s.stop()


def _rehome(lines: list[bytes], session: str) -> list[bytes]:
    """The fixture's entries, moved to one new session id (their event ids follow), each new id
    once: the session records of the fixture's sessions (and their revisions) all become the new
    session's, and a second line of an id would merge into the first instead of being appended."""
    from burn.convert import from_dict, to_dict
    from burn.store import encode

    out = []
    ids: set[str] = set()
    for line in lines:
        e = orjson.loads(line)
        rec = dict(e["record"])
        if "session_id" not in rec or e["kind"] == "project":
            continue
        rec["session_id"] = session
        for key in ("message_id", "request_id", "line_hash"):
            if rec.get(key):
                rec[key] = f"{rec[key]}-{session}"
        item = encode(from_dict(e["kind"], rec))
        if item.id in ids:
            continue
        ids.add(item.id)
        out.append(
            orjson.dumps(
                {
                    "v": 1,
                    "kind": item.kind,
                    "id": item.id,
                    "record": to_dict(from_dict(item.kind, orjson.loads(item.data))),
                }
            )
        )
    return out


def test_post_is_idempotent_and_reaches_the_archive(fresh: tuple[Served, dict[str, str], Path]) -> None:
    served, env, home = fresh
    new = _rehome(_ledger_lines(home), "posted-1")[:40]
    before = served.json("/v1/sessions?all=true")
    status, _, body = served.post("/v1/ledger", b"\n".join(new))
    assert status == 200, body
    first = orjson.loads(body)
    assert first["accepted"] == len(new) and first["rejected"] == []
    assert sum(first["appended"].values()) + first["duplicates"] + sum(first["revised"].values()) == len(new)
    size = (home / "ledger.jsonl").stat().st_size
    again = orjson.loads(served.post("/v1/ledger", b"\n".join(new))[2])
    assert again["appended"] == {} and again["revised"] == {} and again["duplicates"] == len(new)
    assert (home / "ledger.jsonl").stat().st_size == size  # one copy
    after = served.json("/v1/sessions?all=true")
    assert after["count"] > before["count"]  # the archive was brought up to date before the reply
    # The CLI reads the same archive the same way.
    assert _same(served.get("/v1/sessions?all=true")[2]) == _same(
        cli(env, "export", "sessions", "--all").stdout
    )


def test_hostile_posts(fresh: tuple[Served, dict[str, str], Path]) -> None:
    served, _env, home = fresh
    good = _rehome(_ledger_lines(home), "hostile-1")[:3]

    def post(body: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
        status, _h, raw = served.request("POST", "/v1/ledger", body, headers)
        assert raw.startswith(b"{"), (status, raw)
        return status, orjson.loads(raw)

    size = (home / "ledger.jsonl").stat().st_size
    assert post(b"[1, 2")[1]["error"] == "malformed_json"
    assert post(b"[1, 2")[0] == 400
    status, p = post(b"[1, 2]")
    assert (status, p["error"], [r["error"] for r in p["rejected"]]) == (
        422,
        "no_valid_entries",
        ["not_an_object"] * 2,
    )
    status, p = post(b'{"v": 1, "kind": "turn", "id": 5, "record": []}')
    assert (status, p["rejected"][0]["error"]) == (422, "invalid_record")
    status, p = post(b'{"v": 2, "kind": "turn", "id": "x", "record": {}}')
    assert p["rejected"][0]["error"] == "wrong_version"
    status, p = post(b'{"v": 1, "kind": "turn", "id": "x", "record": {"tokens": "many"}}')
    assert p["rejected"][0]["error"] == "invalid_record"
    forged = orjson.loads(good[0])
    forged["id"] = "0" * 32
    assert post(orjson.dumps(forged))[1]["rejected"][0]["error"] == "id_mismatch"
    assert (home / "ledger.jsonl").stat().st_size == size  # nothing bad was written
    # A mixed batch: the good entries are kept, the bad ones reported by index.
    mixed = [good[0], b'{"v":1,"kind":"spaceship","id":"x","record":{}}', b"{oops", good[1], b"[]", good[2]]
    status, p = post(b"\n".join(mixed))
    assert status == 200
    assert p["accepted"] == 3
    assert [(r["index"], r["error"]) for r in p["rejected"]] == [
        (1, "unknown_kind"),
        (2, "malformed_json"),
        (4, "not_an_object"),
    ]
    assert sum(p["appended"].values()) == 3
    # Limits: entries per batch, bytes per body (declared or not).
    status, p = post(b"\n".join(good * 20))
    assert (status, p["error"]) == (413, "batch_too_large")
    status, p = post(b" " * 200_001)
    assert (status, p["error"]) == (413, "body_too_large")

    def chunked() -> Iterator[bytes]:
        for _ in range(30):
            yield b" " * 10_000

    status, p = post(chunked(), **{"Transfer-Encoding": "chunked"})  # type: ignore[arg-type]
    assert (status, p["error"]) == (413, "body_too_large")
    metrics = served.get("/metrics")[2].decode()
    assert 'burn_ledger_rejected_total{error="unknown_kind"}' in metrics
    assert (
        'burn_ledger_appended_total{kind="turn"}' in metrics
        or 'burn_ledger_appended_total{kind="session"}' in metrics
    )


def test_slow_client_gets_408_and_does_not_hold_up_others(fresh: tuple[Served, dict[str, str], Path]) -> None:
    served, _env, _home = fresh
    slow = socket.create_connection((served.host, served.port))
    try:
        slow.sendall(b"POST /v1/ledger HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"[" + b" " * 9)
        # While it dawdles, others are served.
        assert served.get("/healthz")[0] == 200
        assert served.get("/v1/reports/usage?by=day")[0] == 200
        slow.settimeout(30)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = slow.recv(4096)
            if not chunk:
                break
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 408"), reply
    finally:
        slow.close()


def test_paging_over_http_with_posts_between_pages(fresh: tuple[Served, dict[str, str], Path]) -> None:
    """Every row exactly once, or a 409 whose body is what the CLI prints for that cursor."""
    served, env, home = fresh
    lines = _ledger_lines(home)
    complete = served.json("/v1/sessions?all=true")["rows"]
    seen: list[str] = []
    page = served.json("/v1/sessions?limit=2")
    seen += [r["session_id"] for r in page["rows"]]
    served.post("/v1/ledger", b"\n".join(_rehome(lines, "between-1")))  # new sessions: outside the watermark
    while page["cursor"]["next"]:
        cursor = page["cursor"]["next"]
        status, _, body = served.get(f"/v1/sessions?cursor={cursor}")
        assert status == 200, body
        page = orjson.loads(body)
        seen += [r["session_id"] for r in page["rows"]]
    assert sorted(seen) == sorted(r["session_id"] for r in complete)
    assert len(seen) == len(set(seen))
    # A row of the snapshot changes between pages: a 409, and the CLI's exact bytes.
    first = served.json("/v1/sessions?limit=2")
    victim = first["rows"][0]["session_id"]
    touched = [ln for ln in lines if orjson.loads(ln)["record"].get("session_id") == victim]
    bumped = []
    for ln in touched:
        e = orjson.loads(ln)
        if e["kind"] == "session":
            e["record"]["title"] = "renamed between pages"
            bumped.append(orjson.dumps(e))
    assert bumped  # the fixture's sessions have session records
    served.post("/v1/ledger", b"\n".join(bumped))
    status, headers, body = served.get(f"/v1/sessions?cursor={first['cursor']['next']}")
    done = cli(env, "export", "sessions", "--cursor", first["cursor"]["next"])
    assert status == 409, body
    assert headers["content-type"] == "application/problem+json"
    assert orjson.loads(body)["error"] == "cursor_reset"
    assert done.returncode != 0 and done.stdout == b""
    assert body == done.stderr


def test_document_cache_hits_until_the_archive_changes(fresh: tuple[Served, dict[str, str], Path]) -> None:
    """A repeated report is the cached body (generated_at included); any change of the archive — an
    append, or quality counters growing with the ledger still — is a miss and today's document."""
    import sqlite3

    from burn.archive import quality

    served, env, home = fresh
    path = "/v1/reports/usage?by=day&since=2026-01-01"
    status, first_headers, first = served.get(path)
    assert status == 200 and first_headers["x-burn-cache"] == "miss"
    status, headers, again = served.get("/v1/reports/usage?since=2026-01-01&by=day")  # same request
    assert (status, headers["x-burn-cache"], again) == (200, "hit", first)
    assert served.get("/v1/reports/usage?by=day&since=2026-01-02")[1]["x-burn-cache"] == "miss"

    posted = served.post("/v1/ledger", b"\n".join(_rehome(_ledger_lines(home), "cached-1")[:40]))
    assert posted[0] == 200 and orjson.loads(posted[2])["appended"], posted
    status, headers, after = served.get(path)
    assert headers["x-burn-cache"] == "miss" and _same(after) != _same(first)
    local = cli(env, "report", "usage", "--by", "day", "--since", "2026-01-01", "--json").stdout
    assert _same(after) == _same(local)

    # An ingest that read only duplicates adds to the counters the documents report, not the ledger.
    db = sqlite3.connect(home / "archive.sqlite")
    with db:
        quality.add(db, [("claude-code", "duplicates_dropped", "duplicate", 7)])
    db.close()
    status, headers, counted = served.get(path)
    assert headers["x-burn-cache"] == "miss" and _same(counted) != _same(after)
    assert _same(counted) == _same(
        cli(env, "report", "usage", "--by", "day", "--since", "2026-01-01", "--json").stdout
    )


# -- auth -------------------------------------------------------------------------------------------


def test_tokens(tmp_path: Path) -> None:
    build_fixture(tmp_path)
    env = {**env_for(tmp_path), "TZ": "UTC"}
    home = tmp_path / "burn"
    made = {}
    for name, scope in (("reader", "read"), ("writer", "write"), ("gone", "read")):
        done = cli(env, "serve", "token", "create", "--name", name, "--scope", scope)
        assert done.returncode == 0, done.stderr
        made[name] = done.stdout.decode().strip()
    path = home / "server-tokens.json"
    assert path.stat().st_mode & 0o777 == 0o600
    stored = path.read_text()
    assert all(token not in stored for token in made.values())  # only hashes
    listed = cli(env, "serve", "token", "list").stdout.decode()
    assert "reader\tread" in listed and all(token not in listed for token in made.values())
    served = start(env, "--refresh", "0", log=tmp_path / "serve.log")
    try:
        assert served.get("/healthz")[0] == 200  # no token needed
        for path_ in ("/v1/sessions", "/metrics", "/v1/ledger", "/openapi.json"):
            status, headers, body = served.get(path_)
            assert (status, orjson.loads(body)["error"]) == (401, "unauthorized"), path_
            assert headers["www-authenticate"].startswith("Bearer")
        assert served.get("/v1/sessions", token="burn_wrong")[0] == 401
        assert served.get("/v1/sessions", token=made["reader"] + "x")[0] == 401
        assert served.get("/v1/sessions", token=made["reader"])[0] == 200
        line = _ledger_lines(home)[0]
        status, _, body = served.post("/v1/ledger", line, token=made["reader"])
        assert (status, orjson.loads(body)["error"]) == (403, "forbidden")
        assert served.post("/v1/ledger", line, token=made["writer"])[0] == 200
        assert served.get("/v1/sessions", token=made["gone"])[0] == 200
        assert cli(env, "serve", "token", "revoke", "gone").returncode == 0
        assert served.get("/v1/sessions", token=made["gone"])[0] == 401  # at once, no restart
    finally:
        log = served.stop()
    assert '"token":"reader"' in log  # the access log names the token…
    assert all(token not in log for token in made.values())  # …never the token itself
    assert "burn_wrong" not in log


def test_non_loopback_bind_without_tokens_is_refused(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    done = cli(env, "serve", "--host", "0.0.0.0", "--port", "0")
    assert done.returncode == 1
    assert done.stderr.decode().startswith("burn: error: refusing to listen on 0.0.0.0 without tokens")
    assert b"Traceback" not in done.stderr
    assert cli(env, "serve", "--certfile", "x.pem").returncode == 2


def test_server_keeps_the_archive_current_with_a_local_ingest(tmp_path: Path) -> None:
    """Entries another process appends reach the archive on the refresh interval."""
    build_fixture(tmp_path)
    env = {**env_for(tmp_path), "TZ": "UTC"}
    home = tmp_path / "burn"
    served = start(env, "--refresh", "0.2", log=tmp_path / "serve.log")
    try:
        before = served.json("/v1/sessions?all=true")["count"]
        store = FileStore(home)
        new = _rehome(_ledger_lines(home), "outside-1")
        from burn.convert import from_dict

        with store.lock():
            store.append([from_dict(orjson.loads(x)["kind"], orjson.loads(x)["record"]) for x in new])
        deadline = time.monotonic() + 30  # bounded wait for the refresh, not a speed assertion
        count = before
        while count == before and time.monotonic() < deadline:
            time.sleep(0.1)
            count = served.json("/v1/sessions?all=true")["count"]
        assert count > before
    finally:
        served.stop()


# -- burn report|export --server ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["report", "daily"], ["report", "usage", "--by", "model", "--json"], ["report", "monthly", "--ndjson"],
     ["export", "sessions", "--limit", "2", "--source", "claude-code", "--source", "codex"],
     ["export", "sessions", "--all", "--roots-only"],
     ["report", "activity", "--since", "2026-03-01", "--until", "2026-03-10", "--json"]],
)  # fmt: skip
def test_cli_against_the_server_prints_what_it_prints_locally(
    served: Served, env: dict[str, str], tmp_path: Path, argv: list[str]
) -> None:
    local = cli(env, *argv)
    # A laptop with no archive at all: everything comes from the server.
    remote_env = {**env_for(tmp_path), "TZ": "UTC", "RELAYBURN_SERVER_URL": served.url}
    remote = cli(remote_env, *argv)
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert _same(remote.stdout) == _same(local.stdout)
    assert not (tmp_path / "burn" / "archive.sqlite").exists()


def test_cli_against_the_server_resets_and_fails_like_the_cli(
    served: Served, env: dict[str, str], tmp_path: Path
) -> None:
    remote_env = {**env_for(tmp_path), "RELAYBURN_TOKEN": "burn_not-a-real-token"}
    local = cli(env, "export", "sessions", "--cursor", "garbage")
    remote = cli(remote_env, "export", "sessions", "--server", served.url, "--cursor", "garbage")
    assert (remote.returncode, remote.stdout, remote.stderr) == (local.returncode, b"", local.stderr)
    # An unreachable server: one line, no traceback, no token.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = cli(remote_env, "report", "daily", "--server", f"http://127.0.0.1:{port}")
    assert down.returncode == 1
    assert down.stderr.decode().startswith(
        f"burn: error: cannot reach the burn server at http://127.0.0.1:{port}"
    )
    assert b"not-a-real-token" not in down.stderr + down.stdout
