"""API records flattened into one level of fields (what a field map can name)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """Nested objects as ``parent.child`` fields; lists kept whole, as JSON text."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            for inner, item in flatten(value).items():
                flat[f"{key}.{inner}"] = item
        elif isinstance(value, list):
            flat[key] = json.dumps(value, sort_keys=True)
        else:
            flat[key] = value
    return flat


def field_types(records: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each field's JSON type name over ``records`` (``null`` when never given a value)."""
    types: dict[str, str] = {}
    for record in records:
        for name, value in record.items():
            if value is not None or name not in types:
                types[name] = "null" if value is None else type(value).__name__
    return types
