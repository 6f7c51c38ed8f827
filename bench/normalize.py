"""Batch normalizer vs a plain per-record Python loop, on the same Thanx-like records.

    uv run python bench/normalize.py [--rows 1000000] [--batch-rows 100000 1000000]

Two shapes of the same data: the plan's Thanx purchase columns (PURCHASE_ID, USER_ID,
SETTLEMENT_AMOUNT, PURCHASED_AT, LOCATION_ID, LOCATION_NAME) and the same with EMAIL and PHONE
mapped (identity columns: validation and E.164). Amounts are text (``$12.50``, ``12.50``,
``$1,234.00``), PURCHASED_AT comes in five forms (ISO with Z, ISO naive, US 12-hour, epoch s,
epoch ms) read in America/New_York, and ~2% of rows are bad (no id, ``N/A`` amounts,
impossible dates). Batch sizes: 100,000 rows, and 1,048,576 (one Parquet row group as pyarrow
writes it; an Arrow source hands its batches straight through). Each batch figure is the best
of three runs; the loop runs once. Prints a table and writes bench/results/normalize.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
from growthnav.conversions import (
    BatchNormalizer,
    Conversion,
    ConversionSource,
    parse_email,
    parse_money,
    parse_phone,
    parse_timestamp,
)
from thanx_data import THANX_FIELD_MAP, thanx_table

RESULTS = Path(__file__).parent / "results"
TZ = "America/New_York"
IDENTITY = ("EMAIL", "PHONE")
SHAPES = {
    "thanx purchases": {k: v for k, v in THANX_FIELD_MAP.items() if k not in IDENTITY},
    "+ email, phone": THANX_FIELD_MAP,
}


def batch_run(
    table: pa.Table, field_map: dict[str, str], batch_rows: int
) -> tuple[float, int, Counter[str]]:
    normalizer = BatchNormalizer("bench", field_map, timezone=TZ)
    normalizer.normalize(table.slice(0, 1000))  # warm the connection
    best = float("inf")
    for _ in range(3):
        loaded, rejected = 0, Counter[str]()
        start = time.perf_counter()
        for _, result in normalizer.normalize_stream(table.to_batches(max_chunksize=batch_rows)):
            loaded += result.conversions.num_rows
            rejected.update(result.rejected)
        best = min(best, time.perf_counter() - start)
    normalizer.close()
    return best, loaded, rejected


def per_record_run(
    rows: list[dict[str, Any]], field_map: dict[str, str]
) -> tuple[float, int, Counter[str]]:
    """The straightforward loop: parse each field of each dict, build a Conversion."""
    phone = lru_cache(maxsize=None)(parse_phone)  # a fair loop caches the slow library call
    with_identity = "EMAIL" in field_map
    conversions: list[Conversion] = []
    rejected: Counter[str] = Counter()
    start = time.perf_counter()
    for row in rows:
        tx = row["PURCHASE_ID"]
        if not tx:
            rejected["missing_transaction_id"] += 1
            continue
        ts = parse_timestamp(row["PURCHASED_AT"], TZ)
        if ts.value is None:
            rejected["bad_timestamp" if ts.error else "missing_timestamp"] += 1
            continue
        money = parse_money(row["SETTLEMENT_AMOUNT"])
        if money.error:
            rejected["bad_value"] += 1
            continue
        conversion = Conversion(
            customer_id="bench",
            transaction_id=tx,
            timestamp=ts.value,
            value=money.value.amount if money.value else None,
            currency=(money.value.currency if money.value else None) or "USD",
            source=ConversionSource.OTHER,
            user_id=row["USER_ID"],
            location_id=row["LOCATION_ID"],
            location_name=row["LOCATION_NAME"],
            raw_data=row,
        )
        if with_identity:
            conversion.email = parse_email(row["EMAIL"]).value
            conversion.phone = phone(row["PHONE"], "US").value if row["PHONE"] else None
        conversions.append(conversion)
    return time.perf_counter() - start, len(conversions), rejected


def main() -> None:
    parser = argparse.ArgumentParser(description="batch normalizer vs per-record loop")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, nargs="+", default=[100_000, 1_048_576])
    args = parser.parse_args()

    table = thanx_table(args.rows, distractors=0)
    # Batch runs first: a million live dicts would slow them through garbage collection.
    batch_runs = {
        (shape, size): batch_run(table, field_map, size)
        for shape, field_map in SHAPES.items()
        for size in args.batch_rows
    }
    rows = table.to_pylist()
    results = []
    for shape, field_map in SHAPES.items():
        loop_s, loop_loaded, loop_rejected = per_record_run(rows, field_map)
        runs = [
            (f"batch normalizer, {size:,}-row batches", *batch_runs[(shape, size)])
            for size in args.batch_rows
        ]
        runs.append(("per-record Python loop", loop_s, loop_loaded, loop_rejected))
        for method, seconds, loaded, rejected in runs:
            results.append(
                {
                    "shape": shape,
                    "method": method,
                    "rows": args.rows,
                    "seconds": round(seconds, 3),
                    "rows_per_s": round(args.rows / seconds),
                    "loaded": loaded,
                    "rejected": sum(rejected.values()),
                    "speedup_over_loop": round(loop_s / seconds, 1),
                    "agrees_with_loop": loaded == loop_loaded and rejected == loop_rejected,
                }
            )

    header = f"{'shape':16s} {'method':42s} {'rows':>10s} {'seconds':>8s} {'rows/s':>11s}"
    print(f"{header} {'loaded':>9s} {'rejected':>8s} {'vs loop':>8s}")
    for r in results:
        print(
            f"{r['shape']:16s} {r['method']:42s} {r['rows']:>10,} {r['seconds']:>8.2f} "
            f"{r['rows_per_s']:>11,} {r['loaded']:>9,} {r['rejected']:>8,} "
            f"{r['speedup_over_loop']:>7.1f}x"
        )
    if not all(r["agrees_with_loop"] for r in results):
        print("WARNING: the batch normalizer and the loop disagree on counts")
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    (RESULTS / "normalize.json").write_text(
        json.dumps({"benchmark": "normalize", "machine": machine, "results": results}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
