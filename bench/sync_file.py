"""Sync a Thanx-like Parquet file into a fresh DuckDB warehouse, against two baselines.

    uv run python bench/sync_file.py [--rows 4000000] [--loop-rows 20000]

Prints wall time, rows/s and peak RSS for: the file connector's full sync (first run, then a
second run where every row is unchanged), in batches of 250,000 records and, first run only,
of the connectors' default size; a plain per-record Python loop inserting into
DuckDB (run on --loop-rows and reported per row); a bound for a set-based sync (the
normalization SQL run once over the whole file into a DuckDB table: no merge, raw records,
rejects table or checkpoints); the sync's two largest parts alone, normalizing the file with
no load and inserting its normalized rows into a fresh warehouse table in one statement; and
the ceiling, DuckDB reading the file (all columns). Each runs in its own process so peak RSS is
its own; CPU seconds are the process's, all threads (on 2 cores a 12 s goal allows 24).
Writes bench/results/sync_file.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from thanx_data import THANX_FIELD_MAP, thanx_table

if TYPE_CHECKING:
    from growthnav.conversions import NormalizedBatch

RESULTS = Path(__file__).parent / "results"


def peak_rss_mb() -> float:
    """This process's peak resident set in MiB, 2^20 bytes (VmHWM: unlike ru_maxrss, not
    inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


