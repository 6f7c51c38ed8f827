"""Arrow record batches regrouped into tables of a chosen size, and read ahead."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pyarrow as pa

T = TypeVar("T")
_END = object()


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


def read_ahead(batches: Iterable[T]) -> Generator[T, None, None]:
    """Yield ``batches`` while a thread of their own reads the next one.

    Reading a source's next batch (decoding a file) then overlaps with what the caller does
    with the current one, instead of waiting for it. Only that thread advances ``batches``,
    one batch after the other; its exception is raised here, at the batch that failed.
    Closing this iterator waits for the read in flight, then closes ``batches``.
    """
    source = iter(batches)
    reader = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
    try:
        ahead = reader.submit(next, source, _END)
        while (batch := ahead.result()) is not _END:
            ahead = reader.submit(next, source, _END)
            yield batch  # type: ignore[misc]
    finally:
        reader.shutdown(wait=True, cancel_futures=True)
        close = getattr(source, "close", None)
        if close is not None:
            close()
