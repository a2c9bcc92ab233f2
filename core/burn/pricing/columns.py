"""The archive's per-turn cost columns (kept free of heavy imports: the archive schema needs them)."""

from __future__ import annotations

# Columns appended to ``turns``, in this order (``turn_columns`` returns their values).
COST_COLUMNS = (
    ("cost_input_micros", "INTEGER"),
    ("cost_output_micros", "INTEGER"),
    ("cost_cache_read_micros", "INTEGER"),
    ("cost_cache_write_5m_micros", "INTEGER"),
    ("cost_cache_write_1h_micros", "INTEGER"),
    ("cost_web_search_micros", "INTEGER"),
    ("computed_cost_micros", "INTEGER"),  # the sum of the six components above
    ("reported_cost_micros", "INTEGER"),  # the source's own figure, rounded once
    ("cost_usd_micros", "INTEGER"),  # what totals use: computed, else reported, else NULL
    ("cost_source", "TEXT"),  # computed | reported | none
    ("price_model", "TEXT"),  # the table row that priced the turn
    ("price_match", "TEXT"),  # exact | normalized | fallback | unpriced
    ("price_tier", "INTEGER"),  # the long-context threshold applied, if any
    ("cost_reasoning_micros", "INTEGER"),  # the part of cost_output_micros spent reasoning
)
COST_COLUMNS_SQL = ", ".join(f"{name} {kind}" for name, kind in COST_COLUMNS)
