"""Schema discovery: profile a source's columns and propose how they map to conversions."""

from growthnav.connectors.discovery.heuristic import TARGETS, heuristic_suggestions, tokens
from growthnav.connectors.discovery.mapper import SchemaDiscovery, validate_field_map
from growthnav.connectors.discovery.memory import MappingMemory, source_signature
from growthnav.connectors.discovery.profiler import ColumnProfile, ColumnProfiler
from growthnav.connectors.discovery.suggestion import MappingSuggestion

__all__ = [
    "TARGETS",
    "ColumnProfile",
    "ColumnProfiler",
    "MappingMemory",
    "MappingSuggestion",
    "SchemaDiscovery",
    "heuristic_suggestions",
    "source_signature",
    "tokens",
    "validate_field_map",
]