class Stopwatch:
    """Wall and CPU seconds (every thread of the process) since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        """(wall seconds, CPU seconds) so far."""
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def one_run(method: str, timing: tuple[float, float], rows: int) -> dict[str, Any]:
    """A child's report of a single measured run, with the process's peak RSS."""
    seconds, cpu = timing
    return {
        "runs": [{"method": method, "seconds": seconds, "cpu_seconds": cpu, "rows": rows}],
        "peak_rss_mb": peak_rss_mb(),
    }


def make_file(path: Path, rows: int) -> None:
    table = thanx_table(rows, distractors=10)
    pq.write_table(table, path, row_group_size=122_880)


def run_connector(path: Path, home: Path, *, default_batches: bool = False) -> dict[str, Any]:
    """Two full syncs of the file, in a process set up as the ``growthnav`` CLI sets up its own.

    With ``default_batches``, one first sync in batches of the connectors' default size (the
    others read 250,000 records a batch).
    """
    from growthnav.connectors.arrow_memory import use_sync_allocator

    use_sync_allocator()
    from growthnav.connectors import (
        ConnectorConfig,
        ConnectorStorage,
        ConnectorType,
        FileSecretStore,
        SyncMode,
        get_registry,
        run_sync,
    )
    from growthnav.warehouse import DuckDBWarehouse

    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "secrets"))
    warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="bench",
        name="thanx purchases",
        connection_params={"path": str(path)},
        field_overrides=THANX_FIELD_MAP,
        sync_mode=SyncMode.FULL,
        timezone="America/New_York",
    )
    labels = [f"first full sync, batches of {config.batch_size:,}"]
    if not default_batches:
        config = replace(config, batch_size=250_000)
        labels = ["first full sync", "second full sync (all unchanged)"]
    runs = []
    for label in labels:
        connector = get_registry().create(config)
        watch = Stopwatch()
        result = run_sync(connector, storage, warehouse)
        seconds, cpu = watch.read()
        connector.close()
        assert result.success, result.error
        runs.append(
            {
                "method": f"file connector, {label}",
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rows": result.records_fetched,
                "loaded": result.records_loaded,
                "unchanged": result.records_unchanged,
                "rejected": sum(result.records_rejected.values()),
            }
        )
    return {"runs": runs, "peak_rss_mb": peak_rss_mb()}


def run_loop(path: Path, home: Path, rows: int) -> dict[str, Any]:
    from growthnav.conversions import parse_email, parse_money, parse_phone, parse_timestamp

    connection = duckdb.connect(str(home / "loop.duckdb"))
    connection.execute(
        "CREATE TABLE conversions (transaction_id VARCHAR PRIMARY KEY, ts TIMESTAMPTZ, "
        "value DECIMAL(18, 4), email VARCHAR, phone VARCHAR, location_id VARCHAR)"
    )
    table = pq.read_table(path).slice(0, rows)
    watch = Stopwatch()
    values = []
    for row in table.to_pylist():
        ts = parse_timestamp(row["PURCHASED_AT"], "America/New_York")
        money = parse_money(row["SETTLEMENT_AMOUNT"])
        if not row["PURCHASE_ID"] or ts.value is None or money.error:
            continue
        values.append(
            (
                row["PURCHASE_ID"],
                ts.value,
                money.value.amount if money.value else None,
                parse_email(row["EMAIL"]).value,
                parse_phone(row["PHONE"]).value if row["PHONE"] else None,
                row["LOCATION_ID"],
            )
        )
        if len(values) >= 10_000:
            connection.executemany("INSERT INTO conversions VALUES (?, ?, ?, ?, ?, ?)", values)
            values = []
    if values:
        connection.executemany("INSERT INTO conversions VALUES (?, ?, ?, ?, ?, ?)", values)
    timing = watch.read()
    connection.close()
    return one_run("per-record Python loop into DuckDB", timing, rows)


def run_set_based(path: Path, home: Path) -> dict[str, Any]:
    """Our normalization SQL run once over the whole file into a DuckDB file table.

    Its text inputs are trimmed in the view it reads (the sync trims them in Arrow). A lower
    bound, not a sync: the query holds only the parsed fields (timestamp, amount,
    email, phone), not the text columns the sync takes over in Arrow (the transaction id among
    them), and there is no keyed merge, raw record, rejects table or checkpoint; phones the
    SQL fast path leaves are not completed.
    """
    from growthnav.conversions import BatchNormalizer
    from growthnav.conversions.duckdb_arrow import connect
    from growthnav.conversions.parsed import sql_identifier, trimmed_sql

    normalizer = BatchNormalizer(
        "bench", THANX_FIELD_MAP, connector_id="bench", timezone="America/New_York"
    )
    schema = pq.read_schema(path)
    # Emails and phones parsed in the query too, as no step before it parses them here.
    inputs = normalizer._inputs(schema, parsed_aside=False)
    sql = normalizer._sql(schema, inputs)
    # The query reads its text inputs trimmed, as the sync trims them in Arrow first.
    text = {
        i.column.name
        for items in inputs.values()
        for i in items
        if pa.types.is_string(i.data_type) or pa.types.is_large_string(i.data_type)
    }
    trimmed = ", ".join(
        f"{trimmed_sql(sql_identifier(n))} AS {sql_identifier(n)}" for n in sorted(text)
    )
    connection = connect(str(home / "set_based.duckdb"))
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET memory_limit = '1GB'")
    connection.execute(
        f"CREATE VIEW src AS SELECT * REPLACE ({trimmed}) FROM read_parquet('{path}')"
    )
    watch = Stopwatch()
    connection.execute(f"CREATE TABLE normalized AS {sql}")
    timing = watch.read()
    count = connection.execute("SELECT count(*) FROM normalized").fetchall()[0][0]
    connection.close()
    return one_run("bound: parsing SQL only, set-based, no merge", timing, count)


def normalized_batches(path: Path) -> Iterator[NormalizedBatch]:
    """The file normalized batch by batch, as the connector's sync normalizes it."""
    from growthnav.connectors.arrow_batches import gathered
    from growthnav.conversions import BatchNormalizer
    from growthnav.conversions.duckdb_arrow import connect

    normalizer = BatchNormalizer(
        "bench", THANX_FIELD_MAP, connector_id="bench", timezone="America/New_York"
    )
    reader = connect()
    try:
        source = reader.sql(f"SELECT * FROM read_parquet('{path}')")
        batches = gathered(source.to_arrow_reader(250_000), 250_000)
        for _, normalized in normalizer.normalize_stream(batches):
            yield normalized
    finally:
        reader.close()
        normalizer.close()


def run_normalize_only(path: Path) -> dict[str, Any]:
    """The sync's normalization alone: the file's batches normalized, nothing loaded."""
    watch = Stopwatch()
    rows = sum(batch.input_rows for batch in normalized_batches(path))
    return one_run("part: normalization alone, no load", watch.read(), rows)


