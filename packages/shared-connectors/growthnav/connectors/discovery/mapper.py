"""``SchemaDiscovery``: profile a sample, propose a field map, and check it on the sample.

Offline by default: the heuristic mapper needs no network and no key. A mapping a user
confirmed for the same column set is offered first (``MappingMemory``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import pyarrow as pa
from growthnav.connectors.discovery.heuristic import (
    MAP_THRESHOLD,
    REQUIRED_TARGETS,
    heuristic_suggestions,
)
from growthnav.connectors.discovery.llm import SAMPLE_ROWS, LLMMappingError, LLMSchemaMapper
from growthnav.connectors.discovery.memory import MappingMemory, source_signature
from growthnav.connectors.discovery.profiler import ColumnProfile, ColumnProfiler
from growthnav.connectors.discovery.suggestion import MappingSuggestion
from growthnav.conversions import parse_email, parse_money, parse_phone, parse_timestamp
from growthnav.conversions.batch import BatchNormalizer
from growthnav.conversions.records import records_to_arrow

#: Distinct values per column the dry run parses (the most frequent ones).
PARSE_SAMPLE = 2_000


def _parser(target: str, modifier: str, timezone: str) -> Callable[[Any], bool] | None:
    if target == "timestamp":
        return lambda v: parse_timestamp(v, timezone).error is None
    if target == "value":
        return lambda v: parse_money(v, cents=modifier == "cents").error is None
    if target == "email":
        return lambda v: parse_email(v).error is None
    if target == "phone":
        return lambda v: parse_phone(v).error is None
    return None


def _parse_rate(values: list[Any], parses: Callable[[Any], bool]) -> tuple[float, list[str]]:
    """Share of values that parse, judged on the most frequent distinct values."""
    counts = Counter(values)
    checked = failed = 0
    examples: list[str] = []
    for value, count in counts.most_common(PARSE_SAMPLE):
        checked += count
        if not parses(value):
            failed += count
            if len(examples) < 3:
                examples.append(str(value))
    return (1.0 if checked == 0 else (checked - failed) / checked), examples


def _filled(table: pa.Table, column: str) -> list[Any]:
    """The non-blank values of a column (a sample: small enough for Python)."""
    return [
        v
        for v in table.column(column).to_pylist()
        if v is not None and (not isinstance(v, str) or v.strip())
    ]


def validate_field_map(
    data: Iterable[Mapping[str, Any]] | pa.Table,
    field_map: Mapping[str, str],
    timezone: str = "UTC",
) -> dict[str, Any]:
    """Dry run: normalize the sample with ``field_map`` exactly as a sync would.

    Returns how many sample records would load or be rejected (by reason), each mapped
    column's parse rate (judged column by column, so a record with two bad fields counts
    against both), and which required fields the map covers.
    """
    table = data if isinstance(data, pa.Table) else records_to_arrow(list(data))
    present = {c: t for c, t in field_map.items() if c in table.column_names}
    missing_columns = sorted(set(field_map) - set(present))
    targets = {spec.partition(":")[0]: column for column, spec in present.items()}
    loaded: int | None = 0
    rejected: Counter[str] = Counter()
    missing_required = [t for t in REQUIRED_TARGETS if t not in targets]
    if missing_required:
        loaded = None  # the normalizer cannot key or date a record without them
    elif table.num_rows:
        normalizer = BatchNormalizer(
            "discovery", present, connector_id="discovery", timezone=timezone
        )
        try:
            batch = normalizer.normalize(table)
        finally:
            normalizer.close()
        loaded, rejected = batch.conversions.num_rows, batch.rejected
    columns = {}
    for column, spec in present.items():
        target, _, modifier = spec.partition(":")
        values = _filled(table, column)
        parses = _parser(target, modifier, timezone)
        rate, examples = _parse_rate(values, parses) if parses else (1.0, [])
        columns[column] = {
            "target": spec,
            "filled": len(values),
            "parse_rate": round(rate, 4),
            "failed_examples": examples,
        }
    return {
        "rows": table.num_rows,
        "would_load": loaded,
        "would_reject": dict(rejected),
        "columns": columns,
        "missing_columns": missing_columns,
        "required_covered": {t: t in targets for t in REQUIRED_TARGETS},
        "missing_required": missing_required,
    }


class SchemaDiscovery:
    """High-level schema discovery: profiles, suggestions, a field map and its dry run.

    Args:
        llm: ``"off"`` for the heuristic mapper alone; ``"auto"`` asks an LLM when one is
            configured (a ``mapper`` given, or ``ANTHROPIC_API_KEY`` set) and falls back to
            the heuristic, with a warning, when its answer cannot be used.
        mapper: the LLM mapper to use (default: one built from the environment).
        memory: where confirmed mappings are remembered (None: no memory).
        timezone: how the dry run reads naive timestamps.

    Example:
        result = await SchemaDiscovery().analyze(rows, context="Toast order details export")
        result["field_map"]  # {"Order Id": "transaction_id", "Closed": "timestamp", ...}
    """

    def __init__(
        self,
        *,
        llm: Literal["auto", "off"] = "auto",
        mapper: LLMSchemaMapper | None = None,
        memory: MappingMemory | None = None,
        timezone: str = "UTC",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.profiler = ColumnProfiler()
        self.llm = llm
        self.memory = memory
        self.timezone = timezone
        self._environ = os.environ if environ is None else environ
        self.mapper = mapper
        if mapper is None and llm == "auto" and self._environ.get("ANTHROPIC_API_KEY"):
            self.mapper = LLMSchemaMapper(environ=self._environ)

    def _suggest(
        self, profiles: dict[str, ColumnProfile], table: pa.Table, context: str | None
    ) -> tuple[str, list[MappingSuggestion], list[str]]:
        """(mapper used, suggestions, warnings)."""
        hints = heuristic_suggestions(profiles)
        if self.llm == "off":
            return "heuristic", hints, ["LLM mapping is off: the offline heuristic mapper was used"]
        if self.mapper is None:
            return (
                "heuristic",
                hints,
                ["no ANTHROPIC_API_KEY: the offline heuristic mapper was used"],
            )
        try:
            suggestions = self.mapper.suggest_sync(
                profiles, table.slice(0, SAMPLE_ROWS).to_pylist(), context, hints
            )
        except LLMMappingError as exc:
            return "heuristic", hints, [f"{exc}: the offline heuristic mapper was used"]
        return f"llm ({self.mapper.model})", suggestions, list(self.mapper.warnings)

    async def analyze(
        self, data: Iterable[Mapping[str, Any]] | pa.Table, context: str | None = None
    ) -> dict[str, Any]:
        """Analyze sample data and propose a field map.

        Returns ``profiles``, ``suggestions``, ``field_map``, ``confidence_summary`` (as the
        plan), plus ``mapper`` (which mapper answered), ``remembered`` (True when a confirmed
        mapping for this column set was reused), ``validation`` (the dry run), ``context`` and
        ``warnings``.
        """
        return self.analyze_sync(data, context)

    def analyze_sync(
        self, data: Iterable[Mapping[str, Any]] | pa.Table, context: str | None = None
    ) -> dict[str, Any]:
        """``analyze`` for callers without an event loop (the CLI)."""
        table = data if isinstance(data, pa.Table) else records_to_arrow(list(data))
        profiles = self.profiler.profile(table)
        remembered = None
        if self.memory is not None:
            remembered = self.memory.recall(source_signature(profiles))
        if remembered is not None:
            mapper, warnings = "remembered", list[str]()
            suggestions = _remembered_suggestions(remembered, profiles)
            field_map = dict(remembered)
        else:
            mapper, suggestions, warnings = self._suggest(profiles, table, context)
            field_map = {
                s.source_field: str(s.field_map_target)
                for s in suggestions
                if s.target_field is not None
                and (s.confidence >= MAP_THRESHOLD or s.target_field in REQUIRED_TARGETS)
            }
        return {
            "profiles": profiles,
            "suggestions": suggestions,
            "field_map": field_map,
            "confidence_summary": {
                "high": len([s for s in suggestions if s.confidence >= 0.8]),
                "medium": len([s for s in suggestions if 0.5 <= s.confidence < 0.8]),
                "low": len([s for s in suggestions if s.confidence < 0.5]),
            },
            "mapper": mapper,
            "remembered": remembered is not None,
            "validation": validate_field_map(table, field_map, self.timezone),
            "context": context,
            "warnings": warnings,
        }

    def confirm(self, profiles: Mapping[str, ColumnProfile], field_map: Mapping[str, str]) -> None:
        """Remember ``field_map`` as the accepted mapping for this column set."""
        if self.memory is not None:
            self.memory.remember(source_signature(profiles), field_map)


def _remembered_suggestions(
    field_map: Mapping[str, str], profiles: Mapping[str, ColumnProfile]
) -> list[MappingSuggestion]:
    return [
        MappingSuggestion(
            name,
            field_map.get(name, "").partition(":")[0] or None,
            1.0 if name in field_map else 0.0,
            "confirmed earlier for this column set"
            if name in field_map
            else "left unmapped earlier",
            sample_values=profile.sample_values[:5],
        )
        for name, profile in profiles.items()
    ]
