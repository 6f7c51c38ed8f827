"""A sync run in its own process that SIGKILLs itself at the N-th step (for the crash test).

    python crash_sync.py HOME DATABASE KILL_AT

Steps, per batch: before the load (raw records handed to their writer), inside the load once
the raw records are kept (nothing committed yet), after the load (conversions and rejects
committed together, checkpoint not yet), after the checkpoint. KILL_AT 0 never kills.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    get_registry,
    run_sync,
)
from growthnav.warehouse import DuckDBWarehouse, LoadCounts

sys.path.insert(0, str(Path(__file__).parent))
from sqlite_connector import SQLiteTableConnector

STEPS = {"count": 0, "kill_at": 0}
BATCH = 30
STEPS_PER_BATCH = 4


def step() -> None:
    STEPS["count"] += 1
    if STEPS["count"] == STEPS["kill_at"]:
        os.kill(os.getpid(), signal.SIGKILL)


class KillingWarehouse(DuckDBWarehouse):
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
        def then_step() -> None:
            if before_commit is not None:
                before_commit()
            step()

        step()
        counts = super().load(
            customer_id, conversions, rejects, raw_hashes, before_commit=then_step, hashes=hashes
        )
        step()
        return counts


class KillingStorage(ConnectorStorage):
    def checkpoint(
        self, connector_id: str, cursor: str | None, tiebreak: str | None = None
    ) -> None:
        super().checkpoint(connector_id, cursor, tiebreak)
        step()


class OrderedSQLiteConnector(SQLiteTableConnector):
    connector_type = ConnectorType.FILE
    ordered_by_cursor = True


def sync(home: Path, database: Path, kill_at: int = 0) -> Any:
    """One incremental sync of the SQLite source into ``home``."""
    STEPS.update(count=0, kill_at=kill_at)
    registry = get_registry()
    previous = registry.get(ConnectorType.FILE)
    registry.register(ConnectorType.FILE, OrderedSQLiteConnector)
    try:
        config = ConnectorConfig(
            connector_type=ConnectorType.FILE,
            customer_id="acme",
            name="POS purchases",
            credentials={"password": "s3cret-pass"},
            connection_params={"database": str(database), "page_size": 25},
            batch_size=BATCH,
        )
        storage = KillingStorage(home / "registry.db", secrets=FileSecretStore(home / "secrets"))
        warehouse = KillingWarehouse(home / "warehouse.duckdb")
        connector = registry.create(config)
        try:
            return run_sync(connector, storage, warehouse)
        finally:
            connector.close()
    finally:
        if previous is None:
            registry.unregister(ConnectorType.FILE)
        else:
            registry.register(ConnectorType.FILE, previous)


if __name__ == "__main__":
    result = sync(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
    sys.exit(0 if result.success else 1)
