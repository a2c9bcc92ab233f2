"""The analytics engine behind the dashboard (docs/dashboard.md): a DuckDB copy of the archive's
turns, fed incrementally, and the dashboard's queries over it.

Nothing here imports ``duckdb`` at module load: :func:`burn.analytics.engine.open_engine` does, on
the first query, so no other command pays for it (``burn[dashboard]`` is an optional extra)."""
