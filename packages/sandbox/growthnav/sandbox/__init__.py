"""A generated demo business (and, later, loopback stand-ins for the systems it runs).

Example:
    from growthnav.sandbox import generate_business, write_exports

    business = generate_business(people=5000, seed=7)
    paths = write_exports(business, Path("exports"))
"""

from growthnav.sandbox.anthropic_stub import AnthropicStub
from growthnav.sandbox.business import (
    CRM,
    EXPECTED_FIELD_MAPS,
    LOYALTY,
    ONLINE,
    POS,
    SYSTEMS,
    DemoBusiness,
    Location,
    generate_business,
)
from growthnav.sandbox.exports import EXPORT_FILES, write_exports
from growthnav.sandbox.hubspot import HubSpotEmulator, hubspot_objects
from growthnav.sandbox.loopback import Fault, Faults, LoopbackServer
from growthnav.sandbox.olo import OloEmulator, olo_orders
from growthnav.sandbox.people import Person, generate_people
from growthnav.sandbox.salesforce import SalesforceEmulator, salesforce_records
from growthnav.sandbox.sandbox import Sandbox
from growthnav.sandbox.snowflake import SnowflakeEmulator
from growthnav.sandbox.zoho import ZohoDataCentre, zoho_records

__all__ = [
    "CRM",
    "EXPECTED_FIELD_MAPS",
    "EXPORT_FILES",
    "LOYALTY",
    "ONLINE",
    "POS",
    "SYSTEMS",
    "AnthropicStub",
    "DemoBusiness",
    "Fault",
    "Faults",
    "HubSpotEmulator",
    "Location",
    "LoopbackServer",
    "OloEmulator",
    "Person",
    "SalesforceEmulator",
    "Sandbox",
    "SnowflakeEmulator",
    "ZohoDataCentre",
    "generate_business",
    "generate_people",
    "hubspot_objects",
    "olo_orders",
    "salesforce_records",
    "write_exports",
    "zoho_records",
]
