"""Re-mapping: re-normalize a connector's kept raw records with its current field map.

Nothing is fetched from the source. Conversions and rejects are upserted batch by batch;
when all raw records are done, the connector's conversions and rejects that the new mapping
no longer produces (a changed id column, say) are deleted. Running it again after a crash
finishes the job: every step is keyed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from growthnav.connectors.base import BaseConnector
from growthnav.connectors.config import SyncMode, SyncResult
from growthnav.connectors.exceptions import redact
from growthnav.connectors.storage import SyncRun
from growthnav.connectors.sync import SyncStateStore
from growthnav.warehouse import DuckDBWarehouse, Warehouse
from growthnav.warehouse.raw_records import DuckDBRawStore, raw_table_name

logger = logging.getLogger(__name__)


def run_remap(
    connector: BaseConnector,
    storage: SyncStateStore,
    warehouse: Warehouse,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Re-normalize ``connector``'s raw records into ``warehouse`` and record the run."""
    config = connector.config
    connector_id = config.effective_connector_id
    customer_id = config.customer_id
    if not isinstance(warehouse, DuckDBWarehouse):
        raise ValueError(
            "remap needs the raw records the DuckDB warehouse keeps; this warehouse does not "
            "keep them yet: run a full sync instead (`growthnav connectors sync ID --full`)"
        )
    raw = DuckDBRawStore(warehouse)
    if not raw.has_raw(customer_id, connector_id):
        raise ValueError(
            f"connector {connector_id!r} has no raw records kept yet: sync it once, then remap"
        )
    started = datetime.now(UTC)
    result = SyncResult(
        connector_name=config.name,
        customer_id=customer_id,
        sync_mode=SyncMode.REMAP,
        started_at=started,
        connector_id=connector_id,
    )
    state = storage.state(connector_id)
    result.cursor = state.cursor if state else None
    slug = raw_table_name(connector_id)
    keys = raw.key_table(customer_id, f"_remap_keys_{slug}")
    reject_keys = raw.key_table(customer_id, f"_remap_rejects_{slug}")
    try:
        normalizer = connector.normalizer().batch_normalizer
        batches = raw.read_raw(
            customer_id, connector_id, config.batch_size, connector.record_key_column()
        )
        for _, normalized in normalizer.normalize_stream(batches):
            counts, _ = warehouse.load(customer_id, normalized.conversions, normalized.rejects)
            raw.add_keys(keys, normalized.conversions.column("transaction_id"))
            raw.add_keys(reject_keys, normalized.rejects.column("reject_key"))
            result.add_batch(
                normalized.input_rows,
                counts.loaded,
                counts.unchanged,
                normalized.rejected,
                normalized.warnings,
            )
            if progress is not None:
                progress(result.records_fetched)
        deleted, deleted_rejects = raw.prune(customer_id, connector_id, keys, reject_keys)
        logger.info(
            "Remap of %s: %d conversions and %d rejects the new mapping no longer produces "
            "were removed",
            connector_id,
            deleted,
            deleted_rejects,
        )
        result.records_normalized = result.records_loaded
        result.records_failed = sum(result.records_rejected.values())
        result.success = True
    except Exception as exc:
        result.error = redact(f"{type(exc).__name__}: {exc}", connector.secret_values())
        logger.error("Remap failed for %s: %s", connector_id, result.error)
    finally:
        raw.drop(keys)
        raw.drop(reject_keys)
        result.completed_at = datetime.now(UTC)
    storage.record_run(
        SyncRun(
            connector_id=connector_id,
            started_at=started,
            mode=SyncMode.REMAP,
            success=result.success,
            finished_at=result.completed_at,
            records_fetched=result.records_fetched,
            records_loaded=result.records_loaded,
            records_unchanged=result.records_unchanged,
            records_rejected=dict(result.records_rejected),
            cursor_before=result.cursor,
            cursor_after=result.cursor,
            error=result.error,
        )
    )
    return result
