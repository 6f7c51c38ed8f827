from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from growthnav.connectors import (
    ConfigurationError,
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    SchemaError,
    SyncMode,
    WarehouseSink,
    get_registry,
    run_sync,
)
from growthnav.connectors.adapters.file import FileConnector
from growthnav.connectors.base import as_table
from growthnav.warehouse import DuckDBWarehouse

MAP = {"ID": "transaction_id", "AT": "timestamp", "AMOUNT": "value", "EMAIL": "email"}


def file_config(path: Path | str, **params: Any) -> ConnectorConfig:
    return ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="acme",
        name="export",
        connection_params={"path": str(path), **params},
        field_overrides=MAP,
        sync_mode=SyncMode.FULL,
        batch_size=1000,
    )


def test_csv_malformed_lines_become_rejects_with_file_and_line(tmp_path: Path) -> None:
    export = tmp_path / "orders.csv"
    export.write_text(
        "ID,AT,AMOUNT,EMAIL\n"
        "a,2024-01-01T10:00:00Z,$5.00,A@x.com\n"
        "b,2024-01-01T11:00:00Z\n"
        "c,2024-01-01T12:00:00Z,$7.00,c@x.com,extra\n"
        '"d","2024-01-02T09:00:00Z","$1,200.00","d@x.com"\n'
        "e,not a date,$1.00,e@x.com\n"
    )
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    connector = get_registry().create(file_config(export))
    result = connector.sync(sink=WarehouseSink(warehouse))
    connector.close()
    assert result.success, result.error
    assert result.records_fetched == 5
    assert result.records_rejected == {"malformed_row": 2, "bad_timestamp": 1}
    rejects = {r["reject_key"]: r for r in warehouse.read_rejects("acme").to_pylist()}
    assert set(rejects) == {"orders.csv:3", "orders.csv:4", "e"}
    assert rejects["orders.csv:3"]["message"].startswith("orders.csv line 3:")
    assert json.loads(rejects["orders.csv:4"]["raw_record"])["line"].endswith(",extra")
    loaded = warehouse.read_conversions("acme").to_pylist()
    assert [(r["transaction_id"], str(r["value"])) for r in loaded] == [
        ("a", "5.0000"),
        ("d", "1200.0000"),
    ]


def test_csv_values_are_read_as_written(tmp_path: Path) -> None:
    export = tmp_path / "export.txt"
    export.write_text(
        "ID;AT;AMOUNT;EMAIL\n007;20240131 18:05;0012.50;x@y.com\n", encoding="latin-1"
    )
    connector = get_registry().create(file_config(export, delimiter=";", encoding="latin-1"))
    [record] = list(connector.fetch_records())
    assert record == {"ID": "007", "AT": "20240131 18:05", "AMOUNT": "0012.50", "EMAIL": "x@y.com"}
    [conversion] = connector.normalize([record])
    assert conversion.transaction_id == "007"
    assert conversion.timestamp == datetime(2024, 1, 31, 18, 5, tzinfo=UTC)


def test_a_stray_quote_is_one_reject_and_quoted_values_still_read(tmp_path: Path) -> None:
    # A sniffer sampling this file finds the quotes unbalanced and reads it unquoted: line 3
    # then splits on its quoted commas and line 4 keeps a literal quote. The stated dialect
    # (RFC 4180) reads line 3 and rejects line 4 alone.
    export = tmp_path / "orders.csv"
    export.write_text(
        'ID,AMOUNT,NOTE\na,$1.00,plain\nb,"$1,200.50","one, two"\nc,$3.00,"unterminated\n'
    )
    connector = get_registry().create(file_config(export))
    records = list(connector.fetch_records())
    assert records == [
        {"ID": "a", "AMOUNT": "$1.00", "NOTE": "plain"},
        {"ID": "b", "AMOUNT": "$1,200.50", "NOTE": "one, two"},
    ]
    rejects = connector.source_rejects()
    assert rejects is not None
    [reject] = rejects.to_pylist()
    assert reject["reject_key"] == "orders.csv:4"
    assert "quote" in reject["message"]
    assert json.loads(reject["raw_record"])["line"] == 'c,$3.00,"unterminated'


