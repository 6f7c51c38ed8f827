"""The embedded default warehouse: one DuckDB file, one schema per customer.

Connections are opened per operation (a CLI sync and an MCP server may share the file) and
each load is one transaction. Batches arrive as Arrow and are merged by key, never inserted
row by row.

The tables carry no primary-key index: keeping a DuckDB (ART) index on three text columns
costs more than the load itself. Keys are kept unique by the merge, in one transaction: each
row stores ``_key_hash``, the MD5 of its key (a 128-bit number: matching a batch against
millions of rows joins on one integer column instead of three text ones), and ``_row_hash``,
a hash of its values (an unchanged row is recognised by one comparison). A batch is matched
once; changed rows are updated by row id and new rows inserted.

``conversions`` is a view over the table ``conversion_rows``, which stores only the columns
some conversion of the customer has a value in: a sync writes each stored column of every row,
and the fields most sources leave empty (click ids, UTM tags, names...) cost as much to store
empty as filled, together about a third of a load. A column is added to the table the first
time a batch holds a value for it; until then the view reads it as NULL.

The columns a connector fills with one value (customer, source system, conversion type,
source, usually the currency) are not stored per row either: each distinct combination is a
row of ``conversion_profiles``, and a conversion keeps its combination's number
(``_profile``), which the view looks up.

A conversion loaded by a sync also keeps ``_raw_hash``: a hash of the raw record it came from
and of the normalizer's rules and settings. A later sync reading the same record unchanged
finds it by that hash (:meth:`DuckDBWarehouse.screen`) and skips normalizing it again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from growthnav.conversions import CONVERSION_SCHEMA, REJECT_SCHEMA
from growthnav.conversions.duckdb_arrow import arrow_result, in_scan_chunks
from growthnav.conversions.duckdb_arrow import connect as connect_quietly
from growthnav.conversions.parsed import sql_literal as sql_text
from growthnav.conversions.positions import row_positions
from growthnav.warehouse.base import (
    CONVERSION_KEY,
    MANAGED_COLUMNS,
    REJECT_KEY,
    SOURCE_REJECT,
    KeyedWarehouse,
    LoadCounts,
    check_customer_id,
    require_keys,
)

#: DuckDB's share of a sync's memory. It keeps the table's blocks as it writes and reads them,
#: up to this limit, so a larger limit grows the process with the table, not with the batch
#: (at 1GB, a sync of 8M rows peaked at 1.07 GiB); the batches in flight take the rest of a
#: 1 GB budget. Loads of whole row groups (see the sync's sink) fill it: at 256MB a sync of
#: 4M rows in such loads peaked at 1,029-1,075 MiB, at 128MB at 871-894 MiB. Beyond it, large
#: queries spill to the file's temporary directory.
DEFAULT_MEMORY_LIMIT = "128MB"
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(b|bytes?|[kmgt]i?b)", re.IGNORECASE)


class ConnectorRows(NamedTuple):
    """A connector's rows in the warehouse."""

    #: Conversions and rejects.
    total: int
    #: Conversions that keep the hash of the raw record they were loaded from.
    raw_hashed: int


