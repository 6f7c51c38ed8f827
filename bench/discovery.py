"""How well the offline heuristic mapper maps the labelled corpus (bench/discovery_corpus.py).

    uv run python bench/discovery.py            # every set; writes the results
    uv run python bench/discovery.py --tuning   # the tuning set alone, while changing rules

Scores, over every column of every source: micro precision / recall / F1 of the mapped
columns, specificity on the columns that map to nothing, and accuracy on the four fields a
conversion cannot do without (transaction_id, timestamp, value, and user_id, the customer).
The held-out sources (never used for tuning) are reported apart from the others, by their
scores only: their mistakes are neither printed nor written, so reading the output cannot tune
the mapper on them. Prints a per-field table and writes bench/results/discovery.json.
With ``--tuning`` the held-out sources are not even mapped (so a rule change cannot be
steered by their score) and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from discovery_corpus import SOURCES, Source, rows
from growthnav.connectors.discovery import ColumnProfiler, SchemaDiscovery

RESULTS = Path(__file__).parent / "results"
REQUIRED = ("transaction_id", "timestamp", "value", "user_id")


def score(sources: list[Source], mapped: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Micro P/R/F1, specificity and required-field accuracy, plus per-field counts."""
    tp = fp = fn = tn = 0
    fields: dict[str, Counter[str]] = {}
    required_hits = required_total = 0
    errors = []
    for source in sources:
        chosen = mapped[source.name]
        for column, truth in source.labels.items():
            guess = chosen.get(column)
            if truth is not None:
                fields.setdefault(truth, Counter())
            if guess is not None:
                fields.setdefault(guess, Counter())
            if truth is None and guess is None:
                tn += 1
            elif truth == guess:
                tp += 1
                fields[str(truth)]["tp"] += 1
            else:
                if guess is not None:
                    fp += 1
                    fields[guess]["fp"] += 1
                if truth is not None:
                    fn += 1
                    fields[truth]["fn"] += 1
                errors.append(f"{source.name}: {column!r} -> {guess} (truth: {truth})")
        by_target = {t: c for c, t in chosen.items()}
        for target in REQUIRED:
            true_columns = [c for c, t in source.labels.items() if t == target]
            if true_columns:
                required_total += 1
                required_hits += by_target.get(target) == true_columns[0]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    none_total = sum(1 for s in sources for t in s.labels.values() if t is None)
    return {
        "sources": len(sources),
        "columns": sum(len(s.columns) for s in sources),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4),
        "specificity": round(tn / none_total, 4) if none_total else 1.0,
        "required_accuracy": round(required_hits / required_total, 4),
        "per_field": {f: dict(c) for f, c in sorted(fields.items())},
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="score the heuristic mapper on the corpus")
    parser.add_argument(
        "--tuning", action="store_true", help="score the tuning set only; write nothing"
    )
    args = parser.parse_args()
    sources = [s for s in SOURCES if not (args.tuning and s.held_out)]
    discovery = SchemaDiscovery(llm="off")
    # One call first: the process's one-time costs (pyarrow loads pandas on its first
    # conversion of Python lists) are not any source's.
    discovery.analyze_sync(rows(SOURCES[0], count=5), context="warm-up")
    mapped: dict[str, dict[str, str]] = {}
    seconds: dict[str, float] = {}
    for source in sources:
        sample = rows(source)
        start = time.perf_counter()
        result = discovery.analyze_sync(sample, context=source.name)
        seconds[source.name] = time.perf_counter() - start
        mapped[source.name] = {c: t.partition(":")[0] for c, t in result["field_map"].items()}
    parts = {
        "tuning set": [s for s in sources if not s.held_out],
        "held-out set": [s for s in sources if s.held_out],
        "all": sources,
    }
    if args.tuning:
        del parts["held-out set"], parts["all"]
    report = {name: score(sources, mapped) for name, sources in parts.items()}
    held_out = {s.name for s in sources if s.held_out}
    for name in ("held-out set", "all") if not args.tuning else ():
        kept = [e for e in report[name]["errors"] if e.split(":", 1)[0] not in held_out]
        report[name]["errors"] = kept
        del report[name]["per_field"]  # would show the held-out set's by subtraction
    header = f"{'set':14s} {'sources':>7s} {'columns':>7s} {'prec':>6s} {'recall':>6s} {'F1':>6s}"
    print(f"{header} {'specif':>6s} {'required':>8s}")
    for name, r in report.items():
        print(
            f"{name:14s} {r['sources']:>7} {r['columns']:>7} {r['precision']:>6.3f} "
            f"{r['recall']:>6.3f} {r['f1']:>6.3f} {r['specificity']:>6.3f} "
            f"{r['required_accuracy']:>8.3f}"
        )
    print(f"\n{'field (tuning set)':22s} {'tp':>4s} {'fp':>4s} {'fn':>4s}")
    for field, counts in report["tuning set"]["per_field"].items():
        tp, fp, fn = (counts.get(k, 0) for k in ("tp", "fp", "fn"))
        print(f"{field:22s} {tp:>4} {fp:>4} {fn:>4}")
    if report["tuning set"]["errors"]:
        print("\nmistakes (tuning set; the held-out set's are not shown):")
        for error in report["tuning set"]["errors"]:
            print("  " + error)
    if args.tuning:
        return
    slowest = max(seconds.values())
    print(f"\nslowest source: {slowest:.3f} s ({len(SOURCES)} sources, 200 rows each)")
    wide = max(SOURCES, key=lambda s: len(s.columns))
    sample = rows(wide, count=10_000)
    start = time.perf_counter()
    ColumnProfiler().profile(sample)
    profile_seconds = time.perf_counter() - start
    print(
        f"profiling 10,000 rows x {len(wide.columns)} columns ({wide.name}): "
        f"{profile_seconds:.3f} s"
    )
    profiling = {"source": wide.name, "rows": 10_000, "seconds": round(profile_seconds, 3)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "discovery.json").write_text(
        json.dumps({"benchmark": "discovery", "results": report, "profiling": profiling}, indent=2)
        + "\n"
    )


if __name__ == "__main__":
    main()
