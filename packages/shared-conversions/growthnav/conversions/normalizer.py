"""``POSNormalizer`` and ``CRMNormalizer``: the per-record API over the batch normalizer.

``normalizer.normalize(raw_records) -> list[Conversion]`` keeps the seed's call. Under it runs
the same :class:`BatchNormalizer` that syncs use, so there is one copy of the rules. Records
that could not be normalized are not dropped: they are in ``normalizer.last_batch.rejects``
(and a sync writes them to the rejects table).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from growthnav.conversions.batch import BatchNormalizer, NormalizedBatch
from growthnav.conversions.field_map import TARGETS, FieldMap
from growthnav.conversions.records import records_to_arrow
from growthnav.conversions.schema import (
    Conversion,
    ConversionSource,
    ConversionType,
    conversions_from_arrow,
)

logger = logging.getLogger(__name__)

#: Columns named like the targets map to them when no field map is given.
IDENTITY_FIELD_MAP: dict[str, str] = {name: name for name in TARGETS}

#: Common POS export column names.
DEFAULT_POS_FIELD_MAP: dict[str, str] = {
    **IDENTITY_FIELD_MAP,
    "order_id": "transaction_id",
    "check_id": "transaction_id",
    "closed_at": "timestamp",
    "created_at": "timestamp",
    "total": "value",
    "amount": "value",
    "customer_id": "user_id",
    "guest_id": "user_id",
}

#: Common CRM column names (Salesforce-style and snake_case).
DEFAULT_CRM_FIELD_MAP: dict[str, str] = {
    **IDENTITY_FIELD_MAP,
    "id": "transaction_id",
    "Id": "transaction_id",
    "CloseDate": "timestamp",
    "CreatedDate": "timestamp",
    "close_date": "timestamp",
    "created_at": "timestamp",
    "Amount": "value",
    "amount": "value",
    "Email": "email",
    "Phone": "phone",
    "FirstName": "first_name",
    "LastName": "last_name",
    "LeadSource": "utm_source",
}


class Normalizer:
    """Normalizes raw records of one source into conversions, keeping the rejects."""

    def __init__(
        self,
        customer_id: str,
        field_map: Mapping[str, str | None] | FieldMap,
        *,
        conversion_type: ConversionType,
        source: ConversionSource,
        **options: Any,
    ) -> None:
        self.batch_normalizer = BatchNormalizer(
            customer_id, field_map, conversion_type=conversion_type, source=source, **options
        )
        self.last_batch: NormalizedBatch | None = None

    @property
    def customer_id(self) -> str:
        """The tenant the conversions belong to."""
        return self.batch_normalizer.customer_id

    @property
    def field_map(self) -> FieldMap:
        """The field map in use."""
        return self.batch_normalizer.field_map

    def normalize_batch(
        self, batch: pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]]
    ) -> NormalizedBatch:
        """Normalize a batch to Arrow conversions and rejects (the fast path)."""
        result = self.batch_normalizer.normalize(batch)
        self.last_batch = result
        if result.rejected:
            logger.warning(
                "%d of %d records rejected (%s); see the rejects for each record and reason",
                result.rejects.num_rows,
                result.input_rows,
                ", ".join(f"{reason}: {n}" for reason, n in sorted(result.rejected.items())),
            )
        return result

    def normalize(self, raw_records: Sequence[Mapping[str, Any]]) -> list[Conversion]:
        """Normalize raw records to conversions; rejects are in ``self.last_batch.rejects``."""
        records = list(raw_records)
        result = self.normalize_batch(records_to_arrow(records))
        rows: list[Any] = result.source_rows.to_pylist()
        return conversions_from_arrow(result.conversions, [dict(records[i]) for i in rows])

    def close(self) -> None:
        """Release resources held by the batch normalizer."""
        self.batch_normalizer.close()


class POSNormalizer(Normalizer):
    """Normalizes point-of-sale (and other purchase) records: conversions of type PURCHASE."""

    def __init__(
        self,
        customer_id: str,
        field_map: Mapping[str, str | None] | FieldMap | None = None,
        *,
        conversion_type: ConversionType = ConversionType.PURCHASE,
        source: ConversionSource = ConversionSource.POS,
        **options: Any,
    ) -> None:
        super().__init__(
            customer_id,
            DEFAULT_POS_FIELD_MAP if field_map is None else field_map,
            conversion_type=conversion_type,
            source=source,
            **options,
        )


class CRMNormalizer(Normalizer):
    """Normalizes CRM records (leads, deals, opportunities) with a given conversion type."""

    def __init__(
        self,
        customer_id: str,
        conversion_type: ConversionType = ConversionType.LEAD,
        field_map: Mapping[str, str | None] | FieldMap | None = None,
        *,
        source: ConversionSource = ConversionSource.CRM,
        **options: Any,
    ) -> None:
        super().__init__(
            customer_id,
            DEFAULT_CRM_FIELD_MAP if field_map is None else field_map,
            conversion_type=conversion_type,
            source=source,
            **options,
        )