def test_a_reject_names_the_line_an_editor_shows(tmp_path: Path) -> None:
    # The first record spans two lines; DuckDB counts records, so it would say line 3.
    export = tmp_path / "notes.csv"
    export.write_text('ID,NOTE\n1,"line one\nline two"\n2,x,extra\n3,ok\n')
    connector = get_registry().create(file_config(export))
    assert [r["ID"] for r in connector.fetch_records()] == ["1", "3"]
    rejects = connector.source_rejects()
    assert rejects is not None
    [reject] = rejects.to_pylist()
    assert reject["reject_key"] == "notes.csv:4"
    assert reject["message"].startswith("notes.csv line 4: ")


def test_csv_columns_are_named_as_duckdb_names_them(tmp_path: Path) -> None:
    export = tmp_path / "odd.csv"
    export.write_text('\ufeffa,a,A, x ,"q""z",,a_1\r\n1,2,3,4,5,6,7\r\n', encoding="utf-8")
    sniffed = duckdb.sql(f"SELECT * FROM read_csv('{export}', all_varchar = true)")
    assert sniffed is not None
    connector = FileConnector(file_config(export))
    assert connector.csv_columns(export) == sniffed.columns
    [record] = list(connector.fetch_records())
    assert list(record.values()) == ["1", "2", "3", "4", "5", "6", "7"]
    headless = FileConnector(file_config(export, header=False))
    assert headless.csv_columns(export) == [f"column{i}" for i in range(7)]
    assert len(list(headless.fetch_records())) == 2


def test_csv_without_quoting_tsv_and_empty_files(tmp_path: Path) -> None:
    export = tmp_path / "raw.csv"
    export.write_text('ID;NOTE\n"a;he said "hi"\n')
    connector = get_registry().create(file_config(export, delimiter=";", quote=""))
    assert list(connector.fetch_records()) == [{"ID": '"a', "NOTE": 'he said "hi"'}]
    tabs = tmp_path / "raw.tsv"
    tabs.write_text("ID\tNOTE\n1\ta, b\n")
    assert list(get_registry().create(file_config(tabs)).fetch_records()) == [
        {"ID": "1", "NOTE": "a, b"}
    ]
    (tmp_path / "empty.csv").write_text("")
    empty = get_registry().create(file_config(tmp_path / "empty.csv"))
    assert list(empty.fetch_records()) == []
    assert empty.get_schema() == {}


def test_csv_in_any_text_encoding_is_read_as_written(tmp_path: Path) -> None:
    # Windows-1252 (a spreadsheet's "CSV"): DuckDB reads only UTF-8 and UTF-16.
    export = tmp_path / "menu.csv"
    export.write_bytes(
        "ID,ITEM\n1,Caf\u00e9 \u201cspecial\u201d \u20ac5\n2,x,extra\n".encode("cp1252")
    )
    connector = get_registry().create(file_config(export, encoding="windows-1252"))
    assert list(connector.fetch_records()) == [
        {"ID": "1", "ITEM": "Caf\u00e9 \u201cspecial\u201d \u20ac5"}
    ]
    rejects = connector.source_rejects()
    assert rejects is not None
    assert rejects.column("reject_key").to_pylist() == ["menu.csv:3"]
    assert connector.get_schema() == {"ID": "VARCHAR", "ITEM": "VARCHAR"}
    latin = get_registry().create(file_config(export, encoding="latin1"))
    assert [r["ITEM"] for r in latin.fetch_records()] == ["Caf\u00e9 \x93special\x94 \x805"]
    (tmp_path / "bad.csv").write_bytes(b"ID,ITEM\n1,\xff\xfe\x81\n")
    wrong = get_registry().create(file_config(tmp_path / "bad.csv", encoding="cp1252"))
    with pytest.raises(SchemaError, match="not cp1252 text"):
        list(wrong.fetch_records())


