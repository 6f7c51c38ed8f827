"""Sinks: where a sync makes each normalized batch durable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from growthnav.conversions import NormalizedBatch
from growthnav.warehouse import LoadCounts, Warehouse

if TYPE_CHECKING:
    from growthnav.connectors.base import BaseConnector


class WarehouseSink:
    """Upserts conversions and rejects into a warehouse, one transaction per table per batch.

    A replayed batch changes nothing: both tables are keyed.
    """

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.counts = LoadCounts()
        self.rejects_written = 0

    def write(self, connector: BaseConnector, batch: NormalizedBatch) -> LoadCounts:
        """Load the batch's conversions, then its rejects; returns the conversion counts."""
        customer_id = connector.config.customer_id
        counts = self.warehouse.upsert_conversions(customer_id, batch.conversions)
        self.counts += counts
        self.rejects_written += self.warehouse.write_rejects(customer_id, batch.rejects)
        return counts
