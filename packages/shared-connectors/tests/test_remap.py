"""Re-mapping kept raw records with a changed field map, without reading the source again."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    SyncMode,
    get_registry,
    run_remap,
    run_sync,
)
from growthnav.warehouse import DuckDBWarehouse
from growthnav.warehouse.raw_records import DuckDBRawStore

CSV = (
    "order_id,check_no,closed,total,net,email\n"
    "1,A1,2024-01-31 18:05,$12.50,11.00,ana@example.com\n"
    "2,A2,2024-02-01 12:00,7.25,6.00,bo@example.com\n"
    "3,A3,bad date,3.00,2.50,\n"
)
MAP = {"order_id": "transaction_id", "closed": "timestamp", "total": "value", "email": "email"}


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ConnectorConfig, ConnectorStorage, DuckDBWarehouse, Path]:
    export = tmp_path / "orders.csv"
    export.write_text(CSV)
    storage = ConnectorStorage(tmp_path / "registry.db", secrets=FileSecretStore(tmp_path / "s"))
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="brand",
        name="orders",
        connection_params={"path": str(export)},
        field_overrides=dict(MAP),
    )
    storage.save(config)
    return config, storage, warehouse, export


def _sync(
    config: ConnectorConfig,
    storage: ConnectorStorage,
    warehouse: DuckDBWarehouse,
    mode: SyncMode = SyncMode.FULL,
) -> None:
    connector = get_registry().create(config)
    result = run_sync(connector, storage, warehouse, mode=mode)
    connector.close()
    assert result.success, result.error


def test_remap_uses_kept_raw_records_and_replaces_what_changed(
    setup: tuple[ConnectorConfig, ConnectorStorage, DuckDBWarehouse, Path],
) -> None:
    config, storage, warehouse, export = setup
    _sync(config, storage, warehouse)
    _sync(config, storage, warehouse)  # a replay stores no raw record twice
    raw = DuckDBRawStore(warehouse)
    assert sum(t.num_rows for t in raw.read_raw("brand", config.effective_connector_id, 2)) == 3
    before = warehouse.read_conversions("brand")
    assert before.column("transaction_id").to_pylist() == ["1", "2"]
    # The source is gone: a remap must not read it.
    export.unlink()
    config.field_overrides = {**MAP, "check_no": "transaction_id", "net": "value"}
    del config.field_overrides["order_id"], config.field_overrides["total"]
    storage.update(config)
    result = run_remap(get_registry().create(config), storage, warehouse)
    assert result.success, result.error
    assert (result.records_fetched, result.records_loaded) == (3, 2)
    assert result.records_rejected == {"bad_timestamp": 1}
    after = warehouse.read_conversions("brand")
    assert after.column("transaction_id").to_pylist() == ["A1", "A2"]
    assert [str(v) for v in after.column("value").to_pylist()] == ["11.0000", "6.0000"]
    rejects = warehouse.read_rejects("brand")
    assert rejects.column("transaction_id").to_pylist() == ["A3"]
    # A second remap changes nothing.
    again = run_remap(get_registry().create(config), storage, warehouse)
    assert (again.records_loaded, again.records_unchanged) == (0, 2)
    runs = storage.runs(config.effective_connector_id)
    assert runs[0].mode is SyncMode.REMAP
    assert runs[0].cursor_after == runs[0].cursor_before


def test_a_changed_source_row_is_kept_again_and_the_later_version_wins(
    setup: tuple[ConnectorConfig, ConnectorStorage, DuckDBWarehouse, Path],
) -> None:
    config, storage, warehouse, export = setup
    _sync(config, storage, warehouse)
    changed = CSV.replace("$12.50", "$99.00") + "4,A4,2024-03-01 10:00,5.00,4.00,x@example.com\n"
    export.write_text(changed)
    _sync(config, storage, warehouse, SyncMode.INCREMENTAL)  # the changed file is re-read
    raw = DuckDBRawStore(warehouse)
    connector_id = config.effective_connector_id
    # Order 1 in two versions, 2 and 3 once each (replayed copies collapse), and order 4.
    assert sum(t.num_rows for t in raw.read_raw("brand", connector_id, 10)) == 5
    result = run_remap(get_registry().create(config), storage, warehouse)
    assert result.success
    values = {
        r["transaction_id"]: str(r["value"])
        for r in warehouse.read_conversions("brand").to_pylist()
    }
    assert values == {"1": "99.0000", "2": "7.2500", "4": "5.0000"}
    # A full sync that finds records unchanged writes only the others: the earlier copies of
    # the unchanged ones stand, so nothing is retired and the later version still wins.
    _sync(config, storage, warehouse)
    assert sum(t.num_rows for t in raw.read_raw("brand", connector_id, 10)) == 5
    assert run_remap(get_registry().create(config), storage, warehouse).success
    assert warehouse.read_conversions("brand").column("value").to_pylist()[0] == Decimal("99")
    # One that writes every record (a new timezone: nothing is as loaded) retires the rest.
    _sync(dataclasses.replace(config, timezone="America/New_York"), storage, warehouse)
    assert sum(t.num_rows for t in raw.read_raw("brand", connector_id, 10)) == 4
    assert len(list(raw.directory("brand", connector_id).glob("*.parquet"))) == 1


def test_remap_needs_kept_records(
    setup: tuple[ConnectorConfig, ConnectorStorage, DuckDBWarehouse, Path],
) -> None:
    config, storage, warehouse, _ = setup
    with pytest.raises(ValueError, match="no raw records kept yet"):
        run_remap(get_registry().create(config), storage, warehouse)


def test_a_resync_keeps_the_global_customer_id(
    setup: tuple[ConnectorConfig, ConnectorStorage, DuckDBWarehouse, Path],
) -> None:
    from growthnav.connectors.identity import resolve_customer

    config, storage, warehouse, _ = setup
    _sync(config, storage, warehouse)
    resolve_customer(warehouse, "brand", deterministic=True)
    ids = {
        r["transaction_id"]: r["global_customer_id"]
        for r in warehouse.read_conversions("brand").to_pylist()
    }
    assert all(ids.values())
    _sync(config, storage, warehouse)  # full: every row re-read, none changed
    after = {
        r["transaction_id"]: r["global_customer_id"]
        for r in warehouse.read_conversions("brand").to_pylist()
    }
    assert after == ids
