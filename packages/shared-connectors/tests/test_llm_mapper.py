"""The LLM mapper through the real Anthropic SDK against the sandbox's Messages API stub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from growthnav.connectors.discovery import SchemaDiscovery
from growthnav.connectors.discovery.llm import TOOL_NAME, LLMSchemaMapper, mask
from growthnav.sandbox.anthropic_stub import AnthropicStub

KEY = "sk-test-distinctive-0123456789"
ROWS: list[dict[str, Any]] = [
    {
        "ticket": str(1000 + i),
        "when": f"2024-01-{i + 1:02d} 18:05",
        "amt": f"{10 + i}.50",
        "mail": f"ana.lee{i}@example.com",
        "cell": f"(917) 933-{6300 + i}",
        "waiter": "E7",
    }
    for i in range(12)
]
GOOD = {
    "mappings": [
        {
            "source_column": "ticket",
            "target_field": "transaction_id",
            "confidence": 0.95,
            "reason": "order id",
        },
        {"source_column": "when", "target_field": "timestamp", "confidence": 0.9, "reason": "date"},
        {"source_column": "amt", "target_field": "value", "confidence": 0.9, "reason": "amount"},
        {"source_column": "mail", "target_field": "email", "confidence": 0.99, "reason": "email"},
        {"source_column": "cell", "target_field": "phone", "confidence": 0.97, "reason": "phone"},
        {"source_column": "waiter", "target_field": None, "confidence": 0.0, "reason": "employee"},
    ]
}


@pytest.fixture
def stub() -> Iterator[AnthropicStub]:
    with AnthropicStub(api_key=KEY) as running:
        yield running


def discovery(stub: AnthropicStub, model: str = "claude-test-model") -> SchemaDiscovery:
    client = anthropic.Anthropic(base_url=stub.base_url, api_key=KEY, max_retries=0)
    return SchemaDiscovery(mapper=LLMSchemaMapper(client, model=model))


def test_the_model_maps_through_a_forced_tool_call(stub: AnthropicStub) -> None:
    stub.reply_tool(TOOL_NAME, GOOD)
    result = discovery(stub).analyze_sync(ROWS, context="a POS export")
    assert result["mapper"] == "llm (claude-test-model)"
    assert result["field_map"] == {
        "ticket": "transaction_id",
        "when": "timestamp",
        "amt": "value",
        "mail": "email",
        "cell": "phone",
    }
    assert result["validation"]["would_load"] == 12
    [request] = stub.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json()
    assert body["model"] == "claude-test-model"
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert body["tools"][0]["input_schema"]["properties"]["mappings"]["type"] == "array"
    sent = json.dumps(body)
    # Personal data never leaves in clear: emails and phones are sent as their shape.
    assert "ana.lee" not in sent
    assert "933-63" not in sent
    assert "aaa.aaa9@aaaaaaa.aaa" in sent
    assert "(999) 999-9999" in sent
    payload = json.loads(body["messages"][0]["content"])
    assert payload["context"] == "a POS export"
    assert len(payload["sample_rows"]) == 5
    hints = {h["column"]: h["target"] for h in payload["hints_from_offline_mapper"]}
    assert hints["mail"] == "email"
    assert hints["cell"] == "phone"


def test_unknown_targets_and_columns_dropped_duplicates_resolved(stub: AnthropicStub) -> None:
    answer = {
        "mappings": [
            *GOOD["mappings"][:3],
            {"source_column": "mail", "target_field": "emial", "confidence": 0.9, "reason": "?"},
            {"source_column": "ghost", "target_field": "email", "confidence": 0.9, "reason": "?"},
            {
                "source_column": "cell",
                "target_field": "transaction_id",
                "confidence": 0.5,
                "reason": "x",
            },
            {
                "source_column": "waiter",
                "target_field": "user_id",
                "confidence": "high",
                "reason": "x",
            },
        ]
    }
    stub.reply_tool(TOOL_NAME, answer)
    result = discovery(stub).analyze_sync(ROWS)
    assert result["field_map"] == {"ticket": "transaction_id", "when": "timestamp", "amt": "value"}
    warnings = " | ".join(result["warnings"])
    assert "unknown target 'emial'" in warnings
    assert "unknown column 'ghost'" in warnings
    assert "transaction_id proposed for 'cell' and 'ticket'" in warnings
    assert "confidence is not a number" in warnings
    by_column = {s.source_field: s for s in result["suggestions"]}
    assert by_column["waiter"].reason == "LLM left it unmapped"


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        (lambda s: s.reply_tool(TOOL_NAME, ["not", "an", "object"]), "malformed answer"),
        (lambda s: s.reply_tool(TOOL_NAME, {"mappings": []}), "no usable mappings"),
        (lambda s: s.reply_tool("some_other_tool", GOOD), f"did not call {TOOL_NAME}"),
        (lambda s: s.reply_text("I can't help with that.", stop_reason="refusal"), "refused"),
        (lambda s: s.reply_text("Here is JSON: [...]"), f"did not call {TOOL_NAME}"),
        (lambda s: s.reply_error(529, "Overloaded"), "HTTP 529"),
        (lambda s: s.reply_error(429, "slow down", {"retry-after": "1"}), "HTTP 429"),
    ],
)
def test_unusable_answers_fall_back_to_the_heuristic(
    stub: AnthropicStub, script: Any, reason: str
) -> None:
    script(stub)
    result = discovery(stub).analyze_sync(ROWS)
    assert result["mapper"] == "heuristic"
    assert reason in result["warnings"][0]
    assert "offline heuristic mapper was used" in result["warnings"][0]
    assert result["field_map"]["mail"] == "email"  # the heuristic's answer


def test_a_bad_key_falls_back_without_leaking_it(stub: AnthropicStub) -> None:
    client = anthropic.Anthropic(base_url=stub.base_url, api_key="sk-wrong-secret", max_retries=0)
    result = SchemaDiscovery(mapper=LLMSchemaMapper(client)).analyze_sync(ROWS)
    assert result["mapper"] == "heuristic"
    assert "HTTP 401" in result["warnings"][0]
    assert "sk-wrong-secret" not in json.dumps(result["warnings"])


def test_configured_from_the_environment(stub: AnthropicStub) -> None:
    stub.reply_tool(TOOL_NAME, GOOD)
    environ = {
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": stub.base_url,
        "GROWTHNAV_LLM_MODEL": "claude-from-env",
    }
    result = SchemaDiscovery(environ=environ).analyze_sync(ROWS)
    assert result["mapper"] == "llm (claude-from-env)"
    assert stub.requests[0].json()["model"] == "claude-from-env"
    # llm="off" never calls the model, key or not.
    off = SchemaDiscovery(llm="off", environ=environ).analyze_sync(ROWS)
    assert off["mapper"] == "heuristic"
    assert len(stub.requests) == 1


def test_plan_api_and_default_model(stub: AnthropicStub) -> None:
    import asyncio

    from growthnav.connectors.discovery import ColumnProfiler

    stub.reply_tool(TOOL_NAME, GOOD)
    client = anthropic.Anthropic(base_url=stub.base_url, api_key=KEY, max_retries=0)
    mapper = LLMSchemaMapper(client, environ={})
    assert mapper.model == "claude-sonnet-4-20250514"
    assert "transaction_id" in LLMSchemaMapper.TARGET_SCHEMA
    profiles = ColumnProfiler().profile(ROWS)
    suggestions = asyncio.run(mapper.suggest_mappings(profiles, ROWS, "POS"))
    assert [s.target_field for s in suggestions][:3] == ["transaction_id", "timestamp", "value"]


def test_mask_keeps_only_the_shape() -> None:
    assert mask("Ana.Lee@Example.com") == "aaa.aaa@aaaaaaa.aaa"
    assert mask("+1 917 933 6320") == "+9 999 999 9999"
    assert mask("Burrito") == "Burrito"
    assert mask(12) == 12