def run_insert_only(path: Path, home: Path) -> dict[str, Any]:
    """The load's floor: the normalized rows inserted into a fresh warehouse table at once.

    The rows are normalized to a Parquet file first (not timed), then one INSERT...SELECT
    computes the key and row hashes as the warehouse's merge does and writes every column the
    warehouse stores (those holding a value, the profile columns as their profile's number) of
    every row.
    """
    from growthnav.conversions import CONVERSION_SCHEMA
    from growthnav.warehouse import DuckDBWarehouse
    from growthnav.warehouse.base import CONVERSION_KEY, MANAGED_COLUMNS
    from growthnav.warehouse.duckdb_warehouse import PROFILE_COLUMNS

    staged = home / "conversions.parquet"
    filled: set[str] = set()
    profile: dict[str, Any] = {}
    with pq.ParquetWriter(staged, CONVERSION_SCHEMA) as writer:
        for batch in normalized_batches(path):
            conversions = batch.conversions
            filled |= {
                n for n in conversions.column_names if conversions[n].null_count < len(conversions)
            }
            profile = {n: conversions[n][0].as_py() for n in PROFILE_COLUMNS}  # one per file
            writer.write_table(conversions)
    warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
    warehouse.ensure_customer("bench")
    names = [n for n in CONVERSION_SCHEMA.names if n in filled]
    stored = [n for n in names if n not in PROFILE_COLUMNS]
    columns = ", ".join(f'"{n}"' for n in stored)
    key = ", ".join(f'"{n}"' for n in CONVERSION_KEY)
    values = ", ".join(f'"{n}"' for n in names if n not in (*CONVERSION_KEY, *MANAGED_COLUMNS))
    with warehouse.connection() as connection:
        table, _ = warehouse.stored_conversions(connection, "bench", names)
        number = warehouse.profile(connection, "bench", profile)
        watch = Stopwatch()
        connection.execute(
            f"INSERT INTO {table} ({columns}, _profile, _key_hash, _row_hash) "
            f"SELECT {columns}, {number}, md5_number(concat_ws(chr(31), {key})), hash({values}) "
            f"FROM read_parquet('{staged}')"
        )
        connection.execute("CHECKPOINT")
        timing = watch.read()
        rows = connection.execute('SELECT count(*) FROM "bench".conversions').fetchall()[0][0]
    return one_run("part: insert normalized rows into the warehouse", timing, rows)


def run_ceiling(path: Path) -> dict[str, Any]:
    connection = duckdb.connect()
    watch = Stopwatch()
    # hash() of every column makes DuckDB decode all of them (a count alone reads metadata).
    count = connection.execute(
        f"SELECT count(*) FROM read_parquet('{path}') WHERE hash(COLUMNS(*)) IS NOT NULL"
    ).fetchall()[0][0]
    return one_run("ceiling: DuckDB reads the file", watch.read(), count)


def child(kind: str, path: Path, home: Path, loop_rows: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(home), str(loop_rows)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, path, home, loop_rows = (
            sys.argv[2],
            Path(sys.argv[3]),
            Path(sys.argv[4]),
            int(sys.argv[5]),
        )
        home.mkdir(parents=True, exist_ok=True)
        if kind in ("connector", "connector_default_batches"):
            print(json.dumps(run_connector(path, home, default_batches=kind != "connector")))
        elif kind == "loop":
            print(json.dumps(run_loop(path, home, loop_rows)))
        elif kind == "set_based":
            print(json.dumps(run_set_based(path, home)))
        elif kind == "normalize_only":
            print(json.dumps(run_normalize_only(path)))
        elif kind == "insert_only":
            print(json.dumps(run_insert_only(path, home)))
        else:
            print(json.dumps(run_ceiling(path)))
        return
    parser = argparse.ArgumentParser(description="file sync vs baselines")
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--loop-rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "thanx_purchases.parquet"
        make_file(path, args.rows)
        results = []
        kinds = (
            "connector",
            "connector_default_batches",
            "loop",
            "set_based",
            "normalize_only",
            "insert_only",
            "ceiling",
        )
        for kind in kinds:
            report = child(kind, path, Path(tmp) / kind, args.loop_rows)
            for run in report["runs"]:
                run["rows_per_s"] = round(run["rows"] / run["seconds"])
                run["peak_rss_mb"] = round(report["peak_rss_mb"])
                if kind == "loop":
                    run["projected_seconds_for_all_rows"] = round(args.rows / run["rows_per_s"], 1)
                run["seconds"] = round(run["seconds"], 2)
                run["cpu_seconds"] = round(run["cpu_seconds"], 2)
                results.append(run)
    print(
        f"{'method':52s} {'rows':>10s} {'seconds':>8s} {'CPU s':>7s} {'rows/s':>10s} "
        f"{'peak RSS MiB':>12s}"
    )
    for r in results:
        print(
            f"{r['method']:52s} {r['rows']:>10,} {r['seconds']:>8.2f} {r['cpu_seconds']:>7.2f} "
            f"{r['rows_per_s']:>10,} {r['peak_rss_mb']:>12,}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sync_file.json").write_text(
        json.dumps({"benchmark": "sync_file", "rows": args.rows, "results": results}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
