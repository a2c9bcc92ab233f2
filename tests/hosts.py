"""Burn homes of one host: the same local secret, so the same machine key.

The archive records, for each turn, the machine key of the host that first saw it; a file or
sqlite ledger records none, and its archive attributes its turns to the host reading it. Tests that
compare archives built in several homes from the same ledger mean one host, and say so with
:func:`one_host`.
"""

from __future__ import annotations

from pathlib import Path

SECRET = "5e" * 32  # hex of a 32-byte local secret (burn.privacy.identity.local_secret)


def one_host(*homes: Path) -> None:
    """Give each burn home the same local secret (unless it has one already)."""
    for home in homes:
        home.mkdir(parents=True, exist_ok=True)
        key = home / "secret.key"
        if not key.exists():
            key.write_text(SECRET)
