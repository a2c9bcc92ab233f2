"""Timestamps normalised to UTC ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the form Claude Code writes): the
reader kit's :func:`burn.readkit.normalize_ts`, importable here as before."""

from __future__ import annotations

from burn.readkit import normalize_ts

__all__ = ["normalize_ts"]
