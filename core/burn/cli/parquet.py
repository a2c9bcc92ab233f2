"""``burn export NAME --parquet FILE``: the export's rows as a Parquet file (the ``burn[parquet]`` extra).

The rows are exactly the NDJSON export's row lines (``--all --rows-only``): they are written to a
temporary NDJSON file first and DuckDB converts that file (``COPY … TO … (FORMAT parquet)``).
DuckDB rather than pyarrow: the dashboard already depends on it (``burn[dashboard]``), so one
optional engine serves both, and its JSON reader infers nested columns (``tokens``, ``cost`` …
become STRUCT columns, ``models`` a list) from every row, not a sample.

Columns keep the contract's JSON types: strings stay strings (DuckDB's date and timestamp
detection is switched off, so ``started_at`` is the RFC 3339 text the NDJSON has), integers are
BIGINT (micro-dollars and token counts exact), decimal strings stay strings. A field a row lacks
(an optional field, or a key only some rows have) is null in that row.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from burn.errors import BurnError, UsageError

MISSING = "--parquet needs duckdb: pip install 'burn[parquet]'"
# A format no string in a row can match: the JSON reader then leaves every string a VARCHAR
# (its automatic date/timestamp detection has no off switch of its own).
_NO_DATES = "%y%%never"


def require() -> Any:
    """The duckdb module, or the one-line error naming the extra."""
    try:
        import duckdb
    except ImportError:
        raise BurnError(MISSING) from None
    return duckdb


def write(path: Path, rows: Callable[[BinaryIO], int]) -> tuple[int, int]:
    """Write the NDJSON row lines ``rows(out)`` produces into ``path`` as Parquet (atomically:
    a temporary file beside it, then a rename). Returns (exit code of ``rows``, rows written)."""
    duckdb = require()
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--parquet {path}: is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"--parquet {path}: no directory {path.parent}")
    with tempfile.TemporaryDirectory(prefix="burn-parquet-") as tmp:
        ndjson = Path(tmp) / "rows.ndjson"
        with ndjson.open("wb") as out:
            code = rows(out)
        if code != 0:
            return code, 0
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        con = duckdb.connect()
        try:
            con.execute("SET preserve_insertion_order = true")
            if ndjson.stat().st_size == 0:  # no rows: nothing to infer columns from
                select = "SELECT NULL::VARCHAR AS type WHERE false"
                params: list[Any] = []
            else:
                select = (
                    "SELECT * FROM read_json(?, format = 'newline_delimited', sample_size = -1, "
                    "dateformat = ?, timestampformat = ?)"
                )
                params = [str(ndjson), _NO_DATES, _NO_DATES]
            con.execute(f"COPY ({select}) TO '{_quote(partial)}' (FORMAT parquet)", params)
            count = int(con.execute(f"SELECT count(*) FROM read_parquet('{_quote(partial)}')").fetchone()[0])
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        finally:
            con.close()
        os.replace(partial, path)
    return 0, count


def _quote(path: Path) -> str:
    # COPY … TO takes a literal, not a parameter.
    return str(path).replace("'", "''")
