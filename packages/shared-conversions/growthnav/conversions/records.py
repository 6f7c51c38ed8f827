"""Lists of raw records (dicts) as Arrow tables, without losing a value."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def records_to_arrow(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Build a table from dicts, one column per key seen (in first-seen order).

    A column whose values Arrow cannot hold in one type (``12.5`` beside ``"12.50"``) is kept
    as text, so no value is lost or coerced to null. Missing keys are nulls.
    """
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    columns = []
    for name in names:
        values = [record.get(name) for record in records]
        try:
            column = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            column = pa.array([_as_text(v) for v in values], pa.string())
        if pa.types.is_null(column.type):
            column = column.cast(pa.string())
        columns.append(column)
    return pa.Table.from_arrays(columns, names=list(names))
