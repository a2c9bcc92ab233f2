"""Stamps (issue 17): ``burn stamp`` and the ``RELAYBURN_STAMP_*`` variables an orchestrator sets
around ``burn ingest`` (docs/stamps.md).

``RELAYBURN_STAMP_WORKFLOW``, ``_AGENT``, ``_PERSONA``, ``_TIER``: when any is set, ``burn ingest``
appends one ``stamp`` record for each session it read new records of in that run whose id or
working directory matches ``RELAYBURN_STAMP_MATCH`` (a shell glob, ``fnmatch``; unset: every such
session). Values pass the same redaction as every free-form string; an empty or over-long value
is a one-line error, never a stamp.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import orjson

from burn.errors import UsageError
from burn.privacy.redact import redact
from burn.records import STAMP_FIELDS, Stamp
from burn.store import Encoded

MAX_VALUE = 200
ENV_PREFIX = "RELAYBURN_STAMP_"


def now_ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def clean_value(name: str, value: str | None) -> str | None:
    """A stamp value as stored: ``None`` stays ``None``; empty, over-long or control characters
    are a :class:`UsageError` naming ``name``; credentials are redacted."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_VALUE or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError(f"{name}: a stamp value is 1–{MAX_VALUE} printable characters, got {value!r}")
    return redact(value)


class EnvStamps:
    """The stamps one ``burn ingest`` run adds from ``RELAYBURN_STAMP_*`` (:meth:`from_env`)."""

    def __init__(self, values: Mapping[str, str | None], match: str | None, ts: str) -> None:
        self.values, self.match, self.ts = dict(values), match, ts
        self.sessions: dict[tuple[str, str], None] = {}  # in the order they were read

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EnvStamps | None:
        values = {
            f: clean_value(ENV_PREFIX + f.upper(), env.get(ENV_PREFIX + f.upper())) for f in STAMP_FIELDS
        }
        if not any(values.values()):
            return None
        match = env.get(ENV_PREFIX + "MATCH") or None
        return cls(values, match, now_ts())

    def _matches(self, session_id: str, cwd: str | None) -> bool:
        if self.match is None:
            return True
        return fnmatch.fnmatchcase(session_id, self.match) or (
            cwd is not None and fnmatch.fnmatchcase(cwd, self.match)
        )

    def see(self, items: Iterable[Encoded]) -> None:
        """Note the sessions of records about to be appended (their ``session`` records)."""
        for item in items:
            if item.kind == "session":
                data = orjson.loads(item.data)
                if self._matches(data["session_id"], data.get("cwd")):
                    self.sessions.setdefault((data["source"], data["session_id"]), None)

    def records(self) -> list[Stamp]:
        return [
            Stamp(session_id=sid, ts=self.ts, source=source, origin="env", **self.values)
            for source, sid in self.sessions
        ]
