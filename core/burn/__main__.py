"""``python -m burn``: the same command line as ``burn``."""

from burn.cli.app import main

raise SystemExit(main())
