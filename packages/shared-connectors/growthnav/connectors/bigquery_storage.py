"""Connector storage in BigQuery, for production.

``growthnav_registry.connectors`` has exactly the plan's DDL; settings, sync state, sync runs
and source schemas are tables beside it.
"""

from __future__ import annotations

import builtins
import json
import time
from datetime import datetime
from typing import Any

from google.cloud import bigquery
from growthnav.connectors.config import ConnectorConfig, SyncMode
from growthnav.connectors.secrets import SecretStore, secret_name, split_reference
from growthnav.connectors.storage import (
    SyncRun,
    SyncState,
    config_from_values,
    config_values,
    move_credentials,
    readable_id,
    run_from_values,
)

_TABLES = {
    "connectors": """
        connector_id STRING NOT NULL,
        customer_id STRING NOT NULL,
        connector_type STRING NOT NULL,
        name STRING NOT NULL,
        connection_params JSON,
        field_overrides JSON,
        sync_mode STRING DEFAULT 'incremental',
        sync_schedule STRING DEFAULT 'daily',
        last_sync TIMESTAMP,
        last_sync_cursor STRING,
        credentials_secret_path STRING,
        is_active BOOL DEFAULT TRUE,
        error_message STRING,
        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP(),
        updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP()""",
    "connector_settings": "connector_id STRING NOT NULL, settings STRING",
    "sync_state": "connector_id STRING NOT NULL, cursor STRING, tiebreak STRING, "
    "updated_at TIMESTAMP",
    "sync_runs": "run_id INT64 NOT NULL, connector_id STRING NOT NULL, started_at TIMESTAMP, "
    "finished_at TIMESTAMP, mode STRING, success BOOL, records_fetched INT64, "
    "records_loaded INT64, records_unchanged INT64, records_rejected STRING, "
    "cursor_before STRING, cursor_after STRING, schema_drift STRING, error STRING",
    "source_schemas": "connector_id STRING NOT NULL, columns STRING, seen_at TIMESTAMP",
}


def _parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter:
    if isinstance(value, bool):
        return bigquery.ScalarQueryParameter(name, "BOOL", value)
    if isinstance(value, int):
        return bigquery.ScalarQueryParameter(name, "INT64", value)
    if isinstance(value, datetime):
        return bigquery.ScalarQueryParameter(name, "TIMESTAMP", value)
    return bigquery.ScalarQueryParameter(name, "STRING", value)


