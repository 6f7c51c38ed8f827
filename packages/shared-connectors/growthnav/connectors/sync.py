"""A sync from start to finish: resume from the saved state, load, checkpoint, record the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from growthnav.connectors.base import BaseConnector
from growthnav.connectors.config import SyncMode, SyncResult
from growthnav.connectors.exceptions import redact
from growthnav.connectors.schema_drift import check_mapped_columns, compare
from growthnav.connectors.sinks import WarehouseSink
from growthnav.connectors.storage import SyncRun, SyncState
from growthnav.warehouse import Warehouse


class SyncStateStore(Protocol):
    """What a sync needs from connector storage (SQLite or BigQuery)."""

    def state(self, connector_id: str) -> SyncState | None:
        """Where the next incremental sync resumes."""

    def checkpoint(
        self, connector_id: str, cursor: str | None, tiebreak: str | None = None
    ) -> None:
        """Record the high-watermark the warehouse holds."""

    def record_run(self, run: SyncRun) -> int:
        """Append a run to the history."""

    def source_schema(self, connector_id: str) -> dict[str, str] | None:
        """The source's columns at the last successful sync."""

    def save_source_schema(self, connector_id: str, columns: dict[str, str]) -> None:
        """Remember the source's columns."""


def run_sync(
    connector: BaseConnector,
    storage: SyncStateStore,
    warehouse: Warehouse,
    *,
    mode: SyncMode | None = None,
    since: datetime | None = None,
    progress: Callable[[int], None] | None = None,
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
    try:
        columns = connector.get_schema()
        drift = compare(storage.source_schema(connector_id), columns)
        run.schema_drift = drift.as_dict()
        check_mapped_columns(drift, connector.field_map.columns)
    except Exception as exc:
        # The source cannot be read as mapped: fail before anything is loaded.
        result = SyncResult(
            connector_name=config.name,
            customer_id=config.customer_id,
            sync_mode=run.mode,
            started_at=run.started_at,
            completed_at=datetime.now(UTC),
            error=redact(f"{type(exc).__name__}: {exc}", connector.secret_values()),
            connector_id=connector_id,
            cursor=config.last_sync_cursor,
        )
    else:
        sink = WarehouseSink(warehouse)
        started_ns = time.time_ns()
        with warehouse.session():
            result = connector.sync(
                mode,
                since,
                sink=sink,
                checkpoint=lambda cursor: storage.checkpoint(connector_id, cursor),
                progress=progress,
            )
        if result.success:
            storage.save_source_schema(connector_id, columns)
            if run.mode is SyncMode.FULL and sink.raw is not None and sink.raw_complete:
                # The whole source was just re-read and written: older raw copies are spare.
                sink.raw.retire_before(config.customer_id, connector_id, started_ns)
    result.schema_drift = run.schema_drift
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
