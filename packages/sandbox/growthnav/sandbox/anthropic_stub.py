"""A loopback stand-in for the Anthropic Messages API (``POST /v1/messages``), scriptable per test.

The real ``anthropic`` SDK talks to it through ``base_url``. Each request takes the next
scripted reply: a tool call (``tool_use``), a refusal, plain text, or an HTTP error with the
API's error body. Requests are recorded so tests can check what was sent.

Example:
    with AnthropicStub(api_key="test-key") as stub:
        stub.reply_tool("propose_field_map", {"mappings": [...]})
        client = anthropic.Anthropic(base_url=stub.base_url, api_key="test-key", max_retries=0)
"""

from __future__ import annotations

from collections import deque
from typing import Any

from growthnav.sandbox.loopback import LoopbackServer, Request, Response

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


class AnthropicStub(LoopbackServer):
    """The Messages API on ``127.0.0.1`` (a free port), answering from a script."""

    def __init__(self, api_key: str = "sandbox-anthropic-key", *, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.api_key = api_key
        self._script: deque[Response] = deque()

    def error_body(self, status: int, message: str) -> Any:
        """The API's error shape."""
        kind = _ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def _message(self, content: list[dict[str, Any]], stop_reason: str, model: str) -> Response:
        return Response(
            200,
            {
                "id": f"msg_sandbox_{len(self.requests) + len(self._script)}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": {"input_tokens": 100, "output_tokens": 50},
            },
        )

    def reply_tool(self, name: str, tool_input: Any, *, model: str = "sandbox-model") -> None:
        """Answer the next request with a call of tool ``name`` with ``tool_input``."""
        block = {"type": "tool_use", "id": "toolu_sandbox", "name": name, "input": tool_input}
        self._script.append(self._message([block], "tool_use", model))

    def reply_text(self, text: str, *, stop_reason: str = "end_turn") -> None:
        """Answer with text only (``stop_reason="refusal"`` for a refusal)."""
        self._script.append(self._message([{"type": "text", "text": text}], stop_reason, "m"))

    def reply_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Answer with an API error (e.g. 429 with ``{"retry-after": "1"}``, 529 overloaded)."""
        self._script.append(Response(status, self.error_body(status, message), headers or {}))

    def handle(self, request: Request) -> Response:
        """Authenticate, then answer ``POST /v1/messages`` with the next scripted reply."""
        if request.method != "POST" or request.path != "/v1/messages":
            return Response(404, self.error_body(404, f"no route {request.path}"))
        given = request.headers.get("x-api-key") or request.bearer
        if given != self.api_key:
            return Response(401, self.error_body(401, "invalid x-api-key"))
        if not self._script:
            return Response(500, self.error_body(500, "nothing scripted"))
        return self._script.popleft()

    @property
    def base_url(self) -> str:
        """Where clients point ``base_url``."""
        return self.url
