"""``LLMSchemaMapper``: Claude proposes the mapping through a tool call; the answer is checked.

The request carries the column profiles and a few sample rows with emails and phones reduced
to their shape (``ana.lee@example.com`` -> ``aaa.aaa@aaaaaaa.aaa``), plus the heuristic
mapper's candidates as hints. The model must answer by calling ``propose_field_map`` (a JSON
schema, not free text). Unknown columns and targets are dropped, a target claimed twice goes
to the more confident column, and an answer that is malformed, refused or missing raises
``LLMMappingError`` so the caller can fall back to the heuristic.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from growthnav.connectors.discovery.heuristic import TARGETS
from growthnav.connectors.discovery.profiler import PATTERNS, ColumnProfile
from growthnav.connectors.discovery.suggestion import MappingSuggestion

#: The plan's model id, used when neither the caller nor ``GROWTHNAV_LLM_MODEL`` names one.
DEFAULT_MODEL = "claude-sonnet-4-20250514"
TOOL_NAME = "propose_field_map"
SAMPLE_ROWS = 5

TARGET_SCHEMA: dict[str, str] = {
    "transaction_id": "Unique transaction/order identifier (order-level, not a line item)",
    "user_id": "The customer's id in the source (never an employee, server or owner)",
    "timestamp": "When the purchase closed / was paid (not when a check opened)",
    "value": "What the customer paid, excluding tip when such a column exists",
    "currency": "Currency code (USD, EUR, etc.)",
    "quantity": "Number of items/units",
    "product_id": "Product/SKU identifier",
    "product_name": "Product name/description",
    "product_category": "Product category/type",
    "location_id": "Store/location identifier",
    "location_name": "Store/location name",
    "gclid": "Google Click ID",
    "fbclid": "Facebook Click ID",
    "utm_source": "UTM source parameter",
    "utm_medium": "UTM medium parameter",
    "utm_campaign": "UTM campaign parameter",
    "email": "Customer email address",
    "phone": "Customer phone number",
    "first_name": "Customer first name",
    "last_name": "Customer last name",
    "postal_code": "Customer postal/ZIP code",
    "hashed_cc": "Hashed card number or card fingerprint",
    "loyalty_id": "Loyalty / membership number",
}
assert set(TARGET_SCHEMA) == set(TARGETS)

TOOL = {
    "name": TOOL_NAME,
    "description": "Propose how each source column maps to the Conversion schema.",
    "input_schema": {
        "type": "object",
        "properties": {
            "mappings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "source_column": {"type": "string"},
                        "target_field": {"type": ["string", "null"], "enum": [*TARGETS, None]},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "reason": {"type": "string"},
                    },
                    "required": ["source_column", "target_field", "confidence", "reason"],
                },
            }
        },
        "required": ["mappings"],
    },
}

_SYSTEM = (
    "You map a source table's columns onto a customer-lifetime-value Conversion schema. "
    "Call the propose_field_map tool once, with one entry per source column (target_field "
    "null when nothing fits). Each target may be used by one column only. Values containing "
    "personal data are shown reduced to their shape (letters as 'a', digits as '9')."
)
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")


class LLMMappingError(Exception):
    """The model's answer could not be used (the reason says why)."""


def shape(value: Any) -> Any:
    """A value reduced to its shape: letters as 'a', digits as '9'."""
    return _DIGIT.sub("9", _LETTER.sub("a", value)) if isinstance(value, str) else value


def mask(value: Any) -> Any:
    """An email or phone reduced to its shape; anything else unchanged."""
    if isinstance(value, str) and (
        PATTERNS["email"].fullmatch(value.strip()) or PATTERNS["phone"].fullmatch(value.strip())
    ):
        return shape(value)
    return value


def _profile_line(profile: ColumnProfile, masked: bool) -> dict[str, Any]:
    samples = profile.sample_values[:3]
    return {
        "column": profile.name,
        "type": profile.inferred_type,
        "null_pct": round(profile.null_percentage, 1),
        "unique_pct": round(profile.unique_percentage, 1),
        "patterns": profile.detected_patterns,
        "samples": [mask(v) for v in samples] if masked else samples,
    }


