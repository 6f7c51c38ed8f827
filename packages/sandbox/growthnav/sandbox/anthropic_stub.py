"""A loopback stand-in for the Anthropic Messages API (``POST /v1/messages``), scriptable per test.

The real ``anthropic`` SDK talks to it through ``base_url``. Each request takes the next
scripted reply: a tool call (``tool_use``), a refusal, plain text, or an HTTP error with the
API's error body. Requests are recorded (headers and JSON) so tests can check what was sent.

Example:
    with AnthropicStub(api_key="test-key") as stub:
        stub.reply_tool("propose_field_map", {"mappings": [...]})
        client = anthropic.Anthropic(base_url=stub.base_url, api_key="test-key", max_retries=0)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Reply:
    """One scripted answer: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    """What a client sent."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class AnthropicStub:
    """The Messages API on ``127.0.0.1`` (a free port), answering from a script."""

    def __init__(self, api_key: str = "sandbox-anthropic-key") -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ----------------------------------------------------------------------

    def _message(self, content: list[dict[str, Any]], stop_reason: str, model: str) -> Reply:
        return Reply(
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
        kind = _ERROR_TYPES.get(status, "api_error")
        body = {"type": "error", "error": {"type": kind, "message": message}}
        self._script.append(Reply(status, body, headers or {}))

    # -- serving ------------------------------------------------------------------------

    def _answer(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {}
        with self._lock:
            self.requests.append(RecordedRequest(path, headers, body))
            if path != "/v1/messages":
                return Reply(
                    404,
                    {
                        "type": "error",
                        "error": {"type": "not_found_error", "message": f"no route {path}"},
                    },
                )
            given = headers.get("x-api-key") or headers.get("authorization", "").removeprefix(
                "Bearer "
            )
            if given != self.api_key:
                return Reply(
                    401,
                    {
                        "type": "error",
                        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                    },
                )
            if not self._script:
                return Reply(
                    500,
                    {
                        "type": "error",
                        "error": {"type": "api_error", "message": "nothing scripted"},
                    },
                )
            return self._script.popleft()

    @property
    def base_url(self) -> str:
        """Where clients point ``base_url``."""
        if self._server is None:
            raise RuntimeError("the stub is not running: use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> AnthropicStub:
        """Listen on a free loopback port in a background thread."""
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = stub._answer(self.path, headers, self.rfile.read(length))
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> AnthropicStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
