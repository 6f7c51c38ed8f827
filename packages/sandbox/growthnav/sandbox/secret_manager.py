"""A loopback stub of the Secret Manager REST API: create, addVersion, access, delete.

``google-cloud-secret-manager`` reaches it with ``transport="rest"`` and its URL as
``api_endpoint``. Secrets live in memory; ``denied`` names secrets that answer 403.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from growthnav.sandbox.loopback import LoopbackServer, Request, Response

SECRET = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/:]+)$")
CREATE = re.compile(r"^/v1/projects/([^/]+)/secrets$")
ADD = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/:]+):addVersion$")
ACCESS = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/:]+)/versions/([^/:]+):access$")


class SecretManagerStub(LoopbackServer):
    """Secrets in memory, served as the Secret Manager REST API does."""

    def __init__(self, *, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.secrets: dict[str, list[bytes]] = {}
        self.denied: set[str] = set()

    @property
    def calls(self) -> list[str]:
        """``METHOD path`` of every request, in order."""
        return [f"{r.method} {r.path}" for r in self.requests]

    def error_body(self, status: int, message: str) -> Any:
        """Google's error shape."""
        state = {403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS"}.get(
            status, "INTERNAL"
        )
        return {"error": {"code": status, "status": state, "message": message}}

    def handle(self, request: Request) -> Response:
        """Route one call."""
        path = request.path
        if request.method == "POST" and (match := CREATE.match(path)):
            name = f"projects/{match[1]}/secrets/{request.param('secretId')}"
            if name in self.secrets:
                return Response(409, self.error_body(409, f"Secret [{name}] already exists."))
            self.secrets[name] = []
            return Response(200, {"name": name, "replication": {"automatic": {}}})
        if request.method == "POST" and (match := ADD.match(path)):
            name = f"projects/{match[1]}/secrets/{match[2]}"
            if name not in self.secrets:
                return Response(404, self.error_body(404, f"Secret [{name}] not found."))
            self.secrets[name].append(base64.b64decode(request.json()["payload"]["data"]))
            version = len(self.secrets[name])
            return Response(200, {"name": f"{name}/versions/{version}", "state": "ENABLED"})
        if request.method == "GET" and (match := ACCESS.match(path)):
            name = f"projects/{match[1]}/secrets/{match[2]}"
            if match[2] in self.denied:
                return Response(403, self.error_body(403, "Permission denied on resource."))
            versions = self.secrets.get(name)
            if not versions:
                message = f"Secret [{name}] not found or has no versions."
                return Response(404, self.error_body(404, message))
            number = len(versions) if match[3] == "latest" else int(match[3])
            data = base64.b64encode(versions[number - 1]).decode()
            return Response(200, {"name": f"{name}/versions/{number}", "payload": {"data": data}})
        if request.method == "DELETE" and (match := SECRET.match(path)):
            name = f"projects/{match[1]}/secrets/{match[2]}"
            if name not in self.secrets:
                return Response(404, self.error_body(404, f"Secret [{name}] not found."))
            del self.secrets[name]
            return Response(200, {})
        return Response(404, self.error_body(404, path))


@contextmanager
def secret_manager_stub() -> Iterator[tuple[SecretManagerStub, str]]:
    """Run the stub on a free loopback port; yields it and its endpoint URL."""
    with SecretManagerStub() as stub:
        yield stub, stub.url
