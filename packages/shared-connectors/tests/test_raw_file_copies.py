"""A Parquet export read whole is kept raw as a copy of the file, never as a stale one."""

from __future__ import annotations

import filecmp
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    SyncMode,
    WarehouseSink,
    get_registry,
    run_sync,
)
from growthnav.connectors.base import ScreenedBatch, as_table
from growthnav.connectors.remap import run_remap
from growthnav.connectors.source_files import SourceFile
from growthnav.warehouse import DuckDBWarehouse
from growthnav.warehouse.raw_records import DuckDBRawStore, RawFileChangedError

MAP = {"ID": "transaction_id", "AT": "timestamp", "AMOUNT": "value", "EMAIL": "email"}


def orders(ids: range, amount: str = "$5.00") -> pa.Table:
    return pa.table(
        {
            "ID": [f"o{i}" for i in ids],
            "AT": [f"2024-01-{1 + i % 28:02d} 10:00" for i in ids],
            "AMOUNT": ["oops" if i == 3 else amount for i in ids],
            "EMAIL": [f"p{i}@x.com" for i in ids],
        }
    )


class Home:
    def __init__(self, root: Path) -> None:
        self.export = root / "orders.parquet"
        self.storage = ConnectorStorage(root / "registry.db", secrets=FileSecretStore(root / "s"))
        self.warehouse = DuckDBWarehouse(root / "w.duckdb")
        self.raw = DuckDBRawStore(self.warehouse)

    def config(self, **settings: Any) -> ConnectorConfig:
        return ConnectorConfig(
            connector_type=ConnectorType.FILE,
            customer_id="acme",
            name="export",
            connection_params={"path": str(self.export), **settings.pop("params", {})},
            field_overrides=settings.pop("field_overrides", MAP),
            sync_mode=SyncMode.FULL,
            batch_size=10,
            **settings,
        )

    def raw_files(self) -> list[Path]:
        directory = self.raw.directory("acme", self.config().effective_connector_id)
        return sorted(directory.glob("*"))


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


def test_a_parquet_export_read_whole_is_kept_as_a_copy_and_re_maps_from_it(home: Home) -> None:
    pq.write_table(orders(range(45)), home.export, row_group_size=7)
    connector = get_registry().create(home.config())
    result = run_sync(connector, home.storage, home.warehouse)
    assert result.success, result.error
    assert (result.records_fetched, result.records_loaded) == (45, 44)  # o3's amount is bad
    # Five batches, one raw file: the export itself, byte for byte.
    (kept,) = home.raw_files()
    assert filecmp.cmp(kept, home.export, shallow=False)
    raw = home.raw.read_raw("acme", result.connector_id or "", 100, "ID")
    assert sorted(str(i) for t in raw for i in t.column("ID").to_pylist()) == sorted(
        f"o{i}" for i in range(45)
    )
    # Unchanged on a second full sync: the file is not copied again, only the reject (never
    # held as a conversion) is written again.
    again = run_sync(connector, home.storage, home.warehouse)
    assert again.records_unchanged == 44
    kept_first, rewritten = home.raw_files()
    assert kept_first == kept
    assert pq.read_table(rewritten).column("ID").to_pylist() == ["o3"]
    connector.close()
    # A re-map reads the copy: emails unmapped, no fetch.
    remapped = get_registry().create(home.config(field_overrides={**MAP, "EMAIL": None}))
    outcome = run_remap(remapped, home.storage, home.warehouse)
    remapped.close()
    assert outcome.success, outcome.error
    assert outcome.records_fetched == 45
    emails = home.warehouse.read_conversions("acme").column("email").to_pylist()
    assert emails == [None] * 44


def test_a_file_replaced_after_reading_began_keeps_the_records_read(home: Home) -> None:
    pq.write_table(orders(range(25)), home.export)
    connector = get_registry().create(home.config())
    batches = connector.fetch_batches(batch_size=10)
    first = next(iter(batches))
    assert SourceFile.of(first) == SourceFile.at(home.export)
    # A new export lands under the same name while the first batch is on its way.
    replacement = home.export.with_suffix(".new")
    pq.write_table(orders(range(100, 130), amount="$9.00"), replacement)
    os.replace(replacement, home.export)
    sink = WarehouseSink(home.warehouse)
    normalized = connector.normalizer().batch_normalizer.normalize(first)
    sink.write(connector, normalized, ScreenedBatch(first, first))
    sink.flush()
    sink.close()
    batches.close()  # type: ignore[attr-defined]
    connector.close()
    # Not a copy of the new file: the ten records read, written from the batch.
    (kept,) = home.raw_files()
    assert pq.read_table(kept).column("ID").to_pylist() == [f"o{i}" for i in range(10)]


def test_windowed_reads_are_not_tagged_as_whole_files(home: Home) -> None:
    pq.write_table(orders(range(25)), home.export)
    connector = get_registry().create(home.config(params={"cursor_field": "AT"}))
    whole = list(connector.fetch_batches(batch_size=10))
    assert [SourceFile.of(b) for b in whole] == [SourceFile.at(home.export)] * 3
    windowed = list(connector.fetch_batches(since=datetime(2024, 1, 20), batch_size=10))
    connector.close()
    assert sum(as_table(b).num_rows for b in windowed) < 25
    assert [SourceFile.of(b) for b in windowed] == [None] * len(windowed)


def test_a_file_that_changed_is_not_kept_and_leaves_nothing_behind(home: Home) -> None:
    pq.write_table(orders(range(5)), home.export)
    seen = SourceFile.at(home.export)
    with pytest.raises(RawFileChangedError, match=r"orders\.parquet changed while the sync read"):
        home.raw.store_file("acme", "export", home.export, seen.size + 1, seen.mtime_ns)
    assert list(home.raw.directory("acme", "export").glob("*")) == []
    assert home.raw.store_file("acme", "export", home.export, seen.size, seen.mtime_ns) == 5


def _on_another_file_system(than: Path) -> Path | None:
    """A writable folder on another file system than ``than`` (the kernel copies no file
    between the two), or None."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != than.stat().st_dev:
        return shm
    return None


@pytest.mark.parametrize("where", ["same file system", "another file system"])
def test_a_kept_copy_is_the_file_byte_for_byte_wherever_the_file_is(
    home: Home, tmp_path: Path, where: str
) -> None:
    """Copied in the kernel on one file system; through a buffer across two (the kernel
    refuses: ``EXDEV``)."""
    export = home.export
    if where == "another file system":
        folder = _on_another_file_system(tmp_path)
        if folder is None:
            pytest.skip("no writable folder on another file system (/dev/shm) here")
        export = folder / f"growthnav-test-{os.getpid()}-{tmp_path.name}.parquet"
    try:
        pq.write_table(orders(range(3000)), export, row_group_size=500)
        seen = SourceFile.at(export)
        assert home.raw.store_file("acme", "export", export, seen.size, seen.mtime_ns) == 3000
        [kept] = home.raw.directory("acme", "export").glob("*.parquet")
        assert filecmp.cmp(kept, export, shallow=False)
    finally:
        if export != home.export:
            export.unlink(missing_ok=True)
