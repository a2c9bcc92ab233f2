"""Removing credentials from free-form strings before they reach the ledger (DESIGN §9).

Remotes go through :func:`burn.remotes.normalize_remote`, which keeps only ``host/owner/repo``.
Paths, titles and tool targets are free-form, and people do clone into directories named after
URLs or paste tokens into commands, so those strings pass through :func:`redact` at ingest.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

REDACTED = "[redacted]"

_PATTERNS = [
    # userinfo in anything URL-like: scheme://user:secret@host or user:secret@host
    re.compile(r"(?<=://)[^/\s@]+@"),
    re.compile(r"\b[^/\s:@]+:[^/\s@]+@(?=[A-Za-z0-9.\-]+)"),
    # well-known token shapes
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{16,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"\bx-access-token:[^\s@/]+"),
    # secrets in query strings
    re.compile(
        r"(?i)([?&](?:access_token|token|private_token|api_key|apikey|key|password|passwd|secret|sig)=)[^&#\s]+"
    ),
]
# Cheap gate: most strings contain none of these characters, so the regexes never run on them.
_SUSPECT = re.compile(r"[@=%]|_[A-Za-z0-9]{8}|-[A-Za-z0-9]{12}|AKIA|sk-")


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
