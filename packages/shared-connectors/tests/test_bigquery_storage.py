"""The BigQuery registry driving a sync (test_storage.py runs its behaviour on both backends)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorType,
    FileSecretStore,
    SyncMode,
    get_registry,
    run_sync,
)
from growthnav.connectors.bigquery_storage import BigQueryConnectorStorage
from growthnav.warehouse import DuckDBWarehouse


@pytest.fixture
def storage(
    bqemulator_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> BigQueryConnectorStorage:
    client = bigquery.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=bqemulator_url),
    )
    dataset = f"growthnav_registry_{uuid.uuid4().hex[:10]}"
    return BigQueryConnectorStorage(
        client, secrets=FileSecretStore(tmp_path / "secrets"), dataset=dataset, timeout=30
    )


def config(**overrides: object) -> ConnectorConfig:
    values: dict[str, object] = {
        "connector_type": ConnectorType.FILE,
        "customer_id": "acme",
        "name": "POS exports",
        "credentials": {"token": "tk-secret-value"},
        "connection_params": {"path": "/data/*.csv", "delimiter": ";"},
        "field_overrides": {"ID": "transaction_id", "AT": "timestamp"},
        "lookback_seconds": 120,
        "timezone": "America/Denver",
    }
    values.update(overrides)
    return ConnectorConfig(**values)  # type: ignore[arg-type]


def test_run_sync_keeps_its_state_in_bigquery(
    storage: BigQueryConnectorStorage, tmp_path: Path
) -> None:
    export = tmp_path / "e.csv"
    export.write_text("ID,AT\na,2024-01-01\nb,2024-01-02\n")
    saved = config(credentials={}, connection_params={"path": str(export)})
    connector_id = storage.save(saved)
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    connector = get_registry().create(saved)
    result = run_sync(connector, storage, warehouse, mode=SyncMode.INCREMENTAL)
    assert result.success, result.error
    assert result.records_loaded == 2
    again = get_registry().create(saved)
    assert run_sync(again, storage, warehouse, mode=SyncMode.INCREMENTAL).records_fetched == 0
    [latest, first] = storage.runs(connector_id)
    assert (first.records_loaded, latest.records_fetched) == (2, 0)
