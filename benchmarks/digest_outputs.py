"""Digests of burn's report and export outputs over a generated corpus: run before and after a
refactoring of the read path, and compare (contract outputs must stay byte-identical).

    python benchmarks/digest_outputs.py --corpus /tmp/corpus --out before.json
    # … change the code …
    python benchmarks/digest_outputs.py --corpus /tmp/corpus --compare before.json

The corpus is generated (benchmarks/gen_corpus.py) when ``--corpus`` does not hold one yet, then
ingested into a burn home with nothing else of the machine visible (as
tests/test_benchmark_corpus.py does). The home is kept (``--home``, default beside the corpus) and
reused by later runs: the archive id, the local secret (anonymous keys) and the cursor key live
there, so outputs of the same archive compare byte for byte. Each command's stdout is hashed with
``generated_at`` values removed. Besides the defaults, the commands run in zones and windows that take the
other read path: a 30-minute-offset zone (Asia/Kolkata) and a window that does not start on an
hour read ``turns`` instead of the hourly rollup; Africa/Casablanca changes its offset inside the
seed-7 corpus's months.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

# name → burn arguments. TZ is set to UTC for every run, so "the local zone" is reproducible.
WINDOW = ["--since", "2026-01-01", "--until", "2026-03-10"]  # the seed-7 corpus: Jan to Mar 2026
ODD = ["--since", "2026-01-10T10:30:00Z", "--until", "2026-02-20T07:45:00Z"]
COMMANDS: dict[str, list[str]] = {
    "export_sessions_all_ndjson": ["export", "sessions", "--all", "--ndjson"],
    "export_sessions_page_json": ["export", "sessions", "--limit", "50", "--json", "--identity", "anonymous"],
    "export_sessions_filtered": ["export", "sessions", "--all", "--ndjson", "--source", "codex", *ODD],
    "usage_day_json": ["report", "usage", "--by", "day", "--json"],
    "usage_project_json": ["report", "usage", "--by", "project", "--json"],
    "usage_day_kolkata": ["report", "usage", "--by", "day", "--json", "--timezone", "Asia/Kolkata"],
    "usage_week_newyork": ["report", "usage", "--by", "week", "--json", "--timezone", "America/New_York"],
    "usage_month_odd_window": ["report", "usage", "--by", "month", "--json", *ODD],
    "usage_session_json": ["report", "usage", "--by", "session", "--json", "--source", "claude-code"],
    "usage_model_filtered": ["report", "usage", "--by", "model", "--json", "--source", "codex,opencode"],
    "activity_json": ["report", "activity", "--json", *WINDOW, "--bucket", "1d"],
    "activity_kolkata": [
        "report",
        "activity",
        "--json",
        "--bucket",
        "1h",
        "--timezone",
        "Asia/Kolkata",
        "--since",
        "2026-02-01",
        "--until",
        "2026-02-15",
    ],
    # A daylight-saving change inside the data (Morocco, 2026-02-15 02:00 UTC): whole hours.
    "usage_day_casablanca": ["report", "usage", "--by", "day", "--json", "--timezone", "Africa/Casablanca"],
    "summary_casablanca": ["summary", "--json", "--timezone", "Africa/Casablanca"],
    "summary_json": ["summary", "--json"],
    "summary_kolkata": ["summary", "--json", "--timezone", "Asia/Kolkata"],
    "summary_odd_window": ["summary", "--json", *ODD],
    "summary_text": ["summary"],
    "report_daily_text": ["report", "daily"],
}

# Runs whose local zone (TZ) is not UTC: the default zone of every command is the local one.
LOCAL_ZONE = "America/New_York"
LOCAL: dict[str, list[str]] = {
    "local_summary_json": ["summary", "--json"],
    "local_usage_day_json": ["report", "usage", "--by", "day", "--json"],
    "local_activity_json": ["report", "activity", "--json", *WINDOW],
    "local_export_sessions_filtered": ["export", "sessions", "--all", "--ndjson", "--since", "2026-02-01"],
}

_GENERATED = re.compile(rb'"generated_at": ?"[^"]*"')


def digest(data: bytes) -> str:
    return hashlib.sha256(_GENERATED.sub(b'"generated_at":""', data)).hexdigest()


def corpus_env(corpus: Path, tmp: Path) -> dict[str, str]:
    (tmp / "home").mkdir(exist_ok=True)
    # PYTHONPATH passes through: point it at another checkout's core:plugins to digest that one.
    passed = {k: os.environ[k] for k in ("PATH", "PYTHONPATH") if k in os.environ}
    return {
        **passed,
        "HOME": str(tmp / "home"),
        "TZ": "UTC",
        "RELAYBURN_HOME": str(tmp / "burn"),
        "CLAUDE_CONFIG_DIR": str(corpus / "claude"),
        "CODEX_HOME": str(corpus / "codex"),
        "OPENCODE_DATA_DIR": str(corpus / "opencode"),
        "BURN_STRICT_PLUGINS": "1",
    }


def burn(args: list[str], env: dict[str, str]) -> bytes:
    done = subprocess.run(
        [sys.executable, "-m", "burn.cli.app", *args], env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        return b"exit %d\n" % done.returncode + done.stderr
    return done.stdout


def run(corpus: Path, home: Path, size: str, dump: Path | None = None) -> dict[str, str]:
    if not (corpus / "claude").is_dir():
        import gen_corpus

        gen_corpus.generate(corpus, gen_corpus.parse_size(size), seed=7, jobs=1)
    home.mkdir(parents=True, exist_ok=True)
    env = corpus_env(corpus, home)
    burn(["ingest", "--quiet"], env)  # the first run builds the archive, later ones find it current
    out = {}
    runs = [(name, args, env) for name, args in COMMANDS.items()]
    runs += [(name, args, {**env, "TZ": LOCAL_ZONE}) for name, args in LOCAL.items()]
    for name, args, run_env in runs:
        data = burn(args, run_env)
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            (dump / name).write_bytes(data)
        out[name] = digest(data)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, required=True, help="corpus directory (generated if empty)")
    p.add_argument("--size", default="20MB", help="corpus size when generating (default 20MB)")
    p.add_argument("--out", type=Path, help="write the digests here (JSON)")
    p.add_argument("--compare", type=Path, help="compare with digests written earlier; exit 1 on a change")
    p.add_argument("--home", type=Path, help="burn home kept between runs (default: <corpus>.burn-home)")
    p.add_argument("--dump", type=Path, help="also write each output to this directory")
    args = p.parse_args()
    home = args.home or args.corpus.with_name(args.corpus.name + ".burn-home")
    digests = run(args.corpus, home, args.size, args.dump)
    text = json.dumps(digests, indent=2, sort_keys=True) + "\n"
    if args.out:
        args.out.write_text(text)
    sys.stdout.write(text)
    if args.compare:
        before = json.loads(args.compare.read_text())
        changed = sorted(k for k in before.keys() | digests.keys() if before.get(k) != digests.get(k))
        for name in changed:
            sys.stderr.write(f"changed: {name}\n")
        sys.stderr.write("identical\n" if not changed else f"{len(changed)} outputs changed\n")
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
