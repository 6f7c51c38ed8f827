"""``MappingSuggestion``: one proposed ``source column -> target field`` with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class MappingSuggestion:
    """A suggested field mapping from source to target schema."""

    source_field: str
    target_field: str | None  # None if no mapping found
    confidence: float  # 0.0 to 1.0
    reason: str
    sample_values: list[Any] = field(default_factory=list)
    #: Other targets the column could be, best first.
    alternatives: list[str] = field(default_factory=list)
    #: How the value is written, when the target needs telling (``cents``).
    modifier: str | None = None

    @property
    def field_map_target(self) -> str | None:
        """The target as a field map writes it (``value:cents``)."""
        if self.target_field is None or self.modifier is None:
            return self.target_field
        return f"{self.target_field}:{self.modifier}"
