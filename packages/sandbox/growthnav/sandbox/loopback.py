"""The small HTTP server every sandbox emulator runs on: loopback, a free port, injectable faults.

An emulator subclasses ``LoopbackServer`` and implements ``handle(request) -> Response``.
``Faults`` makes it misbehave the way real services do (429 with Retry-After, 500/503, slow
answers, dropped connections, expired tokens), by rate (seeded, so runs repeat) or for the
next N requests.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlparse


@dataclass
class Request:
    """What a client sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (empty object when there is none)."""
        return json.loads(self.body or b"{}")

    def param(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def bearer(self) -> str | None:
        """The bearer token of the Authorization header."""
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass
class Response:
    """What the emulator answers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """One kind of misbehaviour."""

    kind: str  # "status", "slow", "drop", "expire"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class Faults:
    """Faults an emulator injects: for the next N requests, or at a seeded rate."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self._queued: deque[Fault] = deque()
        self._rates: list[tuple[float, Fault]] = []
        self._lock = threading.Lock()

    def next(self, fault: Fault, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests."""
        with self._lock:
            self._queued.extend([fault] * times)

    def rate(self, fault: Fault, probability: float) -> None:
        """Apply ``fault`` to each request with ``probability`` (seeded)."""
        with self._lock:
            self._rates.append((probability, fault))

    def throttle(self, times: int = 1, retry_after: int = 1) -> None:
        """The next requests get 429 with ``Retry-After``."""
        self.next(Fault("status", 429, {"Retry-After": str(retry_after)}), times)

    def clear(self) -> None:
        """No more faults."""
        with self._lock:
            self._queued.clear()
            self._rates.clear()

    def draw(self) -> Fault | None:
        """The fault for this request, if any."""
        with self._lock:
            if self._queued:
                return self._queued.popleft()
            for probability, fault in self._rates:
                if self._rng.random() < probability:
                    return fault
        return None


class LoopbackServer:
    """An HTTP server on 127.0.0.1 and a free port, serving ``handle`` in a thread."""

    def __init__(self, *, seed: int = 0, tls: bool = False) -> None:
        self.faults = Faults(seed)
        self.requests: list[Request] = []
        self.tls = tls
        #: The CA file clients trust (TLS servers only), created at start, removed at stop.
        self.ca_path: str | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def error_body(self, status: int, message: str) -> Any:
        """The API's error body for ``status`` (emulators override with their API's shape)."""
        return {"error": {"status": status, "message": message}}

    def handle(self, request: Request) -> Response:
        """Answer one request (emulators implement this)."""
        raise NotImplementedError

    def expired(self, request: Request) -> Response:
        """The answer to a request whose token expired (emulators override)."""
        return Response(401, self.error_body(401, "token expired"))

    def _respond(self, request: Request) -> Response | None:
        with self._lock:
            self.requests.append(request)
        fault = self.faults.draw()
        if fault is not None:
            if fault.kind == "drop":
                return None
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            elif fault.kind == "expire":
                return self.expired(request)
            elif fault.kind == "status":
                message = {429: "rate limited", 503: "unavailable"}.get(fault.status, "error")
                return Response(fault.status, self.error_body(fault.status, message), fault.headers)
        return self.handle(request)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._server is None:
            raise RuntimeError("the server is not running: start() it or use it with `with`")
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def start(self) -> Self:
        """Listen on a free loopback port."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                parsed = urlparse(self.path)
                request = Request(
                    self.command,
                    parsed.path,
                    parse_qs(parsed.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                response = owner._respond(request)
                if response is None:  # a dropped connection: close without answering
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                empty = response.status in (204, 304)
                data = b"" if empty else json.dumps(response.body, default=str).encode()
                self.send_response(response.status)
                if not empty:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls:
            self._wrap_tls(self._server)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def _wrap_tls(self, server: ThreadingHTTPServer) -> None:
        """Serve TLS with a certificate for 127.0.0.1 from a CA made now (``ca_path``)."""
        import ssl
        import tempfile

        import trustme

        authority = trustme.CA()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        authority.issue_cert("127.0.0.1").configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        handle, path = tempfile.mkstemp(prefix="growthnav-sandbox-ca-", suffix=".pem")
        os.close(handle)
        authority.cert_pem.write_to_path(path)
        self.ca_path = path

    def stop(self) -> None:
        """Stop serving and release the port (and the CA file)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.ca_path is not None:
            os.unlink(self.ca_path)
            self.ca_path = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
