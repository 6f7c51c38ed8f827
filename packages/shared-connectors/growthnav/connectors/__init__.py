"""GrowthNav data source connectors.

Connectors read a business's customer and sales data from data lakes (Snowflake, BigQuery),
POS and loyalty exports, CRMs (Salesforce, HubSpot, Zoho), online ordering (Olo) and files,
and normalize it into ``Conversion`` records.

Example:
    from growthnav.connectors import ConnectorConfig, ConnectorType, get_registry

    config = ConnectorConfig(
        connector_type=ConnectorType.SNOWFLAKE,
        customer_id="acme-burgers",
        name="Thanx purchases",
        credentials_secret_path="env:ACME_SNOWFLAKE",
        connection_params={"account": "...", "table": "THANX_PURCHASES"},
    )
    connector = get_registry().create(config)  # validated; no network yet
    result = connector.sync()
"""

from growthnav.connectors.base import BaseConnector, ConversionSink, RawBatch
from growthnav.connectors.config import (
    ConnectorCategory,
    ConnectorConfig,
    ConnectorType,
    SyncMode,
    SyncResult,
    SyncSchedule,
    connector_id_for,
)
from growthnav.connectors.exceptions import (
    AuthenticationError,
    ConfigurationError,
    ConnectorError,
    FatalAPIError,
    QuotaExhaustedError,
    RateLimitedError,
    SchemaError,
    TransientError,
)
from growthnav.connectors.registry import ConnectorRegistry, get_registry
from growthnav.connectors.remap import run_remap
from growthnav.connectors.secrets import EnvSecretStore, FileSecretStore, SecretStore
from growthnav.connectors.sinks import WarehouseSink
from growthnav.connectors.spec import ConnectorSpec, FieldSpec, NoCredentials, SpecModel
from growthnav.connectors.storage import ConnectorStorage, SyncRun, SyncState
from growthnav.connectors.sync import run_sync

__all__ = [
    "AuthenticationError",
    "BaseConnector",
    "ConfigurationError",
    "ConnectorCategory",
    "ConnectorConfig",
    "ConnectorError",
    "ConnectorRegistry",
    "ConnectorSpec",
    "ConnectorStorage",
    "ConnectorType",
    "ConversionSink",
    "EnvSecretStore",
    "FatalAPIError",
    "FieldSpec",
    "FileSecretStore",
    "NoCredentials",
    "QuotaExhaustedError",
    "RateLimitedError",
    "RawBatch",
    "SchemaError",
    "SecretStore",
    "SpecModel",
    "SyncMode",
    "SyncResult",
    "SyncRun",
    "SyncSchedule",
    "SyncState",
    "TransientError",
    "WarehouseSink",
    "connector_id_for",
    "get_registry",
    "run_remap",
    "run_sync",
]

# Adapters register themselves on import; importing the package makes them available.
import growthnav.connectors.adapters  # noqa: F401
