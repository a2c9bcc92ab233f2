"""What the effective pricing table is made of, as a stat fingerprint (standard library only).

burn's version, the bundled table file and the user's override file (``$RELAYBURN_HOME/pricing.json``):
equal fingerprints mean an equal table, hence an equal digest. An archive records the fingerprint
beside the digest it was priced with, so that a no-op ingest need not load the table at all, and a
build or report that needs the table need not canonicalize it again to learn its digest.
"""

from __future__ import annotations

from pathlib import Path

OVERRIDE_FILE = "pricing.json"
# The table shipped inside the package. A path, not importlib.resources: the fingerprint needs a
# file to stat anyway, and importlib.resources (with zipfile) is an import every no-op and report
# would pay for.
BUNDLED_FILE = Path(__file__).parent / "data" / "pricing.json"


def inputs_fingerprint(home: Path) -> str:
    from burn import __version__

    parts = [__version__]
    for path in (BUNDLED_FILE, home / OVERRIDE_FILE):
        try:
            st = path.stat()
            parts.append(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
        except OSError:
            parts.append("-")
    return "|".join(parts)
