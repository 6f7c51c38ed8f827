from __future__ import annotations

from datetime import UTC, datetime

import pytest
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorType,
    SyncMode,
    SyncResult,
    SyncSchedule,
    connector_id_for,
)


def make(**overrides: object) -> ConnectorConfig:
    values: dict[str, object] = {
        "connector_type": ConnectorType.SNOWFLAKE,
        "customer_id": "acme-burgers",
        "name": "Thanx Purchases",
        "credentials": {"user": "loader", "password": "hunter2-very-secret"},
        "connection_params": {"account": "xy12345", "table": "THANX_PURCHASES"},
    }
    values.update(overrides)
    return ConnectorConfig(**values)  # type: ignore[arg-type]


def test_repr_and_str_never_show_credential_values() -> None:
    config = make()
    for text in (repr(config), str(config), f"{config}", f"{[config]}"):
        assert "hunter2-very-secret" not in text
        assert "loader" not in text
        assert "'password': '***'" in text
        assert "THANX_PURCHASES" in text


def test_enum_fields_accept_their_values() -> None:
    config = make(connector_type="file", sync_mode="full", sync_schedule="hourly")
    assert config.connector_type is ConnectorType.FILE
    assert config.sync_mode is SyncMode.FULL
    assert config.sync_schedule is SyncSchedule.HOURLY


def test_unknown_enum_value_is_refused() -> None:
    with pytest.raises(ValueError, match="'sftp' is not a valid ConnectorType"):
        make(connector_type="sftp")


def test_defaults_match_the_plan() -> None:
    config = make()
    assert config.sync_mode is SyncMode.INCREMENTAL
    assert config.sync_schedule is SyncSchedule.DAILY
    assert config.is_active is True
    assert config.batch_size == 10_000
    assert config.lookback_seconds == 0


def test_unsaved_config_gets_a_deterministic_readable_id() -> None:
    first, second = make(), make(credentials={})
    assert first.effective_connector_id == second.effective_connector_id
    assert first.effective_connector_id.startswith("snowflake-thanx-purchases-")
    other_customer = make(customer_id="other-brand")
    assert other_customer.effective_connector_id != first.effective_connector_id
    assert make(connector_id="saved-id").effective_connector_id == "saved-id"
    assert connector_id_for("c", "file", "Nightly / POS export!").startswith(
        "file-nightly-pos-export-"
    )


def test_sync_result_duration_and_counts() -> None:
    started = datetime(2024, 1, 1, tzinfo=UTC)
    pending = SyncResult("n", "c", SyncMode.FULL, started_at=started)
    assert pending.duration_seconds is None
    result = SyncResult("n", "c", SyncMode.FULL, started_at=started)
    result.completed_at = datetime(2024, 1, 1, 0, 0, 2, 500000, tzinfo=UTC)
    assert result.duration_seconds == 2.5
    assert result.records_rejected == {}