def test_parquet_is_read_in_bounded_batches(tmp_path: Path) -> None:
    n = 2500
    start = datetime(2024, 1, 1, tzinfo=UTC)
    table = pa.table(
        {
            "ID": [f"t{i}" for i in range(n)],
            "AT": pa.array(
                [start + timedelta(minutes=i) for i in range(n)], pa.timestamp("us", "UTC")
            ),
            "AMOUNT": pa.array([i / 4 for i in range(n)]),
            "EMAIL": [None] * n,
        }
    )
    pq.write_table(table, tmp_path / "p.parquet", row_group_size=1000)
    connector = get_registry().create(file_config(tmp_path / "*.parquet", cursor_field="AT"))
    sizes = [len(b) for b in connector.fetch_batches(batch_size=700)]
    assert max(sizes) <= 700
    assert sum(sizes) == n
    later = list(connector.fetch_records(since=start + timedelta(minutes=2400)))
    assert [r["ID"] for r in later] == [f"t{i}" for i in range(2400, n)]
    assert connector.get_schema()["AT"] == "TIMESTAMP WITH TIME ZONE"


def test_jsonl_bad_lines_are_rejects(tmp_path: Path) -> None:
    export = tmp_path / "orders.jsonl"
    export.write_text(
        '{"ID": "a", "AT": "2024-01-01T10:00:00Z", "AMOUNT": 5, "EMAIL": null}\n'
        "{not json\n"
        "\n"
        '["a", "list"]\n'
        '{"ID": "b", "AT": 1704103200, "AMOUNT": "7.5", "items": [{"sku": 1}]}\n'
    )
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    connector = get_registry().create(file_config(export))
    result = connector.sync(sink=WarehouseSink(warehouse))
    assert result.success, result.error
    assert result.records_rejected == {"malformed_row": 2}
    keys = [r["reject_key"] for r in warehouse.read_rejects("acme").to_pylist()]
    assert keys == ["orders.jsonl:2", "orders.jsonl:4"]
    assert warehouse.read_conversions("acme").column("transaction_id").to_pylist() == ["a", "b"]


def test_a_directory_reads_every_export_in_name_order(tmp_path: Path) -> None:
    for day in (2, 1):
        (tmp_path / f"day-{day}.csv").write_text(f"ID,AT,AMOUNT,EMAIL\nd{day},2024-01-0{day},1,\n")
    (tmp_path / "notes.md").write_text("not an export")
    connector = get_registry().create(file_config(tmp_path))
    assert [r["ID"] for r in connector.fetch_records()] == ["d1", "d2"]


def test_missing_files_fail_the_connection_test_not_the_process(tmp_path: Path) -> None:
    connector = get_registry().create(file_config(tmp_path / "nope" / "*.csv"))
    assert connector.test_connection() is False
    result = connector.sync()
    assert not result.success
    assert result.error is not None
    assert "no files at" in result.error


def test_unknown_suffix_needs_a_format(tmp_path: Path) -> None:
    (tmp_path / "export.dat").write_text("ID,AT\n1,2024-01-01\n")
    connector = get_registry().create(file_config(tmp_path / "export.dat"))
    with pytest.raises(SchemaError, match=r"set connection_params\.format"):
        list(connector.fetch_records())
    fixed = get_registry().create(file_config(tmp_path / "export.dat", format="csv"))
    assert len(list(fixed.fetch_records())) == 1


def test_bad_params_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        get_registry().create(
            file_config(tmp_path, format="xlsx", delimiter=";;", encoding="utf-9", quote="''")
        )
    text = str(refused.value)
    for param in ("format", "delimiter", "encoding", "quote"):
        assert f"connection_params.{param}" in text
    assert "'utf-9' is not a text encoding" in text
    with pytest.raises(
        ConfigurationError, match=r"connection_params\.quote: .* also the delimiter"
    ):
        get_registry().create(file_config(tmp_path, delimiter=";", quote=";"))
    assert get_registry().create(file_config(tmp_path, delimiter=";", quote=","))


def test_a_field_map_naming_a_missing_column_fails_the_sync_and_loads_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "e.csv").write_text("ORDER,AT\n1,2024-01-01\n")
    home = tmp_path / "home"
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "s"))
    warehouse = DuckDBWarehouse(home / "w.duckdb")
    connector = get_registry().create(file_config(tmp_path / "e.csv"))
    result = run_sync(connector, storage, warehouse)
    assert not result.success
    assert result.error is not None
    assert "none of the columns mapped to 'transaction_id' (ID)" in result.error
    assert warehouse.read_conversions("acme").num_rows == 0
    assert storage.state(connector.config.effective_connector_id) is None
    [run] = storage.runs(connector.config.effective_connector_id)
    assert not run.success
    assert run.error == result.error


