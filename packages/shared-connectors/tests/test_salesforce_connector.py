"""The Salesforce connector against the sandbox's REST emulator: leads, budget, datetimes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    get_registry,
    run_sync,
)
from growthnav.connectors.adapters.salesforce import soql_datetime
from growthnav.sandbox import SalesforceEmulator, generate_business, salesforce_records
from growthnav.warehouse import DuckDBWarehouse

SESSION = "00Dtest!connector-session-2a9c"


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict[str, Any]]]:
    return salesforce_records(generate_business(people=400, seed=9))


@pytest.fixture
def emulator(records: dict[str, list[dict[str, Any]]]) -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(records, session_id=SESSION, page_size=100) as running:
        yield running


def config(emulator: SalesforceEmulator, **params: Any) -> ConnectorConfig:
    return ConnectorConfig(
        connector_type=ConnectorType.SALESFORCE,
        customer_id="juniper-kitchen",
        name="Salesforce leads",
        credentials={"session_id": SESSION},
        connection_params={
            "instance_url": emulator.url,
            "ca_file": str(emulator.ca_path),
            **params,
        },
    )


def test_soql_datetimes_are_whole_seconds_in_utc() -> None:
    moment = datetime(2024, 1, 31, 18, 5, 7, 999_999, tzinfo=UTC)
    assert soql_datetime(moment) == "2024-01-31T18:05:07Z"


def test_leads_sync_as_lead_conversions(
    emulator: SalesforceEmulator, records: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    storage = ConnectorStorage(tmp_path / "registry.db", secrets=FileSecretStore(tmp_path / "s"))
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    connector = get_registry().create(
        config(emulator, object_name="Lead", conversion_type="lead", source="crm")
    )
    result = run_sync(connector, storage, warehouse)
    connector.close()
    assert result.success, result.error
    live = [r for r in records["Lead"] if not r["IsDeleted"]]
    assert result.records_fetched == len(live)
    table = warehouse.read_conversions("juniper-kitchen")
    assert set(table.column("conversion_type").to_pylist()) == {"lead"}
    assert table.num_rows + sum(result.records_rejected.values()) == len(live)
    assert table.column("email").null_count < table.num_rows


def test_a_spent_daily_budget_fails_the_sync_with_state_untouched(
    records: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    storage = ConnectorStorage(tmp_path / "registry.db", secrets=FileSecretStore(tmp_path / "s"))
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    with SalesforceEmulator(records, session_id=SESSION, daily_limit=2) as emulator:
        connector = get_registry().create(config(emulator))
        result = run_sync(connector, storage, warehouse)
        connector.close()
    assert not result.success
    assert result.error is not None
    assert "QuotaExhaustedError" in result.error
    assert SESSION not in result.error
    assert storage.state(connector.config.effective_connector_id) is None


def test_an_expired_session_is_refused(emulator: SalesforceEmulator) -> None:
    connector = get_registry().create(
        ConnectorConfig(
            connector_type=ConnectorType.SALESFORCE,
            customer_id="juniper-kitchen",
            name="Salesforce",
            credentials={"session_id": "00Dexpired!x"},
            connection_params={"instance_url": emulator.url, "ca_file": str(emulator.ca_path)},
        )
    )
    assert connector.test_connection() is False
