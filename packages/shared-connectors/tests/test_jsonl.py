from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from growthnav.connectors import (
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
from growthnav.connectors.adapters.jsonl import read_jsonl
from growthnav.conversions import records_to_arrow
from growthnav.warehouse import DuckDBWarehouse

#: Chunks Arrow's parser reads, and chunks it must leave to the line-by-line reading.
CHUNKS = {
    "plain": '{"id": "a", "n": 1, "x": 2.5, "ok": true}\n{"id": "b", "n": 2, "x": 3}\n',
    "keys in first-seen order": '{"b": 1, "a": 2}\n{"c": 3, "a": 1}\n',
    "blank lines": '\n{"a": 1}\n   \n{"a": 2}\n\n',
    "text that looks like a timestamp": (
        '{"at": "2024-01-31 18:05:00", "d": {"t": "2024-01-31"}, "l": ["2024-01-31T18:05Z"]}\n'
    ),
    "nested numbers": '{"items": [{"sku": "s1", "price": 12.5}, {"sku": "s2", "price": 3}]}\n',
    "only nulls": '{"a": null}\n{"b": 1}\n',
    "wider than 64 bits": '{"id": 123456789012345678901234}\n{"id": 1}\n',
    "wide integer beside a double": '{"v": 1152921504606846977}\n{"v": 2.5}\n',
    "wide integer nested": '{"a": {"b": [-123456789012345678901234, 1.5]}}\n',
    "numbers and text in a column": '{"v": 1}\n{"v": "1.50"}\n',
    "booleans and text": '{"v": true}\n{"v": "yes"}\n',
    "a key twice": '{"v": 1, "v": 2}\n',
    "empty objects": "{}\n{}\n",
}


def by_line(text: str) -> pa.Table:
    """The reference: each non-blank line through json.loads, then records_to_arrow."""
    return records_to_arrow([json.loads(line) for line in text.splitlines() if line.strip()])


@pytest.mark.parametrize("name", list(CHUNKS))
def test_a_chunk_reads_as_records_to_arrow_reads_its_objects(tmp_path: Path, name: str) -> None:
    export = tmp_path / "x.jsonl"
    export.write_text(CHUNKS[name])
    [(table, bad)] = list(read_jsonl(export, "utf-8", 100))
    assert bad == []
    expected = by_line(CHUNKS[name])
    assert table.schema == expected.schema
    assert table.to_pylist() == expected.to_pylist()


def test_wide_integers_keep_every_digit(tmp_path: Path) -> None:
    export = tmp_path / "x.jsonl"
    export.write_text('{"id": 123456789012345678901234, "v": 1}\n')
    [(table, _)] = list(read_jsonl(export, "utf-8", 100))
    assert table.column("id").to_pylist() == ["123456789012345678901234"]


def test_bad_lines_are_named_by_their_line_in_the_file_across_chunks(tmp_path: Path) -> None:
    export = tmp_path / "x.jsonl"
    lines = [json.dumps({"id": str(i)}) for i in range(1, 9)]
    lines[4] = '{"id": "5"} {"id": "5b"}'  # two objects on one line
    lines[6] = "[1, 2]"
    export.write_text("\n".join(lines) + "\n")
    chunks = list(read_jsonl(export, "utf-8", 3))
    ids = [i for table, _ in chunks for i in table.column("id").to_pylist()]
    assert ids == ["1", "2", "3", "4", "6", "8"]
    bad = [(b.number, b.problem, b.text) for _, found in chunks for b in found]
    assert bad == [
        (5, "not JSON (Extra data)", '{"id": "5"} {"id": "5b"}'),
        (7, "not a JSON object", "[1, 2]"),
    ]


def test_nan_reads_as_python_reads_it(tmp_path: Path) -> None:
    export = tmp_path / "x.jsonl"
    export.write_text('{"v": NaN}\n{"v": 1.5}\n')
    [(table, bad)] = list(read_jsonl(export, "utf-8", 100))
    assert bad == []
    first, second = pc.is_nan(table.column("v")).to_pylist()
    assert first is True
    assert second is False
    assert table.column("v")[1].as_py() == 1.5


def config(path: Path, **params: Any) -> ConnectorConfig:
    return ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="acme",
        name="orders",
        connection_params={"path": str(path), **params},
        field_overrides={"ID": "transaction_id", "AT": "timestamp", "TOTAL": "value"},
        sync_mode=SyncMode.INCREMENTAL,
        batch_size=2,
        timezone="America/New_York",
    )


def test_a_byte_order_mark_is_not_part_of_the_first_record(tmp_path: Path) -> None:
    export = tmp_path / "orders.jsonl"
    export.write_bytes(
        '\ufeff{"ID": "a", "AT": "2024-01-01T10:00:00Z"}\n'
        '{"ID": "b", "AT": "2024-01-01T11:00:00Z"}\n'.encode()
    )
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    connector = get_registry().create(config(export))
    result = connector.sync(sink=WarehouseSink(warehouse))
    assert result.success, result.error
    assert result.records_rejected == {}
    assert warehouse.read_conversions("acme").column("transaction_id").to_pylist() == ["a", "b"]


def test_text_in_another_encoding_is_refused_by_name(tmp_path: Path) -> None:
    export = tmp_path / "orders.jsonl"
    export.write_bytes('{"ID": "a", "AT": "2024-01-01", "NAME": "Zoë"}\n'.encode("latin-1"))
    connector = get_registry().create(config(export))
    with pytest.raises(SchemaError, match=r"not utf-8 text .*set connection_params\.encoding"):
        list(connector.fetch_batches())
    latin = get_registry().create(config(export, encoding="latin-1"))
    assert [r["NAME"] for r in latin.fetch_records()] == ["Zoë"]


def test_the_cursor_window_reads_text_and_epoch_cursors_in_the_connector_timezone(
    tmp_path: Path,
) -> None:
    export = tmp_path / "orders.jsonl"
    home = tmp_path / "home"
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "s"))
    warehouse = DuckDBWarehouse(home / "w.duckdb")

    def write(*records: dict[str, Any]) -> None:
        with export.open("a") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in records)

    def sync() -> Any:
        connector = get_registry().create(config(export, cursor_field="AT"))
        try:
            result = run_sync(connector, storage, warehouse)
        finally:
            connector.close()
        assert result.success, result.error
        return result

    write(
        {"ID": "a", "AT": "01/31/2024 6:05 PM", "TOTAL": 1},
        {"ID": "b", "AT": "2024-02-01 07:00", "TOTAL": 2},  # 12:00 UTC
    )
    first = sync()
    assert first.cursor == "2024-02-01T12:00:00+00:00"
    write(
        {"ID": "old", "AT": "2024-02-01 06:59", "TOTAL": 3},  # before the watermark
        {"ID": "c", "AT": 1706875200, "TOTAL": 4},  # 2024-02-02 12:00 UTC, as a number
        {"ID": "blank", "AT": None, "TOTAL": 5},
        {"ID": "d", "AT": "2024-02-03 08:00", "TOTAL": 6},
    )
    second = sync()
    # b again (at the watermark), c, blank (its cursor is read every time) and d.
    assert second.records_fetched == 4
    assert second.records_rejected == {"missing_timestamp": 1}
    loaded = warehouse.read_conversions("acme").column("transaction_id").to_pylist()
    assert sorted(str(i) for i in loaded) == ["a", "b", "c", "d"]
    assert second.cursor == "2024-02-03T13:00:00+00:00"
