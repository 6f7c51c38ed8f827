"""Identity resolution: which records across systems are the same person."""

from growthnav.connectors.identity.fragments import (
    IdentityFragment,
    IdentityType,
    ResolvedIdentity,
)
from growthnav.connectors.identity.keys import (
    FIELD_ALIASES,
    IDENTITY_FIELDS,
    canonical_email,
    canonical_phone,
    canonical_postal_code,
    fold_name,
    identity_keys,
)
from growthnav.connectors.identity.linker import IdentityLinker, Links
from growthnav.connectors.identity.stable_ids import GraphEntry, StableAssignment, assign_stable_ids
from growthnav.connectors.identity.store import IdentityReport, IdentityStore, resolve_customer

__all__ = [
    "FIELD_ALIASES",
    "IDENTITY_FIELDS",
    "GraphEntry",
    "IdentityFragment",
    "IdentityLinker",
    "IdentityReport",
    "IdentityStore",
    "IdentityType",
    "Links",
    "ResolvedIdentity",
    "StableAssignment",
    "assign_stable_ids",
    "canonical_email",
    "canonical_phone",
    "canonical_postal_code",
    "fold_name",
    "identity_keys",
    "resolve_customer",
]
