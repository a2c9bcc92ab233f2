"""Normalize git remote URLs to ``host/owner/repo`` with every credential removed (DESIGN §9).

Accepted forms: scp-like (``git@github.com:acme/api.git``, ``user:pw@[::1]:acme/api``),
``ssh://``, ``git://``, ``http(s)://`` (with or without ``user:token@``), and local paths (returned
as ``None``: they identify nothing across machines). Only two things are kept: the host
(lower-cased, with a non-default port) and the repository path; user, password, token, query,
fragment, default ports and a trailing ``.git`` are dropped. Credentials must never reach the
ledger, the archive or any output, so anything that does not parse cleanly is dropped rather than
kept raw: a password holding ``@``, ``/`` or ``:`` whose end cannot be told, a path that still
holds ``@``, ``:``, ``%`` or a token shape after one round of percent-decoding, a host that is not
a host name or a bracketed IPv6 address.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from burn.privacy.redact import looks_secret

# scp-like: [userinfo@]host:path. The userinfo is greedy (everything up to the last "@" that is
# followed by host ":"), because passwords may hold "@", "/" and ":"; a path holding "@" is refused
# below, so a password's tail can never pass for the host and path.
_SCP = re.compile(
    r"^(?:(?P<userinfo>.*)@)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-]*):(?P<path>.+)$"
)
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.?$")
_IPV6 = re.compile(r"^[0-9a-f:.]+$")
# Local paths git itself treats as paths even when they hold a colon.
_LOCAL = re.compile(r"^(?:[/~.]|[A-Za-z]:[\\/])")
# Characters no repository path segment keeps: what marks userinfo, ports, queries, escapes.
_BAD_SEGMENT = re.compile(r"[@:%?#\\\s\x00-\x1f\x7f]")
_DEFAULT_PORTS = {"ssh": 22, "git": 9418, "http": 80, "https": 443, "ftp": 21, "ftps": 990}


def normalize_remote(url: str | None) -> str | None:
    """``host/owner/repo`` for a remote URL, or ``None`` when it is empty, local or unparseable."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if "://" in url:
        parsed = _url(url)
    elif _LOCAL.match(url):
        return None
    else:
        parsed = _scp(url)
    if parsed is None:
        return None
    host, path = parsed
    segments = _segments(path)
    if not segments:
        return None
    return "/".join([host, *segments])


# Hosts whose owner and repository names are case-insensitive: github.com/Acme/API and
# github.com/acme/api are one repository there, so they must be one project key. Elsewhere
# (self-hosted servers, unknown forges) case may matter and is kept as it is.
CASE_INSENSITIVE_HOSTS = frozenset({"github.com", "gitlab.com", "bitbucket.org"})


def canonical_remote(remote: str) -> str:
    """A normalized remote as project keys use it: owner/repo lower-cased on
    :data:`CASE_INSENSITIVE_HOSTS`, unchanged elsewhere."""
    host, sep, path = remote.partition("/")
    return f"{host}{sep}{path.lower()}" if host in CASE_INSENSITIVE_HOSTS else remote


def clean_remote(value: str | None) -> str | None:
    """``value`` if it already is a normalized remote, else its normalized form, else ``None``.

    For remotes a reader hands over (normalized by the reader or not): the ledger only ever
    receives ``host/owner/repo`` or nothing."""
    if not value or not isinstance(value, str):
        return None
    if "://" not in value and normalize_remote("https://" + value) == value:
        return value
    return normalize_remote(value)


def _url(url: str) -> tuple[str, str] | None:
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower().split("+")[-1]
    if scheme not in _DEFAULT_PORTS:  # file:// and anything unknown identify nothing
        return None
    # The userinfo is everything up to the last "@". When that span holds "/", "?" or "#", either a
    # raw password holds them or the "@" belongs to the path, query or fragment: the two cannot be
    # told apart, and either reading may keep part of a secret, so the remote is dropped.
    userinfo, at, rest = rest.rpartition("@")
    if at and any(c in userinfo for c in "/?#"):
        return None
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        hostname = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None
    host = _host(hostname)
    if host is None:
        return None
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return host, parts.path


def _scp(url: str) -> tuple[str, str] | None:
    m = _SCP.match(url)
    if not m:
        return None
    host = _host(m.group("host").strip("[]") if m.group("host").startswith("[") else m.group("host"))
    return None if host is None else (host, m.group("path"))


def _host(name: str) -> str | None:
    """A lower-cased host name, or a bracketed IPv6 address; ``None`` for anything else."""
    name = name.lower()
    if ":" in name:
        return f"[{name}]" if _IPV6.match(name) else None
    return name if _HOST.match(name) else None


def _segments(path: str) -> list[str] | None:
    """The repository path's segments, or ``None`` when it is empty or not clean.

    Percent-encoding is decoded once first, so an encoded query or fragment (``api.git%3Ftoken%3D…``)
    is cut like a plain one; whatever is still escaped or looks like a credential drops the remote.
    """
    path = unquote(path).split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    segments = [s for s in path.split("/") if s and s not in (".", "..")]
    if not segments or any(_BAD_SEGMENT.search(s) or looks_secret(s) for s in segments):
        return None
    return segments
