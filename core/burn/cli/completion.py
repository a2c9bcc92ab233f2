"""``burn completion bash|zsh|fish``: completion scripts generated from the parser tree itself,
so every command, subcommand and option (exporter plugins' included) completes without a
dependency. Choices of an option (``--format``, ``--by`` …) complete after it."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(
    p: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, p
    for name, child in _subparsers(p).items():
        yield from _walk(child, (*path, name))


def _options(p: argparse.ArgumentParser) -> list[str]:
    return sorted(o for a in p._actions if a.help != argparse.SUPPRESS for o in a.option_strings)


def _choices(p: argparse.ArgumentParser) -> dict[str, list[str]]:
    out = {}
    for a in p._actions:
        if a.option_strings and a.choices and a.help != argparse.SUPPRESS:
            for o in a.option_strings:
                out[o] = [str(c) for c in a.choices]
    return out


def _positional_choices(p: argparse.ArgumentParser) -> list[str]:
    words = list(_subparsers(p))
    for a in p._actions:
        if not a.option_strings and a.choices and not isinstance(a, argparse._SubParsersAction):
            words += [str(c) for c in a.choices]
    return words


def bash(parser: argparse.ArgumentParser) -> str:
    cases = []
    for path, p in _walk(parser):
        key = " ".join(path)
        words = " ".join(_positional_choices(p) + _options(p))
        cases.append(f"    {shlex.quote(key)}) words={shlex.quote(words)} ;;")
        for opt, choices in _choices(p).items():
            cases.append(f"    {shlex.quote(key + ' ' + opt)}) words={shlex.quote(' '.join(choices))} ;;")
    return f"""# burn completion for bash: eval "$(burn completion bash)"
_burn() {{
  local cur path="" w i words
  cur="${{COMP_WORDS[COMP_CWORD]}}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${{COMP_WORDS[i]}}"
    case "$w" in
      -*) ;;
      *) if _burn_words "${{path:+$path }}$w" >/dev/null; then path="${{path:+$path }}$w"; fi ;;
    esac
  done
  w="${{COMP_WORDS[COMP_CWORD-1]}}"
  if [[ "$w" == -* ]] && _burn_words "${{path:+$path }}$w" >/dev/null; then
    words=$(_burn_words "${{path:+$path }}$w")
  else
    words=$(_burn_words "$path")
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
_burn_words() {{
  local words
  case "$1" in
{chr(10).join(cases)}
    *) return 1 ;;
  esac
  echo "$words"
}}
complete -F _burn burn
"""


def zsh(parser: argparse.ArgumentParser) -> str:
    return (
        '# burn completion for zsh: eval "$(burn completion zsh)"\n'
        "autoload -U +X bashcompinit && bashcompinit\n" + bash(parser).split("\n", 1)[1]
    )


def fish(parser: argparse.ArgumentParser) -> str:
    lines = [
        "# burn completion for fish: burn completion fish > ~/.config/fish/completions/burn.fish",
        "complete -c burn -f",
    ]
    for path, p in _walk(parser):
        cond = (
            "__fish_use_subcommand"
            if not path
            else " && ".join(f"__fish_seen_subcommand_from {w}" for w in path)
        )
        for name in _subparsers(p):
            help = ""
            for a in p._actions:
                if isinstance(a, argparse._SubParsersAction):
                    help = next((c.help or "" for c in a._choices_actions if c.dest == name), "")
            lines.append(
                f"complete -c burn -n {shlex.quote(cond)} -a {shlex.quote(name)} -d {shlex.quote(help)}"
            )
        for a in p._actions:
            if a.help == argparse.SUPPRESS:
                continue
            for o in a.option_strings:
                flag = f"-l {o[2:]}" if o.startswith("--") else f"-s {o[1:]}"
                extra = f" -x -a {shlex.quote(' '.join(str(c) for c in a.choices))}" if a.choices else ""
                lines.append(
                    f"complete -c burn -n {shlex.quote(cond)} {flag}{extra} -d {shlex.quote(a.help or '')}"
                )
    return "\n".join(lines) + "\n"


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](parser)
