"""Batch normalizer vs a plain per-record Python loop, on the same Thanx-like records.

    uv run python bench/normalize.py [--rows 1000000] [--batch-rows 100000]

Prints a table and writes bench/results/normalize.json. The data: PURCHASE_ID, USER_ID,
EMAIL, PHONE, SETTLEMENT_AMOUNT as text (``$12.50``, ``12.50``, ``$1,234.00``), PURCHASED_AT
in five forms (ISO with Z, ISO naive, US 12-hour, epoch s, epoch ms), LOCATION_ID/NAME, and
~2% bad rows (no id, ``N/A`` amounts, impossible dates). Timestamps are read in
America/New_York, so naive values take the timezone path.
"""

from __future__ import annotations

import argparse
import json
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


def batch_run(table: pa.Table, batch_rows: int) -> tuple[float, int, Counter[str]]:
    normalizer = BatchNormalizer("bench", THANX_FIELD_MAP, timezone=TZ)
    normalizer.normalize(table.slice(0, 1000))  # warm the connection and caches
    loaded, rejected = 0, Counter[str]()
    start = time.perf_counter()
    for batch in table.to_batches(max_chunksize=batch_rows):
        result = normalizer.normalize(batch)
        loaded += result.conversions.num_rows
        rejected.update(result.rejected)
    elapsed = time.perf_counter() - start
    normalizer.close()
    return elapsed, loaded, rejected


def per_record_run(rows: list[dict[str, Any]]) -> tuple[float, int, Counter[str]]:
    """The straightforward loop: parse each field of each dict, build a Conversion."""
    phone = lru_cache(maxsize=None)(parse_phone)  # a fair loop caches the slow library call
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
        conversions.append(
            Conversion(
                customer_id="bench",
                transaction_id=tx,
                timestamp=ts.value,
                value=money.value.amount if money.value else None,
                currency=(money.value.currency if money.value else None) or "USD",
                source=ConversionSource.OTHER,
                user_id=row["USER_ID"],
                email=parse_email(row["EMAIL"]).value,
                phone=phone(row["PHONE"], "US").value if row["PHONE"] else None,
                location_id=row["LOCATION_ID"],
                location_name=row["LOCATION_NAME"],
                raw_data=row,
            )
        )
    return time.perf_counter() - start, len(conversions), rejected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    args = parser.parse_args()

    table = thanx_table(args.rows, distractors=0)
    batch_s, batch_loaded, batch_rejected = batch_run(table, args.batch_rows)
    rows = table.to_pylist()
    loop_s, loop_loaded, loop_rejected = per_record_run(rows)

    results = [
        {
            "method": f"batch normalizer ({args.batch_rows:,}-row batches)",
            "rows": args.rows,
            "seconds": round(batch_s, 3),
            "rows_per_s": round(args.rows / batch_s),
            "loaded": batch_loaded,
            "rejected": sum(batch_rejected.values()),
        },
        {
            "method": "per-record Python loop",
            "rows": args.rows,
            "seconds": round(loop_s, 3),
            "rows_per_s": round(args.rows / loop_s),
            "loaded": loop_loaded,
            "rejected": sum(loop_rejected.values()),
        },
    ]
    speedup = loop_s / batch_s
    header = f"{'method':42s} {'rows':>10s} {'seconds':>8s} {'rows/s':>11s}"
    print(f"{header} {'loaded':>9s} {'rejected':>8s}")
    for r in results:
        print(
            f"{r['method']:42s} {r['rows']:>10,} {r['seconds']:>8.2f} {r['rows_per_s']:>11,} "
            f"{r['loaded']:>9,} {r['rejected']:>8,}"
        )
    print(f"speed-up of the batch normalizer over the loop: {speedup:.1f}x")
    if batch_loaded != loop_loaded or batch_rejected != loop_rejected:
        print(f"WARNING: the two disagree: {dict(batch_rejected)} vs {dict(loop_rejected)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "normalize.json").write_text(
        json.dumps(
            {
                "benchmark": "normalize",
                "machine": {
                    "cpus": __import__("os").cpu_count(),
                    "python": platform.python_version(),
                },
                "results": results,
                "speedup": round(speedup, 1),
                "rejected_by_reason": dict(batch_rejected),
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
