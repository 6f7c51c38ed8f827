"""GrowthNav warehouse: where conversions and rejects land (DuckDB by default).

The BigQuery backend is imported on first use: its client library takes seconds to import,
which every command would otherwise pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from growthnav.warehouse.backends import warehouse_from_environment
from growthnav.warehouse.base import SOURCE_REJECT, LoadCounts, Warehouse, check_customer_id
from growthnav.warehouse.duckdb_warehouse import DuckDBWarehouse, growthnav_home

if TYPE_CHECKING:
    from growthnav.warehouse.bigquery_warehouse import BigQueryWarehouse, dataset_id

__all__ = [
    "SOURCE_REJECT",
    "BigQueryWarehouse",
    "DuckDBWarehouse",
    "LoadCounts",
    "Warehouse",
    "check_customer_id",
    "dataset_id",
    "growthnav_home",
    "warehouse_from_environment",
]


def __getattr__(name: str) -> Any:
    if name in ("BigQueryWarehouse", "dataset_id"):
        from growthnav.warehouse import bigquery_warehouse

        return getattr(bigquery_warehouse, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
