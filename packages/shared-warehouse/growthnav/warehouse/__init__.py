"""GrowthNav warehouse: where conversions and rejects land (DuckDB by default)."""

from growthnav.warehouse.backends import warehouse_from_environment
from growthnav.warehouse.base import LoadCounts, Warehouse, check_customer_id
from growthnav.warehouse.bigquery_warehouse import BigQueryWarehouse, dataset_id
from growthnav.warehouse.duckdb_warehouse import DuckDBWarehouse, growthnav_home

__all__ = [
    "BigQueryWarehouse",
    "DuckDBWarehouse",
    "LoadCounts",
    "Warehouse",
    "check_customer_id",
    "dataset_id",
    "growthnav_home",
    "warehouse_from_environment",
]
