"""Normalize git remote URLs to ``host/owner/repo`` with every credential removed (DESIGN §9).

Accepted forms: scp-like (``git@github.com:acme/api.git``), ``ssh://``, ``git://``, ``http(s)://``
(with or without ``user:token@``), and local paths (returned as ``None``: they identify nothing
across machines). The host is lower-cased; user, password, token, query, fragment, default ports
and a trailing ``.git`` are dropped. Credentials must never reach the ledger, the archive or any
output, so anything that does not parse cleanly is dropped rather than kept raw.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_SCP = re.compile(r"^(?:(?P<user>[^@/\s]+)@)?(?P<host>[A-Za-z0-9.\-]+):(?!//)(?P<path>[^\s]+)$")
_DEFAULT_PORTS = {"ssh": 22, "git": 9418, "http": 80, "https": 443}


def normalize_remote(url: str | None) -> str | None:
    """``host/owner/repo`` for a remote URL, or ``None`` when it is empty, local or unparseable."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if "://" in url:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            return None
        scheme = parts.scheme.lower().split("+")[-1]
        if scheme == "file" or not host:
            return None
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            host = f"{host}:{port}"
        path = parts.path
    else:
        m = _SCP.match(url)
        if not m or "/" in m.group("host"):
            return None
        host, path = m.group("host").lower(), m.group("path")
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    segments = [s for s in path.split("/") if s and s not in (".", "..")]
    if not segments or not host:
        return None
    return "/".join([host, *segments])
