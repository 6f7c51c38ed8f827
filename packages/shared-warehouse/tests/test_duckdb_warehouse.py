from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from growthnav.conversions import CONVERSION_SCHEMA, BatchNormalizer
from growthnav.warehouse import DuckDBWarehouse, LoadCounts, warehouse_from_environment
from growthnav.warehouse.duckdb_warehouse import DEFAULT_MEMORY_LIMIT

MAP = {"id": "transaction_id", "ts": "timestamp", "amount": "value", "mail": "email"}


def normalized(rows: list[dict[str, Any]] | pa.Table, connector_id: str | None = "pos-1") -> Any:
    return BatchNormalizer("acme", MAP, connector_id=connector_id, source_system="pos").normalize(
        rows
    )


ROWS: list[dict[str, Any]] = [
    {"id": "a", "ts": "2024-01-01T10:00:00Z", "amount": "$10.00", "mail": "A@x.com"},
    {"id": "b", "ts": "2024-01-02T10:00:00Z", "amount": "$20.00", "mail": "b@x.com"},
    {"id": "c", "ts": "nope", "amount": "$30.00", "mail": None},
]


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(tmp_path / "warehouse.duckdb")


def test_upsert_inserts_then_a_replay_changes_nothing(warehouse: DuckDBWarehouse) -> None:
    batch = normalized(ROWS)
    assert warehouse.upsert_conversions("acme", batch.conversions) == LoadCounts(2, 0, 0)
    assert warehouse.upsert_conversions("acme", batch.conversions) == LoadCounts(0, 0, 2)
    table = warehouse.read_conversions("acme")
    assert table.column("transaction_id").to_pylist() == ["a", "b"]
    assert table.column("value").to_pylist() == [Decimal("10.0000"), Decimal("20.0000")]
    assert table.column("timestamp").to_pylist()[0] == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert table.schema.names == CONVERSION_SCHEMA.names


def test_changed_rows_are_updated_in_place(warehouse: DuckDBWarehouse) -> None:
    warehouse.upsert_conversions("acme", normalized(ROWS).conversions)
    changed = [dict(ROWS[0], amount="$11.00"), ROWS[1], dict(ROWS[1], id="d")]
    assert warehouse.upsert_conversions("acme", normalized(changed).conversions) == LoadCounts(
        1, 1, 1
    )
    values = dict(
        zip(
            warehouse.read_conversions("acme").column("transaction_id").to_pylist(),
            warehouse.read_conversions("acme").column("value").to_pylist(),
            strict=True,
        )
    )
    assert values == {"a": Decimal("11"), "b": Decimal("20"), "d": Decimal("20")}


def test_the_last_version_of_a_key_within_one_batch_wins(warehouse: DuckDBWarehouse) -> None:
    rows = [ROWS[0], dict(ROWS[0], amount="$12.00"), dict(ROWS[0], amount="$13.00")]
    counts = warehouse.upsert_conversions("acme", normalized(rows).conversions)
    assert counts.inserted == 1
    assert warehouse.read_conversions("acme").column("value").to_pylist() == [Decimal("13")]


def test_rejects_are_keyed_so_a_replay_does_not_double_them(warehouse: DuckDBWarehouse) -> None:
    batch = normalized(ROWS)
    assert warehouse.write_rejects("acme", batch.rejects) == 1
    assert warehouse.write_rejects("acme", batch.rejects) == 0
    [reject] = warehouse.read_rejects("acme").to_pylist()
    assert reject["reason"] == "bad_timestamp"
    assert reject["reject_key"] == "c"


def test_customers_and_connectors_are_kept_apart(warehouse: DuckDBWarehouse) -> None:
    warehouse.upsert_conversions("acme", normalized(ROWS, "pos-1").conversions)
    warehouse.upsert_conversions("acme", normalized(ROWS, "pos-2").conversions)
    other = BatchNormalizer("other-brand", MAP, connector_id="pos-1").normalize(ROWS)
    warehouse.upsert_conversions("other-brand", other.conversions)
    assert warehouse.read_conversions("acme").num_rows == 4
    assert warehouse.read_conversions("acme", "pos-2").num_rows == 2
    assert warehouse.read_conversions("other-brand").num_rows == 2


