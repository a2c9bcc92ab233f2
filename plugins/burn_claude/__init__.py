"""Claude Code reader plugin (placeholder; see reader.py)."""
