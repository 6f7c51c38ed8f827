"""Where a CLI session keeps things: ``$GROWTHNAV_HOME`` and the backends chosen for it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from growthnav.connectors import ConnectorStorage, FileSecretStore
from growthnav.connectors.discovery import MappingMemory
from growthnav.warehouse import DuckDBWarehouse, Warehouse, growthnav_home
from growthnav.warehouse.backends import warehouse_from_environment


@dataclass
class Home:
    """The registry, secrets, warehouse and mapping memory under one home directory."""

    path: Path
    environ: Mapping[str, str]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Home:
        """``$GROWTHNAV_HOME`` (default ``~/.growthnav``)."""
        env = os.environ if environ is None else environ
        return cls(growthnav_home(env), env)

    @cached_property
    def storage(self) -> ConnectorStorage:
        """Saved connectors, their state and run history."""
        return ConnectorStorage(
            self.path / "registry.db", secrets=FileSecretStore(self.path / "secrets")
        )

    @cached_property
    def warehouse(self) -> Warehouse:
        """The warehouse ``GROWTHNAV_WAREHOUSE`` selects (default: DuckDB in this home)."""
        return warehouse_from_environment(self.environ, home=self.path)

    @cached_property
    def memory(self) -> MappingMemory:
        """Mappings people confirmed, by source signature."""
        return MappingMemory(self.path / "registry.db")

    def duckdb_warehouse(self) -> DuckDBWarehouse:
        """The warehouse, when it is DuckDB (identity resolution runs there)."""
        warehouse = self.warehouse
        if not isinstance(warehouse, DuckDBWarehouse):
            raise ValueError(
                "identity resolution and the demo run on the DuckDB warehouse in this version: "
                "unset GROWTHNAV_WAREHOUSE (or set it to 'duckdb')"
            )
        return warehouse