def test_schema_drift_is_recorded_and_a_vanished_mapped_column_stops_the_sync(
    tmp_path: Path,
) -> None:
    export = tmp_path / "e.csv"
    home = tmp_path / "home"
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "s"))
    warehouse = DuckDBWarehouse(home / "w.duckdb")

    def sync() -> Any:
        connector = get_registry().create(file_config(export, cursor_field="AT"))
        try:
            return run_sync(connector, storage, warehouse, mode=SyncMode.INCREMENTAL)
        finally:
            connector.close()

    export.write_text("ID,AT,AMOUNT,EMAIL\na,2024-01-01T00:00:00Z,1,\n")
    first = sync()
    assert first.success
    assert first.schema_drift == {}

    export.write_text("ID,AT,AMOUNT,EMAIL,TIP\nb,2024-01-02T00:00:00Z,2,,0.5\n")
    second = sync()
    assert second.success
    assert second.schema_drift == {"added": ["TIP"], "removed": [], "changed": {}}

    export.write_text("ID,AT,TIP\nc,2024-01-03T00:00:00Z,0.5\n")
    before = storage.state(first.connector_id or "")
    third = sync()
    assert not third.success
    assert third.error is not None
    assert "AMOUNT, EMAIL vanished from the source" in third.error
    assert storage.state(first.connector_id or "") == before
    assert warehouse.read_conversions("acme").column("transaction_id").to_pylist() == ["a", "b"]
    [latest, *_] = storage.runs(first.connector_id or "")
    assert latest.schema_drift["removed"] == ["AMOUNT", "EMAIL"]
    assert not latest.success


def _incremental(tmp_path: Path, path: Path, **settings: Any) -> Callable[[], Any]:
    home = tmp_path / "home"
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "s"))
    warehouse = DuckDBWarehouse(home / "w.duckdb")

    def sync() -> Any:
        config = dataclasses.replace(file_config(path, cursor_field="AT"), **settings)
        connector = get_registry().create(config)
        try:
            result = run_sync(connector, storage, warehouse, mode=SyncMode.INCREMENTAL)
        finally:
            connector.close()
        assert result.success, result.error
        loaded = warehouse.read_conversions("acme").column("transaction_id").to_pylist()
        return result, sorted(str(i) for i in loaded)

    return sync


def test_a_text_cursor_is_read_in_the_connector_timezone_as_the_normalizer_reads_it(
    tmp_path: Path,
) -> None:
    export = tmp_path / "orders.csv"
    export.write_text("ID,AT,AMOUNT,EMAIL\na,01/31/2024 6:05 PM,1,\nb,2024-02-01 07:00,2,\n")
    sync = _incremental(tmp_path, export, timezone="America/New_York", lookback_seconds=3600)
    first, _ = sync()
    assert first.cursor == "2024-02-01T12:00:00+00:00"  # 07:00 in New York
    with export.open("a") as handle:
        # A US-form row after the watermark, a late row inside the hour of lookback (read
        # as UTC it would fall five hours earlier, outside), and one without a timestamp.
        handle.write("c,02/02/2024 8:00 AM,3,\nlate,2024-02-01 06:30,4,\nblank,,5,\n")
    second, loaded = sync()
    assert second.records_fetched == 4  # b again (inside the lookback), c, late and blank
    assert second.records_rejected == {"missing_timestamp": 1}
    assert loaded == ["a", "b", "c", "late"]
    assert second.cursor == "2024-02-02T13:00:00+00:00"


def test_a_naive_parquet_cursor_is_read_in_the_connector_timezone(tmp_path: Path) -> None:
    export = tmp_path / "orders.parquet"

    def write(*rows: tuple[str, datetime | None]) -> None:
        pq.write_table(
            pa.table(
                {
                    "ID": [r[0] for r in rows],
                    "AT": pa.array([r[1] for r in rows], pa.timestamp("us")),
                    "AMOUNT": [1.0] * len(rows),
                    "EMAIL": pa.nulls(len(rows), pa.string()),
                }
            ),
            export,
        )

    sync = _incremental(tmp_path, export, timezone="America/New_York")
    write(("a", datetime(2024, 3, 1, 10)))
    assert sync()[0].cursor == "2024-03-01T15:00:00+00:00"
    write(("a", datetime(2024, 3, 1, 10)), ("b", datetime(2024, 3, 1, 11)), ("c", None))
    second, loaded = sync()
    assert second.records_fetched == 3  # a (at the watermark), b, and c without a cursor
    assert loaded == ["a", "b"]


