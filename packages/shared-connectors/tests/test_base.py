from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conformance import LiveSource, sqlite_source
from growthnav.connectors import SyncMode, get_registry
from growthnav.conversions import NormalizedBatch
from sqlite_connector import touch_row


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveSource]:
    with sqlite_source(tmp_path) as source:
        yield source


class FailingSink:
    def __init__(self, fail_on: int) -> None:
        self.fail_on = fail_on
        self.written = 0

    def write(self, connector: object, batch: NormalizedBatch, screened: object = None) -> None:
        if self.written + 1 == self.fail_on:
            raise OSError("disk full")
        self.written += 1


def test_normalize_uses_defaults_then_overrides(live: LiveSource) -> None:
    connector = get_registry().create(live.config(field_overrides={"updated_at": "timestamp"}))
    records = list(connector.fetch_records(limit=3))
    conversions = connector.normalize(records)
    assert [c.transaction_id for c in conversions] == ["P00000", "P00001", "P00002"]
    assert conversions[0].timestamp == datetime(2024, 1, 1, tzinfo=UTC)
    assert conversions[1].value == Decimal("2.25")
    assert conversions[0].email == "guest0@example.com"
    assert conversions[0].connector_id == connector.config.effective_connector_id
    assert conversions[0].raw_data["purchase_id"] == "P00000"
    connector.close()


def test_sync_counts_rejects_by_reason_and_never_subtracts(live: LiveSource) -> None:
    connector = get_registry().create(live.config(sync_mode=SyncMode.FULL))
    result = connector.sync()
    connector.close()
    assert result.success
    assert result.records_rejected == {"bad_value": 1}
    assert result.records_failed == 1
    assert result.records_loaded == 229
    assert result.field_warnings == {}


def test_incremental_starts_at_the_data_cursor_less_lookback_not_the_clock(
    live: LiveSource,
) -> None:
    config = live.config(
        last_sync_cursor="2024-01-01T03:00:00+00:00",
        last_sync=datetime(2030, 1, 1, tzinfo=UTC),
        lookback_seconds=600,
    )
    connector = get_registry().create(config)
    assert connector.resume_point() == datetime(2024, 1, 1, 2, 50, tzinfo=UTC)
    result = connector.sync()
    connector.close()
    # rows at 02:50 .. 03:49 (minutes 170..229)
    assert result.records_fetched == 60
    assert result.cursor == "2024-01-01T03:49:00+00:00"


def test_a_changed_row_is_fetched_again(live: LiveSource, tmp_path: Path) -> None:
    first = get_registry().create(live.config())
    cursor = first.sync().cursor
    first.close()
    touch_row(tmp_path / "pos.sqlite", 3, amount="$7.00", at=datetime(2024, 1, 2, tzinfo=UTC))
    second = get_registry().create(live.config(last_sync_cursor=cursor))
    records = list(second.fetch_records(since=second.resume_point()))
    second.close()
    assert [r["purchase_id"] for r in records] == ["P00229", "P00003"]


def test_failed_sync_reports_a_redacted_error_and_keeps_the_old_cursor(
    live: LiveSource, caplog: pytest.LogCaptureFixture
) -> None:
    connector = get_registry().create(live.config(last_sync_cursor="2024-01-01T00:30:00+00:00"))
    sink = FailingSink(fail_on=2)
    with caplog.at_level(logging.INFO):
        result = connector.sync(sink=sink)
    connector.close()
    assert not result.success
    assert result.error == "OSError: disk full"
    assert sink.written == 1
    assert result.completed_at is not None
    assert "s3cret-pass" not in caplog.text


def test_auth_failure_is_a_failed_result_without_the_password(live: LiveSource) -> None:
    connector = get_registry().create(live.bad_credentials())
    result = connector.sync()
    assert not result.success
    assert result.error is not None
    assert "AuthenticationError" in result.error
    assert "wrong-pass" not in result.error


def test_until_bounds_the_window(live: LiveSource) -> None:
    connector = get_registry().create(live.config())
    start = datetime(2024, 1, 1, 1, tzinfo=UTC)
    records = list(connector.fetch_records(since=start, until=start + timedelta(minutes=10)))
    connector.close()
    assert len(records) == 10


