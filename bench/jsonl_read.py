"""Reading a JSON Lines export into Arrow batches: the file connector against a per-line loop.

    uv run python bench/jsonl_read.py [--rows 1000000]

A Thanx-like export (the sync benchmark's columns, ten distractors) written as JSONL, read in
batches of 100,000 lines. Baseline: each line through ``json.loads``, each batch built with
``records_to_arrow``, and, for an incremental read, each record's cursor parsed with
``parse_timestamp`` to test it against the window (how the connector read JSONL before it
used Arrow's parser). The connector's reads go through ``FileConnector.fetch_batches``, once
whole and once with a cursor window that keeps every row. Each figure is the best of two runs.
Prints a table and writes bench/results/jsonl_read.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from growthnav.connectors import ConnectorConfig, ConnectorType, SyncMode, get_registry
from growthnav.connectors.base import as_table
from growthnav.conversions import parse_timestamp, records_to_arrow
from thanx_data import THANX_FIELD_MAP, thanx_table

RESULTS = Path(__file__).parent / "results"
TZ = "America/New_York"
BATCH = 100_000
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def per_line(path: Path, window: bool) -> int:
    rows = 0
    with path.open(encoding="utf-8") as handle:
        records: list[dict[str, Any]] = []
        for line in handle:
            record = json.loads(line)
            if window:
                moment = parse_timestamp(record.get("PURCHASED_AT"), TZ).value
                if moment is not None and moment < SINCE:
                    continue
            records.append(record)
            if len(records) == BATCH:
                rows += records_to_arrow(records).num_rows
                records = []
        if records:
            rows += records_to_arrow(records).num_rows
    return rows


def connector(path: Path, window: bool) -> int:
    params = {"path": str(path), **({"cursor_field": "PURCHASED_AT"} if window else {})}
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="bench",
        name="purchases",
        connection_params=params,
        field_overrides=THANX_FIELD_MAP,
        sync_mode=SyncMode.INCREMENTAL,
        batch_size=BATCH,
        timezone=TZ,
    )
    reader = get_registry().create(config)
    try:
        batches = reader.fetch_batches(since=SINCE if window else None)
        return sum(as_table(batch).num_rows for batch in batches)
    finally:
        reader.close()


def best_of_two(read: Callable[[Path, bool], int], path: Path, window: bool) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(2):
        start = time.perf_counter()
        rows = read(path, window)
        best = min(best, time.perf_counter() - start)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser(description="JSONL reading vs a per-line loop")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "purchases.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for batch in thanx_table(args.rows, distractors=10).to_batches(BATCH):
                handle.writelines(json.dumps(row) + "\n" for row in batch.to_pylist())
        for window in (False, True):
            for method, read in (
                ("per-line json.loads loop", per_line),
                ("file connector", connector),
            ):
                seconds, rows = best_of_two(read, path, window)
                results.append(
                    {
                        "method": f"{method}, {'cursor window' if window else 'whole file'}",
                        "rows": rows,
                        "seconds": round(seconds, 2),
                        "rows_per_s": round(rows / seconds),
                    }
                )
    print(f"{'method':45s} {'rows':>10s} {'seconds':>8s} {'rows/s':>10s}")
    for r in results:
        print(f"{r['method']:45s} {r['rows']:>10,} {r['seconds']:>8.2f} {r['rows_per_s']:>10,}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "jsonl_read.json").write_text(
        json.dumps({"benchmark": "jsonl_read", "rows": args.rows, "results": results}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
