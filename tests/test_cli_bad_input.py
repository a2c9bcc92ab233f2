"""Bad command lines and bad configuration files: every one is refused with a non-zero exit code,
exactly one line on stderr that names what is wrong, nothing on stdout, and never a traceback or an
"internal error" (issue 11, finding 11).

The table runs :func:`burn.cli.app.main` in-process against a real burn home (the contract fixture
archive), with output captured at the file-descriptor level; a few rows also run as a real
``python -m burn.cli.app`` process, to cover the entry point itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from burn.cli.app import main
from tests.contract_fixture import build_fixture, env_for

USAGE, RUNTIME, CURSOR_RESET = 2, 1, 4

# (command line, exit code, what the one stderr line must mention)
BAD: list[tuple[list[str], int, str]] = [
    # the command itself
    ([], USAGE, "required: command"),
    (["nosuch"], USAGE, "invalid choice: 'nosuch'"),
    (["ingest", "--bogus"], USAGE, "--bogus"),
    (["doctor", "--bogus"], USAGE, "--bogus"),
    (["plugins", "extra"], USAGE, "extra"),
    # summary: dates, durations, zones, breakdowns
    (["summary", "--since", "99999999999d"], USAGE, "--since: '99999999999d' is out of range"),
    (["summary", "--until", "99999999999h"], USAGE, "--until: '99999999999h' is out of range"),
    (["summary", "--since", "100000w"], USAGE, "--since: '100000w' is out of range"),
    (["summary", "--since", ""], USAGE, "--since: empty value"),
    (["summary", "--until", "  "], USAGE, "--until: empty value"),
    (["summary", "--timezone", ""], USAGE, "--timezone: empty value"),
    (["summary", "--timezone", "Mars/Olympus_Mons"], USAGE, "--timezone: unknown time zone"),
    (["summary", "--timezone", "../../etc/passwd"], USAGE, "--timezone: unknown time zone"),
    (["summary", "--since", "2026-03-02", "--until", "2026-03-01"], USAGE, "--until '2026-03-01' is not after"),
    (["summary", "--since", "1d", "--until", "7d"], USAGE, "is not after --since '1d'"),
    (["summary", "--since", "2026-13-45"], USAGE, "--since: cannot read '2026-13-45'"),
    (["summary", "--since", "yesterday"], USAGE, "--since: cannot read 'yesterday'"),
    (["summary", "--since", "0001-01-01"], USAGE, "--since: '0001-01-01' is out of range"),
    (["summary", "--until", "9999-12-31"], USAGE, "--until: '9999-12-31' is out of range"),
    (["summary", "--since", "0001-01-01T00:00:00+14:00"], USAGE, "out of range"),
    (["summary", "--since", "-5d"], USAGE, "--since/-s: expected one argument"),
    (["summary", "--since"], USAGE, "--since/-s: expected one argument"),
    (["summary", "--by", "week"], USAGE, "--by: invalid choice: 'week'"),
    (["summary", "--bogus"], USAGE, "--bogus"),
    # export: paging, cursors, identity, framing, filters
    (["export"], USAGE, "which export?"),
    (["export", "nosuch"], USAGE, "invalid choice: 'nosuch'"),
    (["export", "sessions", "--limit", "-1"], USAGE, "--limit must be between"),
    (["export", "sessions", "--limit", "0"], USAGE, "--limit must be between"),
    (["export", "sessions", "--limit", "abc"], USAGE, "--limit: invalid int value"),
    (["export", "sessions", "--limit", "99999999999999999999"], USAGE, "--limit must be between"),
    (["export", "sessions", "--limit", ""], USAGE, "--limit: invalid int value"),
    (["export", "sessions", "--cursor", "garbage"], CURSOR_RESET, '"reason":"invalid_cursor"'),
    (["export", "sessions", "--cursor", ""], CURSOR_RESET, '"reason":"invalid_cursor"'),
    (["export", "sessions", "--cursor", "e30.AAAA"], CURSOR_RESET, '"error":"cursor_reset"'),
    (["export", "sessions", "--cursor", "abc", "--since", "1d"], USAGE, "--cursor carries the query: drop --since"),
    (["export", "sessions", "--identity", "secret"], USAGE, "--identity: invalid choice: 'secret'"),
    (["export", "sessions", "--format", "xml"], USAGE, "--format: invalid choice: 'xml'"),
    (["export", "sessions", "--json", "--ndjson"], USAGE, "not allowed with argument --json"),
    (["export", "sessions", "--timezone", ""], USAGE, "--timezone: empty value"),
    (["export", "sessions", "--since", "99999999999d"], USAGE, "--since: '99999999999d' is out of range"),
    (["export", "sessions", "--since", "2021-01-01", "--until", "2020-01-01"], USAGE, "is not after"),
    (["export", "sessions", "--project", "nosuch"], USAGE, "no project matches 'nosuch'"),
    (["export", "sessions", "--project", ""], USAGE, "--project: empty value"),
    (["export", "sessions", "--source", ""], USAGE, "--source: empty value"),
    (["export", "sessions", "--model", " , "], USAGE, "--model: empty value"),
    # report
    (["report"], USAGE, "which report?"),
    (["report", "nosuch"], USAGE, "invalid choice: 'nosuch'"),
    (["report", "daily", "--since", ""], USAGE, "--since: empty value"),
    (["report", "weekly", "--timezone", "Nowhere/Town"], USAGE, "--timezone: unknown time zone"),
    (["report", "monthly", "--until", "99999999999d"], USAGE, "--until: '99999999999d' is out of range"),
    (["report", "daily", "--limit", "5"], USAGE, "unrecognized arguments: --limit 5"),
    (["report", "usage", "--bogus"], USAGE, "--bogus"),
    # schema
    (["schema"], USAGE, "required: action"),
    (["schema", "bogus"], USAGE, "invalid choice: 'bogus'"),
    (["schema", "show", "nosuch"], RUNTIME, "no schema named 'nosuch'"),
    (["schema", "validate"], USAGE, "required: file"),
    (["schema", "validate", "/nonexistent/sessions.json"], RUNTIME, "cannot read /nonexistent/sessions.json"),
    (["schema", "validate", "/"], RUNTIME, "cannot read /: Is a directory"),
    # archive, pricing
    (["archive", "frobnicate"], USAGE, "invalid choice: 'frobnicate'"),
    (["archive", "build", "--bogus"], USAGE, "--bogus"),
    (["pricing"], USAGE, "required: pricing_command"),
    (["pricing", "frob"], USAGE, "invalid choice: 'frob'"),
    (["pricing", "show", "--model"], USAGE, "expected one argument"),
]  # fmt: skip


@pytest.fixture(scope="module")
def fixture_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory.mktemp("bad-input"))


def _assert_refused(code: int, out: str, err: str, expected_code: int, needle: str) -> None:
    assert code == expected_code, err
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0]
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize(("argv", "code", "needle"), BAD, ids=[" ".join(a) or "(none)" for a, _, _ in BAD])
def test_bad_command_lines_are_refused_in_one_line(
    argv: list[str], code: int, needle: str, fixture_home: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("RELAYBURN_HOME", str(fixture_home))
    result = main(argv)
    out, err = capfd.readouterr()
    _assert_refused(result, out, err, code, needle)


@pytest.mark.parametrize(
    "argv",
    [["summary", "--since", "99999999999d"], ["summary", "--timezone", ""], ["export"]],
)
def test_the_entry_point_refuses_in_one_line(argv: list[str], tmp_path: Path) -> None:
    env = env_for(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "burn.cli.app", *argv], env=env, capture_output=True, text=True, check=False
    )
    _assert_refused(proc.returncode, proc.stdout, proc.stderr, USAGE, "")


# -- the user's pricing override -------------------------------------------------------------------

ROW = '{"models": {"claude-sonnet-4-5-20250929": {"provider": "anthropic", "input": %s, "output": "15"}}}'
BAD_PRICING: list[tuple[str, str]] = [
    (ROW % '"1e400"', "input: '1e400' is more than 10000"),
    (ROW % "1e400", "input: 1E+400 is more than 10000"),
    (ROW % '"1e30"', "input: '1e30' is more than 10000"),
    (ROW % '"1e-400"', "input: '1e-400' has more than 12 decimal places"),
    (ROW % '"-1"', "input: not a finite non-negative number"),
    (ROW % '"NaN"', "input: not a finite non-negative number"),
    (ROW % ("1" + "0" * 5000), "invalid JSON: Exceeds the limit"),
    ('{"models": ' + "[" * 100_000 + "]" * 100_000 + "}", "invalid JSON: nested too deeply"),
    ('{"models": {"m": ' + '{"tiers": ' * 5_000 + "1" + "}" * 5_001 + "}", "invalid JSON: nested too deeply"),
    ("[]", 'expected an object {"models"'),
    ("\ufeff{", "invalid JSON"),
    ("", "invalid JSON"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "needle"), BAD_PRICING, ids=[n for _, n in BAD_PRICING])
@pytest.mark.parametrize("argv", [["ingest", "-q"], ["pricing", "show"]])
def test_a_bad_pricing_override_is_named_in_one_line(
    text: str, needle: str, argv: list[str], tmp_path: Path, capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    for var, value in env_for(tmp_path, Path(__file__).parent / "fixtures" / "contracts" / "claude").items():
        monkeypatch.setenv(var, value)
    home = tmp_path / "burn"
    home.mkdir()
    (home / "pricing.json").write_text(text, encoding="utf-8")
    result = main(argv)
    out, err = capfd.readouterr()
    _assert_refused(result, out, err, RUNTIME, needle)
    assert f"pricing override {home / 'pricing.json'}" in err
