"""Connector configuration and sync results."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum
from typing import Any

from growthnav.connectors.exceptions import REDACTED


class ConnectorType(str, Enum):
    """Supported connector types."""

    # Data lakes
    SNOWFLAKE = "snowflake"
    BIGQUERY = "bigquery"
    # POS (usually via a data lake)
    TOAST = "toast"
    SQUARE = "square"
    CLOVER = "clover"
    LIGHTSPEED = "lightspeed"
    # CRM
    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"
    ZOHO = "zoho"
    # Online ordering
    OLO = "olo"
    OTTER = "otter"
    CHOWLY = "chowly"
    # Loyalty
    FISHBOWL = "fishbowl"
    PUNCHH = "punchh"
    # Files (CSV, Parquet, JSONL exports)
    FILE = "file"


class ConnectorCategory(str, Enum):
    """The kind of system a connector reads."""

    DATA_LAKE = "data_lake"
    POS = "pos"
    CRM = "crm"
    OLO = "olo"
    LOYALTY = "loyalty"
    FILE = "file"


class SyncMode(str, Enum):
    """Data sync mode."""

    FULL = "full"
    INCREMENTAL = "incremental"
    #: Re-normalize the raw records already kept, with the current field map (no fetch).
    REMAP = "remap"


class SyncSchedule(str, Enum):
    """Sync frequency."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MANUAL = "manual"


def connector_id_for(customer_id: str, connector_type: ConnectorType | str, name: str) -> str:
    """A deterministic, readable id from (customer, type, name).

    ``acme``, ``snowflake``, ``Thanx Purchases`` gives ``snowflake-thanx-purchases-3f2a9c``:
    the suffix keeps two customers' connectors of the same name apart.
    """
    kind = connector_type.value if isinstance(connector_type, ConnectorType) else connector_type
    slug = re.sub(r"[^a-z0-9]+", "-", f"{kind} {name}".lower()).strip("-")[:60].strip("-")
    digest = hashlib.sha256(f"{customer_id}\0{kind}\0{name}".encode()).hexdigest()[:6]
    return f"{slug}-{digest}"


@dataclass
class ConnectorConfig:
    """Configuration for one data source connection.

    ``credentials`` hold secret values only until the config is saved (they then move to the
    secret store and ``credentials_secret_path`` refers to them); ``repr()`` never shows them.
    """

    connector_type: ConnectorType
    customer_id: str
    name: str

    # Authentication
    credentials_secret_path: str | None = None
    credentials: dict[str, Any] = field(default_factory=dict)

    # Connection settings
    connection_params: dict[str, Any] = field(default_factory=dict)

    # Field mapping overrides: {source_column: target}
    field_overrides: dict[str, str] = field(default_factory=dict)

    # Sync settings
    sync_mode: SyncMode = SyncMode.INCREMENTAL
    sync_schedule: SyncSchedule = SyncSchedule.DAILY
    last_sync: datetime | None = None
    last_sync_cursor: str | None = None

    # Status
    is_active: bool = True
    error_message: str | None = None

    # Identity and normalization settings
    connector_id: str | None = None
    batch_size: int = 10_000
    lookback_seconds: int = 0
    timezone: str = "UTC"
    default_currency: str = "USD"
    phone_region: str = "US"

    def __post_init__(self) -> None:
        self.connector_type = ConnectorType(self.connector_type)
        self.sync_mode = SyncMode(self.sync_mode)
        self.sync_schedule = SyncSchedule(self.sync_schedule)

    @property
    def effective_connector_id(self) -> str:
        """``connector_id`` when saved, else the deterministic id of (customer, type, name)."""
        return self.connector_id or connector_id_for(
            self.customer_id, self.connector_type, self.name
        )

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "credentials":
                value = {key: REDACTED for key in value}
            parts.append(f"{f.name}={value!r}")
        return f"ConnectorConfig({', '.join(parts)})"

    __str__ = __repr__


@dataclass
class SyncResult:
    """Result of a data sync operation. Counts are counted, never derived by subtraction."""

    connector_name: str
    customer_id: str
    sync_mode: SyncMode
    started_at: datetime
    completed_at: datetime | None = None

    records_fetched: int = 0
    records_normalized: int = 0
    records_failed: int = 0
    records_loaded: int = 0
    records_unchanged: int = 0
    records_rejected: dict[str, int] = field(default_factory=dict)
    field_warnings: dict[str, int] = field(default_factory=dict)
    schema_drift: dict[str, Any] = field(default_factory=dict)
    batches: int = 0

    success: bool = False
    error: str | None = None
    cursor: str | None = None
    connector_id: str | None = None

    def add_batch(
        self,
        input_rows: int,
        loaded: int,
        unchanged: int,
        rejected: Mapping[str, int],
        warnings: Mapping[str, int],
    ) -> None:
        """Count one loaded batch: rows read, loaded, unchanged, rejects and warnings by reason."""
        self.batches += 1
        self.records_fetched += input_rows
        self.records_loaded += loaded
        self.records_unchanged += unchanged
        for reason, count in rejected.items():
            self.records_rejected[reason] = self.records_rejected.get(reason, 0) + count
        for reason, count in warnings.items():
            self.field_warnings[reason] = self.field_warnings.get(reason, 0) + count

    @property
    def duration_seconds(self) -> float | None:
        """Sync duration in seconds, once completed."""
        if self.started_at and self.completed_at:
            return (self.completed_at - self.started_at).total_seconds()
        return None
