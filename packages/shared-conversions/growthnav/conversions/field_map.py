"""Field maps: which source columns feed which ``Conversion`` field.

A field map is ``{source_column: target}``, in order. Several columns may feed one target; the
first non-blank one, in map order, wins (``total`` before ``subtotal``). A target may carry a
modifier after a colon: ``"value:cents"`` reads integer cents. A target of ``""`` ignores the
column. Layers combine by precedence: a target named by a higher layer (the user's overrides)
takes only that layer's columns.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

#: Targets a field map may name, beyond the identity ones.
CONVERSION_TARGETS = (
    "transaction_id",
    "timestamp",
    "value",
    "currency",
    "user_id",
    "quantity",
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
)
#: Identity columns carried on each conversion for identity resolution.
IDENTITY_TARGETS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "postal_code",
    "hashed_cc",
    "loyalty_id",
)
TARGETS = CONVERSION_TARGETS + IDENTITY_TARGETS
REQUIRED_TARGETS = ("transaction_id", "timestamp")
#: Modifiers each target accepts.
MODIFIERS: dict[str, frozenset[str]] = {"value": frozenset({"cents"})}


class FieldMapError(ValueError):
    """A field map names an unknown target or modifier, or cannot be applied to the data."""


@dataclass(frozen=True, slots=True)
class SourceColumn:
    """One source column feeding a target, with its modifiers."""

    name: str
    modifiers: frozenset[str] = frozenset()

    @property
    def cents(self) -> bool:
        """The column holds integer cents."""
        return "cents" in self.modifiers


@dataclass(frozen=True)
class FieldMap:
    """Targets to their source columns, in precedence order."""

    targets: Mapping[str, tuple[SourceColumn, ...]] = field(default_factory=dict)
    ignored: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, mapping: Mapping[str, str | None]) -> FieldMap:
        """Read ``{source_column: "target[:modifier]"}``; raise naming every bad entry."""
        targets: dict[str, list[SourceColumn]] = {}
        ignored: set[str] = set()
        problems = []
        for column, spec in mapping.items():
            if not spec:
                ignored.add(column)
                continue
            target, *modifiers = (part.strip() for part in spec.split(":"))
            if target not in TARGETS:
                guess = difflib.get_close_matches(target, TARGETS, n=1)
                hint = (
                    f"did you mean {guess[0]!r}?" if guess else f"use one of {', '.join(TARGETS)}"
                )
                problems.append(f"column {column!r} maps to unknown target {target!r}; {hint}")
                continue
            allowed = MODIFIERS.get(target, frozenset())
            unknown = [m for m in modifiers if m not in allowed]
            if unknown:
                options = ", ".join(sorted(allowed)) or "none"
                problems.append(
                    f"column {column!r}: target {target!r} takes no modifier {unknown[0]!r} "
                    f"(modifiers it takes: {options})"
                )
                continue
            targets.setdefault(target, []).append(SourceColumn(column, frozenset(modifiers)))
        if problems:
            raise FieldMapError("field map: " + "; ".join(problems))
        return cls({t: tuple(cols) for t, cols in targets.items()}, frozenset(ignored))

    @classmethod
    def layered(cls, *layers: Mapping[str, str | None] | FieldMap) -> FieldMap:
        """Combine layers, highest precedence first (overrides, discovered, defaults).

        A target named in a higher layer keeps only that layer's columns; a column claimed or
        ignored by a higher layer is not read for another target by a lower one.
        """
        targets: dict[str, tuple[SourceColumn, ...]] = {}
        claimed: set[str] = set()
        for layer in layers:
            parsed = layer if isinstance(layer, FieldMap) else cls.parse(layer)
            for target, columns in parsed.targets.items():
                if target not in targets:
                    kept = tuple(c for c in columns if c.name not in claimed)
                    if kept:
                        targets[target] = kept
            claimed |= parsed.columns | parsed.ignored
        return cls(targets, frozenset())

    @property
    def columns(self) -> frozenset[str]:
        """Every source column the map reads."""
        return frozenset(c.name for cols in self.targets.values() for c in cols)

    def as_dict(self) -> dict[str, str]:
        """The map as ``{source_column: "target[:modifier]"}``, in precedence order."""
        out: dict[str, str] = {}
        for target, columns in self.targets.items():
            for column in columns:
                out[column.name] = ":".join([target, *sorted(column.modifiers)])
        return out

    def check_columns(self, present: Sequence[str]) -> None:
        """Raise when a required target has none of its columns among ``present``."""
        available = set(present)
        for target in REQUIRED_TARGETS:
            columns = [c.name for c in self.targets.get(target, ())]
            if not columns:
                raise FieldMapError(
                    f"field map has no column for required target {target!r}; "
                    f"map one of the source columns to it (columns: {', '.join(present)})"
                )
            if not available.intersection(columns):
                raise FieldMapError(
                    f"none of the columns mapped to {target!r} ({', '.join(columns)}) is in the "
                    f"data; columns present: {', '.join(present)}"
                )

    def absent_columns(self, present: Sequence[str]) -> list[str]:
        """Mapped columns missing from ``present`` (read as blank)."""
        available = set(present)
        return [c for c in self.as_dict() if c not in available]
