"""codex reader plugin (in progress)."""
