"""The SQLite archive materialized from the ledger: schema, incremental build, rollups, state."""
