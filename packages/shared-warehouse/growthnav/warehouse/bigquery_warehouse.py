"""The production warehouse: BigQuery, one dataset per customer (``growthnav_{customer_id}``).

Each batch is written to a staging table with a Parquet load job (never row-by-row streaming
inserts) and merged by key in one statement, so a replayed batch changes nothing.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from google.cloud import bigquery
from growthnav.conversions import CONVERSION_SCHEMA, REJECT_SCHEMA
from growthnav.warehouse.base import (
    CONVERSION_KEY,
    MANAGED_COLUMNS,
    REJECT_KEY,
    SOURCE_REJECT,
    KeyedWarehouse,
    check_customer_id,
)


def dataset_id(customer_id: str) -> str:
    """``growthnav_{customer_id}`` with '-' as '_' (BigQuery dataset ids allow no dashes)."""
    return "growthnav_" + check_customer_id(customer_id).replace("-", "_")


def _field(field: pa.Field[Any], key: tuple[str, ...]) -> bigquery.SchemaField:
    kind = field.type
    if pa.types.is_string(kind):
        bq_type = "STRING"
    elif pa.types.is_int64(kind):
        bq_type = "INT64"
    elif pa.types.is_decimal(kind):
        bq_type = "NUMERIC"
    elif pa.types.is_timestamp(kind):
        bq_type = "TIMESTAMP"
    else:  # pragma: no cover - the schemas hold only these
        raise TypeError(f"no BigQuery type for Arrow type {kind}")
    required = not field.nullable or field.name in key
    return bigquery.SchemaField(field.name, bq_type, mode="REQUIRED" if required else "NULLABLE")


class BigQueryWarehouse(KeyedWarehouse):
    """Conversions and rejects in BigQuery, keyed like the DuckDB warehouse."""

    def __init__(self, client: bigquery.Client, *, timeout: float = 60.0) -> None:
        self.client = client
        self.project = client.project
        self.timeout = timeout
        self._ready: set[str] = set()

    def _table(self, customer_id: str, name: str) -> str:
        return f"{self.project}.{dataset_id(customer_id)}.{name}"

    def ensure_customer(self, customer_id: str) -> None:
        """Create the dataset and its two tables when missing."""
        if customer_id in self._ready:
            return
        self.client.create_dataset(
            f"{self.project}.{dataset_id(customer_id)}", exists_ok=True, timeout=self.timeout
        )
        for name, schema, key in (
            ("conversions", CONVERSION_SCHEMA, CONVERSION_KEY),
            ("conversion_rejects", REJECT_SCHEMA, REJECT_KEY),
        ):
            table = bigquery.Table(
                self._table(customer_id, name), schema=[_field(f, key) for f in schema]
            )
            self.client.create_table(table, exists_ok=True, timeout=self.timeout)
        self._ready.add(customer_id)

    def _merge(
        self, customer_id: str, name: str, batch: pa.Table, key: tuple[str, ...]
    ) -> tuple[int, int]:
        self.ensure_customer(customer_id)
        target = self._table(customer_id, name)
        staging = self._table(customer_id, f"_staging_{name}_{uuid.uuid4().hex[:12]}")
        schema = self.client.get_table(target, timeout=self.timeout).schema
        buffer = io.BytesIO()
        pq.write_table(batch, buffer)
        buffer.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            schema=schema,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        try:
            self.client.load_table_from_file(
                buffer, staging, job_config=config, timeout=self.timeout
            ).result(timeout=self.timeout)
            on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in key)
            values = [n for n in batch.schema.names if n not in key and n not in MANAGED_COLUMNS]
            changed = " OR ".join(f"NOT (t.`{n}` IS NOT DISTINCT FROM s.`{n}`)" for n in values)
            counts = next(
                iter(
                    self.client.query(
                        f"SELECT COUNTIF(t.`{key[-1]}` IS NULL) AS inserted, "
                        f"COUNTIF(t.`{key[-1]}` IS NOT NULL AND ({changed})) AS updated "
                        f"FROM `{staging}` s LEFT JOIN `{target}` t ON {on}",
                        timeout=self.timeout,
                    ).result(timeout=self.timeout)
                )
            )
            columns = ", ".join(f"`{n}`" for n in batch.schema.names)
            sources = ", ".join(f"s.`{n}`" for n in batch.schema.names)
            updates = ", ".join(f"`{n}` = s.`{n}`" for n in values)
            self.client.query(
                f"MERGE `{target}` t USING `{staging}` s ON {on} "
                f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {updates} "
                f"WHEN NOT MATCHED THEN INSERT ({columns}) VALUES ({sources})",
                timeout=self.timeout,
            ).result(timeout=self.timeout)
            if name == "conversions":
                # Records that now load are no longer rejects (fixed at the source, or read
                # right); the batch's own rejects are written after this.
                self.client.query(
                    f"DELETE FROM `{self._table(customer_id, 'conversion_rejects')}` r "
                    f"WHERE EXISTS (SELECT 1 FROM `{staging}` s WHERE s.connector_id = "
                    "r.connector_id AND s.transaction_id = r.transaction_id)",
                    timeout=self.timeout,
                ).result(timeout=self.timeout)
            return int(counts["inserted"]), int(counts["updated"])
        finally:
            self.client.delete_table(staging, not_found_ok=True, timeout=self.timeout)

    def _retire_source_rejects(
        self, customer_id: str, connector_id: str, scopes: list[str], found: list[str]
    ) -> int:
        job = self.client.query(
            f"DELETE FROM `{self._table(customer_id, 'conversion_rejects')}` "
            "WHERE connector_id = @connector_id AND reason = @reason "
            "AND EXISTS (SELECT 1 FROM UNNEST(@scopes) AS p WHERE STARTS_WITH(reject_key, p)) "
            "AND reject_key NOT IN UNNEST(@found)",
            job_config=bigquery.QueryJobConfig(
                query_parameters=[
                    bigquery.ScalarQueryParameter("connector_id", "STRING", connector_id),
                    bigquery.ScalarQueryParameter("reason", "STRING", SOURCE_REJECT),
                    bigquery.ArrayQueryParameter("scopes", "STRING", scopes),
                    bigquery.ArrayQueryParameter("found", "STRING", found),
                ]
            ),
            timeout=self.timeout,
        )
        job.result(timeout=self.timeout)
        return int(job.num_dml_affected_rows or 0)

    def _read(
        self, customer_id: str, name: str, connector_id: str | None, key: tuple[str, ...]
    ) -> pa.Table:
        self.ensure_customer(customer_id)
        where, params = "", []
        if connector_id is not None:
            where = "WHERE connector_id = @connector_id"
            params = [bigquery.ScalarQueryParameter("connector_id", "STRING", connector_id)]
        order = ", ".join(f"`{k}`" for k in key)
        job = self.client.query(
            f"SELECT * FROM `{self._table(customer_id, name)}` {where} ORDER BY {order}",
            job_config=bigquery.QueryJobConfig(query_parameters=params),
            timeout=self.timeout,
        )
        table: pa.Table = job.result(timeout=self.timeout).to_arrow(create_bqstorage_client=False)
        return table
