"""The batch normalizer: a batch of raw records in, typed conversions and rejects out.

Rules are applied as columns in one DuckDB query per batch (the parsers' SQL forms), so a batch
of tabular data is normalized near the engine's scan rate. Nothing is dropped: a record without
a transaction id or timestamp, or with an amount or timestamp that does not parse, becomes a
reject carrying its raw record, a reason code and a message naming the column and the value.
Identity columns that do not parse (email, phone) are left blank and counted as warnings.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from growthnav.conversions.duckdb_arrow import arrow_result
from growthnav.conversions.duckdb_arrow import connect as connect_quietly
from growthnav.conversions.emails import email_sql
from growthnav.conversions.field_map import TARGETS, FieldMap, SourceColumn
from growthnav.conversions.money import (
    AMOUNT_PRECISION,
    AMOUNT_SCALE,
    ISO_4217,
    iso_currency_sql,
    money_sql,
)
from growthnav.conversions.parsed import (
    WHITESPACE,
    select_in_stages,
    sql_identifier,
    sql_literal,
    trimmed_sql,
)
from growthnav.conversions.parsed_values import ParsedValues
from growthnav.conversions.phones import PhoneBatchParser, check_region, phone_fast_sql
from growthnav.conversions.positions import row_positions
from growthnav.conversions.records import records_to_arrow
from growthnav.conversions.schema import (
    CONVERSION_SCHEMA,
    REJECT_SCHEMA,
    ConversionSource,
    ConversionType,
)
from growthnav.conversions.timestamps import (
    clean_text_sql,
    timestamp_number_sql,
    timestamp_text_sql,
    timestamp_typed_sql,
    zone,
)

#: Batches a stream normalizes ahead of the caller. In a sync the reader and the load run beside
#: the one in flight; a second held ~130 MB more at peak on 2 cores and the sync was no faster
#: (measured when each query still ran on every core, see _connection).
_IN_FLIGHT = 1

#: A batch of raw records: Arrow (tabular sources) or a list of dicts (APIs).
Batch = pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]]
B = TypeVar("B", bound=Batch)
T = TypeVar("T")
U = TypeVar("U")


class RejectReason(StrEnum):
    """Why a record was not loaded as a conversion."""

    MISSING_TRANSACTION_ID = "missing_transaction_id"
    MISSING_TIMESTAMP = "missing_timestamp"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_VALUE = "bad_value"
    BAD_CURRENCY = "bad_currency"


class WarningReason(StrEnum):
    """A field left blank on a loaded conversion because its value did not parse."""

    BAD_EMAIL = "bad_email"
    BAD_PHONE = "bad_phone"
    BAD_QUANTITY = "bad_quantity"


@dataclass
class NormalizedBatch:
    """The outcome of normalizing one batch.

    ``conversions`` is in ``CONVERSION_SCHEMA``; ``source_rows[i]`` is the input row of
    conversion ``i``. ``rejects`` is in ``REJECT_SCHEMA``. Counts are by reason.
    """

    conversions: pa.Table
    source_rows: pa.Array[Any]
    rejects: pa.Table
    rejected: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    absent_columns: list[str] = field(default_factory=list)

    @property
    def input_rows(self) -> int:
        """How many records the batch held."""
        return self.conversions.num_rows + self.rejects.num_rows


#: Targets read as plain text (trimmed, blank as NULL); the others have their own parsers.
_STRING_TARGETS = tuple(
    t for t in TARGETS if t not in ("timestamp", "value", "currency", "quantity", "email", "phone")
)
#: Columns the last stage reads to explain a reject, not part of the output.
_WORK_COLUMNS = (
    "raw_timestamp",
    "col_timestamp",
    "raw_value",
    "col_value",
    "raw_currency",
    "col_currency",
    "e_timestamp",
    "e_value",
)
_STRING_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
_TIME_TYPES = (pa.types.is_timestamp, pa.types.is_date)


@lru_cache(maxsize=1)
def _rules_digest() -> str:
    """A digest of this package's source: it changes whenever a normalization rule does."""
    digest = hashlib.sha256(f"{phonenumbers.__version__} {duckdb.__version__}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _as_is(batch: B) -> tuple[B, B]:
    return batch, batch


def _text(value: str | None) -> str:
    return "NULL::VARCHAR" if value is None else sql_literal(value)


def _missing_id_message(columns: Sequence[str]) -> str:
    return f"no transaction id: {', '.join(columns)} blank; the record cannot be keyed"


def _is_plain_text(data_type: pa.DataType) -> bool:
    return pa.types.is_string(data_type) or pa.types.is_large_string(data_type)


def _clean_text(column: pa.ChunkedArray[Any]) -> pa.ChunkedArray[Any]:
    """Trim surrounding spaces and make blanks NULL, as the query does.

    Trimming every value is one pass (~20 ms per 1M values); first finding whether any value
    needs it took a pass per whitespace character (~50-80 ms). The whitespace is ASCII, whose
    bytes never occur inside a UTF-8 character, so trimming bytes is exact (and ~30% faster
    than decoding characters).
    """
    column = pc.ascii_trim(column, WHITESPACE)
    blank = pc.equal(column, pa.scalar("", column.type))
    if pc.any(blank).as_py():
        column = pc.if_else(blank, pa.scalar(None, column.type), column)
    return column


def _without_views(table: pa.Table) -> pa.Table:
    """``table`` with string and binary views as large strings and binaries.

    pyarrow has no ``take`` or ``filter`` for views (a batch with rejects failed); the cast
    keeps every value.
    """
    for index, column_field in enumerate(table.schema):
        kind = column_field.type
        if pa.types.is_string_view(kind) or pa.types.is_binary_view(kind):
            wide = pa.large_string() if pa.types.is_string_view(kind) else pa.large_binary()
            table = table.set_column(
                index, column_field.with_type(wide), table.column(index).cast(wide)
            )
    return table


def _is_text(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        return _is_text(data_type.value_type)
    return any(check(data_type) for check in _STRING_TYPES)


def _is_number(data_type: pa.DataType) -> bool:
    return (
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or (pa.types.is_decimal(data_type))
    )


@dataclass(frozen=True)
class _Input:
    """One mapped source column as read in the first stage of the query."""

    target: str
    position: int
    column: SourceColumn
    data_type: pa.DataType

    @property
    def alias(self) -> str:
        return f"b_{self.target}_{self.position}"


def settings_problems(timezone: str, default_currency: str, phone_region: str) -> list[str]:
    """What is wrong with a timezone, default currency and phone region (empty: nothing)."""
    problems = []
    try:
        zone(timezone)
    except ValueError as exc:
        problems.append(str(exc))
    if default_currency.upper() not in ISO_4217:
        problems.append(
            f"default_currency {default_currency!r} is not an ISO 4217 code (e.g. 'USD')"
        )
    try:
        check_region(phone_region)
    except ValueError as exc:
        problems.append(str(exc))
    return problems


class BatchNormalizer:
    """Normalizes batches for one source with one field map.

    Args:
        customer_id: the tenant the conversions belong to.
        field_map: ``{source_column: target}`` or a :class:`FieldMap`.
        conversion_type: the type given to every conversion.
        source: the kind of system the records come from.
        connector_id: the connector the batch came from (kept on every row).
        source_system: the system's name (``toast``, ``salesforce``...).
        timezone: IANA name naive timestamps are read in.
        default_currency: currency of amounts that state none.
        phone_region: region of phone numbers written without a country code.
    """

    def __init__(
        self,
        customer_id: str,
        field_map: Mapping[str, str | None] | FieldMap,
        *,
        conversion_type: ConversionType = ConversionType.PURCHASE,
        source: ConversionSource = ConversionSource.OTHER,
        connector_id: str | None = None,
        source_system: str | None = None,
        timezone: str = "UTC",
        default_currency: str = "USD",
        phone_region: str = "US",
    ) -> None:
        if not customer_id or not customer_id.strip():
            raise ValueError("customer_id is blank; pass the tenant id, e.g. 'acme-burgers'")
        problems = settings_problems(timezone, default_currency, phone_region)
        if problems:
            raise ValueError("; ".join(problems))
        currency = default_currency.upper()
        self.customer_id = customer_id
        self.field_map = field_map if isinstance(field_map, FieldMap) else FieldMap.parse(field_map)
        self.conversion_type = ConversionType(conversion_type)
        self.source = ConversionSource(source)
        self.connector_id = connector_id
        self.source_system = source_system
        self.timezone = timezone
        self.default_currency = currency
        self.phone_region = check_region(phone_region)
        self._phones = PhoneBatchParser(self.phone_region)
        self._lock = threading.Lock()
        self._idle: list[duckdb.DuckDBPyConnection] = []
        #: The query for each input schema seen (building it costs more than a small batch).
        self._queries: dict[pa.Schema, str] = {}
        #: Amounts, emails and phones parsed so far, by target and column (see _preparse).
        self._parsed: dict[tuple[str, SourceColumn, pa.DataType], ParsedValues] = {}
        #: Conversion columns no record sets: the settings (NULL when unset).
        self._constants: dict[str, str | None] = {
            "customer_id": customer_id,
            "conversion_type": self.conversion_type.value,
            "source": self.source.value,
            "connector_id": connector_id,
            "source_system": source_system,
            "currency": currency,
        }
        #: The columns :meth:`_filled` made, and for how many rows (it slices them).
        self._fills: tuple[int, dict[str, pa.Array[Any]]] = (0, {})

    @contextmanager
    def _connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection of this normalizer's own (one per query in flight)."""
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = connect_quietly()
            # Every timestamp is computed as naive UTC; the source timezone is applied
            # explicitly, so the session stays in UTC.
            connection.execute("SET TimeZone = 'UTC'")
            connection.execute("SET preserve_insertion_order = true")
            # One thread per query: in a sync, the source's reader and the warehouse's load
            # run beside the normalizer and keep the other cores busy. On 2 cores, queries
            # spread over both cost ~1.5 CPU-s more per 4M rows and the sync took ~10% longer
            # (4 pairs); normalizing with nothing beside it is ~15% slower this way.
            connection.execute("SET threads = 1")
        try:
            yield connection
        finally:
            with self._lock:
                self._idle.append(connection)

    def close(self) -> None:
        """Release the in-memory DuckDB connections."""
        with self._lock:
            connections, self._idle = self._idle, []
        self._fills = (0, {})
        for connection in connections:
            connection.close()

    @property
    def fingerprint(self) -> str:
        """A digest of everything but the record that decides a normalized row.

        The settings, the field map and the rules (this package's source): equal fingerprints
        and equal raw records give equal conversions.
        """
        settings = json.dumps(
            {
                "customer_id": self.customer_id,
                # In precedence order: which of two columns wins matters.
                "field_map": list(self.field_map.as_dict().items()),
                "conversion_type": self.conversion_type.value,
                "source": self.source.value,
                "connector_id": self.connector_id,
                "source_system": self.source_system,
                "timezone": self.timezone,
                "default_currency": self.default_currency,
                "phone_region": self.phone_region,
                "rules": _rules_digest(),
            },
            sort_keys=True,
        )
        return hashlib.sha256(settings.encode()).hexdigest()

    def record_keys(self, batch: pa.Table) -> pa.ChunkedArray[Any] | None:
        """Each record's transaction id as its conversion will carry it (blank as NULL).

        Only when one text column holds the id, read as it is; None otherwise.
        """
        column = self._passthrough(batch.schema).get("transaction_id")
        return None if column is None else _clean_text(batch.column(column))

    def normalize(self, batch: Batch) -> NormalizedBatch:
        """Normalize one batch (an Arrow table or record batch, or a list of dicts)."""
        return self._split(*self._query(batch))

    def normalize_stream(self, batches: Iterable[B]) -> Iterator[tuple[B, NormalizedBatch]]:
        """Normalize a stream of batches, yielding each batch with its result, in order.

        The next batch is normalized on a worker thread while the caller handles the current
        one (loads it, say), so both overlap. At most ``_IN_FLIGHT + 1`` batches are held at
        once.
        """
        return self.prepare_and_normalize(batches, _as_is)

    def prepare_and_normalize(
        self,
        items: Iterable[T],
        prepare: Callable[[T], tuple[U, Batch]],
        finish: Callable[[U, NormalizedBatch], object] | None = None,
    ) -> Iterator[tuple[U, NormalizedBatch]]:
        """As :meth:`normalize_stream`, with a step before (and after) normalizing each item.

        ``prepare(item)`` returns what to yield with the result and the batch to normalize;
        ``finish(prepared, result)`` follows the normalization. Both run on the worker thread,
        one item after the other in stream order, so they overlap with the caller's handling
        of the previous item and with reading the next.
        """

        def task(item: T) -> tuple[U, NormalizedBatch]:
            prepared, batch = prepare(item)
            normalized = self.normalize(batch)
            if finish is not None:
                finish(prepared, normalized)
            return prepared, normalized

        with ThreadPoolExecutor(max_workers=_IN_FLIGHT, thread_name_prefix="normalize") as pool:
            pending: deque[Future[tuple[U, NormalizedBatch]]] = deque()
            for item in items:
                pending.append(pool.submit(task, item))
                if len(pending) > _IN_FLIGHT:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def _query(
        self, batch: Batch
    ) -> tuple[pa.Table, pa.Table, list[str], dict[str, tuple[pa.Array[Any], pa.Array[Any]]]]:
        """Run the normalization query.

        Returns its result, the input, the absent columns and the targets parsed aside (see
        :meth:`_preparse`).
        """
        if isinstance(batch, pa.RecordBatch):
            table = pa.Table.from_batches([batch])
        elif isinstance(batch, pa.Table):
            table = batch
        else:
            table = records_to_arrow(batch)
        if table.schema.metadata:
            # Metadata (a source's tags) says nothing about the values; without it, the schema
            # finds its query in the cache.
            table = table.replace_schema_metadata(None)
        table = _without_views(table)
        names = table.schema.names
        self.field_map.check_columns(names)
        with self._connection() as connection:
            prepared, aside = self._preparse(self._clean_inputs(table), connection)
            sql = self._queries.get(prepared.schema)
            if sql is None:
                sql = self._sql(prepared.schema, self._inputs(prepared.schema))
                self._queries[prepared.schema] = sql
            connection.register("src", prepared)
            try:
                result = arrow_result(connection, sql)
            finally:
                connection.unregister("src")
        return result, table, self.field_map.absent_columns(names), aside

    # -- query building ------------------------------------------------------------------

    def _preparse_targets(self, schema: pa.Schema) -> dict[str, SourceColumn]:
        """Targets parsed once per distinct value: amounts, emails and phones repeat a lot."""
        out = {}
        for target in ("value", "email", "phone"):
            present = [c for c in self.field_map.targets.get(target, ()) if c.name in schema.names]
            if len(present) == 1 and _is_plain_text(schema.field(present[0].name).type):
                out[target] = present[0]
        return out

    def _clean_inputs(self, table: pa.Table) -> pa.Table:
        """``table`` with the plain text the query and :meth:`_preparse` read trimmed.

        Blanks become NULL. The query reads them as they are (see :meth:`_blanked`): in
        Arrow this costs ~4 ms per 250k values, in the query's first stage ~15 ms.
        """
        names = {
            item.column.name
            for items in self._inputs(table.schema).values()
            for item in items
            if _is_plain_text(item.data_type)
        } | {column.name for column in self._preparse_targets(table.schema).values()}
        for name in names:
            index = table.column_names.index(name)
            table = table.set_column(index, table.field(index), _clean_text(table.column(index)))
        return table

    def _preparse(
        self, table: pa.Table, connection: duckdb.DuckDBPyConnection
    ) -> tuple[pa.Table, dict[str, tuple[pa.Array[Any], pa.Array[Any]]]]:
        """Parse each distinct amount, email and phone once, then spread it to every row.

        The rules are the same SQL (and phone library) the query would run per row. Amounts
        are added to the table as ``__gn_value*`` columns: their errors decide the query's
        rejects. Emails and phones never enter the query (carrying them through it cost more
        than parsing them): they are returned as ``{target: (values, unparsed)}``, where
        ``unparsed`` flags a value given but not read (left blank, counted as a warning).
        Values parsed in earlier batches are looked up (:class:`ParsedValues`). The columns
        arrive trimmed (:meth:`_clean_inputs`).
        """
        aside: dict[str, tuple[pa.Array[Any], pa.Array[Any]]] = {}
        for target, column in self._preparse_targets(table.schema).items():
            cleaned_values = table.column(column.name).combine_chunks()
            encoded: Any = pc.dictionary_encode(cleaned_values)
            known = self._parsed.setdefault((target, column, cleaned_values.type), ParsedValues())
            parsed = known.parse(
                encoded.dictionary,
                partial(self._parse_distinct, connection, target, column),
            )
            for name, values in parsed.items():
                # Each row points at its value's result: nothing copied (a take copied each
                # string; DuckDB and Arrow read the dictionary as the values it points at).
                spread = pa.DictionaryArray.from_arrays(encoded.indices, values)
                if target == "value":
                    table = table.append_column(name, spread)
                else:
                    unparsed = pc.and_(pc.is_valid(cleaned_values), pc.is_null(spread))
                    aside[target] = (spread, unparsed)
        return table, aside

    def _parse_distinct(
        self,
        connection: duckdb.DuckDBPyConnection,
        target: str,
        column: SourceColumn,
        distinct: pa.Array[Any],
    ) -> dict[str, pa.Array[Any]]:
        connection.register("distinct_values", pa.table({"x": distinct}))
        try:
            if target == "value":
                stages = money_sql("x", alias="m", cents=column.cents).stages
                sql = select_in_stages("SELECT x FROM distinct_values", stages)
                result = arrow_result(
                    connection, f"SELECT m_value, m_currency, m_error FROM ({sql})"
                )
                return {
                    "__gn_value": result.column("m_value").combine_chunks(),
                    "__gn_value_currency": result.column("m_currency").combine_chunks(),
                    "__gn_value_error": result.column("m_error").combine_chunks(),
                }
            if target == "email":
                result = arrow_result(
                    connection, f"SELECT {email_sql('x')} AS v FROM distinct_values"
                )
                return {"__gn_email": result.column("v").combine_chunks()}
            sql = select_in_stages(
                "SELECT x FROM distinct_values",
                phone_fast_sql("x", self.phone_region, alias="fast"),
            )
            fast = arrow_result(connection, f"SELECT fast FROM ({sql})").column("fast")
            phone, _ = self._phones.complete(distinct, fast.combine_chunks())
            return {"__gn_phone": phone}
        finally:
            connection.unregister("distinct_values")

    def _passthrough(self, schema: pa.Schema) -> dict[str, str]:
        """Text targets fed by one text column: cleaned in Arrow, never sent through DuckDB.

        Carrying such a column through the query costs two string copies per value; in Arrow
        the column is reused as it is unless a value needs trimming or is blank.
        """
        out = {}
        for target, columns in self.field_map.targets.items():
            present = [c for c in columns if c.name in schema.names]
            if (
                target in _STRING_TARGETS
                and len(present) == 1
                and _is_plain_text(schema.field(present[0].name).type)
            ):
                out[target] = present[0].name
        return out

    def _inputs(self, schema: pa.Schema, *, parsed_aside: bool = True) -> dict[str, list[_Input]]:
        """The query's inputs per target, leaving out passthrough text.

        With ``parsed_aside``, also the emails and phones :meth:`_preparse` parses in Arrow.
        """
        inputs: dict[str, list[_Input]] = {}
        passthrough = self._passthrough(schema)
        aside = (
            {t for t in self._preparse_targets(schema) if t != "value"} if parsed_aside else set()
        )
        for target, columns in self.field_map.targets.items():
            if target in passthrough or target in aside:
                continue
            present = [c for c in columns if c.name in schema.names]
            inputs[target] = [
                _Input(target, i, c, schema.field(c.name).type) for i, c in enumerate(present)
            ]
        return inputs

    @staticmethod
    def _blanked(item: _Input) -> str:
        """The column with blank text as NULL and surrounding spaces trimmed.

        Plain text arrives so already (see :meth:`_clean_inputs`).
        """
        column = sql_identifier(item.column.name)
        if (
            _is_plain_text(item.data_type)
            or _is_number(item.data_type)
            or pa.types.is_timestamp(item.data_type)
            or (pa.types.is_date(item.data_type))
        ):
            return column
        return trimmed_sql(column if _is_text(item.data_type) else f"CAST({column} AS VARCHAR)")

    def _sql(self, schema: pa.Schema, inputs: dict[str, list[_Input]]) -> str:
        """One query in stages: blank inputs, pick a column per target, parse, classify.

        Only mapped targets are computed; constants and unmapped targets are added in Arrow.
        """
        stages: list[dict[str, str]] = [{} for _ in range(6)]
        for items in inputs.values():
            for item in items:
                stages[0][item.alias] = self._blanked(item)
        for target, items in inputs.items():
            if items:
                stages[1].update(self._pick(target, items))

        preparsed = set(schema.names)
        values = inputs.get("value", [])
        value_parts = []
        for item in values if "__gn_value" not in preparsed else []:
            chosen = f"mt_{item.position}"
            if _is_text(item.data_type):
                stages[1][chosen] = self._chosen(values, item)
                parsed = money_sql(chosen, alias=f"m_{item.position}", cents=item.column.cents)
                for index, stage in enumerate(parsed.stages):
                    stages[2 + index].update(stage)
            else:
                stages[4].update(self._numeric_money(item))
            value_parts.append(item.position)
        if "__gn_value" in preparsed:
            stages[0]["v_value"] = "__gn_value"
            stages[0]["e_value"] = "__gn_value_error"
            stages[0]["v_stated_currency"] = "__gn_value_currency"
        elif values:
            stages[5]["v_value"] = self._by_pick("value", value_parts, "m_{}_value")
            stages[5]["e_value"] = self._by_pick("value", value_parts, "m_{}_error")
            stages[5]["v_stated_currency"] = self._by_pick("value", value_parts, "m_{}_currency")

        stamps = inputs.get("timestamp", [])
        for item in stamps:
            if _is_text(item.data_type):
                stages[1][f"tt_{item.position}"] = clean_text_sql(item.alias)
        stages[2]["v_timestamp"], stages[3]["e_timestamp"] = self._timestamp_sql(stamps)

        # Emails and phones parsed aside (see _preparse) are not inputs here.
        if inputs.get("email"):
            stages[2]["v_email"] = email_sql("raw_email")
            stages[3]["w_email"] = "raw_email IS NOT NULL AND v_email IS NULL"
        if inputs.get("phone"):
            for index, stage in enumerate(
                phone_fast_sql("raw_phone", self.phone_region, alias="phone_fast")
            ):
                stages[2 + index].update(stage)
        if inputs.get("quantity"):
            stages[2]["n_quantity"] = "try_cast(raw_quantity AS DECIMAL(38, 6))"
        if inputs.get("currency"):
            stages[2]["n_currency"] = "upper(raw_currency)"

        conditions = [
            ("missing_transaction_id", "raw_transaction_id IS NULL"),
            ("missing_timestamp", "raw_timestamp IS NULL"),
        ]
        if not inputs.get("transaction_id"):
            conditions = conditions[1:]  # keyed in Arrow: see _split
        conditions += [
            ("bad_timestamp", "e_timestamp IS NOT NULL"),
        ]
        if values:
            conditions.append(("bad_value", "e_value IS NOT NULL"))
        if inputs.get("currency"):
            conditions.append(
                ("bad_currency", f"n_currency IS NOT NULL AND NOT {iso_currency_sql('n_currency')}")
            )
        reason = "CASE " + " ".join(f"WHEN {c} THEN '{r}'" for r, c in conditions) + " END"

        final = [f"{reason} AS reason", *self._final_columns(inputs)]
        message = self._message_sql(inputs)
        blanked = [f"{expr} AS {alias}" for alias, expr in stages[0].items()]
        # Only the aliases travel through the stages, so no source column name can collide
        # with the query's own; the scan reads just the mapped columns.
        sql = select_in_stages(f"SELECT {', '.join(blanked)} FROM src", stages[1:])
        sql = f"SELECT {', '.join(final)} FROM ({sql})"
        source_column = (
            "CASE reason WHEN 'bad_timestamp' THEN col_timestamp WHEN 'bad_value' THEN col_value "
            "WHEN 'bad_currency' THEN col_currency END"
        )
        return (
            f"SELECT * EXCLUDE ({', '.join(_WORK_COLUMNS)}), "
            f"CASE WHEN reason IS NOT NULL THEN {message} END AS message, "
            f"{source_column} AS source_column "
            f"FROM ({sql})"
        )

    def _final_columns(self, inputs: dict[str, list[_Input]]) -> list[str]:
        columns = []
        for name in ("timestamp", "value", "currency"):
            for key in ("raw", "col"):
                columns.append(
                    f"{key}_{name}" if inputs.get(name) else f"NULL::VARCHAR AS {key}_{name}"
                )
        columns.append("e_timestamp")
        columns.append("e_value" if inputs.get("value") else "NULL::VARCHAR AS e_value")
        if inputs.get("transaction_id"):
            columns.append("raw_transaction_id AS transaction_id")
        columns.append("v_timestamp AS timestamp")
        if inputs.get("value"):
            columns += ["v_value AS value", "v_stated_currency"]
        if inputs.get("currency"):
            columns.append("n_currency")
        if inputs.get("quantity"):
            columns += [
                "CASE WHEN n_quantity = trunc(n_quantity) AND abs(n_quantity) < 1e15 "
                "THEN CAST(n_quantity AS BIGINT) END AS quantity",
                "coalesce(raw_quantity IS NOT NULL AND (n_quantity IS NULL OR n_quantity <> "
                "trunc(n_quantity) OR abs(n_quantity) >= 1e15), FALSE) AS w_quantity",
            ]
        columns += [
            f"raw_{name} AS {name}"
            for name in _STRING_TARGETS
            if name != "transaction_id" and inputs.get(name)
        ]
        if inputs.get("email"):
            columns += ["v_email AS email", "w_email"]
        if inputs.get("phone"):
            columns += [
                "phone_fast",
                "CASE WHEN phone_fast IS NULL THEN raw_phone END AS phone_raw",
            ]
        return columns

    @staticmethod
    def _message_sql(inputs: dict[str, list[_Input]]) -> str:
        def quoted(target: str, error: str) -> str:
            return f"'\"' || col_{target} || '\" = ''' || raw_{target} || ''' ' || {error}"

        tx_columns = [i.column.name for i in inputs.get("transaction_id", [])]
        ts_columns = ", ".join(i.column.name for i in inputs.get("timestamp", []))
        no_id = _missing_id_message(tx_columns)
        not_iso = sql_literal("is not an ISO 4217 currency code")
        return (
            f"CASE reason WHEN 'missing_transaction_id' THEN {sql_literal(no_id)} "
            f"WHEN 'missing_timestamp' THEN {sql_literal(f'no timestamp: {ts_columns} blank')} "
            f"WHEN 'bad_timestamp' THEN {quoted('timestamp', 'e_timestamp')} "
            f"WHEN 'bad_value' THEN {quoted('value', 'e_value')} "
            f"WHEN 'bad_currency' THEN {quoted('currency', not_iso)} END"
        )

    @staticmethod
    def _pick(target: str, items: list[_Input]) -> dict[str, str]:
        """Which column feeds ``target`` on each row (the first non-blank), and its text."""
        if len(items) == 1:
            item = items[0]
            return {
                f"pick_{target}": f"CASE WHEN {item.alias} IS NOT NULL THEN 0 END",
                f"raw_{target}": f"CAST({item.alias} AS VARCHAR)",
                f"col_{target}": sql_literal(item.column.name),
            }
        picks = " ".join(f"WHEN {i.alias} IS NOT NULL THEN {i.position}" for i in items)
        names = " ".join(
            f"WHEN {i.alias} IS NOT NULL THEN {sql_literal(i.column.name)}" for i in items
        )
        raws = ", ".join(f"CAST({i.alias} AS VARCHAR)" for i in items)
        return {
            f"pick_{target}": f"CASE {picks} END",
            f"raw_{target}": f"coalesce({raws})",
            f"col_{target}": f"CASE {names} END",
        }

    @staticmethod
    def _by_pick(target: str, positions: list[int], template: str) -> str:
        if len(positions) == 1:
            return template.format(positions[0])
        whens = " ".join(f"WHEN {p} THEN {template.format(p)}" for p in positions)
        return f"CASE pick_{target} {whens} END"

    @staticmethod
    def _chosen(items: list[_Input], item: _Input) -> str:
        """``item``'s value on the rows where it is the first non-blank column, else NULL."""
        earlier = [f"{i.alias} IS NULL" for i in items if i.position < item.position]
        if not earlier:
            return item.alias
        return f"CASE WHEN {' AND '.join(earlier)} THEN {item.alias} END"

    @staticmethod
    def _numeric_money(item: _Input) -> dict[str, str]:
        """A numeric amount column: no text to parse, only scale and range."""
        decimal = f"DECIMAL({AMOUNT_PRECISION}, {AMOUNT_SCALE})"
        scaled = f"try_cast({item.alias} AS DECIMAL(38, 12))"
        if item.column.cents:
            scaled = f"({scaled} / 100)"
        m = f"m_{item.position}"
        return {
            f"{m}_value": f"try_cast({scaled} AS {decimal})",
            f"{m}_currency": "NULL::VARCHAR",
            f"{m}_error": f"CASE WHEN {item.alias} IS NOT NULL AND try_cast({scaled} AS {decimal}) "
            "IS NULL THEN 'is not a finite amount below 10^14' END",
        }

    def _timestamp_sql(self, items: list[_Input]) -> tuple[str, str]:
        """The parsed timestamp (naive UTC) and its error, by the column picked on each row."""
        values, errors = [], []
        for item in items:
            when = f"WHEN pick_timestamp = {item.position} THEN"
            kind = item.data_type
            if _is_text(kind):
                parsed = timestamp_text_sql(
                    f"tt_{item.position}", alias="v_timestamp", tz=self.timezone
                )
            elif _is_number(kind):
                parsed = timestamp_number_sql(item.alias, integer=pa.types.is_integer(kind))
            elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
                typed = "timestamptz" if getattr(kind, "tz", None) else "timestamp"
                values.append(f"{when} {timestamp_typed_sql(item.alias, typed, self.timezone)}")
                continue
            else:
                errors.append(f"{when} 'is of a type that holds no timestamp'")
                continue
            values.append(f"{when} {parsed.value}")
            errors.append(f"{when} {parsed.error}")
        return (
            f"CASE {' '.join(values)} END" if values else "NULL::TIMESTAMP",
            f"CASE {' '.join(errors)} END" if errors else "NULL::VARCHAR",
        )

    # -- splitting the result ------------------------------------------------------------

    def _split(
        self,
        result: pa.Table,
        source: pa.Table,
        absent: list[str],
        aside: dict[str, tuple[pa.Array[Any], pa.Array[Any]]],
    ) -> NormalizedBatch:
        # DuckDB keeps insertion order (preserve_insertion_order), so output row i is input
        # row i.
        passthrough = self._passthrough(source.schema)
        if "transaction_id" in passthrough:
            result = self._key_in_arrow(result, source.column(passthrough["transaction_id"]))
        rejected_mask = pc.is_valid(result.column("reason"))
        accepted_mask = pc.invert(rejected_mask)
        source_rows: pa.Array[Any]
        if result.column("reason").null_count == result.num_rows:
            accepted = result
            source_rows = row_positions(result.num_rows)
        else:
            accepted = result.filter(accepted_mask)
            source_rows = pc.indices_nonzero(accepted_mask).cast(pa.int64())
        rejected = result.filter(rejected_mask)
        n = accepted.num_rows
        names = set(accepted.schema.names)

        warnings: Counter[str] = Counter()
        for reason, flag in (
            (WarningReason.BAD_EMAIL, "w_email"),
            (WarningReason.BAD_PHONE, "w_phone"),
            (WarningReason.BAD_QUANTITY, "w_quantity"),
        ):
            if flag in names:
                count = pc.sum(accepted.column(flag)).as_py() or 0
                if count:
                    warnings[reason.value] = count

        computed: dict[str, pa.Array[Any] | pa.ChunkedArray[Any]] = {}
        for target, column_name in passthrough.items():
            if target == "transaction_id":
                continue  # already in result, as the query's would be
            text = _clean_text(source.column(column_name))
            computed[target] = (
                text if accepted.num_rows == result.num_rows else text.filter(accepted_mask)
            )
        for target, (values, unparsed) in aside.items():
            every = accepted.num_rows == result.num_rows
            computed[target] = values if every else values.filter(accepted_mask)
            failures = pc.sum(unparsed if every else unparsed.filter(accepted_mask)).as_py() or 0
            if failures:
                reason = WarningReason.BAD_EMAIL if target == "email" else WarningReason.BAD_PHONE
                warnings[reason.value] = failures
        if "phone_raw" in names:
            phone, phone_errors = self._phones.complete(
                accepted.column("phone_raw").combine_chunks(),
                accepted.column("phone_fast").combine_chunks(),
            )
            computed["phone"] = phone
            failures = len(phone_errors) - phone_errors.null_count
            if failures:
                warnings[WarningReason.BAD_PHONE.value] = failures
        default_currency = self._filled(n, "currency")
        stated = [accepted.column(c) for c in ("v_stated_currency", "n_currency") if c in names]
        currency: Any = pc.coalesce(*stated, default_currency) if stated else default_currency
        computed["currency"] = currency
        columns = []
        for schema_field in CONVERSION_SCHEMA:
            name = schema_field.name
            column: pa.Array[Any] | pa.ChunkedArray[Any]
            if name in computed:
                column = computed[name]
            elif name in names and name not in self._constants:
                column = accepted.column(name)
            else:
                column = self._filled(n, name)
            columns.append(column.cast(schema_field.type))
        conversions = pa.Table.from_arrays(columns, schema=CONVERSION_SCHEMA)
        return NormalizedBatch(
            conversions=conversions,
            source_rows=source_rows,
            rejects=self._rejects(rejected, source.take(pc.indices_nonzero(rejected_mask))),
            rejected=Counter(str(reason) for reason in rejected.column("reason").to_pylist()),
            warnings=warnings,
            absent_columns=absent,
        )

    def _filled(self, rows: int, name: str) -> pa.Array[Any]:
        """Column ``name`` of ``rows`` conversions where no record gives it a value.

        A setting (the customer id, the default currency...) or NULL. Made once for the
        largest batch so far and sliced (nothing copied): the batches of a stream share them
        (Arrow arrays never change), where making them took ~15 ms a 250k-row batch. Batches
        differ in size by their rejects, so a column per size would be made for each.
        """
        if self._fills[0] < rows:
            self._fills = rows, {}
        size, columns = self._fills
        column = columns.get(name)
        if column is None:
            value = self._constants.get(name)
            kind = CONVERSION_SCHEMA.field(name).type
            column = pa.nulls(size, kind) if value is None else pa.repeat(value, size).cast(kind)
            columns[name] = column
        return column if len(column) == rows else column.slice(0, rows)

    def _key_in_arrow(self, result: pa.Table, column: pa.ChunkedArray[Any]) -> pa.Table:
        """Add the transaction id (cleaned in Arrow) and reject rows that have none."""
        key = _clean_text(column)
        missing = pc.is_null(key)
        if pc.any(missing).as_py():
            names = [c.name for c in self.field_map.targets["transaction_id"]]
            reason = pc.if_else(missing, "missing_transaction_id", result.column("reason"))
            message = pc.if_else(missing, _missing_id_message(names), result.column("message"))
            column_name = pc.if_else(
                missing, pa.scalar(None, pa.string()), result.column("source_column")
            )
            result = result.set_column(result.schema.get_field_index("reason"), "reason", reason)
            result = result.set_column(result.schema.get_field_index("message"), "message", message)
            result = result.set_column(
                result.schema.get_field_index("source_column"), "source_column", column_name
            )
        return result.append_column("transaction_id", key)

    def _raw_json(self, rows: pa.Table) -> pa.Array[Any]:
        """Each row as it arrived, as JSON text (only rejected rows come here)."""
        with self._connection() as connection:
            connection.register("rejected_rows", rows)
            try:
                return (
                    arrow_result(connection, "SELECT to_json(r) AS raw FROM rejected_rows r")
                    .column("raw")
                    .combine_chunks()
                )
            finally:
                connection.unregister("rejected_rows")

    def _rejects(self, rejected: pa.Table, raw_rows: pa.Table) -> pa.Table:
        raw_record = self._raw_json(raw_rows) if raw_rows.num_rows else pa.array([], pa.string())
        raw_json = raw_record.to_pylist()
        transaction_ids = rejected.column("transaction_id").to_pylist()
        keys = [
            tx if tx is not None else "sha256:" + hashlib.sha256(str(raw).encode()).hexdigest()
            for tx, raw in zip(transaction_ids, raw_json, strict=True)
        ]
        n = rejected.num_rows
        return pa.Table.from_arrays(
            [
                pa.repeat(self.customer_id, n),
                pa.array([self.connector_id] * n, pa.string()),
                pa.array([self.source_system] * n, pa.string()),
                pa.array(keys, pa.string()),
                pa.array(transaction_ids, pa.string()),
                rejected.column("reason").cast(pa.string()),
                rejected.column("source_column").cast(pa.string()),
                rejected.column("message").cast(pa.string()),
                raw_record.cast(pa.string()),
            ],
            schema=REJECT_SCHEMA,
        )
