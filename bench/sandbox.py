"""How long the sandbox takes: generating the demo brand, and starting every emulator with it.

    uv run python bench/sandbox.py [--people 5000]

Prints a table and writes bench/results/sandbox.json. Goals: the full sandbox starts in < 5 s;
a 5,000-person business is generated and loaded into the emulators in < 20 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from growthnav.sandbox import Sandbox, generate_business
from growthnav.sandbox.sandbox import SYSTEMS

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description="sandbox start-up")
    parser.add_argument("--people", type=int, default=5000)
    args = parser.parse_args()
    started = time.perf_counter()
    business = generate_business(args.people)
    generated = time.perf_counter() - started
    begin = time.perf_counter()
    with Sandbox(business=business) as sandbox:
        up = time.perf_counter() - begin
        systems = sorted(sandbox.params)
    total = generated + up
    rows = [
        ("generate the brand", args.people, generated),
        (f"start and load every emulator ({len(systems)})", args.people, up),
        ("generate + start + load", args.people, total),
    ]
    print(f"{'step':46s} {'people':>7s} {'seconds':>8s}")
    for step, people, seconds in rows:
        print(f"{step:46s} {people:>7,} {seconds:>8.2f}")
    print(f"records: {business.source_records:,}; emulators: {', '.join(systems)}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sandbox.json").write_text(
        json.dumps(
            {
                "benchmark": "sandbox",
                "people": args.people,
                "records": business.source_records,
                "systems": systems,
                "available": list(SYSTEMS),
                "results": [{"step": s, "seconds": round(t, 2)} for s, _, t in rows],
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