class BigQueryConnectorStorage:
    """The production registry; same methods as :class:`ConnectorStorage`."""

    def __init__(
        self,
        client: bigquery.Client,
        *,
        secrets: SecretStore,
        dataset: str = "growthnav_registry",
        timeout: float = 60.0,
    ) -> None:
        self.client = client
        self.secrets = secrets
        self.dataset = f"{client.project}.{dataset}"
        self.timeout = timeout
        client.create_dataset(self.dataset, exists_ok=True, timeout=timeout)
        for table, columns in _TABLES.items():
            self._run(f"CREATE TABLE IF NOT EXISTS `{self.dataset}.{table}` ({columns})")

    def _run(self, sql: str, **params: Any) -> builtins.list[dict[str, Any]]:
        config = bigquery.QueryJobConfig(
            query_parameters=[_parameter(k, v) for k, v in params.items()]
        )
        job = self.client.query(sql, job_config=config, timeout=self.timeout)
        return [dict(row) for row in job.result(timeout=self.timeout)]

    def _t(self, table: str) -> str:
        return f"`{self.dataset}.{table}`"

    # -- configs ---------------------------------------------------------------------------

    def save(self, config: ConnectorConfig) -> str:
        """Store a new config; returns its id (see :meth:`ConnectorStorage.save`)."""
        taken = {
            r["connector_id"]
            for r in self._run(f"SELECT connector_id FROM {self._t('connectors')}")
        }
        connector_id = config.connector_id or readable_id(config, taken)
        if connector_id in taken:
            raise ValueError(
                f"connector {connector_id!r} is already saved; use update() to change it"
            )
        config.connector_id = connector_id
        move_credentials(config, self.secrets)
        values = config_values(config)
        settings = values.pop("settings")
        columns = ", ".join(values)
        placeholders = ", ".join(
            f"PARSE_JSON(@{k})"
            if k in ("connection_params", "field_overrides")
            else (f"TIMESTAMP(@{k})" if k == "last_sync" else f"@{k}")
            for k in values
        )
        self._run(
            f"INSERT INTO {self._t('connectors')} ({columns}) VALUES ({placeholders})", **values
        )
        self._run(
            f"INSERT INTO {self._t('connector_settings')} (connector_id, settings) "
            "VALUES (@id, @s)",
            id=connector_id,
            s=settings,
        )
        return connector_id

    def update(self, config: ConnectorConfig) -> None:
        """Replace a saved config (matched by ``connector_id``)."""
        if not config.connector_id or self.get(config.connector_id) is None:
            raise KeyError(f"connector {config.connector_id!r} is not saved")
        move_credentials(config, self.secrets)
        values = config_values(config)
        settings = values.pop("settings")
        assignments = ", ".join(
            f"{k} = PARSE_JSON(@{k})"
            if k in ("connection_params", "field_overrides")
            else (f"{k} = TIMESTAMP(@{k})" if k == "last_sync" else f"{k} = @{k}")
            for k in values
            if k != "connector_id"
        )
        self._run(
            f"UPDATE {self._t('connectors')} SET {assignments}, updated_at = CURRENT_TIMESTAMP() "
            "WHERE connector_id = @connector_id",
            **values,
        )
        self._run(
            f"UPDATE {self._t('connector_settings')} SET settings = @s WHERE connector_id = @id",
            id=config.connector_id,
            s=settings,
        )

    def _select(self, where: str = "", **params: Any) -> builtins.list[ConnectorConfig]:
        rows = self._run(
            "SELECT c.* EXCEPT (connection_params, field_overrides), "
            "TO_JSON_STRING(c.connection_params) AS connection_params, "
            "TO_JSON_STRING(c.field_overrides) AS field_overrides, s.settings "
            f"FROM {self._t('connectors')} c LEFT JOIN {self._t('connector_settings')} s "
            f"USING (connector_id) {where} ORDER BY connector_id",
            **params,
        )
        return [config_from_values({**row, "settings": row["settings"] or "{}"}) for row in rows]

    def get(self, connector_id: str) -> ConnectorConfig | None:
        """The saved config, or None."""
        found = self._select("WHERE connector_id = @id", id=connector_id)
        return found[0] if found else None

    def list(self, customer_id: str | None = None) -> builtins.list[ConnectorConfig]:
        """Saved configs, all or one customer's, by id."""
        if customer_id is None:
            return self._select()
        return self._select("WHERE customer_id = @customer", customer=customer_id)

    def delete(self, connector_id: str) -> bool:
        """Remove a config, its settings, state, runs and stored secret."""
        config = self.get(connector_id)
        if config is None:
            return False
        for table in _TABLES:
            self._run(f"DELETE FROM {self._t(table)} WHERE connector_id = @id", id=connector_id)
        if config.credentials_secret_path:
            scheme, name = split_reference(config.credentials_secret_path)
            if scheme == self.secrets.scheme and name == secret_name(
                config.customer_id, connector_id
            ):
                self.secrets.delete(name)
        return True

    # -- state and runs --------------------------------------------------------------------

    def state(self, connector_id: str) -> SyncState | None:
        """Where the connector's next incremental sync resumes."""
        rows = self._run(
            f"SELECT * FROM {self._t('sync_state')} WHERE connector_id = @id", id=connector_id
        )
        if not rows:
            return None
        row = rows[0]
        return SyncState(row["connector_id"], row["cursor"], row["tiebreak"], row["updated_at"])

    def checkpoint(
        self, connector_id: str, cursor: str | None, tiebreak: str | None = None
    ) -> None:
        """Record the high-watermark the warehouse now holds."""
        self._run(
            f"MERGE {self._t('sync_state')} t USING (SELECT @id AS connector_id) s "
            "ON t.connector_id = s.connector_id "
            "WHEN MATCHED THEN UPDATE SET cursor = @cursor, tiebreak = @tiebreak, "
            "updated_at = CURRENT_TIMESTAMP() "
            "WHEN NOT MATCHED THEN INSERT (connector_id, cursor, tiebreak, updated_at) "
            "VALUES (@id, @cursor, @tiebreak, CURRENT_TIMESTAMP())",
            id=connector_id,
            cursor=cursor,
            tiebreak=tiebreak,
        )
        self._run(
            f"UPDATE {self._t('connectors')} SET last_sync_cursor = @cursor, "
            "updated_at = CURRENT_TIMESTAMP() WHERE connector_id = @id",
            id=connector_id,
            cursor=cursor,
        )

    def record_run(self, run: SyncRun) -> int:
        """Append a run to the history; returns its id."""
        run.run_id = time.time_ns()
        self._run(
            f"INSERT INTO {self._t('sync_runs')} (run_id, connector_id, started_at, finished_at, "
            "mode, success, records_fetched, records_loaded, records_unchanged, "
            "records_rejected, cursor_before, cursor_after, schema_drift, error) VALUES "
            "(@run_id, @connector_id, @started_at, TIMESTAMP(@finished_at), @mode, @success, "
            "@fetched, @loaded, @unchanged, @rejected, @before, @after, @drift, @error)",
            run_id=run.run_id,
            connector_id=run.connector_id,
            started_at=run.started_at,
            finished_at=run.finished_at.isoformat() if run.finished_at else None,
            mode=SyncMode(run.mode).value,
            success=run.success,
            fetched=run.records_fetched,
            loaded=run.records_loaded,
            unchanged=run.records_unchanged,
            rejected=json.dumps(run.records_rejected, sort_keys=True),
            before=run.cursor_before,
            after=run.cursor_after,
            drift=json.dumps(run.schema_drift, sort_keys=True),
            error=run.error,
        )
        if run.success and run.finished_at:
            self._run(
                f"UPDATE {self._t('connectors')} SET last_sync = @at, error_message = NULL "
                "WHERE connector_id = @id",
                at=run.finished_at,
                id=run.connector_id,
            )
        elif run.error:
            self._run(
                f"UPDATE {self._t('connectors')} SET error_message = @error "
                "WHERE connector_id = @id",
                error=run.error,
                id=run.connector_id,
            )
        return run.run_id

    def runs(self, connector_id: str, limit: int = 20) -> builtins.list[SyncRun]:
        """The connector's most recent runs, newest first."""
        rows = self._run(
            f"SELECT * FROM {self._t('sync_runs')} WHERE connector_id = @id "
            "ORDER BY run_id DESC LIMIT @limit",
            id=connector_id,
            limit=limit,
        )
        return [run_from_values(row) for row in rows]

    def source_schema(self, connector_id: str) -> dict[str, str] | None:
        """The source's columns as of the last successful sync, or None."""
        rows = self._run(
            f"SELECT columns FROM {self._t('source_schemas')} WHERE connector_id = @id",
            id=connector_id,
        )
        if not rows:
            return None
        columns: dict[str, str] = json.loads(rows[0]["columns"])
        return columns

    def save_source_schema(self, connector_id: str, columns: dict[str, str]) -> None:
        """Remember the source's columns (after a successful sync)."""
        self._run(
            f"MERGE {self._t('source_schemas')} t USING (SELECT @id AS connector_id) s "
            "ON t.connector_id = s.connector_id "
            "WHEN MATCHED THEN UPDATE SET columns = @columns, seen_at = CURRENT_TIMESTAMP() "
            "WHEN NOT MATCHED THEN INSERT (connector_id, columns, seen_at) "
            "VALUES (@id, @columns, CURRENT_TIMESTAMP())",
            id=connector_id,
            columns=json.dumps(columns),
        )
