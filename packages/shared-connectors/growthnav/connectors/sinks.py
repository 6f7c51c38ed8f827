"""Sinks: where a sync makes each normalized batch durable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pyarrow as pa
from growthnav.conversions import NormalizedBatch
from growthnav.warehouse import DuckDBWarehouse, LoadCounts, Warehouse
from growthnav.warehouse.raw_records import DuckDBRawStore

if TYPE_CHECKING:
    from growthnav.connectors.base import BaseConnector


class WarehouseSink:
    """Keeps raw records (DuckDB), and upserts conversions and rejects, batch by batch.

    The raw file is written while the warehouse loads; ``write`` returns once both are
    durable, so the cursor never moves past records that are not kept. A replayed batch
    changes nothing: all three are keyed.
    """

    def __init__(self, warehouse: Warehouse, *, keep_raw: bool = True) -> None:
        self.warehouse = warehouse
        self.raw = (
            DuckDBRawStore(warehouse)
            if keep_raw and isinstance(warehouse, DuckDBWarehouse)
            else None
        )
        self.counts = LoadCounts()
        self.rejects_written = 0
        self.raw_written = 0

    def write(
        self, connector: BaseConnector, batch: NormalizedBatch, raw: pa.Table | None = None
    ) -> LoadCounts:
        """Keep the raw batch and load its conversions and rejects; returns the counts."""
        customer_id = connector.config.customer_id
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="raw-records") as pool:
            kept = None
            if self.raw is not None and raw is not None:
                kept = pool.submit(
                    self.raw.store_raw,
                    customer_id,
                    connector.config.effective_connector_id,
                    raw,
                    connector.record_key_column(),
                )
            counts, rejects_written = self.warehouse.load(
                customer_id, batch.conversions, batch.rejects
            )
            if kept is not None:
                self.raw_written += kept.result()
        self.counts += counts
        self.rejects_written += rejects_written
        return counts
