"""The ``Warehouse`` protocol: where a sync makes conversions and rejects durable."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
from growthnav.conversions import CONVERSION_SCHEMA, REJECT_SCHEMA
from growthnav.conversions.positions import row_positions

#: The keys that make a replayed batch a no-op.
CONVERSION_KEY = ("customer_id", "connector_id", "transaction_id")
REJECT_KEY = ("connector_id", "reject_key")
#: The reason of a reject for what the source could not hand over as a record (a bad line).
SOURCE_REJECT = "malformed_row"
#: Columns a sync never overwrites: identity resolution owns them (a re-synced row keeps its
#: global customer id until the next resolution).
MANAGED_COLUMNS = ("global_customer_id",)

_CUSTOMER_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def check_customer_id(customer_id: str) -> str:
    """Return ``customer_id`` when it can name a dataset; raise ``ValueError`` naming it."""
    if not _CUSTOMER_ID.fullmatch(customer_id):
        raise ValueError(
            f"customer_id {customer_id!r} cannot name a dataset: use 1-63 lower-case letters, "
            "digits, '-' or '_', starting with a letter or digit (e.g. 'acme-burgers')"
        )
    return customer_id


@dataclass(frozen=True)
class LoadCounts:
    """What an upsert did: rows inserted, rows changed, rows already there as they were."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def loaded(self) -> int:
        """Rows written (new plus changed)."""
        return self.inserted + self.updated

    def __add__(self, other: LoadCounts) -> LoadCounts:
        return LoadCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


class Warehouse(Protocol):
    """A customer's conversions and rejects, keyed so that replaying a batch changes nothing.

    Conversions are keyed by ``(customer_id, connector_id, transaction_id)``; rejects by
    ``(connector_id, reject_key)``.
    """

    def ensure_customer(self, customer_id: str) -> None:
        """Create the customer's dataset and tables when missing."""

    def upsert_conversions(self, customer_id: str, conversions: pa.Table) -> LoadCounts:
        """Insert new conversions and update changed ones, in one transaction.

        A conversion replaces the reject of its record (same connector and transaction id):
        the record was fixed at the source, or is now read right.
        """

    def write_rejects(self, customer_id: str, rejects: pa.Table) -> int:
        """Record rejected records (a replay overwrites, never doubles); returns rows written."""

    def load(
        self,
        customer_id: str,
        conversions: pa.Table,
        rejects: pa.Table,
        raw_hashes: pa.Array[Any] | None = None,
    ) -> tuple[LoadCounts, int]:
        """Upsert a batch's conversions, then its rejects; returns their counts.

        DuckDB does both in one transaction. As in :meth:`upsert_conversions`, a conversion
        replaces an earlier reject of its record.

        ``raw_hashes`` (one per conversion) are the raw records' hashes, kept where the
        warehouse can screen a later sync's unchanged records with them.
        """

    def retire_source_rejects(
        self, customer_id: str, connector_id: str, scopes: list[str], found: list[str]
    ) -> int:
        """Delete the connector's source rejects under ``scopes`` not in ``found``; count.

        Source rejects (``malformed_row``) are lines the source could not hand over as
        records; one is under a scope when its key starts with it.
        """

    def read_conversions(self, customer_id: str, connector_id: str | None = None) -> pa.Table:
        """The customer's conversions (optionally one connector's)."""

    def session(self) -> AbstractContextManager[None]:
        """Hold what many loads in a row can share (DuckDB: the open file) until it exits."""

    def read_rejects(self, customer_id: str, connector_id: str | None = None) -> pa.Table:
        """The customer's rejected records (optionally one connector's)."""


def require_keys(batch: pa.Table, key: tuple[str, ...]) -> None:
    """Raise naming the count when rows lack part of their warehouse key."""
    for name in key:
        nulls = batch.column(name).null_count
        if nulls:
            raise ValueError(
                f"{nulls} rows have no {name}; every row loaded into the warehouse needs "
                f"its key ({', '.join(key)}): normalize with a connector_id"
            )