def test_a_new_nightly_export_is_read_once(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    home = tmp_path / "home"
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "s"))
    warehouse = DuckDBWarehouse(home / "w.duckdb")

    def nightly(day: int, ids: range) -> None:
        lines = ["ID,AT,AMOUNT,EMAIL"] + [f"d{day}-{i},2024-01-0{day},1," for i in ids]
        (exports / f"day-{day}.csv").write_text("\n".join(lines) + "\n")

    def sync() -> Any:
        connector = get_registry().create(file_config(exports))
        try:
            return run_sync(connector, storage, warehouse, mode=SyncMode.INCREMENTAL)
        finally:
            connector.close()

    nightly(1, range(5))
    assert sync().records_fetched == 5
    nightly(2, range(3))
    second = sync()
    assert second.records_fetched == 3
    assert sync().records_fetched == 0
    nightly(1, range(6))  # yesterday's export re-issued with one more row
    assert sync().records_fetched == 6
    assert warehouse.read_conversions("acme").num_rows == 9
    full = get_registry().create(file_config(exports))
    assert run_sync(full, storage, warehouse, mode=SyncMode.FULL).records_fetched == 9


def test_an_unreadable_file_is_a_clear_error_and_loaded_data_stays(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "a.csv").write_text("ID,AT,AMOUNT,EMAIL\na,2024-01-01,1,\n")
    home = tmp_path / "home"
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "s"))
    warehouse = DuckDBWarehouse(home / "w.duckdb")
    connector = get_registry().create(file_config(exports))
    assert run_sync(connector, storage, warehouse, mode=SyncMode.INCREMENTAL).success
    state = storage.state(connector.config.effective_connector_id)

    (exports / "b.parquet").write_bytes(b"this is not parquet at all")
    again = get_registry().create(file_config(exports))
    result = run_sync(again, storage, warehouse, mode=SyncMode.INCREMENTAL)
    assert not result.success
    assert result.error is not None
    assert result.error.startswith("SchemaError: cannot read b.parquet as parquet")
    assert storage.state(connector.config.effective_connector_id) == state
    assert warehouse.read_conversions("acme").column("transaction_id").to_pylist() == ["a"]


def test_parquet_row_groups_are_gathered_into_batches_of_the_configured_size(
    tmp_path: Path,
) -> None:
    rows = 2_500
    export = tmp_path / "orders.parquet"
    table = pa.table(
        {
            "ID": [f"T{i:05d}" for i in range(rows)],
            "AT": ["2024-01-01T10:00:00Z"] * rows,
            "AMOUNT": ["$1.00"] * rows,
            "EMAIL": [None] * rows,
        }
    )
    pq.write_table(table, export, row_group_size=300)  # batches cut across row groups
    config = file_config(export)
    config.batch_size = 1_000
    connector = get_registry().create(config)
    batches = [as_table(b) for b in connector.fetch_batches()]
    assert [b.num_rows for b in batches] == [1_000, 1_000, 500]
    ids = [i for b in batches for i in b.column("ID").to_pylist()]
    assert ids == table.column("ID").to_pylist()


def test_a_csv_read_with_the_wrong_delimiter_is_refused_naming_the_right_one(
    tmp_path: Path,
) -> None:
    export = tmp_path / "orders.csv"
    export.write_text("ID;AT;AMOUNT;EMAIL\na;2024-01-01 10:00;12,50;a@x.com\n")
    connector = get_registry().create(file_config(export))
    with pytest.raises(SchemaError, match=r"set connection_params\.delimiter to ';'"):
        list(connector.fetch_batches())
    with pytest.raises(SchemaError, match=r"split evenly on ';' \(ID, AT, AMOUNT, EMAIL\)"):
        connector.get_schema()
    fixed = get_registry().create(file_config(export, delimiter=";"))
    assert [r["AMOUNT"] for r in fixed.fetch_records()] == ["12,50"]
    # A CSV that really has one column is read as it is.
    emails = tmp_path / "emails.csv"
    emails.write_text("EMAIL\na@x.com\nb;c@x.com\n")
    single = get_registry().create(file_config(emails))
    assert [r["EMAIL"] for r in single.fetch_records()] == ["a@x.com", "b;c@x.com"]


