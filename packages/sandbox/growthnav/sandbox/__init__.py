"""A generated demo business (and, later, loopback stand-ins for the systems it runs).

Example:
    from growthnav.sandbox import generate_business, write_exports

    business = generate_business(people=5000, seed=7)
    paths = write_exports(business, Path("exports"))
"""

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
from growthnav.sandbox.people import Person, generate_people

__all__ = [
    "CRM",
    "EXPECTED_FIELD_MAPS",
    "EXPORT_FILES",
    "LOYALTY",
    "ONLINE",
    "POS",
    "SYSTEMS",
    "DemoBusiness",
    "Location",
    "Person",
    "generate_business",
    "generate_people",
    "write_exports",
]