def growthnav_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$GROWTHNAV_HOME``, default ``~/.growthnav`` (also when it is set but blank)."""
    env = os.environ if environ is None else environ
    home = env.get("GROWTHNAV_HOME", "").strip()
    return Path(home).expanduser() if home else Path.home() / ".growthnav"


def _sql_type(data_type: pa.DataType) -> str:
    if pa.types.is_dictionary(data_type):
        return _sql_type(data_type.value_type)  # DuckDB reads a dictionary as its values
    if pa.types.is_string(data_type):
        return "VARCHAR"
    if pa.types.is_int64(data_type):
        return "BIGINT"
    if pa.types.is_decimal(data_type):
        return f"DECIMAL({data_type.precision}, {data_type.scale})"
    if pa.types.is_timestamp(data_type):
        return "TIMESTAMPTZ" if data_type.tz else "TIMESTAMP"
    raise TypeError(f"no warehouse column type for Arrow type {data_type}")  # pragma: no cover


#: Bookkeeping columns of the DuckDB tables (not part of the Arrow schemas).
BOOKKEEPING = ("loaded_at", "_key_hash", "_row_hash", "_raw_hash")


#: Text columns holding about one value per record or person. DuckDB's default string
#: compression (dictionary, then FSST) spends about twice the CPU of ZSTD on such values: per
#: 1M rows, 0.46-0.53 CPU-s against 0.21-0.26, for 5.3-6.6 MB against 6.6-8.9 MB on disk;
#: scans are as fast. A sync writes every value once. (A column left empty by a source costs
#: ~4 MB per 1M rows in ZSTD, against almost nothing, so only these three.)
_ZSTD_COLUMNS = frozenset({"transaction_id", "user_id", "email"})


#: The table holding a customer's conversions; ``conversions`` is a view over it.
ROWS_TABLE = "conversion_rows"
#: Columns ``conversion_rows`` always has: those every conversion fills (besides the profile
#: columns). The others are added when a batch first holds a value for them.
_ALWAYS_STORED = frozenset({"connector_id", "transaction_id", "timestamp"})
#: The table of the combinations of ``PROFILE_COLUMNS`` a customer's conversions hold.
PROFILES_TABLE = "conversion_profiles"
#: Columns a connector's conversions hold one value in (a batch of them, one combination).
#: Stored per row, each cost a load about as much as a column of distinct values.
PROFILE_COLUMNS = ("customer_id", "source_system", "conversion_type", "source", "currency")


def _column_sql(field: pa.Field[Any], key: tuple[str, ...]) -> str:
    not_null = " NOT NULL" if (not field.nullable or field.name in key) else ""
    zstd = " USING COMPRESSION zstd" if field.name in _ZSTD_COLUMNS else ""
    return f"{_quoted(field.name)} {_sql_type(field.type)}{not_null}{zstd}"


def _ddl(table: str, schema: pa.Schema, key: tuple[str, ...]) -> str:
    columns = [_column_sql(field, key) for field in schema]
    columns.append("loaded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp")
    columns.append("_key_hash UHUGEINT")
    columns.append("_row_hash UBIGINT")
    columns.append("_raw_hash UBIGINT")
    return f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(columns)})"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _view_sql(view: str, table: str, profiles: str, stored: frozenset[str]) -> str:
    """``conversions``: every column of the schema, NULL where the table stores none.

    Profile columns come from the row's profile; a table of an earlier release may still
    hold them for its older rows (then without a profile).
    """
    columns = []
    for f in CONVERSION_SCHEMA:
        name = _quoted(f.name)
        if f.name in PROFILE_COLUMNS:
            value = f"coalesce(p.{name}, r.{name})" if f.name in stored else f"p.{name}"
        else:
            value = f"r.{name}" if f.name in stored else f"NULL::{_sql_type(f.type)}"
        columns.append(f"{value} AS {name}")
    return (
        f"CREATE OR REPLACE VIEW {view} AS SELECT {', '.join(columns)}, "
        f"{', '.join(f'r.{b}' for b in BOOKKEEPING)} "
        f"FROM {table} r LEFT JOIN {profiles} p ON r._profile = p._profile"
    )


def _same_profile(value: str) -> str:
    """SQL: profile ``p`` holds each profile column's ``value`` (``{}``: the column's name)."""
    return " AND ".join(
        f"p.{_quoted(n)} IS NOT DISTINCT FROM {value.format(_quoted(n))}" for n in PROFILE_COLUMNS
    )


def _one_value(column: pa.ChunkedArray[Any]) -> tuple[bool, Any]:
    """(True, the value) when every row of ``column`` holds the same value (or none)."""
    if column.null_count == len(column):
        return True, None
    if column.null_count:
        return False, None
    low, high = pc.min_max(column).values()
    return low == high, low.as_py()


def _filled(batch: pa.Table) -> list[str]:
    """The columns of ``batch`` holding at least one value."""
    return [n for n in batch.schema.names if batch.column(n).null_count < batch.num_rows]


def raw_hash_sql(salt: str, columns: Iterable[str], alias: str = "") -> str:
    """SQL for a raw record's hash: ``salt`` and its columns' values, in column-name order.

    The one form of the hash :meth:`DuckDBWarehouse.screen` keeps, so that a source reading
    through DuckDB can compute it as it reads. ``alias`` qualifies the columns.
    """
    prefix = f"{alias}." if alias else ""
    values = ", ".join(prefix + _quoted(n) for n in sorted(columns))
    return f"hash({sql_text(salt)}, {values})"


def _key_hash_of(parts: list[str]) -> str:
    """MD5 of the key's values (SQL expressions) joined by a unit separator.

    The one form of ``_key_hash`` (stable across DuckDB releases).
    """
    return f"md5_number(concat_ws(chr(31), {', '.join(parts)}))"


#: A batch row's ``_key_hash`` put back together from its two halves (the batch aliased ``s``).
_JOINED_KEY_HASH = "((s._gn_k1::UHUGEINT << 64) | s._gn_k0::UHUGEINT)"


def _hash_columns(
    connection: duckdb.DuckDBPyConnection, batch: pa.Table, key: tuple[str, ...]
) -> pa.Table:
    """Each row's key hash (as two 64-bit halves) and row hash, in batch order.

    Arrow has no 128-bit integer: the key hash travels as ``_gn_k1`` (high) and ``_gn_k0``.
    The row hash covers the columns a merge compares (not the key, not managed columns); a
    column holding no value enters it as a typed NULL, the same hash unread (48 against 53 ms
    a batch of 250,000 conversions). Constant key columns as literals were slower (59 ms).
    """
    key_parts = [f"s.{_quoted(name)}" for name in key]
    row_parts = [
        f"NULL::{_sql_type(f.type)}"
        if batch.column(f.name).null_count == batch.num_rows
        else f"s.{_quoted(f.name)}"
        for f in batch.schema
        if f.name not in key and f.name not in MANAGED_COLUMNS
    ]
    connection.register("hashing", in_scan_chunks(batch))
    try:
        return arrow_result(
            connection,
            f"SELECT (k >> 64)::UBIGINT AS _gn_k1, (k & {2**64 - 1})::UBIGINT AS _gn_k0, "
            f"_gn_row FROM (SELECT {_key_hash_of(key_parts)} AS k, "
            f"hash({', '.join(row_parts)}) AS _gn_row FROM hashing s)",
        )
    finally:
        connection.unregister("hashing")


def _last_per_key(batch: pa.Table) -> pa.Table:
    """The last row of each key hash, in batch order (a record changed twice in a batch)."""
    low = batch.column("_gn_k0")
    ordered = np.sort(low.to_numpy())  # a radix sort: faster than hashing the values
    if not (ordered[1:] == ordered[:-1]).any():
        return batch  # distinct halves: distinct keys
    positions = pa.table(
        {"k1": batch.column("_gn_k1"), "k0": low, "i": row_positions(batch.num_rows)}
    )
    last = positions.group_by(["k1", "k0"]).aggregate([("i", "max")]).column("i_max")
    return batch.take(pc.take(last, pc.sort_indices(last)))


def _all_rows_same(keys: pa.Array[Any], same: pa.Array[Any]) -> pa.Array[Any]:
    """Per row: ``same`` holds for it and for every other row of its key."""
    differing = pc.drop_null(pc.filter(keys, pc.invert(same)))
    if not len(differing):
        return same
    held: pa.Array[Any] = pc.and_(same, pc.invert(pc.is_in(keys, value_set=differing)))
    return held


def memory_limit_problem(value: str) -> str | None:
    """Why ``value`` is not a DuckDB memory size (None when it is one, e.g. ``512MB``)."""
    if _MEMORY_SIZE.fullmatch(value.strip()):
        return None
    return f"{value!r} is not a memory size: give a number and a unit, e.g. '256MB' or '2GB'"


def _memory_limit(connection: duckdb.DuckDBPyConnection) -> str:
    row = connection.execute("SELECT current_setting('memory_limit')").fetchone()
    return str(row[0]) if row else ""


class DuckDBWarehouse(KeyedWarehouse):
    """Conversions in ``<customer_id>.conversions``, rejects in ``conversion_rejects``."""

    def __init__(
        self, path: Path | str | None = None, *, memory_limit: str = DEFAULT_MEMORY_LIMIT
    ) -> None:
        problem = memory_limit_problem(memory_limit)
        if problem is not None:
            raise ValueError(f"memory_limit {problem}")
        self.path = Path(path) if path is not None else growthnav_home() / "warehouse.duckdb"
        self.memory_limit = memory_limit.strip()
        self._ready: set[str] = set()
        #: ``memory_limit`` as DuckDB reports it once set (it rounds and reformats it).
        self._limit_as_set: str | None = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = connect_quietly(str(self.path))
        # Setting the limit hands every free page of the process back to the kernel (DuckDB
        # trims the heap), which the next batch faults in again: set it only when it differs.
        if self._limit_as_set is None or _memory_limit(connection) != self._limit_as_set:
            connection.execute(f"SET memory_limit = '{self.memory_limit}'")
            self._limit_as_set = _memory_limit(connection)
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

    @contextmanager
    def session(self) -> Iterator[None]:
        """Keep the warehouse file open across many operations (a sync's batches).

        DuckDB checkpoints a file when its last connection closes, so a connection per batch
        cost a checkpoint per batch (most of a large sync's time). Inside a session the
        per-operation connections share the open database and it checkpoints once, at the
        end. Another process cannot open the file meanwhile, as during any write.
        """
        keep = self._connect()
        try:
            yield
        finally:
            keep.close()

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
        rows = self._table(customer_id, ROWS_TABLE)
        connection = self._connect()
        try:
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{customer_id}"')
            if self._is_table(connection, customer_id, "conversions"):
                # The layout of earlier releases: the table itself was named conversions.
                connection.execute(
                    f"ALTER TABLE {self._table(customer_id, 'conversions')} RENAME TO {ROWS_TABLE}"
                )
            always = pa.schema([f for f in CONVERSION_SCHEMA if f.name in _ALWAYS_STORED])
            connection.execute(_ddl(rows, always, CONVERSION_KEY))
            profiles = pa.schema([CONVERSION_SCHEMA.field(n) for n in PROFILE_COLUMNS])
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self._table(customer_id, PROFILES_TABLE)} "
                f"(_profile INTEGER PRIMARY KEY, "
                f"{', '.join(_column_sql(f, CONVERSION_KEY) for f in profiles)})"
            )
            connection.execute(
                _ddl(self._table(customer_id, "conversion_rejects"), REJECT_SCHEMA, REJECT_KEY)
            )
            # A table of an earlier release keeps storing the profile columns it has.
            stored = self._stored_columns(connection, customer_id)
            connection.execute(f"ALTER TABLE {rows} ADD COLUMN IF NOT EXISTS _profile INTEGER")
            for table, key_parts in (
                (
                    rows,
                    [_quoted(k) if k in stored else sql_text(customer_id) for k in CONVERSION_KEY],
                ),
                (self._table(customer_id, "conversion_rejects"), [_quoted(k) for k in REJECT_KEY]),
            ):
                # Tables of earlier releases get the hashes (a NULL row hash: seen as changed).
                for column, kind in (
                    ("_row_hash", "UBIGINT"),
                    ("_key_hash", "UHUGEINT"),
                    ("_raw_hash", "UBIGINT"),
                ):
                    connection.execute(
                        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}"
                    )
                connection.execute(
                    f"UPDATE {table} SET _key_hash = {_key_hash_of(key_parts)} "
                    "WHERE _key_hash IS NULL"
                )
            self._refresh_view(connection, customer_id)
        finally:
            connection.close()
        self._ready.add(customer_id)

    @staticmethod
    def _is_table(connection: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
        rows = connection.execute(
            "SELECT table_type FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
        return bool(rows) and rows[0][0] == "BASE TABLE"

    @staticmethod
    def _stored_columns(connection: duckdb.DuckDBPyConnection, customer_id: str) -> frozenset[str]:
        """The columns ``conversion_rows`` has (as this connection's transaction sees it)."""
        rows = connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [customer_id, ROWS_TABLE],
        ).fetchall()
        return frozenset(str(row[0]) for row in rows)

    def stored_conversions(
        self, connection: duckdb.DuckDBPyConnection, customer_id: str, columns: list[str]
    ) -> tuple[str, frozenset[str]]:
        """The table behind ``conversions``, with ``columns`` added where it has none yet.

        Write conversions there (the view cannot be written). Runs in ``connection``'s
        transaction: a rollback takes the added columns back too. Returns the table's quoted
        name and its columns.
        """
        self.ensure_customer(customer_id)
        table = self._table(customer_id, ROWS_TABLE)
        stored = self._stored_columns(connection, customer_id)
        missing = [c for c in columns if c not in stored and c not in PROFILE_COLUMNS]
        if missing:
            fields = {f.name: f for f in CONVERSION_SCHEMA}
            for name in missing:
                column = _column_sql(fields[name], CONVERSION_KEY)
                connection.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column}")
            stored = self._refresh_view(connection, customer_id)
        return table, stored

    def _refresh_view(
        self, connection: duckdb.DuckDBPyConnection, customer_id: str
    ) -> frozenset[str]:
        """Define ``conversions`` over the columns the table has now; returns those."""
        stored = self._stored_columns(connection, customer_id)
        connection.execute(
            _view_sql(
                self._table(customer_id, "conversions"),
                self._table(customer_id, ROWS_TABLE),
                self._table(customer_id, PROFILES_TABLE),
                stored,
            )
        )
        return stored

    def profile(
        self, connection: duckdb.DuckDBPyConnection, customer_id: str, values: Mapping[str, Any]
    ) -> int:
        """The number of the profile holding ``values`` (one per column), added if new.

        Runs in ``connection``'s transaction.
        """
        profiles = self._table(customer_id, PROFILES_TABLE)
        params = [values.get(n) for n in PROFILE_COLUMNS]
        found = connection.execute(
            f"SELECT _profile FROM {profiles} p WHERE {_same_profile('?')}", params
        ).fetchall()
        if found:
            return int(found[0][0])
        added = connection.execute(
            f"INSERT INTO {profiles} SELECT coalesce(max(_profile), 0) + 1, "
            f"{', '.join('?' for _ in PROFILE_COLUMNS)} FROM {profiles} RETURNING _profile",
            params,
        ).fetchall()
        return int(added[0][0])

    def _profiles_of(
        self, connection: duckdb.DuckDBPyConnection, customer_id: str, batch: pa.Table
    ) -> str:
        """SQL for each row's profile number, the batch aliased ``s``.

        A literal when the batch holds one combination (a connector's batch does); otherwise
        the batch's combinations are added and each row's is looked up.
        """
        values: dict[str, Any] = {}
        for name in PROFILE_COLUMNS:
            single, value = _one_value(batch.column(name))
            if not single:
                break
            values[name] = value
        else:
            return str(self.profile(connection, customer_id, values))
        connection.register("profiled", batch.select(list(PROFILE_COLUMNS)))
        combinations = connection.execute("SELECT DISTINCT * FROM profiled").fetchall()
        for combination in combinations:
            self.profile(
                connection, customer_id, dict(zip(PROFILE_COLUMNS, combination, strict=True))
            )
        profiles = self._table(customer_id, PROFILES_TABLE)
        return f"(SELECT p._profile FROM {profiles} p WHERE {_same_profile('s.{}')})"

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.connection() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _merge(
        self, customer_id: str, name: str, batch: pa.Table, key: tuple[str, ...]
    ) -> tuple[int, int]:
        self.ensure_customer(customer_id)
        with self._transaction() as connection:
            return self._merge_table(connection, customer_id, name, batch, key)

    def _merge_table(
        self,
        connection: duckdb.DuckDBPyConnection,
        customer_id: str,
        name: str,
        batch: pa.Table,
        key: tuple[str, ...],
        raw_hashes: pa.Array[Any] | None = None,
        hashes: pa.Table | None = None,
    ) -> tuple[int, int]:
        """Merge into the customer's table ``name``; conversions first retire their rejects."""
        if name != "conversions":
            table = self._table(customer_id, name)
            return self._merge_in(connection, table, batch, key, raw_hashes, hashes)
        self._clear_rejects(connection, customer_id, batch)
        table, stored = self.stored_conversions(connection, customer_id, _filled(batch))
        profile = self._profiles_of(connection, customer_id, batch)
        return self._merge_in(connection, table, batch, key, raw_hashes, hashes, stored, profile)

    def _clear_rejects(
        self, connection: duckdb.DuckDBPyConnection, customer_id: str, conversions: pa.Table
    ) -> None:
        """Delete the rejects of records that now load: fixed at the source, or read right.

        A reject carries its record's transaction id where it has one; a conversion of the
        same connector and id replaces it. Called before the batch's own rejects are written.
        """
        rejects = self._table(customer_id, "conversion_rejects")
        connection.register("loaded_ids", conversions.select(["connector_id", "transaction_id"]))
        # A semi join matches each reject once, however often its id repeats in the batch.
        connection.execute(
            f"DELETE FROM {rejects} WHERE rowid IN (SELECT r.rowid FROM {rejects} r "
            "SEMI JOIN loaded_ids s ON r.connector_id = s.connector_id "
            "AND r.transaction_id = s.transaction_id)"
        )

    def load_hashes(self, conversions: pa.Table) -> pa.Table:
        """The hashes a :meth:`load` of ``conversions`` computes, computed ahead of it.

        A sync computes them on its normalizer's thread while the previous batch loads, and
        hands them to :meth:`load`.
        """
        batch = self._keyed(conversions, CONVERSION_SCHEMA, CONVERSION_KEY).combine_chunks()
        with self.connection() as connection:
            return _hash_columns(connection, batch, CONVERSION_KEY)

    def load(
        self,
        customer_id: str,
        conversions: pa.Table,
        rejects: pa.Table,
        raw_hashes: pa.Array[Any] | None = None,
        *,
        before_commit: Callable[[], object] | None = None,
        hashes: pa.Table | None = None,
    ) -> tuple[LoadCounts, int]:
        """Upsert a batch's conversions and rejects in one transaction.

        ``raw_hashes`` (from :meth:`screen`, one per conversion) are kept so that the next sync
        can skip these records while they stay as they are. ``before_commit`` runs last in the
        transaction (an exception rolls it back): a sync waits there for the batch's raw
        records to be kept, so no conversion is committed with the hash of a record that was
        not. ``hashes`` are the conversions' :meth:`load_hashes`, when computed ahead.
        """
        self.ensure_customer(customer_id)
        merges = [
            (name, self._keyed(rows, schema, key), key, raw, ahead)
            for name, rows, schema, key, raw, ahead in (
                ("conversions", conversions, CONVERSION_SCHEMA, CONVERSION_KEY, raw_hashes, hashes),
                ("conversion_rejects", rejects, REJECT_SCHEMA, REJECT_KEY, None, None),
            )
            if rows.num_rows
        ]
        done: dict[str, tuple[int, int]] = {}
        if merges:
            with self._transaction() as connection:
                for name, batch, key, raw, ahead in merges:
                    done[name] = self._merge_table(
                        connection, customer_id, name, batch, key, raw, ahead
                    )
                if before_commit is not None:
                    before_commit()
        inserted, updated = done.get("conversions", (0, 0))
        unchanged = conversions.num_rows - inserted - updated
        return LoadCounts(inserted, updated, unchanged), sum(done.get("conversion_rejects", (0, 0)))

    def _retire_source_rejects(
        self, customer_id: str, connector_id: str, scopes: list[str], found: list[str]
    ) -> int:
        with self.connection() as connection:
            connection.register("scopes", pa.table({"prefix": pa.array(scopes, pa.string())}))
            connection.register("found", pa.table({"key": pa.array(found, pa.string())}))
            deleted = connection.execute(
                f"DELETE FROM {self._table(customer_id, 'conversion_rejects')} r "
                "WHERE connector_id = ? AND reason = ? "
                "AND EXISTS (SELECT 1 FROM scopes p WHERE starts_with(r.reject_key, p.prefix)) "
                "AND reject_key NOT IN (SELECT key FROM found)",
                [connector_id, SOURCE_REJECT],
            ).fetchall()
        return int(deleted[0][0])

    def holds_raw_hashes(self, customer_id: str, connector_id: str) -> bool:
        """True when some conversion of the connector keeps its raw record's hash."""
        self.ensure_customer(customer_id)
        with self.connection() as connection:
            rows = connection.execute(
                f"SELECT EXISTS (SELECT 1 FROM {self._table(customer_id, ROWS_TABLE)} "
                "WHERE connector_id = ? AND _raw_hash IS NOT NULL)",
                [connector_id],
            ).fetchall()
        return bool(rows[0][0])

    def connector_rows(self, customer_id: str, connector_id: str) -> ConnectorRows:
        """How many conversions and rejects the connector has, and how many keep a raw hash."""
        self.ensure_customer(customer_id)
        conversions = self._table(customer_id, ROWS_TABLE)
        rejects = self._table(customer_id, "conversion_rejects")
        with self.connection() as connection:
            rows = connection.execute(
                f"SELECT (SELECT count(*) FROM {conversions} WHERE connector_id = $1) + "
                f"(SELECT count(*) FROM {rejects} WHERE connector_id = $1), "
                f"(SELECT count(_raw_hash) FROM {conversions} WHERE connector_id = $1)",
                [connector_id],
            ).fetchall()
        return ConnectorRows(int(rows[0][0]), int(rows[0][1]))

    def screen(
        self,
        customer_id: str,
        connector_id: str,
        raw: pa.Table,
        keys: pa.ChunkedArray[Any],
        salt: str,
        *,
        match: bool = True,
        hashes: pa.Array[Any] | None = None,
    ) -> tuple[pa.Array[Any], pa.Array[Any]]:
        """Hash each raw record, and tell which ones the warehouse already holds as they are.

        ``keys`` are the records' transaction ids as the normalizer will read them; ``salt``
        stands for the normalizer's rules and settings. A record is held as it is when the
        conversion of its key was loaded from a record with the same hash and the same salt,
        and every row of that key in ``raw`` has that hash. Returns (hash per row, held or
        not per row); with ``match`` false, only the hashes (nothing held). Columns are hashed
        in name order, so reordered columns change nothing. ``hashes`` are the records' hashes
        when the source computed them as it read (:func:`raw_hash_sql`).
        """
        self.ensure_customer(customer_id)
        if hashes is not None and len(hashes) != raw.num_rows:
            raise ValueError(f"{len(hashes)} raw hashes for a batch of {raw.num_rows} records")
        if hashes is not None and not match:
            return hashes, pa.repeat(False, len(hashes)).cast(pa.bool_())
        names = sorted(raw.column_names)
        if hashes is None:
            incoming = raw.select(names)
            hash_sql = raw_hash_sql(salt, names, "s")
        else:
            incoming = pa.table({"__gn_h": hashes})
            hash_sql = "s.__gn_h"
        incoming = incoming.append_column("__gn_key", keys)
        incoming = incoming.append_column("__gn_i", row_positions(raw.num_rows))
        incoming = in_scan_chunks(incoming)
        # The stored key hash, with this connector's constants and each record's id.
        key_parts = {
            "customer_id": sql_text(customer_id),
            "connector_id": sql_text(connector_id),
            "transaction_id": "s.__gn_key",
        }
        key_hash = _key_hash_of([key_parts[k] for k in CONVERSION_KEY])
        table = self._table(customer_id, ROWS_TABLE)
        hashed = f"SELECT __gn_i, __gn_key, {hash_sql} AS h FROM screened s"
        with self.connection() as connection:
            connection.register("screened", incoming)
            if match:
                # Each row against the conversion of its key: the same raw hash or not.
                result = arrow_result(
                    connection,
                    f"SELECT s.h, coalesce(t._raw_hash = s.h, false) AS same FROM ({hashed}) s "
                    f"LEFT JOIN {table} t ON s.__gn_key IS NOT NULL AND t._key_hash = "
                    f"{key_hash} ORDER BY s.__gn_i",
                )
                # Keys are unique in the table (the merge keeps them so): one row per record.
                if result.num_rows == raw.num_rows:
                    return result.column("h").combine_chunks(), _all_rows_same(
                        keys.combine_chunks(), result.column("same").combine_chunks()
                    )
            # A projection keeps the scan's order (preserve_insertion_order): no sort needed.
            result = arrow_result(connection, f"SELECT {hash_sql} AS h FROM screened s")
        hashes = result.column("h").combine_chunks()
        return hashes, pa.repeat(False, len(hashes)).cast(pa.bool_())

    def _keyed(self, batch: pa.Table, schema: pa.Schema, key: tuple[str, ...]) -> pa.Table:
        """Every row keyed; a key repeated within the batch is left to the merge (last wins)."""
        require_keys(batch, key)
        return batch.select(schema.names)

    @staticmethod
    def _merge_in(
        connection: duckdb.DuckDBPyConnection,
        table: str,
        batch: pa.Table,
        key: tuple[str, ...],
        raw_hashes: pa.Array[Any] | None = None,
        hashes: pa.Table | None = None,
        stored: frozenset[str] | None = None,
        profile: str | None = None,
    ) -> tuple[int, int]:
        """Update the rows whose values changed, insert the new ones; (inserted, updated).

        Of rows sharing a key, only the last is merged. With ``raw_hashes`` (one per row) each
        merged row keeps its raw record's hash, also where its values did not change.
        ``hashes`` are the batch's own (:func:`_hash_columns`) when computed ahead. ``stored``
        are the table's columns when it lacks some of the batch's (empty in the batch, or
        profile columns). ``profile`` is SQL for a row's profile number (the batch aliased
        ``s``), where the profile columns the table does not store are kept.
        """
        names = batch.schema.names
        kept = names if stored is None else [n for n in names if n in stored]
        values = [n for n in kept if n not in key and n not in MANAGED_COLUMNS]
        batch = batch.combine_chunks()
        if hashes is None:
            hashes = _hash_columns(connection, batch, key)
        elif hashes.num_rows != batch.num_rows:
            raise ValueError(
                f"{hashes.num_rows} hashed rows for a batch of {batch.num_rows}: hash the "
                "conversions being loaded (load_hashes)"
            )
        if raw_hashes is not None:
            batch = batch.append_column("_gn_raw", raw_hashes)
        for name in ("_gn_k1", "_gn_k0", "_gn_row"):
            batch = batch.append_column(name, hashes.column(name).combine_chunks())
        batch = _last_per_key(batch)
        raw = "s._gn_raw" if raw_hashes is not None else "NULL::UBIGINT"
        key_hash = _JOINED_KEY_HASH
        incoming = batch.append_column("_gn_i", row_positions(batch.num_rows))
        connection.register("incoming", incoming)
        # The rows whose key the table holds: their position, the row's id, whether the values
        # differ and whether the raw hash does. Small (integers), so it comes back as Arrow.
        # The join reads the key hashes alone (the whole table's, a batch at a time); the rows
        # it finds are then read by id (none in a connector's first sync).
        found_rows = arrow_result(
            connection,
            f"SELECT s._gn_i, t.rowid AS row_id FROM incoming s "
            f"JOIN {table} t ON t._key_hash = {key_hash}",
        )
        if not found_rows.num_rows:
            match = found_rows.append_column("changed", pa.array([], pa.bool_())).append_column(
                "stale", pa.array([], pa.bool_())
            )
        else:
            connection.register("found_rows", found_rows)
            match = arrow_result(
                connection,
                f"SELECT f._gn_i, f.row_id, t._row_hash IS DISTINCT FROM s._gn_row AS changed, "
                f"t._raw_hash IS DISTINCT FROM {raw} AS stale FROM found_rows f "
                f"JOIN incoming s ON s._gn_i = f._gn_i JOIN {table} t ON t.rowid = f.row_id",
            )
        found = match.column("_gn_i")
        new_rows = pc.indices_nonzero(
            pc.invert(pc.is_in(incoming.column("_gn_i"), value_set=found.combine_chunks()))
        )
        changed = match.filter(match.column("changed"))
        # The views are replaced by the next merge and go with the connection. One chunk each:
        # DuckDB appends a many-chunk Arrow table several times slower.
        if len(new_rows):
            fresh = batch if len(new_rows) == batch.num_rows else batch.take(new_rows)
            # A column empty throughout is left to its default (NULL): DuckDB stores that
            # faster than a NULL it is handed.
            filled = _filled(fresh.select(kept))
            columns = [_quoted(n) for n in filled]
            selected = [f"s.{_quoted(n)}" for n in filled]
            if profile is not None:
                columns.append("_profile")
                selected.append(profile)
            connection.register("fresh", fresh.combine_chunks())
            connection.execute(
                f"INSERT INTO {table} ({', '.join(columns)}, _key_hash, _row_hash, _raw_hash) "
                f"SELECT {', '.join(selected)}, {key_hash}, s._gn_row, {raw} FROM fresh s"
            )
        if changed.num_rows:
            rows = batch.take(changed.column("_gn_i")).append_column(
                "_gn_row_id", changed.column("row_id")
            )
            connection.register("changed", rows.combine_chunks())
            updates = ", ".join(
                [f"{_quoted(n)} = s.{_quoted(n)}" for n in values]
                + ([f"_profile = {profile}"] if profile is not None else [])
            )
            # Without raw hashes (a re-map, a direct upsert) the row's old one no longer
            # describes its values: it is cleared, so no sync skips the row on its strength.
            connection.execute(
                f"UPDATE {table} t SET {updates}, _row_hash = s._gn_row, _raw_hash = {raw}, "
                "loaded_at = current_timestamp FROM changed s WHERE t.rowid = s._gn_row_id"
            )
        if raw_hashes is not None:
            # Values as they were but read from a different raw record (or before raw hashes
            # were kept): only the hash is brought up to date.
            stale = match.filter(pc.and_(pc.invert(match.column("changed")), match.column("stale")))
            if stale.num_rows:
                connection.register(
                    "stale",
                    pa.table(
                        {
                            "row_id": stale.column("row_id"),
                            "h": batch.column("_gn_raw").take(stale.column("_gn_i")),
                        }
                    ),
                )
                connection.execute(
                    f"UPDATE {table} t SET _raw_hash = s.h FROM stale s WHERE t.rowid = s.row_id"
                )
        return len(new_rows), changed.num_rows

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
                f"SELECT * EXCLUDE ({', '.join(BOOKKEEPING)}) "
                f"FROM {self._table(customer_id, name)} {where} ORDER BY {order}",
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
