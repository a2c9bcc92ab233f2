"""Query parameters → the options ``burn export|report`` parses, through the same parser.

``?since=7d&source=claude&source=codex&all=true`` becomes ``--since 7d --source claude --source
codex --all``, parsed by the command's own argparse parser (:func:`burn.cli.contract.build_parser`),
so the server accepts exactly what the CLI accepts, converts it the same way and fails with the
same message.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import Any

from burn.cli.contract import build_parser
from burn.errors import UsageError
from burn.exporter import Exporter

_TRUE = {"", "1", "true", "yes"}
_FALSE = {"0", "false", "no"}
# Framing comes from the Accept header or ``format``; the CLI's shorthands are not parameters.
_NOT_PARAMETERS = {"help", "json", "ndjson"}


def options(
    verb: str, name: str, exp: Exporter, preset: Mapping[str, Any], query: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """Parsed options for ``burn VERB NAME`` given a request's query parameters (UsageError when the
    CLI would refuse them)."""
    parser = build_parser(verb, name, exp)
    parser.set_defaults(**preset)
    by_flag: dict[str, argparse.Action] = {}
    for act in parser._actions:  # argparse has no public way to enumerate its options
        for opt in act.option_strings:
            if opt.startswith("--") and opt[2:] not in _NOT_PARAMETERS:
                by_flag[opt[2:]] = act
    argv: list[str] = []
    for key, value in query:
        flag = key.replace("_", "-")
        action: argparse.Action | None = by_flag.get(flag)
        if action is None:
            known = ", ".join(sorted(k.replace("-", "_") for k in by_flag))
            raise UsageError(f"unknown parameter {key!r} (known: {known})")
        if action.nargs == 0:  # a flag: --all, --roots-only
            if value.lower() in _TRUE:
                argv.append("--" + flag)
            elif value.lower() not in _FALSE:
                raise UsageError(f"parameter {key!r} is a flag: true or false, not {value!r}")
        else:
            argv.append(f"--{flag}={value}")  # one token: a value starting with '-' stays a value
    return vars(parser.parse_args(argv))
