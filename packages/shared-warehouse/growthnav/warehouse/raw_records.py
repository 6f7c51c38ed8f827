"""Raw records as the source sent them, kept so a changed field map can re-map without a fetch.

One table per connector, ``"<customer>".raw__<connector>``, with the source's own columns
(columns that appear later are added) plus ``_gn_key`` (the record's id), ``_gn_hash`` (a hash
of the whole row), ``_gn_seq`` (when it was stored) and ``_gn_row`` (its place in the batch).
``(_gn_key, _gn_hash)`` is unique, so a replayed batch stores nothing twice; a record that
changed is stored again and the later version wins when re-mapping.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from growthnav.warehouse.duckdb_warehouse import DuckDBWarehouse

_META = ("_gn_key", "_gn_hash", "_gn_seq", "_gn_row")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_table_name(connector_id: str) -> str:
    """``raw__<connector id>`` with anything but letters, digits and '_' as '_'."""
    return "raw__" + re.sub(r"[^a-z0-9_]", "_", connector_id.lower())


class DuckDBRawStore:
    """Raw records in the DuckDB warehouse, beside the customer's conversions."""

    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        self.warehouse = warehouse

    def _table(self, customer_id: str, connector_id: str) -> str:
        return self.warehouse.table_name(customer_id, raw_table_name(connector_id))

    def store_raw(
        self, customer_id: str, connector_id: str, batch: pa.Table, key_column: str | None
    ) -> int:
        """Keep a batch of raw records (a replay stores nothing twice); returns rows added."""
        if batch.num_rows == 0:
            return 0
        self.warehouse.ensure_customer(customer_id)
        table = self._table(customer_id, connector_id)
        names = [n for n in batch.column_names if n not in _META]
        key = (
            f"coalesce(CAST({_ident(key_column)} AS VARCHAR), '')"
            if key_column and key_column in names
            else "''"
        )
        row_hash = f"hash({', '.join(_ident(n) for n in names)})"
        with self.warehouse.connection() as connection:
            connection.register("incoming_raw", batch.select(names))
            connection.execute("BEGIN TRANSACTION")
            try:
                self._ensure_columns(connection, table, customer_id, connector_id)
                seq = time.time_ns()
                added = connection.execute(
                    f"INSERT INTO {table} BY NAME SELECT *, {key} AS _gn_key, "
                    f"{row_hash} AS _gn_hash, {seq}::BIGINT AS _gn_seq, "
                    "(row_number() OVER ())::BIGINT AS _gn_row FROM incoming_raw "
                    "ON CONFLICT DO NOTHING"
                ).fetchall()
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return int(added[0][0]) if added else 0

    def _ensure_columns(
        self, connection: Any, table: str, customer_id: str, connector_id: str
    ) -> None:
        incoming = connection.execute("DESCRIBE SELECT * FROM incoming_raw").fetchall()
        existing = connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [customer_id, raw_table_name(connector_id)],
        ).fetchall()
        if not existing:
            columns = ", ".join(f"{_ident(name)} {kind}" for name, kind, *_ in incoming)
            connection.execute(
                f"CREATE TABLE {table} ({columns}, _gn_key VARCHAR NOT NULL, "
                "_gn_hash UBIGINT NOT NULL, _gn_seq BIGINT NOT NULL, _gn_row BIGINT NOT NULL, "
                "PRIMARY KEY (_gn_key, _gn_hash))"
            )
            return
        have = {row[0] for row in existing}
        for name, kind, *_ in incoming:
            if name not in have:  # schema drift: a column the source added
                connection.execute(f"ALTER TABLE {table} ADD COLUMN {_ident(name)} {kind}")

    def has_raw(self, customer_id: str, connector_id: str) -> bool:
        """True when the connector has stored raw records."""
        with self.warehouse.connection() as connection:
            return bool(
                connection.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                    [customer_id, raw_table_name(connector_id)],
                ).fetchall()[0][0]
            )

    def read_raw(self, customer_id: str, connector_id: str, batch_size: int) -> Iterator[pa.Table]:
        """The raw records in stored order (later versions of a record after earlier ones)."""
        table = self._table(customer_id, connector_id)
        with self.warehouse.connection() as connection:
            reader = connection.execute(
                f"SELECT * EXCLUDE ({', '.join(_META)}) FROM {table} ORDER BY _gn_seq, _gn_row"
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
                    f"DELETE FROM {name(customer_id, 'conversions')} WHERE connector_id = ? "
                    f"AND transaction_id NOT IN (SELECT key FROM {transaction_ids})",
                    [connector_id],
                ).fetchall()
                gone_rejects = connection.execute(
                    f"DELETE FROM {name(customer_id, 'conversion_rejects')} "
                    f"WHERE connector_id = ? AND reason <> 'malformed_row' "
                    f"AND reject_key NOT IN (SELECT key FROM {reject_keys})",
                    [connector_id],
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