def last_per_key(batch: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Keep the last row of each key (a record changed twice within one batch)."""
    indexed = batch.select(list(key)).append_column("_gn_i", row_positions(batch.num_rows))
    last = indexed.group_by(list(key)).aggregate([("_gn_i", "max")])
    if last.num_rows == batch.num_rows:
        return batch
    positions = last.column("_gn_i_max")
    return batch.take(pc.take(positions, pc.sort_indices(positions)))


class KeyedWarehouse(ABC):
    """The keyed-load rules both warehouses share; a backend supplies merge and read."""

    def upsert_conversions(self, customer_id: str, conversions: pa.Table) -> LoadCounts:
        """Merge conversions by key: insert new rows, update changed ones, count the rest."""
        if conversions.num_rows == 0:
            return LoadCounts()
        batch = self._keyed(conversions, CONVERSION_SCHEMA, CONVERSION_KEY)
        inserted, updated = self._merge(customer_id, "conversions", batch, CONVERSION_KEY)
        return LoadCounts(inserted, updated, conversions.num_rows - inserted - updated)

    def write_rejects(self, customer_id: str, rejects: pa.Table) -> int:
        """Merge rejects by ``(connector_id, reject_key)``; returns rows written."""
        if rejects.num_rows == 0:
            return 0
        batch = self._keyed(rejects, REJECT_SCHEMA, REJECT_KEY)
        inserted, updated = self._merge(customer_id, "conversion_rejects", batch, REJECT_KEY)
        return inserted + updated

    def load(
        self,
        customer_id: str,
        conversions: pa.Table,
        rejects: pa.Table,
        raw_hashes: pa.Array[Any] | None = None,
    ) -> tuple[LoadCounts, int]:
        """Upsert a batch's conversions, then its rejects; returns their counts.

        ``raw_hashes`` are not kept here: this warehouse does not screen syncs.
        """
        return (
            self.upsert_conversions(customer_id, conversions),
            self.write_rejects(customer_id, rejects),
        )

    def retire_source_rejects(
        self, customer_id: str, connector_id: str, scopes: list[str], found: list[str]
    ) -> int:
        """Delete the connector's source rejects under ``scopes`` not in ``found``; count."""
        if not scopes:
            return 0
        self.ensure_customer(customer_id)
        return self._retire_source_rejects(customer_id, connector_id, scopes, found)

    @contextmanager
    def session(self) -> Iterator[None]:
        """Nothing to hold by default: each load stands alone."""
        yield

    def read_conversions(self, customer_id: str, connector_id: str | None = None) -> pa.Table:
        """The customer's conversions (optionally one connector's), ordered by key."""
        return self._read(customer_id, "conversions", connector_id, CONVERSION_KEY)

    def read_rejects(self, customer_id: str, connector_id: str | None = None) -> pa.Table:
        """The customer's rejects (optionally one connector's), ordered by key."""
        return self._read(customer_id, "conversion_rejects", connector_id, REJECT_KEY)

    def _keyed(self, batch: pa.Table, schema: pa.Schema, key: tuple[str, ...]) -> pa.Table:
        """``batch`` in ``schema``'s columns, every row keyed, one row per key (the last).

        A backend whose merge keeps the last row of each key itself returns it undeduplicated.
        """
        require_keys(batch, key)
        return last_per_key(batch.select(schema.names), key)

    @abstractmethod
    def _merge(
        self, customer_id: str, name: str, batch: pa.Table, key: tuple[str, ...]
    ) -> tuple[int, int]:
        """Merge a de-duplicated batch into table ``name``; returns (inserted, updated)."""

    @abstractmethod
    def ensure_customer(self, customer_id: str) -> None:
        """Create the customer's dataset and tables when missing."""

    @abstractmethod
    def _retire_source_rejects(
        self, customer_id: str, connector_id: str, scopes: list[str], found: list[str]
    ) -> int:
        """Delete source rejects under ``scopes`` not in ``found`` (scopes not empty)."""

    @abstractmethod
    def _read(
        self, customer_id: str, name: str, connector_id: str | None, key: tuple[str, ...]
    ) -> pa.Table:
        """Read table ``name`` ordered by ``key``."""