class LLMSchemaMapper:
    """Uses Claude (Anthropic SDK) to map a source schema onto the Conversion schema.

    Args:
        anthropic_client: an ``anthropic.Anthropic`` client (built from the environment when
            None: ``ANTHROPIC_API_KEY``, and ``ANTHROPIC_BASE_URL`` if set).
        model: the model id (default ``GROWTHNAV_LLM_MODEL``, else the plan's model).
    """

    TARGET_SCHEMA = TARGET_SCHEMA

    def __init__(
        self,
        anthropic_client: Any | None = None,
        *,
        model: str | None = None,
        environ: Mapping[str, str] | None = None,
        max_tokens: int = 4096,
    ) -> None:
        self._client = anthropic_client
        self._environ = os.environ if environ is None else environ
        self.model = model or self._environ.get("GROWTHNAV_LLM_MODEL") or DEFAULT_MODEL
        self.max_tokens = max_tokens
        #: What was dropped or resolved while checking the last answer.
        self.warnings: list[str] = []

    @property
    def client(self) -> Any:
        """The Anthropic client (created on first use)."""
        if self._client is None:
            import anthropic

            self._client = anthropic.Anthropic(
                api_key=self._environ.get("ANTHROPIC_API_KEY"),
                base_url=self._environ.get("ANTHROPIC_BASE_URL"),
                max_retries=2,
            )
        return self._client

    def build_request(
        self,
        profiles: Mapping[str, ColumnProfile],
        sample_rows: Sequence[Mapping[str, Any]],
        context: str | None = None,
        hints: Sequence[MappingSuggestion] = (),
    ) -> dict[str, Any]:
        """The Messages API request: profiles, masked samples, hints, and the forced tool."""
        masked_columns = {
            name for name, p in profiles.items() if {"email", "phone"} & set(p.detected_patterns)
        }
        rows = [
            {k: (shape(v) if k in masked_columns else mask(v)) for k, v in row.items()}
            for row in sample_rows[:SAMPLE_ROWS]
        ]
        payload = {
            "context": context or "POS / transaction export for CLV analysis",
            "target_fields": TARGET_SCHEMA,
            "columns": [_profile_line(p, True) for p in profiles.values()],
            "sample_rows": rows,
            "hints_from_offline_mapper": [
                {"column": h.source_field, "target": h.target_field, "confidence": h.confidence}
                for h in hints
                if h.target_field is not None
            ],
        }
        return {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": _SYSTEM,
            "tools": [TOOL],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
            "messages": [{"role": "user", "content": json.dumps(payload, default=str)}],
        }

    def suggest_sync(
        self,
        source_profiles: Mapping[str, ColumnProfile],
        sample_rows: Sequence[Mapping[str, Any]],
        context: str | None = None,
        hints: Sequence[MappingSuggestion] = (),
    ) -> list[MappingSuggestion]:
        """Ask the model and check its answer; raises ``LLMMappingError`` when unusable."""
        request = self.build_request(source_profiles, sample_rows, context, hints)
        try:
            response = self.client.messages.create(**request)
        except Exception as exc:  # the SDK's errors carry no secret, but say only the kind
            status = getattr(exc, "status_code", None)
            detail = f" (HTTP {status})" if status else ""
            raise LLMMappingError(f"the model call failed: {type(exc).__name__}{detail}") from None
        if getattr(response, "stop_reason", None) == "refusal":
            raise LLMMappingError("the model refused to answer")
        calls = [
            block
            for block in getattr(response, "content", [])
            if getattr(block, "type", None) == "tool_use" and block.name == TOOL_NAME
        ]
        if not calls:
            raise LLMMappingError(f"the model did not call {TOOL_NAME}")
        return self.check_answer(calls[0].input, source_profiles)

    async def suggest_mappings(
        self,
        source_profiles: Mapping[str, ColumnProfile],
        sample_rows: Sequence[Mapping[str, Any]],
        context: str | None = None,
        hints: Sequence[MappingSuggestion] = (),
    ) -> list[MappingSuggestion]:
        """The plan's async API: ``suggest_sync`` in a worker thread."""
        return await asyncio.to_thread(
            self.suggest_sync, source_profiles, sample_rows, context, hints
        )

    def check_answer(
        self, answer: Any, profiles: Mapping[str, ColumnProfile]
    ) -> list[MappingSuggestion]:
        """Validate a tool input: drop unknowns, resolve duplicates, fill silent columns."""
        self.warnings = []
        if not isinstance(answer, dict) or not isinstance(answer.get("mappings"), list):
            raise LLMMappingError("malformed answer: no list of mappings")
        best: dict[str, MappingSuggestion] = {}
        for item in answer["mappings"]:
            if not isinstance(item, dict) or not isinstance(item.get("source_column"), str):
                self.warnings.append(f"dropped a malformed entry: {str(item)[:80]}")
                continue
            column, target = item["source_column"], item.get("target_field")
            if column not in profiles:
                self.warnings.append(f"dropped unknown column {column!r}")
                continue
            if target is not None and target not in TARGET_SCHEMA:
                self.warnings.append(f"dropped unknown target {target!r} for {column!r}")
                target = None
            try:
                confidence = min(1.0, max(0.0, float(item.get("confidence", 0.0))))
            except (TypeError, ValueError):
                self.warnings.append(f"dropped {column!r}: confidence is not a number")
                continue
            suggestion = MappingSuggestion(
                column,
                target,
                confidence if target else 0.0,
                f"LLM: {str(item.get('reason', ''))[:300]}",
                sample_values=profiles[column].sample_values[:5],
            )
            if column not in best or suggestion.confidence > best[column].confidence:
                best[column] = suggestion
        if not best:
            raise LLMMappingError("malformed answer: no usable mappings")
        owner: dict[str, MappingSuggestion] = {}
        for suggestion in sorted(best.values(), key=lambda s: -s.confidence):
            target = suggestion.target_field
            if target is None:
                continue
            if target in owner:
                self.warnings.append(
                    f"{target} proposed for {suggestion.source_field!r} and "
                    f"{owner[target].source_field!r}: kept the more confident"
                )
                suggestion.alternatives = [target]
                suggestion.reason += f" (but {owner[target].source_field!r} fits {target} better)"
                suggestion.target_field, suggestion.confidence = None, 0.0
            else:
                owner[target] = suggestion
        return [
            best.get(name)
            or MappingSuggestion(name, None, 0.0, "LLM left it unmapped", p.sample_values[:5])
            for name, p in profiles.items()
        ]
