"""opencode reader plugin (in progress)."""
