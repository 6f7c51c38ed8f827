"""The Olo connector against the sandbox's Olo order API: retries, failure, a real brand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    get_registry,
    run_sync,
)
from growthnav.connectors.adapters.olo import flatten_order
from growthnav.sandbox import OloEmulator, generate_business, olo_orders
from growthnav.sandbox.loopback import Fault
from growthnav.warehouse import DuckDBWarehouse

KEY = "olo-test-key-77d1"


@pytest.fixture(scope="module")
def orders() -> list[dict[str, object]]:
    return olo_orders(generate_business(people=300, seed=5), seed=5)


@pytest.fixture
def olo(orders: list[dict[str, object]]) -> Iterator[OloEmulator]:
    with OloEmulator(orders, api_key=KEY) as emulator:
        yield emulator


def config(olo: OloEmulator, **params: object) -> ConnectorConfig:
    return ConnectorConfig(
        connector_type=ConnectorType.OLO,
        customer_id="juniper-kitchen",
        name="Olo orders",
        credentials={"api_key": KEY},
        connection_params={"base_url": olo.url, "brand_id": olo.brand_id, **params},
        timezone="America/New_York",
    )


def test_flatten_spreads_the_customer_and_counts_items() -> None:
    record = flatten_order(
        {
            "orderId": "1",
            "customer": {"email": "a@x.com", "firstName": "Ana"},
            "items": [{"quantity": 2}, {"quantity": 1}],
        }
    )
    assert record["customer.email"] == "a@x.com"
    assert record["customer.firstName"] == "Ana"
    assert record["itemCount"] == 3
    assert '"quantity": 2' in record["items"]


def test_throttling_errors_and_a_dropped_connection_are_retried(olo: OloEmulator) -> None:
    olo.faults.throttle(times=2, retry_after=0)
    olo.faults.next(Fault("status", 503))
    olo.faults.next(Fault("drop"))
    connector = get_registry().create(config(olo, page_size=100))
    records = list(connector.fetch_records())
    connector.close()
    assert len(records) == len({r["orderId"] for r in records}) == len(olo.orders)
    statuses = [r for r in olo.requests if r.path == "/v1/orders"]
    pages = -(-len(olo.orders) // 100)
    assert len(statuses) == pages + 4  # four failed attempts, each retried


def test_a_source_that_keeps_failing_fails_the_sync_at_its_checkpoint(
    olo: OloEmulator, tmp_path: Path
) -> None:
    storage = ConnectorStorage(tmp_path / "registry.db", secrets=FileSecretStore(tmp_path / "s"))
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    olo.faults.rate(Fault("status", 500), 1.0)
    connector = get_registry().create(config(olo, max_attempts=2))
    result = run_sync(connector, storage, warehouse)
    connector.close()
    assert not result.success
    assert result.error is not None
    assert "Olo answered 500" in result.error
    assert KEY not in result.error
    assert storage.state(connector.config.effective_connector_id) is None


def test_a_brand_syncs_into_the_warehouse_with_the_default_mapping(
    olo: OloEmulator, tmp_path: Path
) -> None:
    storage = ConnectorStorage(tmp_path / "registry.db", secrets=FileSecretStore(tmp_path / "s"))
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    connector = get_registry().create(config(olo))
    result = run_sync(connector, storage, warehouse)
    connector.close()
    assert result.success, result.error
    assert result.records_fetched == len(olo.orders)
    table = warehouse.read_conversions("juniper-kitchen")
    assert table.num_rows == result.records_loaded == len(olo.orders)
    assert set(table.column("source").to_pylist()) == {"olo"}
    assert table.column("email").null_count < table.num_rows
    # Incremental: nothing new since the high-watermark but the orders at it.
    again = get_registry().create(config(olo))
    rerun = run_sync(again, storage, warehouse)
    again.close()
    assert rerun.success
    assert rerun.records_loaded == 0
    assert rerun.records_fetched < 5
