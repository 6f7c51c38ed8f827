"""Raw records as the source sent them, kept so a changed field map can re-map without a fetch.

Each batch a sync loads is written as a Parquet file beside the warehouse,
``raw/<customer>/<connector>/<sequence>.parquet`` (written to a temporary name, then renamed,
so a crash never leaves half a file), plus ``_gn_key``: the record's id. Writing Parquet costs
a fraction of inserting the rows into a table. A Parquet export read whole is kept as a copy
of the file instead (:meth:`DuckDBRawStore.store_file`): it holds those very records.

Re-mapping reads the files back in the order they were written; a replayed batch's duplicates
collapse to one row, and a record that changed keeps both versions, the later after the
earlier, so the later wins. A successful full sync that wrote every record it read retires the
files of earlier syncs; one that found records unchanged and kept their earlier copies does not.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from growthnav.conversions.parsed import sql_identifier, sql_literal
from growthnav.warehouse.base import SOURCE_REJECT, check_customer_id
from growthnav.warehouse.duckdb_warehouse import ROWS_TABLE, DuckDBWarehouse

_META = ("_gn_key",)


class RawFileChangedError(OSError):
    """A source file changed between being read and being kept."""


def _copy_file(reading: BinaryIO, writing: BinaryIO) -> None:
    """Copy ``reading`` (just opened) into ``writing`` (empty), inside the kernel where it can.

    ``copy_file_range`` never brings the bytes into this process: a 190 MB export took 0.05
    CPU-s, where reads and writes through a buffer took 0.07-0.47 (each read's buffer is new
    memory to fault in). Where the kernel refuses (another file system, an older kernel), the
    copy starts again through a buffer.
    """
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        try:
            while copy_range(reading.fileno(), writing.fileno(), 1 << 30):
                pass
            return
        except OSError:
            reading.seek(0)
            writing.seek(0)
            writing.truncate()
    shutil.copyfileobj(reading, writing, 1 << 22)


def raw_table_name(connector_id: str) -> str:
    """``raw__<connector id>`` with anything but letters, digits and '_' as '_'."""
    return "raw__" + re.sub(r"[^a-z0-9_]", "_", connector_id.lower())


class DuckDBRawStore:
    """Raw record files beside the DuckDB warehouse, and the re-map's housekeeping there."""

    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        self.warehouse = warehouse
        self.root = warehouse.path.parent / "raw"

    def directory(self, customer_id: str, connector_id: str) -> Path:
        """Where a connector's raw record files are."""
        return self.root / check_customer_id(customer_id) / raw_table_name(connector_id)

    def store_raw(
        self, customer_id: str, connector_id: str, batch: pa.Table, key_column: str | None
    ) -> int:
        """Write a batch of raw records; returns how many rows were written."""
        if batch.num_rows == 0:
            return 0
        names = [n for n in batch.column_names if n not in _META]
        batch = batch.select(names).replace_schema_metadata(None)
        key: pa.Array[Any] | pa.ChunkedArray[Any] = pa.repeat(
            pa.scalar("", pa.string()), batch.num_rows
        )
        if key_column and key_column in names:
            filled = pc.coalesce(batch.column(key_column).cast(pa.string()), pa.scalar(""))
            if isinstance(filled, pa.ChunkedArray | pa.Array):
                key = filled
        directory = self.directory(customer_id, connector_id)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.time_ns():020d}.parquet"
        partial = path.with_suffix(".partial")
        # Dictionary pages cost more time than they save space on raw text, and statistics
        # a third of the write: the files are only ever read back whole.
        pq.write_table(
            batch.append_column("_gn_key", key),
            partial,
            compression="snappy",
            use_dictionary=False,
            write_statistics=False,
        )
        os.replace(partial, path)
        return batch.num_rows

    def store_file(
        self, customer_id: str, connector_id: str, source: Path, size: int, mtime_ns: int
    ) -> int:
        """Keep a copy of a Parquet file whose records a sync read whole; returns its rows.

        ``size`` and ``mtime_ns`` are the file's when the sync began reading it: a file
        that differs (replaced or written since) is refused, as its records may not be the
        ones read, and so is one written to during the copy.
        """
        directory = self.directory(customer_id, connector_id)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.time_ns():020d}.parquet"
        partial = path.with_suffix(".partial")
        try:
            with source.open("rb") as reading, partial.open("wb") as writing:
                before = os.fstat(reading.fileno())
                _copy_file(reading, writing)
                after = os.fstat(reading.fileno())
            for stat in (before, after):
                if (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
                    raise RawFileChangedError(
                        f"{source.name} changed while the sync read it (its size or "
                        "modification time is not what it was when reading began): sync "
                        "again to read it as it is now"
                    )
            rows = pq.read_metadata(partial).num_rows
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, path)
        return rows

    def row_count(self, customer_id: str, connector_id: str) -> int:
        """How many raw records the connector's files hold (from their footers)."""
        return sum(
            pq.ParquetFile(path).metadata.num_rows
            for path in self.directory(customer_id, connector_id).glob("*.parquet")
        )

    def has_raw(self, customer_id: str, connector_id: str) -> bool:
        """True when the connector has raw records kept."""
        return any(self.directory(customer_id, connector_id).glob("*.parquet"))

    def retire_before(self, customer_id: str, connector_id: str, moment_ns: int) -> int:
        """Delete raw files written before ``moment_ns`` (after a full re-read); returns count."""
        retired = 0
        for path in self.directory(customer_id, connector_id).glob("*.parquet"):
            if int(path.stem) < moment_ns:
                path.unlink()
                retired += 1
        return retired

    def read_raw(
        self, customer_id: str, connector_id: str, batch_size: int, key_column: str | None = None
    ) -> Iterator[pa.Table]:
        """The raw records in written order, each distinct version of a record once.

        A version seen several times (a replayed batch) is placed where it was last written,
        so the version written last comes last and wins. A record's id is its ``_gn_key``,
        or in a copied file (which has none) its ``key_column``.
        """
        pattern = str(self.directory(customer_id, connector_id) / "*.parquet")
        with self.warehouse.connection() as connection:
            source = (
                f"read_parquet({sql_literal(pattern)}, union_by_name = true, filename = true, "
                "file_row_number = true)"
            )
            described = [
                row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            ]
            columns = [c for c in described if c not in ("filename", "file_row_number", *_META)]
            ids = [c for c in _META if c in described]
            if key_column is not None and key_column in columns:
                ids.append(f"CAST({sql_identifier(key_column)} AS VARCHAR)")
            key = f"coalesce({', '.join(ids)}, '')" if ids else "''"
            selected = ", ".join(sql_identifier(c) for c in columns)
            reader = connection.execute(
                f"SELECT {selected} FROM (SELECT {selected}, filename, file_row_number, "
                f"row_number() OVER (PARTITION BY {key}, hash({selected}) "
                "ORDER BY filename DESC, file_row_number DESC) AS _gn_rank "
                f"FROM {source}) WHERE _gn_rank = 1 ORDER BY filename, file_row_number"
            ).to_arrow_reader(batch_size)
            assert reader is not None  # a SELECT always has a result
            for batch in reader:
                yield pa.Table.from_batches([batch])

    def prune(
        self, customer_id: str, connector_id: str, transaction_ids: str, reject_keys: str
    ) -> tuple[int, int]:
        """Delete conversions/rejects of the connector whose keys are not in the given tables.

        ``transaction_ids`` and ``reject_keys`` name tables (one ``key`` column each) holding
        the keys a re-map produced. Lines the source could not hand over as records
        (``malformed_row``) were never raw records and stay. Returns (conversions deleted,
        rejects deleted).
        """
        name = self.warehouse.table_name
        with self.warehouse.connection() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                gone = connection.execute(
                    f"DELETE FROM {name(customer_id, ROWS_TABLE)} WHERE connector_id = ? "
                    f"AND transaction_id NOT IN (SELECT key FROM {transaction_ids})",
                    [connector_id],
                ).fetchall()
                gone_rejects = connection.execute(
                    f"DELETE FROM {name(customer_id, 'conversion_rejects')} "
                    f"WHERE connector_id = ? AND reason <> ? "
                    f"AND reject_key NOT IN (SELECT key FROM {reject_keys})",
                    [connector_id, SOURCE_REJECT],
                ).fetchall()
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return int(gone[0][0]), int(gone_rejects[0][0])

    def key_table(self, customer_id: str, name: str) -> str:
        """Create (empty) a scratch key table in the customer's schema; returns its name."""
        table = self.warehouse.table_name(customer_id, name)
        with self.warehouse.connection() as connection:
            connection.execute(f"CREATE OR REPLACE TABLE {table} (key VARCHAR NOT NULL)")
        return table

    def add_keys(self, table: str, keys: pa.ChunkedArray[Any]) -> None:
        """Append keys (a text column) to a scratch key table."""
        if len(keys) == 0:
            return
        with self.warehouse.connection() as connection:
            connection.register("incoming_keys", pa.table({"key": keys}))
            connection.execute(f"INSERT INTO {table} SELECT key FROM incoming_keys")

    def drop(self, table: str) -> None:
        """Drop a scratch table."""
        with self.warehouse.connection() as connection:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
