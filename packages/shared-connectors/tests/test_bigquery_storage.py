"""The BigQuery registry against bqemulator: the same behaviour as the SQLite one."""

from __future__ import annotations

from datetime import UTC, datetime
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
    SyncRun,
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
    dataset = "growthnav_registry_" + request.node.name.split("[")[0][-20:].replace("-", "_")
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


def test_configs_round_trip_with_ids_and_without_secret_values(
    storage: BigQueryConnectorStorage, tmp_path: Path
) -> None:
    first, second = storage.save(config()), storage.save(config())
    assert (first, second) == ("file-pos-exports", "file-pos-exports-2")
    other = storage.save(config(customer_id="other", name="B"))
    loaded = storage.get(first)
    assert loaded is not None
    assert loaded.connection_params == {"path": "/data/*.csv", "delimiter": ";"}
    assert loaded.field_overrides == {"ID": "transaction_id", "AT": "timestamp"}
    assert (loaded.lookback_seconds, loaded.timezone) == (120, "America/Denver")
    assert loaded.credentials == {}
    assert loaded.credentials_secret_path == f"file:growthnav-acme-connector-{first}"
    assert [c.connector_id for c in storage.list("acme")] == [first, second]
    assert {c.connector_id for c in storage.list()} == {first, second, other}
    loaded.sync_mode = SyncMode.FULL
    loaded.is_active = False
    storage.update(loaded)
    again = storage.get(first)
    assert again is not None
    assert (again.sync_mode, again.is_active) == (SyncMode.FULL, False)
    assert storage.delete(first) is True
    assert storage.get(first) is None
    assert storage.delete(first) is False


def test_state_runs_and_schemas(storage: BigQueryConnectorStorage) -> None:
    connector_id = storage.save(config(credentials={}))
    assert storage.state(connector_id) is None
    storage.checkpoint(connector_id, "2024-01-01T00:00:00+00:00")
    storage.checkpoint(connector_id, "2024-01-02T00:00:00+00:00", "P9")
    state = storage.state(connector_id)
    assert state is not None
    assert (state.cursor, state.tiebreak) == (
        "2024-01-02T00:00:00+00:00",
        "P9",
    )
    started = datetime(2024, 1, 3, tzinfo=UTC)
    storage.record_run(SyncRun(connector_id, started, SyncMode.FULL, success=False, error="boom"))
    storage.record_run(
        SyncRun(
            connector_id,
            started,
            SyncMode.FULL,
            success=True,
            finished_at=started,
            records_fetched=3,
            records_rejected={"bad_value": 1},
        )
    )
    latest, failed = storage.runs(connector_id)
    assert (latest.success, latest.records_rejected) == (True, {"bad_value": 1})
    assert (failed.success, failed.error) == (False, "boom")
    assert storage.source_schema(connector_id) is None
    storage.save_source_schema(connector_id, {"ID": "VARCHAR"})
    storage.save_source_schema(connector_id, {"ID": "VARCHAR", "AT": "VARCHAR"})
    assert storage.source_schema(connector_id) == {"ID": "VARCHAR", "AT": "VARCHAR"}


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
