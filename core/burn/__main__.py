"""``python -m burn``: the same command line as ``burn``."""

from burn.entry import main

raise SystemExit(main())
