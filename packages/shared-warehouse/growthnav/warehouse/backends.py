"""Choosing the warehouse by configuration, never by editing code.

``GROWTHNAV_WAREHOUSE``: ``duckdb`` (default, ``$GROWTHNAV_HOME/warehouse.duckdb``) or
``bigquery`` (project ``GROWTHNAV_GCP_PROJECT``; ``GROWTHNAV_BIGQUERY_ENDPOINT`` points the
client at an emulator, with anonymous credentials).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from growthnav.warehouse.base import Warehouse
from growthnav.warehouse.duckdb_warehouse import DuckDBWarehouse, growthnav_home


def bigquery_client(environ: Mapping[str, str] | None = None) -> object:
    """A BigQuery client for ``GROWTHNAV_GCP_PROJECT`` (and the emulator endpoint, if set)."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    env = os.environ if environ is None else environ
    project = env.get("GROWTHNAV_GCP_PROJECT")
    if not project:
        raise ValueError(
            "GROWTHNAV_GCP_PROJECT is not set: name the Google Cloud project for BigQuery"
        )
    endpoint = env.get("GROWTHNAV_BIGQUERY_ENDPOINT")
    if endpoint:
        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return bigquery.Client(project=project)


def warehouse_from_environment(environ: Mapping[str, str] | None = None) -> Warehouse:
    """The warehouse ``GROWTHNAV_WAREHOUSE`` names (default: DuckDB under GROWTHNAV_HOME)."""
    env = os.environ if environ is None else environ
    kind = env.get("GROWTHNAV_WAREHOUSE", "duckdb").strip().lower()
    if kind == "duckdb":
        return DuckDBWarehouse(growthnav_home(env) / "warehouse.duckdb")
    if kind == "bigquery":
        from growthnav.warehouse.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse(bigquery_client(env))  # type: ignore[arg-type]
    raise ValueError(
        f"GROWTHNAV_WAREHOUSE={kind!r} is not a warehouse: use 'duckdb' (default) or 'bigquery'"
    )
