"""Ingest: reading what changed through the reader plugins (in worker processes), sanitizing,
appending to the ledger and applying to the archive; the readers' cursors."""
