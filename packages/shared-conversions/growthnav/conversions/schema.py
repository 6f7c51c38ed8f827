"""The ``Conversion`` record and its Arrow schema, defined side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pyarrow as pa
from growthnav.conversions.money import AMOUNT_PRECISION, AMOUNT_SCALE


class ConversionType(StrEnum):
    """What kind of event a conversion is."""

    PURCHASE = "purchase"
    LEAD = "lead"
    SIGNUP = "signup"
    SUBSCRIPTION = "subscription"
    CUSTOM = "custom"


class ConversionSource(StrEnum):
    """Which kind of system a conversion came from."""

    POS = "pos"
    CRM = "crm"
    OLO = "olo"
    LOYALTY = "loyalty"
    ECOMMERCE = "ecommerce"
    OTHER = "other"


@dataclass(slots=True)
class Conversion:
    """One customer conversion, normalized from any source.

    ``customer_id`` is the tenant (the brand being onboarded), not the end customer; the end
    customer is ``user_id`` plus the identity columns, and ``global_customer_id`` once identity
    resolution has linked them. ``timestamp`` is aware UTC.
    """

    customer_id: str
    transaction_id: str
    timestamp: datetime
    value: Decimal | None = None
    currency: str = "USD"
    conversion_type: ConversionType = ConversionType.PURCHASE
    source: ConversionSource = ConversionSource.OTHER
    user_id: str | None = None
    quantity: int | None = None
    product_id: str | None = None
    product_name: str | None = None
    product_category: str | None = None
    location_id: str | None = None
    location_name: str | None = None
    gclid: str | None = None
    fbclid: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    postal_code: str | None = None
    hashed_cc: str | None = None
    loyalty_id: str | None = None
    identity_fragments: list[Any] = field(default_factory=list)
    global_customer_id: str | None = None
    connector_id: str | None = None
    source_system: str | None = None
    raw_data: dict[str, Any] = field(default_factory=dict)


#: Conversion fields that exist only on the Python object: raw records are kept in the raw
#: table of each connector (one column per source column), and identity fragments are derived
#: from the identity columns by identity resolution.
PYTHON_ONLY_FIELDS = frozenset({"identity_fragments", "raw_data"})

_TEXT = pa.string()

_CONVERSION_FIELDS: list[pa.Field[Any]] = [
    pa.field("customer_id", _TEXT, nullable=False),
    pa.field("transaction_id", _TEXT, nullable=False),
    pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("value", pa.decimal128(AMOUNT_PRECISION, AMOUNT_SCALE)),
    pa.field("currency", _TEXT, nullable=False),
    pa.field("conversion_type", _TEXT, nullable=False),
    pa.field("source", _TEXT, nullable=False),
    pa.field("user_id", _TEXT),
    pa.field("quantity", pa.int64()),
    *(
        pa.field(name, _TEXT)
        for name in (
            "product_id",
            "product_name",
            "product_category",
            "location_id",
            "location_name",
            "gclid",
            "fbclid",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "email",
            "phone",
            "first_name",
            "last_name",
            "postal_code",
            "hashed_cc",
            "loyalty_id",
            "global_customer_id",
            "connector_id",
            "source_system",
        )
    ),
]
#: The Arrow form of a Conversion, column for column (less ``PYTHON_ONLY_FIELDS``).
CONVERSION_SCHEMA = pa.schema(_CONVERSION_FIELDS)

#: Rejected records: why, where, and the raw record as it arrived (JSON text).
REJECT_SCHEMA = pa.schema(
    [
        pa.field("customer_id", _TEXT, nullable=False),
        pa.field("connector_id", _TEXT),
        pa.field("source_system", _TEXT),
        pa.field("reject_key", _TEXT, nullable=False),
        pa.field("transaction_id", _TEXT),
        pa.field("reason", _TEXT, nullable=False),
        pa.field("source_column", _TEXT),
        pa.field("message", _TEXT, nullable=False),
        pa.field("raw_record", _TEXT, nullable=False),
    ]
)


def conversions_from_arrow(
    table: pa.Table, raw_records: list[dict[str, Any]] | None = None
) -> list[Conversion]:
    """Build ``Conversion`` objects from a table in ``CONVERSION_SCHEMA``.

    ``raw_records`` (one per row, same order) become each conversion's ``raw_data``.
    """
    rows = table.select(CONVERSION_SCHEMA.names).to_pylist()
    conversions = []
    for index, row in enumerate(rows):
        row["conversion_type"] = ConversionType(row["conversion_type"])
        row["source"] = ConversionSource(row["source"])
        conversion = Conversion(**row)
        if raw_records is not None:
            conversion.raw_data = raw_records[index]
        conversions.append(conversion)
    return conversions
