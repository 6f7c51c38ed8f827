"""A loopback stub of the Secret Manager REST API: create, addVersion, access, delete."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

SECRET = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/:]+)$")
CREATE = re.compile(r"^/v1/projects/([^/]+)/secrets$")
ADD = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/:]+):addVersion$")
ACCESS = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/:]+)/versions/([^/:]+):access$")


class SecretManagerStub:
    """Secrets in memory; ``denied`` names secrets that answer 403."""

    def __init__(self) -> None:
        self.secrets: dict[str, list[bytes]] = {}
        self.denied: set[str] = set()
        self.requests: list[str] = []


def _handler(stub: SecretManagerStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, state: str, message: str) -> None:
            self._send(status, {"error": {"code": status, "status": state, "message": message}})

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            body: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
            return body

        def do_POST(self) -> None:
            url = urlparse(self.path)
            stub.requests.append(f"POST {url.path}")
            if match := CREATE.match(url.path):
                name = f"projects/{match[1]}/secrets/{parse_qs(url.query)['secretId'][0]}"
                self._body()
                if name in stub.secrets:
                    self._error(409, "ALREADY_EXISTS", f"Secret [{name}] already exists.")
                    return
                stub.secrets[name] = []
                self._send(200, {"name": name, "replication": {"automatic": {}}})
            elif match := ADD.match(url.path):
                name = f"projects/{match[1]}/secrets/{match[2]}"
                payload = base64.b64decode(self._body()["payload"]["data"])
                if name not in stub.secrets:
                    self._error(404, "NOT_FOUND", f"Secret [{name}] not found.")
                    return
                stub.secrets[name].append(payload)
                version = len(stub.secrets[name])
                self._send(200, {"name": f"{name}/versions/{version}", "state": "ENABLED"})
            else:
                self._error(404, "NOT_FOUND", url.path)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            stub.requests.append(f"GET {url.path}")
            match = ACCESS.match(url.path)
            if not match:
                self._error(404, "NOT_FOUND", url.path)
                return
            name = f"projects/{match[1]}/secrets/{match[2]}"
            if match[2] in stub.denied:
                self._error(403, "PERMISSION_DENIED", "Permission denied on resource.")
                return
            versions = stub.secrets.get(name)
            if not versions:
                self._error(404, "NOT_FOUND", f"Secret [{name}] not found or has no versions.")
                return
            number = len(versions) if match[3] == "latest" else int(match[3])
            data = base64.b64encode(versions[number - 1]).decode()
            self._send(200, {"name": f"{name}/versions/{number}", "payload": {"data": data}})

        def do_DELETE(self) -> None:
            url = urlparse(self.path)
            stub.requests.append(f"DELETE {url.path}")
            match = SECRET.match(url.path)
            name = f"projects/{match[1]}/secrets/{match[2]}" if match else ""
            if name not in stub.secrets:
                self._error(404, "NOT_FOUND", f"Secret [{name}] not found.")
                return
            del stub.secrets[name]
            self._send(200, {})

    return Handler


@contextmanager
def secret_manager_stub() -> Iterator[tuple[SecretManagerStub, str]]:
    """Run the stub on a free loopback port; yields it and its endpoint URL."""
    stub = SecretManagerStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
