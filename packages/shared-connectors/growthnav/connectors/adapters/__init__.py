"""Source adapters. Each module registers its connector type on import."""

from growthnav.connectors.adapters.file import FileConnector
from growthnav.connectors.adapters.hubspot import HubSpotConnector
from growthnav.connectors.adapters.olo import OloConnector
from growthnav.connectors.adapters.salesforce import SalesforceConnector
from growthnav.connectors.adapters.snowflake import SnowflakeConnector
from growthnav.connectors.adapters.zoho import ZohoConnector

__all__ = [
    "FileConnector",
    "HubSpotConnector",
    "OloConnector",
    "SalesforceConnector",
    "SnowflakeConnector",
    "ZohoConnector",
]
