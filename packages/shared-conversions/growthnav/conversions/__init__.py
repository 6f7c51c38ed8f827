"""GrowthNav conversions: the ``Conversion`` schema, value parsers and normalizers."""

from growthnav.conversions.batch import (
    BatchNormalizer,
    NormalizedBatch,
    RejectReason,
    WarningReason,
)
from growthnav.conversions.emails import parse_email
from growthnav.conversions.field_map import FieldMap, FieldMapError
from growthnav.conversions.money import Money, parse_money
from growthnav.conversions.normalizer import CRMNormalizer, Normalizer, POSNormalizer
from growthnav.conversions.parsed import Parsed
from growthnav.conversions.phones import parse_phone
from growthnav.conversions.records import records_to_arrow
from growthnav.conversions.schema import (
    CONVERSION_SCHEMA,
    REJECT_SCHEMA,
    Conversion,
    ConversionSource,
    ConversionType,
    conversions_from_arrow,
)
from growthnav.conversions.timestamps import parse_timestamp

__all__ = [
    "CONVERSION_SCHEMA",
    "REJECT_SCHEMA",
    "BatchNormalizer",
    "CRMNormalizer",
    "Conversion",
    "ConversionSource",
    "ConversionType",
    "FieldMap",
    "FieldMapError",
    "Money",
    "NormalizedBatch",
    "Normalizer",
    "POSNormalizer",
    "Parsed",
    "RejectReason",
    "WarningReason",
    "conversions_from_arrow",
    "parse_email",
    "parse_money",
    "parse_phone",
    "parse_timestamp",
    "records_to_arrow",
]
