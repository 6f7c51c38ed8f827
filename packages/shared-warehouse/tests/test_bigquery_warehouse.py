from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from growthnav.conversions import BatchNormalizer
from growthnav.warehouse import BigQueryWarehouse, LoadCounts, dataset_id

MAP = {"id": "transaction_id", "ts": "timestamp", "amount": "value", "mail": "email"}
ROWS: list[dict[str, Any]] = [
    {"id": "a", "ts": "2024-01-01T10:00:00Z", "amount": "$10.00", "mail": "A@x.com"},
    {"id": "b", "ts": "2024-01-02T10:00:00Z", "amount": "$20.00", "mail": "b@x.com"},
    {"id": "c", "ts": "nope", "amount": "$30.00", "mail": None},
]


def normalized(rows: list[dict[str, Any]], connector_id: str = "pos-1") -> Any:
    return BatchNormalizer("acme-burgers", MAP, connector_id=connector_id).normalize(rows)


@pytest.fixture
def warehouse(bqemulator_url: str, request: pytest.FixtureRequest) -> BigQueryWarehouse:
    client = bigquery.Client(
        project="test",
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=bqemulator_url),
    )
    return BigQueryWarehouse(client, timeout=30)


def test_dataset_ids_follow_the_plan() -> None:
    assert dataset_id("acme-burgers") == "growthnav_acme_burgers"
    with pytest.raises(ValueError, match="cannot name a dataset"):
        dataset_id("Acme Burgers")


def test_load_then_replay_then_update_through_staging_and_merge(
    warehouse: BigQueryWarehouse,
) -> None:
    batch = normalized(ROWS)
    assert warehouse.upsert_conversions("acme-burgers", batch.conversions) == LoadCounts(2, 0, 0)
    assert warehouse.upsert_conversions("acme-burgers", batch.conversions) == LoadCounts(0, 0, 2)
    changed = normalized([dict(ROWS[0], amount="$11.00"), ROWS[1], dict(ROWS[1], id="d")])
    assert warehouse.upsert_conversions("acme-burgers", changed.conversions) == LoadCounts(1, 1, 1)
    table = warehouse.read_conversions("acme-burgers")
    values = dict(
        zip(
            table.column("transaction_id").to_pylist(),
            table.column("value").to_pylist(),
            strict=True,
        )
    )
    assert values == {"a": Decimal("11"), "b": Decimal("20"), "d": Decimal("20")}
    assert table.column("email").to_pylist()[0] == "a@x.com"
    datasets = [d.dataset_id for d in warehouse.client.list_datasets()]
    assert "growthnav_acme_burgers" in datasets
    tables = [t.table_id for t in warehouse.client.list_tables("test.growthnav_acme_burgers")]
    assert sorted(tables) == ["conversion_rejects", "conversions"]  # staging tables are gone


def test_rejects_are_keyed_and_connectors_kept_apart(warehouse: BigQueryWarehouse) -> None:
    batch = normalized(ROWS, "pos-2")
    assert warehouse.write_rejects("acme-burgers", batch.rejects) == 1
    assert warehouse.write_rejects("acme-burgers", batch.rejects) == 0
    [reject] = warehouse.read_rejects("acme-burgers", "pos-2").to_pylist()
    assert (reject["reject_key"], reject["reason"]) == ("c", "bad_timestamp")
    warehouse.upsert_conversions("acme-burgers", batch.conversions)
    assert warehouse.read_conversions("acme-burgers", "pos-2").num_rows == 2
    # Record c fixed at the source: once it loads, it is no longer a reject.
    fixed = normalized([dict(ROWS[2], ts="2024-01-03T10:00:00Z")], "pos-2")
    counts, rejects_written = warehouse.load("acme-burgers", fixed.conversions, fixed.rejects)
    assert (counts.inserted, rejects_written) == (1, 0)
    assert warehouse.read_rejects("acme-burgers", "pos-2").num_rows == 0


def test_a_file_sync_lands_in_bigquery(warehouse: BigQueryWarehouse, tmp_path: Path) -> None:
    from growthnav.connectors import ConnectorConfig, ConnectorType, WarehouseSink, get_registry

    export = tmp_path / "orders.csv"
    export.write_text(
        "id,ts,amount,mail\nx1,2024-03-01T09:00:00Z,$5.00,x@y.com\nx2,bad,$1,\nx3,2024-03-02,\n"
    )
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="acme-burgers",
        name="orders",
        connection_params={"path": str(export)},
        field_overrides=MAP,
        connector_id="orders-csv",
    )
    connector = get_registry().create(config)
    result = connector.sync(sink=WarehouseSink(warehouse))
    assert result.success, result.error
    rejected = {"bad_timestamp": 1, "malformed_row": 1}
    assert (result.records_loaded, result.records_rejected) == (1, rejected)
    assert warehouse.read_conversions("acme-burgers", "orders-csv").column(
        "transaction_id"
    ).to_pylist() == ["x1"]
    # The export is replaced with its bad line fixed: the line's reject is retired.
    export.write_text(
        "id,ts,amount,mail\nx1,2024-03-01T09:00:00Z,$5.00,x@y.com\nx3,2024-03-02,$2,\n"
    )
    again = get_registry().create(config).sync(sink=WarehouseSink(warehouse))
    assert again.success, again.error
    assert again.records_rejected == {}
    keys = warehouse.read_rejects("acme-burgers", "orders-csv").column("reject_key").to_pylist()
    assert keys == ["x2"]  # the record with a bad timestamp was not in the new export


def test_the_warehouse_is_chosen_by_configuration(bqemulator_url: str, tmp_path: Path) -> None:
    from growthnav.warehouse import DuckDBWarehouse, warehouse_from_environment

    local = warehouse_from_environment({"GROWTHNAV_HOME": str(tmp_path)})
    assert isinstance(local, DuckDBWarehouse)
    assert local.path == tmp_path / "warehouse.duckdb"
    production = warehouse_from_environment(
        {
            "GROWTHNAV_WAREHOUSE": "BigQuery",
            "GROWTHNAV_GCP_PROJECT": "test",
            "GROWTHNAV_BIGQUERY_ENDPOINT": bqemulator_url,
        }
    )
    assert isinstance(production, BigQueryWarehouse)
    production.ensure_customer("config-check")
    with pytest.raises(ValueError, match="GROWTHNAV_GCP_PROJECT is not set"):
        warehouse_from_environment({"GROWTHNAV_WAREHOUSE": "bigquery"})
    with pytest.raises(ValueError, match="'snowflake' is not a warehouse"):
        warehouse_from_environment({"GROWTHNAV_WAREHOUSE": "snowflake"})
