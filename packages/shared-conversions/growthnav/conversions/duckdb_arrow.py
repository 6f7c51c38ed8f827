"""DuckDB connections that print nothing, and statements' results taken as Arrow."""

from __future__ import annotations

import warnings
from typing import Any

import duckdb
import pyarrow as pa

# execute() plans a statement once, where sql() binds it a second time to build a relation
# (~30 ms for the normalizer's query), and it runs DML with RETURNING. DuckDB warns that its
# Arrow output is then a copy; the copy costs less than the second planning. The filter is set
# once for the process because warnings.catch_warnings() is not thread-safe.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that draws no progress bar.

    DuckDB draws one on stderr for long queries, breaking into a CLI's output and a server's
    logs.
    """
    connection = duckdb.connect(database)
    connection.execute("SET enable_progress_bar = false")
    return connection


#: Rows per chunk of an Arrow table handed to DuckDB: it scans such a table in parallel by
#: chunk, so a table of one chunk is read by one thread.
SCAN_CHUNK_ROWS = 32_768


def in_scan_chunks(table: pa.Table) -> pa.Table:
    """``table`` in chunks of at most :data:`SCAN_CHUNK_ROWS` rows (slices: nothing copied)."""
    if table.num_rows <= SCAN_CHUNK_ROWS:
        return table
    return pa.Table.from_batches(table.to_batches(max_chunksize=SCAN_CHUNK_ROWS), table.schema)


def arrow_result(
    connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> pa.Table:
    """Execute ``sql`` and return its result as an Arrow table."""
    table = connection.execute(sql, params or []).to_arrow_table()
    if table is None:  # pragma: no cover - a statement always has a result here
        raise RuntimeError(f"DuckDB returned no result for: {sql[:80]}")
    return table
