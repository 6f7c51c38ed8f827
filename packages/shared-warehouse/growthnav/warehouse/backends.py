"""Choosing the warehouse by configuration, never by editing code.

``GROWTHNAV_WAREHOUSE``: ``duckdb`` (default, ``$GROWTHNAV_HOME/warehouse.duckdb``, DuckDB's
memory limit ``GROWTHNAV_DUCKDB_MEMORY_LIMIT``, default 128MB) or ``bigquery`` (project
``GROWTHNAV_GCP_PROJECT``; ``GROWTHNAV_BIGQUERY_ENDPOINT`` points the client at an emulator,
with anonymous credentials).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from growthnav.warehouse.base import Warehouse
from growthnav.warehouse.duckdb_warehouse import (
    DEFAULT_MEMORY_LIMIT,
    DuckDBWarehouse,
    growthnav_home,
    memory_limit_problem,
)


def duckdb_warehouse_at(path: Path, environ: Mapping[str, str] | None = None) -> DuckDBWarehouse:
    """The DuckDB warehouse file ``path``, limited by ``GROWTHNAV_DUCKDB_MEMORY_LIMIT`` if set."""
    env = os.environ if environ is None else environ
    limit = env.get("GROWTHNAV_DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT
    problem = memory_limit_problem(limit)
    if problem is not None:
        raise ValueError(f"GROWTHNAV_DUCKDB_MEMORY_LIMIT={problem}")
    return DuckDBWarehouse(path, memory_limit=limit)


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


def warehouse_from_environment(
    environ: Mapping[str, str] | None = None, home: Path | None = None
) -> Warehouse:
    """The warehouse ``GROWTHNAV_WAREHOUSE`` names (default: DuckDB in ``home``, else the home)."""
    env = os.environ if environ is None else environ
    kind = env.get("GROWTHNAV_WAREHOUSE", "duckdb").strip().lower()
    if kind == "duckdb":
        folder = growthnav_home(env) if home is None else home
        return duckdb_warehouse_at(folder / "warehouse.duckdb", env)
    if kind == "bigquery":
        from growthnav.warehouse.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse(bigquery_client(env))  # type: ignore[arg-type]
    raise ValueError(
        f"GROWTHNAV_WAREHOUSE={kind!r} is not a warehouse: use 'duckdb' (default) or 'bigquery'"
    )
