"""The embedded default warehouse: one DuckDB file, one schema per customer.

Connections are opened per operation (a CLI sync and an MCP server may share the file) and
each load is one transaction. Batches arrive as Arrow and are merged by key, never inserted
row by row.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from growthnav.conversions import CONVERSION_SCHEMA, REJECT_SCHEMA
from growthnav.conversions.duckdb_arrow import arrow_result
from growthnav.warehouse.base import (
    CONVERSION_KEY,
    MANAGED_COLUMNS,
    REJECT_KEY,
    KeyedWarehouse,
    check_customer_id,
)

DEFAULT_MEMORY_LIMIT = "1GB"


def growthnav_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$GROWTHNAV_HOME``, default ``~/.growthnav``."""
    env = os.environ if environ is None else environ
    return Path(env.get("GROWTHNAV_HOME", str(Path.home() / ".growthnav"))).expanduser()


def _sql_type(data_type: pa.DataType) -> str:
    if pa.types.is_string(data_type):
        return "VARCHAR"
    if pa.types.is_int64(data_type):
        return "BIGINT"
    if pa.types.is_decimal(data_type):
        return f"DECIMAL({data_type.precision}, {data_type.scale})"
    if pa.types.is_timestamp(data_type):
        return "TIMESTAMPTZ" if data_type.tz else "TIMESTAMP"
    raise TypeError(f"no warehouse column type for Arrow type {data_type}")  # pragma: no cover


def _ddl(table: str, schema: pa.Schema, key: tuple[str, ...]) -> str:
    columns = []
    for field in schema:
        not_null = " NOT NULL" if (not field.nullable or field.name in key) else ""
        columns.append(f'"{field.name}" {_sql_type(field.type)}{not_null}')
    columns.append("loaded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp")
    keys = ", ".join(f'"{k}"' for k in key)
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)}, PRIMARY KEY ({keys}))"


class DuckDBWarehouse(KeyedWarehouse):
    """Conversions in ``<customer_id>.conversions``, rejects in ``conversion_rejects``."""

    def __init__(
        self, path: Path | str | None = None, *, memory_limit: str = DEFAULT_MEMORY_LIMIT
    ) -> None:
        self.path = Path(path) if path is not None else growthnav_home() / "warehouse.duckdb"
        self.memory_limit = memory_limit
        self._ready: set[str] = set()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(self.path))
        connection.execute(f"SET memory_limit = '{self.memory_limit}'")
        connection.execute("SET TimeZone = 'UTC'")
        return connection

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the warehouse file for one operation (closed afterwards)."""
        connection = self._connect()
        try:
            yield connection
        finally:
            connection.close()

    @staticmethod
    def table_name(customer_id: str, name: str) -> str:
        """The quoted name of a customer's table, e.g. ``"acme".conversions``."""
        return f'"{check_customer_id(customer_id)}".{name}'

    _table = table_name

    def ensure_customer(self, customer_id: str) -> None:
        """Create the customer's schema and tables when missing."""
        check_customer_id(customer_id)
        if customer_id in self._ready:
            return
        connection = self._connect()
        try:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{customer_id}"')
            connection.execute(
                _ddl(self._table(customer_id, "conversions"), CONVERSION_SCHEMA, CONVERSION_KEY)
            )
            connection.execute(
                _ddl(self._table(customer_id, "conversion_rejects"), REJECT_SCHEMA, REJECT_KEY)
            )
        finally:
            connection.close()
        self._ready.add(customer_id)

    def _merge(
        self, customer_id: str, name: str, batch: pa.Table, key: tuple[str, ...]
    ) -> tuple[int, int]:
        self.ensure_customer(customer_id)
        table = self._table(customer_id, name)
        names = [n for n in batch.schema.names]
        on = " AND ".join(f't."{k}" = s."{k}"' for k in key)
        values = [n for n in names if n not in key and n not in MANAGED_COLUMNS]
        changed = " OR ".join(f't."{n}" IS DISTINCT FROM s."{n}"' for n in values) or "FALSE"
        updates = ", ".join(f'"{n}" = s."{n}"' for n in values) + ", loaded_at = current_timestamp"
        columns = ", ".join(f'"{n}"' for n in names)
        sources = ", ".join(f's."{n}"' for n in names)
        sql = (
            f"MERGE INTO {table} t USING incoming s ON {on} "
            f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {updates} "
            f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({sources}) "
            "RETURNING merge_action"
        )
        connection = self._connect()
        try:
            connection.register("incoming", batch)
            connection.execute("BEGIN TRANSACTION")
            returned = arrow_result(connection, sql)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()
        actions: list[Any] = returned.column(0).to_pylist()
        counts = Counter(str(action) for action in actions)
        return counts["INSERT"], counts["UPDATE"]

    def _read(
        self, customer_id: str, name: str, connector_id: str | None, key: tuple[str, ...]
    ) -> pa.Table:
        self.ensure_customer(customer_id)
        where, params = ("WHERE connector_id = ?", [connector_id]) if connector_id else ("", [])
        order = ", ".join(f'"{k}"' for k in key)
        connection = self._connect()
        try:
            return arrow_result(
                connection,
                f"SELECT * EXCLUDE (loaded_at) FROM {self._table(customer_id, name)} "
                f"{where} ORDER BY {order}",
                params,
            )
        finally:
            connection.close()

    def query(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Run read-only SQL against the warehouse file and return Arrow."""
        connection = self._connect()
        try:
            return arrow_result(connection, sql, params)
        finally:
            connection.close()
