"""Schema drift: columns that appeared, vanished or changed type since the last sync."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from growthnav.connectors.exceptions import SchemaError


@dataclass(frozen=True)
class SchemaDrift:
    """What changed in a source's columns between two syncs."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the sync-run record (empty when nothing changed)."""
        if not self:
            return {}
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {name: list(types) for name, types in self.changed.items()},
        }


def compare(previous: Mapping[str, str] | None, current: Mapping[str, str]) -> SchemaDrift:
    """The drift from ``previous`` (None: first sync, no drift) to ``current``."""
    if previous is None:
        return SchemaDrift()
    return SchemaDrift(
        added=[name for name in current if name not in previous],
        removed=[name for name in previous if name not in current],
        changed={
            name: (previous[name], current[name])
            for name in current
            if name in previous and previous[name] != current[name]
        },
    )


def check_mapped_columns(drift: SchemaDrift, mapped: Iterable[str]) -> None:
    """Raise when a column the field map reads has vanished since the last sync."""
    wanted = set(mapped)
    gone = [name for name in drift.removed if name in wanted]
    if gone:
        raise SchemaError(
            f"mapped column(s) {', '.join(gone)} vanished from the source since the last sync; "
            "restore them at the source or change the field map (field_overrides) and re-run"
        )