def _home_syncs(tmp_path: Path, path: Path) -> tuple[Callable[..., Any], DuckDBWarehouse]:
    """Incremental syncs of a file connector (params as keywords) into one home; its warehouse."""
    home = tmp_path / "home"
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "s"))
    warehouse = DuckDBWarehouse(home / "w.duckdb")

    def sync(**params: Any) -> Any:
        connector = get_registry().create(file_config(path, **params))
        try:
            result = run_sync(connector, storage, warehouse, mode=SyncMode.INCREMENTAL)
        finally:
            connector.close()
        assert result.success, result.error
        return result

    return sync, warehouse


def _reject_keys(warehouse: DuckDBWarehouse) -> list[str]:
    return [str(r["reject_key"]) for r in warehouse.read_rejects("acme").to_pylist()]


def test_files_are_read_again_once_their_reading_settings_change(tmp_path: Path) -> None:
    export = tmp_path / "orders.csv"
    export.write_text("ID,AT,AMOUNT,EMAIL\na,2024-01-01,'1,200.00',a@x.com\nb,2024-01-02,2,\n")
    sync, warehouse = _home_syncs(tmp_path, export)
    first = sync()  # read with '"' as the quote: the line with '1,200.00' has five values
    assert (first.records_fetched, first.records_rejected) == (2, {"malformed_row": 1})
    assert sync().records_fetched == 0  # the file was read
    again = sync(quote="'")
    assert (again.records_fetched, again.records_rejected) == (2, {})
    values = warehouse.read_conversions("acme").column("value").to_pylist()
    assert sorted(str(v) for v in values) == ["1200.0000", "2.0000"]
    assert warehouse.read_rejects("acme").num_rows == 0  # line 2 reads now: not a reject
    assert sync(quote="'").records_fetched == 0


def test_a_replaced_export_keeps_only_the_bad_lines_it_still_has(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    sync, warehouse = _home_syncs(tmp_path, exports)
    header = "ID,AT,AMOUNT,EMAIL\n"
    (exports / "monday.csv").write_text(header + "a,2024-01-01,1,\nb,2024-01-01\n")
    (exports / "tuesday.jsonl").write_text('{"ID": "c", "AT": "2024-01-02"}\n{oops\n')
    sync()
    assert _reject_keys(warehouse) == ["monday.csv:3", "tuesday.jsonl:2"]
    # Monday's export is sent again, fixed, with a new bad line; Tuesday's is not read again.
    (exports / "monday.csv").write_text(header + "a,2024-01-01,1,\nb,2024-01-01,2,\nd\n")
    sync()
    assert _reject_keys(warehouse) == ["monday.csv:4", "tuesday.jsonl:2"]
    loaded = warehouse.read_conversions("acme").column("transaction_id").to_pylist()
    assert sorted(str(i) for i in loaded) == ["a", "b", "c"]


def test_exports_sharing_a_name_in_dated_folders_keep_their_bad_lines_apart(
    tmp_path: Path,
) -> None:
    exports = tmp_path / "exports"
    sync, warehouse = _home_syncs(tmp_path, exports / "*" / "orders.csv")

    def export(day: str, rows: str) -> None:
        (exports / day).mkdir(parents=True)
        (exports / day / "orders.csv").write_text("ID,AT,AMOUNT,EMAIL\n" + rows)

    export("2024-01-01", "a,2024-01-01,1,\nbad line\n")
    export("2024-01-02", "b,2024-01-02,1,\nbad line\n")
    sync()
    assert _reject_keys(warehouse) == ["2024-01-01/orders.csv:3", "2024-01-02/orders.csv:3"]
    export("2024-01-03", "c,2024-01-03,1,\n")
    sync()
    assert _reject_keys(warehouse) == ["2024-01-01/orders.csv:3", "2024-01-02/orders.csv:3"]
    [reject] = warehouse.read_rejects("acme").slice(0, 1).to_pylist()
    assert reject["message"].startswith("2024-01-01/orders.csv line 3:")