def test_rows_without_a_connector_id_are_refused(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(ValueError, match="2 rows have no connector_id"):
        warehouse.upsert_conversions("acme", normalized(ROWS, None).conversions)


@pytest.mark.parametrize("customer", ["", "Acme Burgers", "../etc", "a" * 64, 'x"; DROP'])
def test_customer_ids_that_cannot_name_a_dataset_are_refused(
    warehouse: DuckDBWarehouse, customer: str
) -> None:
    with pytest.raises(ValueError, match="cannot name a dataset"):
        warehouse.ensure_customer(customer)


def test_home_default_and_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTHNAV_HOME", str(tmp_path / "home"))
    warehouse = DuckDBWarehouse(memory_limit="300MB")
    assert warehouse.path == tmp_path / "home" / "warehouse.duckdb"
    warehouse.ensure_customer("acme")
    assert warehouse.path.exists()
    assert _limit(warehouse) == "286.1 MiB"  # 300 MB, as DuckDB shows it
    # DuckDB's progress bar would draw over a CLI's output on long loads.
    bar = warehouse.query("SELECT current_setting('enable_progress_bar') AS b").column("b")
    assert bar[0].as_py() is False


def _limit(warehouse: DuckDBWarehouse) -> str:
    limit: str = (
        warehouse.query("SELECT current_setting('memory_limit') AS m").column("m")[0].as_py()
    )
    return limit


def test_the_default_memory_limit_holds_however_another_connection_set_it(
    warehouse: DuckDBWarehouse,
) -> None:
    assert warehouse.memory_limit == DEFAULT_MEMORY_LIMIT == "128MB"
    with warehouse.session():
        assert _limit(warehouse) == "122.0 MiB"
        # The limit is the open database's, shared by its connections: the next one restores it.
        with warehouse.connection() as connection:
            connection.execute("SET memory_limit = '100MB'")
        assert _limit(warehouse) == "122.0 MiB"


@pytest.mark.parametrize("limit", ["lots", "", "1GB'; DROP SCHEMA acme; --", "-1"])
def test_a_memory_limit_that_is_not_a_size_is_refused(tmp_path: Path, limit: str) -> None:
    with pytest.raises(ValueError, match="is not a memory size: give a number and a unit"):
        DuckDBWarehouse(tmp_path / "w.duckdb", memory_limit=limit)
    assert not (tmp_path / "w.duckdb").exists()


def test_the_memory_limit_comes_from_the_environment(tmp_path: Path) -> None:
    env = {"GROWTHNAV_HOME": str(tmp_path), "GROWTHNAV_DUCKDB_MEMORY_LIMIT": " 1.5 GiB "}
    warehouse = warehouse_from_environment(env)
    assert isinstance(warehouse, DuckDBWarehouse)
    assert _limit(warehouse) == "1.5 GiB"
    default = warehouse_from_environment({"GROWTHNAV_HOME": str(tmp_path)})
    assert isinstance(default, DuckDBWarehouse)
    assert default.memory_limit == DEFAULT_MEMORY_LIMIT
    with pytest.raises(ValueError, match="GROWTHNAV_DUCKDB_MEMORY_LIMIT='lots' is not a memory"):
        warehouse_from_environment({**env, "GROWTHNAV_DUCKDB_MEMORY_LIMIT": "lots"})


def test_a_failed_merge_leaves_the_table_as_it_was(warehouse: DuckDBWarehouse) -> None:
    warehouse.upsert_conversions("acme", normalized(ROWS).conversions)
    bad = normalized(ROWS).conversions
    bad = bad.set_column(
        bad.schema.get_field_index("currency"), "currency", pa.array([None, None], pa.string())
    )
    with pytest.raises(Exception, match="NOT NULL"):
        warehouse.upsert_conversions("acme", bad)
    assert warehouse.read_conversions("acme").num_rows == 2


def test_load_commits_conversions_and_rejects_together(warehouse: DuckDBWarehouse) -> None:
    batch = normalized(ROWS)
    assert warehouse.load("acme", batch.conversions, batch.rejects) == (LoadCounts(2, 0, 0), 1)
    bad_rejects = batch.rejects.set_column(
        batch.rejects.schema.get_field_index("message"),
        "message",
        pa.array([None], pa.string()),
    )
    changed = normalized([dict(ROWS[0], amount="$99.00"), ROWS[1]]).conversions
    with pytest.raises(Exception, match="NOT NULL"):
        warehouse.load("acme", changed, bad_rejects)
    # The rejects failed, so the conversions of the same load were rolled back too.
    values = warehouse.read_conversions("acme").column("value").to_pylist()
    assert values == [Decimal("10.0000"), Decimal("20.0000")]
    assert warehouse.read_rejects("acme").column("message").null_count == 0


def test_a_table_made_with_a_primary_key_and_no_hashes_still_merges(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    first = DuckDBWarehouse(path)
    first.upsert_conversions("acme", normalized(ROWS).conversions)
    with first.connection() as connection:
        # The layout of earlier releases: a table named conversions holding every column, a
        # primary key, no hash columns.
        connection.execute(
            'CREATE TABLE "acme".old AS SELECT * EXCLUDE (_key_hash, _row_hash) '
            'FROM "acme".conversions'
        )
        connection.execute('DROP VIEW "acme".conversions')
        connection.execute('DROP TABLE "acme".conversion_rows')
        connection.execute('ALTER TABLE "acme".old RENAME TO conversions')
        connection.execute(
            'ALTER TABLE "acme".conversions ADD PRIMARY KEY (customer_id, connector_id, '
            "transaction_id)"
        )
    later = DuckDBWarehouse(path)

    def constants() -> set[tuple[Any, ...]]:
        rows = later.read_conversions("acme").to_pylist()
        return {(r["customer_id"], r["source_system"], r["currency"], r["source"]) for r in rows}

    # Its rows keep their own constants; rows loaded now take them from a profile.
    assert constants() == {("acme", "pos", "USD", "other")}
    changed = [dict(ROWS[0], amount="$11.00"), ROWS[1], dict(ROWS[1], id="d")]
    # Rows without a hash count as changed once; then the hash recognises them.
    assert later.upsert_conversions("acme", normalized(changed).conversions) == LoadCounts(1, 2, 0)
    assert later.upsert_conversions("acme", normalized(changed).conversions) == LoadCounts(0, 0, 3)
    assert constants() == {("acme", "pos", "USD", "other")}
    with duckdb.connect(str(path)) as connection:
        [(rows,)] = connection.execute('SELECT count(*) FROM "acme".conversions').fetchall()
    assert rows == 3


def test_a_key_repeated_within_a_batch_keeps_its_last_row(warehouse: DuckDBWarehouse) -> None:
    twice = [ROWS[0], dict(ROWS[0], amount="$12.00"), ROWS[1]]
    assert warehouse.upsert_conversions("acme", normalized(twice).conversions) == LoadCounts(
        2, 0, 1
    )
    again = [dict(ROWS[0], amount="$13.00"), dict(ROWS[0], amount="$14.00")]
    assert warehouse.upsert_conversions("acme", normalized(again).conversions) == LoadCounts(
        0, 1, 1
    )
    table = warehouse.read_conversions("acme")
    assert table.column("transaction_id").to_pylist() == ["a", "b"]
    assert table.column("value").to_pylist() == [Decimal("14.0000"), Decimal("20.0000")]


def test_loads_in_a_session_are_durable_once_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    warehouse = DuckDBWarehouse(path)
    with warehouse.session():
        first = normalized(ROWS)
        assert warehouse.load("acme", first.conversions, first.rejects)[0] == LoadCounts(2, 0, 0)
        second = normalized([dict(ROWS[1], id="d")])
        assert warehouse.load("acme", second.conversions, second.rejects)[0] == LoadCounts(1, 0, 0)
        # Reads inside the session see what was loaded.
        assert warehouse.read_conversions("acme").num_rows == 3
    reopened = DuckDBWarehouse(path)
    assert reopened.read_conversions("acme").column("transaction_id").to_pylist() == ["a", "b", "d"]
    assert reopened.read_rejects("acme").num_rows == 1


def test_home_is_the_environments_or_the_default_when_blank() -> None:
    from growthnav.warehouse import growthnav_home

    assert growthnav_home({"GROWTHNAV_HOME": "/srv/gn"}) == Path("/srv/gn")
    default = Path.home() / ".growthnav"
    assert growthnav_home({}) == default
    assert growthnav_home({"GROWTHNAV_HOME": "  "}) == default


def _screen_rows(rows: list[dict[str, Any]]) -> tuple[pa.Table, pa.ChunkedArray[Any]]:
    table = pa.Table.from_pylist(rows)
    return table, pa.chunked_array([table.column("id").combine_chunks()])


def _load_screened(warehouse: DuckDBWarehouse, rows: list[dict[str, Any]], salt: str) -> None:
    table, keys = _screen_rows(rows)
    hashes, held = warehouse.screen("acme", "pos-1", table, keys, salt, match=False)
    assert held.to_pylist() == [False] * len(rows)
    batch = normalized(rows)
    warehouse.load("acme", batch.conversions, batch.rejects, hashes.take(batch.source_rows))


def test_screen_holds_records_loaded_from_the_same_raw_record(
    warehouse: DuckDBWarehouse,
) -> None:
    assert not warehouse.holds_raw_hashes("acme", "pos-1")
    _load_screened(warehouse, ROWS, "rules-1")
    assert warehouse.holds_raw_hashes("acme", "pos-1")
    assert not warehouse.holds_raw_hashes("acme", "pos-2")
    again = [
        {"mail": "A@x.com", "amount": "$10.00", "ts": "2024-01-01T10:00:00Z", "id": "a"},
        dict(ROWS[1], amount="$21.00"),
        ROWS[2],  # rejected before: never held, so it is normalized (and rejected) again
        dict(ROWS[0], id="new"),
        dict(ROWS[0], id=None),
    ]
    table, keys = _screen_rows(again)
    hashes, held = warehouse.screen("acme", "pos-1", table, keys, "rules-1")
    # Column order does not matter; a changed value, a new id or no id is not held.
    assert held.to_pylist() == [True, False, False, False, False]
    assert hashes.type == pa.uint64()
    assert len(hashes) == len(again)
    # Other rules or settings, or another connector: nothing is held.
    assert not any(warehouse.screen("acme", "pos-1", table, keys, "rules-2")[1].to_pylist())
    assert not any(warehouse.screen("acme", "pos-9", table, keys, "rules-1")[1].to_pylist())


def test_screen_takes_the_hashes_a_source_computed_as_it_read(
    warehouse: DuckDBWarehouse,
) -> None:
    from growthnav.warehouse.duckdb_warehouse import raw_hash_sql

    _load_screened(warehouse, ROWS, "rules-1")
    table, keys = _screen_rows([ROWS[1], dict(ROWS[0], amount="$99.00")])
    computed, held = warehouse.screen("acme", "pos-1", table, keys, "rules-1")
    # The same SQL run by the reader (columns in any order) gives the screen's own hashes.
    reader = duckdb.connect()
    reader.register("as_read", table)
    expression = raw_hash_sql("rules-1", reversed(table.column_names))
    read = reader.sql(f"SELECT {expression} AS h FROM as_read").to_arrow_table()
    read = read.column("h").combine_chunks()
    assert read.equals(computed)
    given, held_given = warehouse.screen("acme", "pos-1", table, keys, "rules-1", hashes=read)
    assert given.equals(computed)
    assert held_given.equals(held)
    assert held.to_pylist() == [True, False]
    # Without matching, the given hashes come back as they are.
    alone, none_held = warehouse.screen(
        "acme", "pos-1", table, keys, "rules-1", match=False, hashes=read
    )
    assert alone.equals(read)
    assert none_held.to_pylist() == [False, False]
    with pytest.raises(ValueError, match="1 raw hashes for a batch of 2 records"):
        warehouse.screen("acme", "pos-1", table, keys, "rules-1", hashes=read[:1])


def test_screen_holds_an_id_only_when_every_row_of_it_is_unchanged(
    warehouse: DuckDBWarehouse,
) -> None:
    _load_screened(warehouse, ROWS[:2], "rules-1")
    table, keys = _screen_rows([ROWS[0], dict(ROWS[0], amount="$99.00"), ROWS[1], ROWS[1]])
    assert warehouse.screen("acme", "pos-1", table, keys, "rules-1")[1].to_pylist() == [
        False,
        False,
        True,
        True,
    ]


def test_a_load_keeps_raw_hashes_also_for_rows_whose_values_did_not_change(
    warehouse: DuckDBWarehouse,
) -> None:
    batch = normalized(ROWS)
    warehouse.load("acme", batch.conversions, batch.rejects)  # no raw hashes: nothing held
    table, keys = _screen_rows(ROWS[:2])
    hashes, held = warehouse.screen("acme", "pos-1", table, keys, "rules-1")
    assert held.to_pylist() == [False, False]
    # The same values again, now with raw hashes: unchanged rows, and their hashes kept.
    counts, _ = warehouse.load("acme", batch.conversions, batch.rejects[:0], hashes)
    assert counts == LoadCounts(0, 0, 2)
    assert warehouse.screen("acme", "pos-1", table, keys, "rules-1")[1].to_pylist() == [True, True]


def test_values_changed_without_a_raw_hash_clear_the_old_one(warehouse: DuckDBWarehouse) -> None:
    _load_screened(warehouse, ROWS[:2], "rules-1")
    # A re-map (no raw hashes) changes "a": its old raw hash no longer describes its values.
    warehouse.upsert_conversions("acme", normalized([dict(ROWS[0], amount="$1.00")]).conversions)
    table, keys = _screen_rows(ROWS[:2])
    assert warehouse.screen("acme", "pos-1", table, keys, "rules-1")[1].to_pylist() == [
        False,
        True,
    ]


def test_a_record_that_now_loads_is_no_longer_a_reject(warehouse: DuckDBWarehouse) -> None:
    bad = normalized(ROWS)  # c has no timestamp that parses
    warehouse.load("acme", bad.conversions, bad.rejects)
    other = normalized(ROWS, "pos-2")
    warehouse.write_rejects("acme", other.rejects)
    fixed = normalized([dict(ROWS[2], ts="2024-01-03T10:00:00Z")])
    counts, rejects_written = warehouse.load("acme", fixed.conversions, fixed.rejects)
    assert (counts.inserted, rejects_written) == (1, 0)
    # The other connector's record c is another record: its reject stays.
    remaining = warehouse.read_rejects("acme").select(["connector_id", "reject_key"])
    assert remaining.to_pylist() == [{"connector_id": "pos-2", "reject_key": "c"}]
    # The direct upsert clears them the same way.
    warehouse.upsert_conversions(
        "acme", normalized([dict(ROWS[2], ts="2024-01-03")], "pos-2").conversions
    )
    assert warehouse.read_rejects("acme").num_rows == 0


def test_a_key_repeated_within_a_batch_keeps_the_raw_hash_of_its_last_row(
    warehouse: DuckDBWarehouse,
) -> None:
    first, last = ROWS[0], dict(ROWS[0], amount="$12.00")
    table, keys = _screen_rows([first, last, ROWS[1]])
    hashes, _ = warehouse.screen("acme", "pos-1", table, keys, "rules-1", match=False)
    batch = normalized([first, last, ROWS[1]])
    counts, _ = warehouse.load(
        "acme", batch.conversions, batch.rejects, hashes.take(batch.source_rows)
    )
    assert counts == LoadCounts(2, 0, 1)
    # The record as it last read is held; as it first read, it is not.
    for rows, held in (([last, ROWS[1]], [True, True]), ([first], [False])):
        table, keys = _screen_rows(rows)
        assert warehouse.screen("acme", "pos-1", table, keys, "rules-1")[1].to_pylist() == held
    assert warehouse.read_conversions("acme").column("value").to_pylist() == [
        Decimal("12.0000"),
        Decimal("20.0000"),
    ]


def test_hashes_computed_ahead_load_as_the_merge_would_compute_them(
    warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    first = normalized(ROWS).conversions
    again = normalized([dict(ROWS[0], amount="$12.00"), ROWS[1], dict(ROWS[1], id="d")])
    other = DuckDBWarehouse(tmp_path / "other.duckdb")
    for target, ahead in ((warehouse, True), (other, False)):
        for conversions in (first, again.conversions):
            hashes = target.load_hashes(conversions) if ahead else None
            target.load("acme", conversions, again.rejects[:0], hashes=hashes)
    # The same counts and rows either way: a replay of the last batch changes nothing.
    for target in (warehouse, other):
        replay = target.load("acme", again.conversions, again.rejects[:0])[0]
        assert replay == LoadCounts(0, 0, 3)
    assert warehouse.read_conversions("acme").equals(other.read_conversions("acme"))
    with pytest.raises(ValueError, match="2 hashed rows for a batch of 3: hash the conversions"):
        warehouse.load(
            "acme", again.conversions, again.rejects[:0], hashes=warehouse.load_hashes(first)
        )


def test_hashes_of_a_batch_scanned_in_parallel_stay_in_row_order(
    warehouse: DuckDBWarehouse,
) -> None:
    rows = 100_000  # three 32k-row slices and a rest, hashed by DuckDB's threads at once
    source = pa.table(
        {
            "id": [f"t-{i}" for i in range(rows)],
            "ts": ["2024-03-01T12:00:00Z"] * rows,
            "amount": [f"{i % 997}.25" for i in range(rows)],
        }
    )
    conversions = normalized(source).conversions
    whole = warehouse.load_hashes(conversions)
    # Below one slice each, so each is one chunk and one scan in order.
    parts = [warehouse.load_hashes(conversions.slice(at, 20_000)) for at in range(0, rows, 20_000)]
    assert whole.equals(pa.concat_tables(parts))
    assert len(set(whole.column("_gn_k0").to_pylist())) == rows


def test_ids_and_emails_are_stored_with_zstd_and_other_text_as_duckdb_chooses(
    warehouse: DuckDBWarehouse,
) -> None:
    users = BatchNormalizer("acme", {**MAP, "user": "user_id"}, connector_id="pos-1")
    rows = [dict(row, user=f"u-{row['id']}") for row in ROWS]
    warehouse.upsert_conversions("acme", users.normalize(rows).conversions)
    stored = warehouse.query(
        "SELECT column_name, string_agg(DISTINCT compression, ',') AS compression "
        "FROM pragma_storage_info('acme.conversion_rows') WHERE segment_type = 'VARCHAR' "
        "GROUP BY column_name"
    ).to_pylist()
    compression = {row["column_name"]: row["compression"] for row in stored}
    assert {compression[c] for c in ("transaction_id", "user_id", "email")} == {"ZSTD"}
    assert compression["connector_id"] != "ZSTD"


def stored_columns(warehouse: DuckDBWarehouse) -> set[str]:
    rows = warehouse.query(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE schema_name = 'acme' AND table_name = 'conversion_rows'"
    )
    return {str(name) for name in rows.column("column_name").to_pylist()}


def test_a_column_is_stored_once_some_conversion_has_a_value_in_it(
    warehouse: DuckDBWarehouse,
) -> None:
    warehouse.upsert_conversions("acme", normalized(ROWS).conversions)
    # The rows hold no user id, click id or name: the table stores none of those columns...
    assert {"user_id", "gclid", "first_name"}.isdisjoint(stored_columns(warehouse))
    assert {"transaction_id", "email", "value"} <= stored_columns(warehouse)
    # ...and the view still has every column of the schema, empty.
    table = warehouse.read_conversions("acme")
    assert table.schema.names == CONVERSION_SCHEMA.names
    assert [f.type for f in table.schema] == [f.type for f in CONVERSION_SCHEMA]
    assert table.column("user_id").null_count == 2
    with_users = BatchNormalizer("acme", {**MAP, "user": "user_id"}, connector_id="pos-1")
    later = [dict(ROWS[0], user="u-1"), dict(ROWS[1], id="d", user="u-2")]
    assert warehouse.upsert_conversions(
        "acme", with_users.normalize(later).conversions
    ) == LoadCounts(1, 1, 0)
    assert "user_id" in stored_columns(warehouse)
    users = dict(
        zip(
            warehouse.read_conversions("acme").column("transaction_id").to_pylist(),
            warehouse.read_conversions("acme").column("user_id").to_pylist(),
            strict=True,
        )
    )
    assert users == {"a": "u-1", "b": None, "d": "u-2"}
    # A value taken away again is taken away (the column stays).
    assert warehouse.upsert_conversions("acme", normalized(ROWS[:1]).conversions) == LoadCounts(
        0, 1, 0
    )
    assert warehouse.read_conversions("acme").column("user_id").to_pylist() == [None, None, "u-2"]


def test_a_failed_load_adds_no_column(warehouse: DuckDBWarehouse) -> None:
    warehouse.upsert_conversions("acme", normalized(ROWS).conversions)
    with_users = BatchNormalizer("acme", {**MAP, "user": "user_id"}, connector_id="pos-1")
    batch = with_users.normalize([dict(ROWS[0], id="e", user="u-9"), ROWS[2]])
    bad_rejects = batch.rejects.set_column(
        batch.rejects.schema.get_field_index("message"), "message", pa.array([None], pa.string())
    )
    with pytest.raises(Exception, match="NOT NULL"):
        warehouse.load("acme", batch.conversions, bad_rejects)
    assert "user_id" not in stored_columns(warehouse)
    assert warehouse.read_conversions("acme").column("transaction_id").to_pylist() == ["a", "b"]


def test_a_connectors_constants_are_stored_once_per_combination(
    warehouse: DuckDBWarehouse,
) -> None:
    warehouse.upsert_conversions("acme", normalized(ROWS).conversions)
    # Customer, source system, type, source and currency: one profile, no column per row.
    assert {"customer_id", "source_system", "currency", "source"}.isdisjoint(
        stored_columns(warehouse)
    )
    assert warehouse.query('SELECT count(*) AS n FROM "acme".conversion_profiles').to_pylist() == [
        {"n": 1}
    ]
    first = warehouse.read_conversions("acme").to_pylist()
    assert {(r["customer_id"], r["source_system"], r["currency"]) for r in first} == {
        ("acme", "pos", "USD")
    }
    # A batch of several combinations (a currency per row, another source system): each row
    # keeps its own, and a changed row takes its new one.
    mixed = BatchNormalizer(
        "acme", {**MAP, "cur": "currency"}, connector_id="pos-1", source_system="till"
    )
    rows = [dict(ROWS[0], cur="EUR"), dict(ROWS[1], id="d", cur="USD"), dict(ROWS[1], cur=None)]
    assert warehouse.upsert_conversions("acme", mixed.normalize(rows).conversions) == LoadCounts(
        1, 2, 0
    )
    read = {
        r["transaction_id"]: (r["currency"], r["source_system"])
        for r in warehouse.read_conversions("acme").to_pylist()
    }
    assert read == {"a": ("EUR", "till"), "b": ("USD", "till"), "d": ("USD", "till")}
    assert warehouse.query('SELECT count(*) AS n FROM "acme".conversion_profiles').to_pylist() == [
        {"n": 3}
    ]
    # The view filters on them as on any column.
    assert warehouse.query(
        "SELECT transaction_id FROM acme.conversions WHERE currency = 'EUR'"
    ).to_pylist() == [{"transaction_id": "a"}]
