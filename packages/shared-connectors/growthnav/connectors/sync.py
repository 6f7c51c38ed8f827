"""A sync from start to finish: resume from the saved state, load, checkpoint, record the run."""

from __future__ import annotations

from datetime import UTC, datetime

from growthnav.connectors.base import BaseConnector
from growthnav.connectors.config import SyncMode, SyncResult
from growthnav.connectors.sinks import WarehouseSink
from growthnav.connectors.storage import ConnectorStorage, SyncRun
from growthnav.warehouse import Warehouse


def run_sync(
    connector: BaseConnector,
    storage: ConnectorStorage,
    warehouse: Warehouse,
    *,
    mode: SyncMode | None = None,
    since: datetime | None = None,
) -> SyncResult:
    """Sync ``connector`` into ``warehouse``, keeping its state and history in ``storage``.

    Each batch is loaded, then checkpointed; a sync that fails (or is killed) leaves the
    state at the last good checkpoint and the next run continues from there.
    """
    config = connector.config
    connector_id = config.effective_connector_id
    state = storage.state(connector_id)
    config.last_sync_cursor = state.cursor if state else None
    run = SyncRun(
        connector_id=connector_id,
        started_at=datetime.now(UTC),
        mode=SyncMode(mode or config.sync_mode),
        cursor_before=config.last_sync_cursor,
    )
    result = connector.sync(
        mode,
        since,
        sink=WarehouseSink(warehouse),
        checkpoint=lambda cursor: storage.checkpoint(connector_id, cursor),
    )
    run.finished_at = result.completed_at
    run.success = result.success
    run.records_fetched = result.records_fetched
    run.records_loaded = result.records_loaded
    run.records_unchanged = result.records_unchanged
    run.records_rejected = dict(result.records_rejected)
    after = storage.state(connector_id)
    run.cursor_after = after.cursor if after else None
    run.error = result.error
    storage.record_run(run)
    return result
