"""Arrow record batches regrouped into tables of a chosen size."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa


def gathered(batches: Iterable[pa.RecordBatch | pa.Table], size: int) -> Iterator[pa.Table]:
    """``batches`` gathered into tables of ``size`` rows (the last: fewer), in order.

    Readers (DuckDB, Snowflake) hand over small pieces; a sync loads far faster in fewer,
    larger batches.
    """
    parts: list[pa.RecordBatch] = []
    held = 0
    for piece in batches:
        for batch in piece.to_batches() if isinstance(piece, pa.Table) else [piece]:
            while batch.num_rows:
                take = batch.slice(0, size - held)
                parts.append(take)
                held += take.num_rows
                batch = batch.slice(take.num_rows)
                if held == size:
                    yield pa.Table.from_batches(parts)
                    parts, held = [], 0
    if held:
        yield pa.Table.from_batches(parts)
