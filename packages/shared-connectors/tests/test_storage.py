from __future__ import annotations

import json
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from growthnav.connectors import (
    ConfigurationError,
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    SyncMode,
    SyncRun,
    SyncSchedule,
)
from growthnav.connectors.secrets import read_secret


@pytest.fixture(params=["sqlite", "bigquery"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Each backend must behave the same: SQLite locally, BigQuery (bqemulator) in production."""
    secrets = FileSecretStore(tmp_path / "secrets")
    if request.param == "sqlite":
        return ConnectorStorage(tmp_path / "registry.db", secrets=secrets)
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery
    from growthnav.connectors.bigquery_storage import BigQueryConnectorStorage

    client = bigquery.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=request.getfixturevalue("bqemulator_url")),
    )
    dataset = f"growthnav_registry_{uuid.uuid4().hex[:10]}"
    return BigQueryConnectorStorage(client, secrets=secrets, dataset=dataset, timeout=30)


def config(**overrides: object) -> ConnectorConfig:
    values: dict[str, object] = {
        "connector_type": ConnectorType.SNOWFLAKE,
        "customer_id": "acme",
        "name": "Thanx Purchases",
        "credentials": {"user": "loader", "password": "pw-that-must-not-leak"},
        "connection_params": {"account": "xy12345", "table": "THANX_PURCHASES"},
        "field_overrides": {"SETTLEMENT_AMOUNT": "value"},
        "sync_schedule": SyncSchedule.HOURLY,
        "lookback_seconds": 300,
        "timezone": "America/Chicago",
    }
    values.update(overrides)
    return ConnectorConfig(**values)  # type: ignore[arg-type]


def test_save_assigns_a_readable_deduplicated_id(storage: Any) -> None:
    assert storage.save(config()) == "snowflake-thanx-purchases"
    assert storage.save(config()) == "snowflake-thanx-purchases-2"
    assert storage.save(config(name="Thanx purchases!")) == "snowflake-thanx-purchases-3"
    assert storage.save(config(connector_id="my-own-id")) == "my-own-id"
    with pytest.raises(ValueError, match="already saved"):
        storage.save(config(connector_id="my-own-id"))


def test_saved_config_round_trips_without_credential_values(storage: Any, tmp_path: Path) -> None:
    original = config()
    connector_id = storage.save(original)
    assert original.credentials == {}
    assert original.credentials_secret_path == f"file:growthnav-acme-connector-{connector_id}"
    loaded = storage.get(connector_id)
    assert loaded is not None
    assert loaded.connection_params == {"account": "xy12345", "table": "THANX_PURCHASES"}
    assert loaded.field_overrides == {"SETTLEMENT_AMOUNT": "value"}
    assert (loaded.sync_schedule, loaded.lookback_seconds) == (SyncSchedule.HOURLY, 300)
    assert loaded.timezone == "America/Chicago"
    assert loaded.credentials == {}
    secret_file = tmp_path / "secrets" / f"growthnav-acme-connector-{connector_id}.json"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert json.loads(secret_file.read_text())["password"] == "pw-that-must-not-leak"
    if isinstance(storage, ConnectorStorage):
        assert b"pw-that-must-not-leak" not in (tmp_path / "registry.db").read_bytes()
    stores = {"file": FileSecretStore(tmp_path / "secrets")}
    assert read_secret(loaded.credentials_secret_path or "", stores)["user"] == "loader"


def test_list_by_customer_update_and_delete(storage: Any, tmp_path: Path) -> None:
    a = storage.save(config())
    b = storage.save(config(customer_id="other", name="POS"))
    assert [c.connector_id for c in storage.list()] == sorted([a, b])
    assert [c.connector_id for c in storage.list("acme")] == [a]
    saved = storage.get(a)
    assert saved is not None
    saved.is_active = False
    saved.sync_mode = SyncMode.FULL
    storage.update(saved)
    again = storage.get(a)
    assert again is not None
    assert (again.is_active, again.sync_mode) == (False, SyncMode.FULL)
    assert storage.delete(a) is True
    assert storage.get(a) is None
    assert storage.delete(a) is False
    assert not (tmp_path / "secrets" / f"growthnav-acme-connector-{a}.json").exists()
    with pytest.raises(KeyError, match="is not saved"):
        storage.update(config(connector_id="missing"))


def test_state_checkpoints_and_run_history(storage: Any) -> None:
    connector_id = storage.save(config())
    assert storage.state(connector_id) is None
    storage.checkpoint(connector_id, "2024-01-01T00:00:00+00:00", "P1")
    storage.checkpoint(connector_id, "2024-01-02T00:00:00+00:00", "P9")
    state = storage.state(connector_id)
    assert state is not None
    assert (state.cursor, state.tiebreak) == (
        "2024-01-02T00:00:00+00:00",
        "P9",
    )
    saved = storage.get(connector_id)
    assert saved is not None
    assert saved.last_sync_cursor == state.cursor
    started = datetime(2024, 1, 3, tzinfo=UTC)
    storage.record_run(
        SyncRun(connector_id, started, SyncMode.INCREMENTAL, success=False, error="boom")
    )
    storage.record_run(
        SyncRun(
            connector_id,
            started,
            SyncMode.FULL,
            success=True,
            finished_at=started,
            records_fetched=10,
            records_loaded=9,
            records_rejected={"bad_value": 1},
            schema_drift={"added": ["NEW_COL"]},
        )
    )
    latest, failed = storage.runs(connector_id)
    assert (latest.success, latest.records_rejected, latest.schema_drift) == (
        True,
        {"bad_value": 1},
        {"added": ["NEW_COL"]},
    )
    assert (failed.success, failed.error) == (False, "boom")
    again = storage.get(connector_id)
    assert again is not None
    assert again.last_sync == started


def test_a_second_process_sees_the_same_registry(tmp_path: Path) -> None:
    first = ConnectorStorage(tmp_path / "registry.db", secrets=FileSecretStore(tmp_path / "s"))
    connector_id = first.save(config())
    second = ConnectorStorage(tmp_path / "registry.db", secrets=FileSecretStore(tmp_path / "s"))
    assert second.get(connector_id) is not None


@pytest.mark.parametrize("name", ["../escape", "a/b", ""])
def test_secret_names_cannot_leave_the_store(tmp_path: Path, name: str) -> None:
    store = FileSecretStore(tmp_path)
    with pytest.raises(ConfigurationError):
        store.write(name, {"password": "x"})


def test_unknown_secret_scheme_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown secret scheme 'vault'"):
        read_secret("vault:acme")
    with pytest.raises(ConfigurationError, match="scheme:name"):
        read_secret("acme")
