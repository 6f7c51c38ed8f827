"""The CLI starts without importing the heavy libraries only some commands need."""

from __future__ import annotations

import json
import subprocess
import sys

#: Each costs from a quarter of a second to several seconds to import; the commands that use
#: them (BigQuery, identity resolution, the sandbox, Snowflake, the LLM mapper, the HTTP
#: connectors) import them when they run.
HEAVY = (
    "google.cloud.bigquery",
    "pandas",
    "splink",
    "scipy",
    "faker",
    "snowflake.connector",
    "anthropic",
    "httpx",
)


def test_importing_the_cli_leaves_the_heavy_libraries_unimported() -> None:
    code = (
        "import json, sys, growthnav.cli.app; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    assert json.loads(out.stdout) == []


def test_the_bigquery_warehouse_is_still_importable_from_the_package() -> None:
    from growthnav.warehouse import BigQueryWarehouse, dataset_id

    assert BigQueryWarehouse.__name__ == "BigQueryWarehouse"
    assert dataset_id("acme") == "growthnav_acme"
