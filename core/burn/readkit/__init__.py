"""The reader kit: what every reader needs, written once — for burn's readers and third-party ones.

A public, stable API (docs/plugins.md, "The reader kit"): names exported here keep their meaning
and signature; new ones may be added. One module per job:

* :mod:`~burn.readkit.values` — typed getters for parsed JSON (:func:`nonempty_str`);
* :mod:`~burn.readkit.timefmt` — timestamps in the one form records use (:func:`normalize_ts`,
  :func:`ms_to_iso`, :func:`format_utc`, :func:`valid_ts`);
* :mod:`~burn.readkit.content` — sizes and hashes instead of content (:func:`sha32`,
  :func:`content_bytes`, :func:`size_and_hash`, :func:`user_block`, :func:`args_hash`), and
  non-secret tool-call targets (:func:`tool_target`, :func:`command_head`, :func:`url_host`);
* :mod:`~burn.readkit.jsonl` — ``read()`` of an append-only JSONL file (:func:`read_jsonl`, a
  :class:`JsonlParser`, :class:`WrongType`, :class:`InvalidJson`, :func:`repair_json`);
* :mod:`~burn.readkit.walk` — the directory walk of discovery (:func:`walk_files`);
* :mod:`~burn.readkit.words` — counts and sizes in messages (:func:`plural`, :func:`human_bytes`);
* :mod:`~burn.readkit.layout` — a reader whose locations and discovery live in a module
  (:class:`LayoutReader`).
"""

from __future__ import annotations

from burn.privacy.remotes import normalize_remote
from burn.readkit.content import (
    TARGET_MAX,
    TargetKind,
    TargetRules,
    args_hash,
    command_head,
    content_bytes,
    sha32,
    size_and_hash,
    tool_target,
    url_host,
    user_block,
)
from burn.readkit.jsonl import (
    InvalidJson,
    JsonlParser,
    ParserFactory,
    WrongType,
    read_jsonl,
    repair_json,
)
from burn.readkit.layout import Layout, LayoutReader
from burn.readkit.timefmt import format_utc, ms_to_iso, normalize_ts, valid_ts
from burn.readkit.values import nonempty_str
from burn.readkit.walk import walk_files
from burn.readkit.words import human_bytes, plural

__all__ = [
    "TARGET_MAX",
    "InvalidJson",
    "JsonlParser",
    "Layout",
    "LayoutReader",
    "ParserFactory",
    "TargetKind",
    "TargetRules",
    "WrongType",
    "args_hash",
    "command_head",
    "content_bytes",
    "format_utc",
    "human_bytes",
    "ms_to_iso",
    "nonempty_str",
    "normalize_remote",
    "normalize_ts",
    "plural",
    "read_jsonl",
    "repair_json",
    "sha32",
    "size_and_hash",
    "tool_target",
    "url_host",
    "user_block",
    "valid_ts",
    "walk_files",
]