def test_sync_into_the_warehouse_twice_loads_each_row_once(
    live: LiveSource, tmp_path: Path
) -> None:
    from growthnav.connectors import WarehouseSink
    from growthnav.warehouse import DuckDBWarehouse, LoadCounts

    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    first, second = WarehouseSink(warehouse), WarehouseSink(warehouse)
    for sink in (first, second):
        connector = get_registry().create(live.config(sync_mode=SyncMode.FULL))
        assert connector.sync(sink=sink).success
        connector.close()
    assert first.counts == LoadCounts(inserted=229, updated=0, unchanged=0)
    assert second.counts == LoadCounts(inserted=0, updated=0, unchanged=229)
    assert (first.rejects_written, second.rejects_written) == (1, 0)
    table = warehouse.read_conversions("acme-burgers")
    assert table.num_rows == 229
    assert len(set(table.column("transaction_id").to_pylist())) == 229
    [reject] = warehouse.read_rejects("acme-burgers").to_pylist()
    assert (reject["reject_key"], reject["reason"]) == ("P00007", "bad_value")


def test_full_sync_leaves_no_secret_in_logs_warehouse_or_registry(
    live: LiveSource,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from growthnav.connectors import ConnectorStorage, run_sync
    from growthnav.warehouse import DuckDBWarehouse

    home = tmp_path / "home"
    monkeypatch.setenv("GROWTHNAV_HOME", str(home))
    storage, warehouse = ConnectorStorage(), DuckDBWarehouse()
    connector_id = storage.save(live.config())
    saved = storage.get(connector_id)
    assert saved is not None
    with caplog.at_level(logging.DEBUG):
        connector = get_registry().create(saved)
        result = run_sync(connector, storage, warehouse)
        connector.close()
        failing = get_registry().create(live.bad_credentials())
        failed = failing.sync()
    assert result.success, result.error
    assert warehouse.read_conversions("acme-burgers").num_rows == 229
    secret = live.secret
    assert secret is not None
    texts = [caplog.text, repr(result), repr(saved), repr(failed), str(storage.runs(connector_id))]
    assert not [t for t in texts if secret in t or "wrong-pass" in t]
    stored = [p for p in home.rglob("*") if p.is_file() and p.parent.name != "secrets"]
    assert {p.name for p in stored} >= {"registry.db", "warehouse.duckdb"}
    for path in stored:
        assert secret.encode() not in path.read_bytes(), path


def test_late_arriving_row_inside_the_lookback_is_picked_up_and_nothing_doubles(
    live: LiveSource, tmp_path: Path
) -> None:
    from growthnav.connectors import ConnectorStorage, FileSecretStore, run_sync
    from growthnav.warehouse import DuckDBWarehouse
    from sqlite_connector import add_rows

    storage = ConnectorStorage(tmp_path / "r.db", secrets=FileSecretStore(tmp_path / "s"))
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    config = live.config(lookback_seconds=600)
    first = get_registry().create(config)
    assert run_sync(first, storage, warehouse).cursor == "2024-01-01T03:49:00+00:00"
    first.close()

    database = tmp_path / "pos.sqlite"
    new_keys = live.add_records(3)  # minutes 230..232: 03:50..03:52
    late_at = datetime(2024, 1, 1, 3, 45, 30, tzinfo=UTC)
    # A record that reached the source late, stamped inside the lookback window.
    add_rows(database, 900, 1)
    touch_row(database, 900, amount="$5.00", at=late_at)

    second = get_registry().create(live.config(lookback_seconds=600))
    result = run_sync(second, storage, warehouse)
    second.close()
    assert result.success, result.error
    # From 03:39 (cursor less ten minutes): eleven replayed minutes, the late row, the new rows.
    assert result.records_fetched == 11 + 1 + 3
    assert result.records_unchanged == 11
    keys = warehouse.read_conversions("acme-burgers").column("transaction_id").to_pylist()
    assert len(keys) == len(set(keys)) == 229 + 1 + 3
    assert {"P00900", *new_keys} <= set(keys)
