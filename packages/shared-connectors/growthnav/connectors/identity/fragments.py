"""Identity fragments and resolved identities: who a set of source records belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class IdentityType(str, Enum):
    """Types of identity fragments."""

    EMAIL = "email"
    PHONE = "phone"
    HASHED_CC = "hashed_cc"
    LOYALTY_ID = "loyalty_id"
    DEVICE_ID = "device_id"
    COOKIE_ID = "cookie_id"
    CUSTOMER_ID = "customer_id"
    NAME_ZIP = "name_zip"


@dataclass
class IdentityFragment:
    """One way a customer can be identified, as one source system saw it."""

    fragment_type: IdentityType
    fragment_value: str
    source_system: str | None = None
    confidence: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.fragment_type, self.fragment_value.lower()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IdentityFragment):
            return False
        return (
            self.fragment_type == other.fragment_type
            and self.fragment_value.lower() == other.fragment_value.lower()
        )


@dataclass
class ResolvedIdentity:
    """One real-world person found across systems.

    ``match_probability`` is the mean pairwise match probability of the links that hold the
    cluster together (1.0 for a record that stands alone); ``source_records`` are the
    ``(source_system, source_id)`` of every member record.
    """

    global_id: str
    fragments: list[IdentityFragment] = field(default_factory=list)
    match_probability: float = 1.0
    source_records: list[tuple[str, str]] = field(default_factory=list)

    @property
    def emails(self) -> list[str]:
        """All email fragments."""
        return [f.fragment_value for f in self.fragments if f.fragment_type == IdentityType.EMAIL]

    @property
    def phones(self) -> list[str]:
        """All phone fragments."""
        return [f.fragment_value for f in self.fragments if f.fragment_type == IdentityType.PHONE]

    @property
    def source_systems(self) -> list[str]:
        """The systems the person appears in, sorted."""
        return sorted({system for system, _ in self.source_records})

    def has_fragment_type(self, fragment_type: IdentityType) -> bool:
        """True when the identity has a fragment of ``fragment_type``."""
        return any(f.fragment_type == fragment_type for f in self.fragments)
