"""The conformance cases: one per connector type, each a live source the suite can drive.

A new adapter joins the suite by adding a case here (a fixture over its sandbox emulator);
``test_conformance.py`` then runs every check against it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from growthnav.connectors import BaseConnector, ConnectorConfig, ConnectorType, get_registry
from sqlite_connector import SQLiteTableConnector, add_rows, make_database, touch_row


@dataclass
class LiveSource:
    """A running source for one case."""

    connector_type: ConnectorType
    config: Callable[..., ConnectorConfig]
    bad_credentials: Callable[[], ConnectorConfig]
    #: A config missing a required field and holding an unknown one.
    broken: Callable[[], ConnectorConfig]
    #: How many times the source has been contacted so far.
    contacts: Callable[[], int]
    #: Add ``n`` new records; returns their primary keys.
    add_records: Callable[[int], set[str]]
    #: Change one existing record (moving its cursor past every other); returns its key.
    change_record: Callable[[], str]
    #: Every record's primary key, as the source holds them.
    all_keys: Callable[[], set[str]]
    #: A credential value that must never be seen outside the secret store.
    secret: str


@dataclass(frozen=True)
class ConformanceCase:
    """How to start one connector type's source for the suite."""

    name: str
    start: Callable[[Path], Any]


def _borrowed_type() -> ConnectorType:
    registry = get_registry()
    return next(t for t in reversed(ConnectorType) if not registry.is_registered(t))


@contextmanager
def sqlite_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The framework's own test adapter, registered under a connector type no adapter uses."""
    database = tmp_path / "pos.sqlite"
    make_database(database, 230)
    borrowed = _borrowed_type()
    adapter: type[BaseConnector] = type(
        "SQLiteTableConnector", (SQLiteTableConnector,), {"connector_type": borrowed}
    )
    registry = get_registry()
    registry.register(borrowed, adapter)
    added = {"next": 230}

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": borrowed,
            "customer_id": "acme-burgers",
            "name": "POS purchases",
            "credentials": {"password": "s3cret-pass"},
            "connection_params": {"database": str(database), "page_size": 40},
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def add_records(n: int) -> set[str]:
        start = added["next"]
        add_rows(database, start, n)
        added["next"] += n
        return {f"P{i:05d}" for i in range(start, start + n)}

    def change_record() -> str:
        later = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=added["next"] + 60)
        touch_row(database, 3, amount="$99.00", at=later)
        return "P00003"

    try:
        yield LiveSource(
            connector_type=borrowed,
            config=config,
            bad_credentials=lambda: config(credentials={"password": "wrong-pass"}),
            broken=lambda: config(
                credentials={},
                connection_params={"databse": str(tmp_path / "nowhere.sqlite")},
            ),
            contacts=lambda: adapter.connections_opened,  # type: ignore[attr-defined]
            add_records=add_records,
            change_record=change_record,
            all_keys=lambda: {f"P{i:05d}" for i in range(added["next"])},
            secret="s3cret-pass",
        )
    finally:
        registry.unregister(borrowed)


CASES = [ConformanceCase("sqlite-test-adapter", sqlite_source)]
