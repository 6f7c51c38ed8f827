"""A sync skips normalizing the records the warehouse already holds from the same raw record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from growthnav.connectors import (
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    FileSecretStore,
    SyncMode,
    get_registry,
    run_sync,
)
from growthnav.connectors.config import SyncResult
from growthnav.connectors.remap import run_remap
from growthnav.warehouse import DuckDBWarehouse
from growthnav.warehouse.raw_records import DuckDBRawStore

MAP = {"ID": "transaction_id", "AT": "timestamp", "AMOUNT": "value", "EMAIL": "email"}
HEADER = "ID,AT,AMOUNT,EMAIL,NOTE"


class Home:
    def __init__(self, root: Path) -> None:
        self.export = root / "orders.csv"
        self.storage = ConnectorStorage(root / "registry.db", secrets=FileSecretStore(root / "s"))
        self.warehouse = DuckDBWarehouse(root / "w.duckdb")
        self.raw = DuckDBRawStore(self.warehouse)

    def write(self, *lines: str) -> None:
        self.export.write_text("\n".join([HEADER, *lines]) + "\n")

    def config(self, batch_size: int = 2, **settings: Any) -> ConnectorConfig:
        return ConnectorConfig(
            connector_type=ConnectorType.FILE,
            customer_id="acme",
            name="export",
            connection_params={"path": str(self.export)},
            field_overrides=settings.pop("field_overrides", MAP),
            sync_mode=SyncMode.FULL,
            batch_size=batch_size,
            **settings,
        )

    def sync(self, batch_size: int = 2, **settings: Any) -> SyncResult:
        connector = get_registry().create(self.config(batch_size, **settings))
        try:
            result = run_sync(connector, self.storage, self.warehouse)
        finally:
            connector.close()
        assert result.success, result.error
        return result

    def rows(self) -> dict[str, tuple[Any, ...]]:
        table = self.warehouse.read_conversions("acme")
        return {
            r["transaction_id"]: (r["timestamp"], r["value"], r["email"]) for r in table.to_pylist()
        }


ROWS = (
    "a,2024-01-01 10:00,$1.00,a@x.com,first",
    "b,2024-01-02 10:00,$2.00,,",
    "c,not a date,$3.00,c@x.com,",
    "d,2024-01-04 10:00,$4.00,d@x.com,",
    "e,2024-01-05 10:00,$5.00,e@x.com,",
)


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


def test_an_unchanged_file_is_counted_unchanged_without_normalizing(home: Home) -> None:
    home.write(*ROWS)
    first = home.sync()
    assert (first.records_loaded, first.records_unchanged) == (4, 0)
    before = home.rows()
    second = home.sync()
    assert second.records_fetched == 5
    assert (second.records_loaded, second.records_unchanged) == (0, 4)
    assert second.records_rejected == {"bad_timestamp": 1}  # never held: normalized again
    assert home.rows() == before
    assert home.warehouse.read_rejects("acme").num_rows == 1


def test_changed_records_are_normalized_and_the_rest_skipped(home: Home) -> None:
    home.write(*ROWS)
    first = home.sync()
    # An unmapped column changing does not change the conversion, but the raw record is kept
    # anew: a later mapping may read it.
    home.write(ROWS[0].replace("first", "edited"), ROWS[1].replace("$2.00", "$20.00"), *ROWS[2:])
    result = home.sync()
    assert (result.records_loaded, result.records_unchanged) == (1, 3)
    assert home.rows()["b"][1] == 20
    assert home.raw.row_count("acme", first.connector_id or "") == 5 + 3  # a, b, c again
    remap = home.config(field_overrides={**MAP, "NOTE": "product_name"})
    assert run_remap(get_registry().create(remap), home.storage, home.warehouse).success
    notes = {
        r["transaction_id"]: r["product_name"]
        for r in home.warehouse.read_conversions("acme").to_pylist()
    }
    assert notes == {"a": "edited", "b": None, "d": None, "e": None}


def test_unchanged_records_keep_their_raw_copy_until_stale_copies_pile_up(home: Home) -> None:
    home.write(*ROWS)
    connector_id = home.sync().connector_id or ""
    files = sorted(home.raw.directory("acme", connector_id).glob("*.parquet"))
    second = home.sync()
    assert second.records_unchanged == 4
    # Only the reject (never held) is written again; the first sync's files stand.
    assert home.raw.row_count("acme", connector_id) == 5 + 1
    assert set(files) <= set(home.raw.directory("acme", connector_id).glob("*.parquet"))
    for _ in range(5):
        home.sync()
    # 4 conversions and 1 reject in the warehouse; a sync finding 10 raw rows (not above
    # twice that) writes only the reject again...
    assert home.raw.row_count("acme", connector_id) == 11
    home.sync()  # ...one finding 11 writes every record and retires the rest.
    assert home.raw.row_count("acme", connector_id) == 5
    assert not set(files) & set(home.raw.directory("acme", connector_id).glob("*.parquet"))
    assert home.sync().records_unchanged == 4
    assert home.raw.row_count("acme", connector_id) == 6
    # Raw files removed by hand: fewer copies than loaded records, so all are written again.
    for path in home.raw.directory("acme", connector_id).glob("*.parquet"):
        path.unlink()
    assert home.sync().records_unchanged == 4
    assert home.raw.row_count("acme", connector_id) == 5


def test_other_settings_or_field_map_normalize_everything_again(home: Home) -> None:
    home.write(*ROWS)
    home.sync()
    shifted = home.sync(timezone="America/New_York")
    assert (shifted.records_loaded, shifted.records_unchanged) == (4, 0)
    assert home.rows()["a"][0].hour == 15
    remapped = home.sync(timezone="America/New_York", field_overrides={**MAP, "EMAIL": None})
    assert (remapped.records_loaded, remapped.records_unchanged) == (3, 1)  # b had no email
    assert home.rows()["a"][2] is None


def test_the_last_row_of_an_id_still_wins_across_batches(home: Home) -> None:
    home.write(*ROWS)
    home.sync()
    # "a" changes in one batch and comes back as it was in the next, screened while the first
    # is still on its way: the later row is the record's latest, though the warehouse holds it.
    home.write("a,2024-01-01 10:00,$9.00,a@x.com,first", ROWS[0], ROWS[1])
    home.sync(batch_size=1)
    assert home.rows()["a"][1] == 1
    home.write("a,2024-01-01 10:00,$9.00,a@x.com,first", ROWS[0])
    home.sync(batch_size=2)  # both in one batch: not every row of "a" is as held
    assert home.rows()["a"][1] == 1


def test_a_raw_file_that_cannot_be_written_fails_the_sync_and_its_batch_is_not_loaded(
    home: Home, tmp_path: Path
) -> None:
    home.write(*ROWS)
    (tmp_path / "raw").write_text("not a directory")  # where the raw record files go
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="acme",
        name="export",
        connection_params={"path": str(home.export)},
        field_overrides=MAP,
        batch_size=2,
    )
    connector = get_registry().create(config)
    result = run_sync(connector, home.storage, home.warehouse)
    connector.close()
    assert not result.success
    assert result.error is not None
    assert "raw" in result.error
    assert home.storage.state(config.effective_connector_id) is None
    # No conversion was committed with the hash of a raw record that was not kept: a later
    # sync would skip it as unchanged, and a re-map would miss it.
    assert home.warehouse.read_conversions("acme").num_rows == 0
    (tmp_path / "raw").unlink()
    again = home.sync()
    assert (again.records_fetched, again.records_loaded, again.records_unchanged) == (5, 4, 0)
    kept = home.raw.read_raw("acme", again.connector_id or "", 10)
    assert {k for t in kept for k in t.column("ID").to_pylist()} == {"a", "b", "c", "d", "e"}


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_records_hashed_as_read_keep_the_hash_of_their_arrow_batch(home: Home, kind: str) -> None:
    """The reader's hashes are those an earlier release computed over the batch it read, so a
    warehouse loaded by one still finds its records unchanged; and the column stays unseen."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq
    from growthnav.connectors.base import RAW_HASH_COLUMN, as_table

    home.write(*ROWS)
    if kind == "parquet":
        csv, home.export = home.export, home.export.with_suffix(".parquet")
        duckdb.execute(
            "COPY (SELECT *, 7::BIGINT AS N, 2.5::DOUBLE AS X, TIMESTAMP '2024-01-01' AS T, "
            "1.25::DECIMAL(9, 2) AS D, true AS B, NULL::INTEGER AS Z "
            f"FROM read_csv('{csv}', all_varchar = true)) TO '{home.export}' (FORMAT parquet)"
        )
    connector = get_registry().create(home.config(batch_size=3))
    # As a sync reads the file (and as an earlier release screened it): no hash column.
    as_read = pa.concat_tables(as_table(b) for b in connector.fetch_batches())
    assert RAW_HASH_COLUMN not in as_read.column_names
    normalizer = connector.normalizer().batch_normalizer
    expected, _ = home.warehouse.screen(
        "acme", "x", as_read, as_read.column("ID"), normalizer.fingerprint, match=False
    )
    connector.close()

    result = home.sync(batch_size=3)
    rows = home.warehouse.query('SELECT transaction_id, _raw_hash FROM "acme".conversion_rows')
    stored = {r["transaction_id"]: r["_raw_hash"] for r in rows.to_pylist()}
    by_id = dict(zip(as_read.column("ID").to_pylist(), expected.to_pylist(), strict=True))
    assert stored == {k: by_id[k] for k in ("a", "b", "d", "e")}
    # Neither the raw copies nor the rejects' raw records hold the column.
    raw = home.raw.directory("acme", result.connector_id or "")
    for path in raw.glob("*.parquet"):
        assert RAW_HASH_COLUMN not in pq.read_schema(path).names
    (reject,) = home.warehouse.read_rejects("acme").to_pylist()
    assert RAW_HASH_COLUMN not in reject["raw_record"]
    assert home.sync(batch_size=3).records_unchanged == 4
