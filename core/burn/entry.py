"""The ``burn`` console script: ``burn serve …`` and ``burn dashboard`` go to :mod:`burn.server` (the optional
``burn[server]`` extra, loaded for no other command), everything else to :mod:`burn.cli.app`.

Dispatching here, above both, keeps the layers one-way: the server reads through the CLI's
contract commands, and the CLI never imports the server."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``burn`` with ``argv`` (default: the process's arguments); returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words in (["statusline"], ["statusline", "--no-color"]):
        # Claude Code runs this on every refresh: no parser tree, plugins or query layer.
        from burn.cli.statusline import run

        return run()
    if words in (["--version"], ["-V"]):  # scripts ask this to find burn: no command tree
        from burn import __version__

        sys.stdout.write(f"burn {__version__}\n")
        return 0
    from burn.cli import app

    if words[:1] in (["serve"], ["dashboard"]):

        def serve() -> int:
            from burn.server import cli

            return cli.dashboard(words[1:]) if words[0] == "dashboard" else cli.main(words[1:])

        return app.guarded(serve)
    return app.main(words)


if __name__ == "__main__":
    sys.exit(main())
