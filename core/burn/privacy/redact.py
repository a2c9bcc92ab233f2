"""Removing credentials from free-form strings before they reach the ledger (DESIGN §9).

Remotes go through :func:`burn.privacy.remotes.normalize_remote`, which keeps only ``host/owner/repo``.
Paths, titles and tool targets are free-form, and people do clone into directories named after
URLs or paste tokens into commands, so those strings pass through :func:`redact` at ingest.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "[redacted]"

# Well-known token shapes: applied to free-form strings, branch names and remote path segments.
_TOKENS = [
    # Bounded by letters and digits only, not \b: "fix_ghp_…" and "AKIA…_tmp" hold tokens too.
    re.compile(r"(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{16,}"),
    re.compile(r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"(?<![A-Za-z0-9])sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}"),
    re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])"),
    # JSON Web Tokens: base64url header and payload (both JSON objects, so "eyJ"), signature.
    re.compile(r"(?<![A-Za-z0-9])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
    re.compile(r"(?<![A-Za-z0-9])x-access-token:[^\s@/]+"),
]
_PATTERNS = [
    # userinfo in anything URL-like: scheme://user:secret@host or user:secret@host
    re.compile(r"(?<=://)[^/\s@]+@"),
    re.compile(r"\b[^/\s:@]+:[^/\s@]+@(?=[A-Za-z0-9.\-]+)"),
    *_TOKENS,
    # secrets in query strings
    re.compile(
        r"(?i)([?&](?:access_token|token|private_token|api_key|apikey|key|password|passwd|secret|sig)=)[^&#\s]+"
    ),
]
# Cheap gate: most strings contain none of these, so the regexes never run on them. It must admit
# every string some pattern above matches (each pattern's fixed prefix or character is listed).
_SUSPECT = re.compile(r"[@=%]|gh[pousr]_|github_pat_|glpat-|xox[abposre]-|sk-|AKIA|ASIA|eyJ|x-access-token:")


def looks_secret(value: str) -> bool:
    """Whether ``value`` holds a well-known token shape (``ghp_…``, ``xoxb-…``, ``AKIA…``, a JWT …)."""
    return any(p.search(value) for p in _TOKENS)


def redact(value: str | None) -> str | None:
    """``value`` with credentials replaced by ``[redacted]`` (percent-encoded forms included)."""
    if not value or not _SUSPECT.search(value):
        return value
    text = unquote(value) if "%" in value else value
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED + ("@" if pattern.pattern.endswith("@") else ""), text)
    return text


def redact_url(url: str | None) -> str | None:
    """A connection URL fit to print: its password (``scheme://user:secret@host``) and secret
    query parameters (``?password=…``) replaced by ``[redacted]``; the user, host, port and
    database stay, so that a message still says where burn tried to connect."""
    if not url:
        return url
    scheme, sep, rest = url.partition("://")
    if sep:
        # The userinfo ends at the last "@" before the path: a raw password may hold "@" or ":".
        authority_end = len(rest)
        for stop in "/?#":
            found = rest.find(stop, rest.rfind("@") + 1 if "@" in rest else 0)
            if found >= 0:
                authority_end = min(authority_end, found)
        authority, tail = rest[:authority_end], rest[authority_end:]
        userinfo, at, host = authority.rpartition("@")
        if at and ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + REDACTED
        rest = (userinfo + at if at else "") + host + tail
        url = scheme + sep + rest
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, url)


# Secret values in a URL's query or a libpq keyword string (password=…, sslpassword=…).
_SECRET_QUERY = re.compile(
    r"(?i)((?:^|[?&\s])(?:password|sslpassword|passwd|pass|secret|token|access_token|api_key|apikey|sig)=)"
    r"(?:'(?:[^'\\]|\\.)*'|[^&#\s]+)"
)


def url_without_credentials(url: str) -> str:
    """A server URL as messages show it: scheme, host, port and path, without any
    ``user:password@`` and without the query (where a token may ride)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
