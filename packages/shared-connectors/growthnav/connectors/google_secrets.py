"""Google Secret Manager as a secret store (``gsm:NAME``), for production.

Secrets are named ``growthnav-{customer_id}-connector-{connector_id}`` and hold a JSON object
of credentials. The REST transport is used, so an endpoint override reaches a local stub.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from google.api_core import exceptions as google_errors
from google.api_core.client_options import ClientOptions
from google.cloud import secretmanager
from growthnav.connectors.exceptions import AuthenticationError, ConfigurationError
from growthnav.connectors.secrets import parse_secret


class GoogleSecretStore:
    """``gsm:NAME`` is ``projects/{project}/secrets/NAME``, latest version."""

    scheme = "gsm"

    def __init__(
        self,
        project: str,
        *,
        client: secretmanager.SecretManagerServiceClient | None = None,
        endpoint: str | None = None,
        credentials: Any = None,
    ) -> None:
        if not project:
            raise ConfigurationError("Google Secret Manager", ["project is required"])
        self.project = project
        self.client = client or secretmanager.SecretManagerServiceClient(
            transport="rest",
            credentials=credentials,
            client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
        )

    def _path(self, name: str) -> str:
        return f"projects/{self.project}/secrets/{name}"

    def read(self, name: str) -> dict[str, str]:
        """The credentials in the secret's latest version."""
        reference = f"gsm:{name}"
        try:
            response = self.client.access_secret_version(name=f"{self._path(name)}/versions/latest")
        except google_errors.NotFound:
            raise ConfigurationError(
                f"secret {reference!r}",
                [f"no secret {name!r} in project {self.project!r}; create it or fix the name"],
            ) from None
        except (google_errors.Forbidden, google_errors.Unauthorized) as exc:
            raise AuthenticationError(
                f"Secret Manager refused access to {name!r} ({type(exc).__name__}); "
                "grant roles/secretmanager.secretAccessor to the service account"
            ) from None
        return parse_secret(reference, response.payload.data.decode("utf-8"))

    def write(self, name: str, values: dict[str, str]) -> str:
        """Create the secret when missing and add a version holding ``values``."""
        with contextlib.suppress(google_errors.Conflict):  # already exists (409 over REST)
            self.client.create_secret(
                parent=f"projects/{self.project}",
                secret_id=name,
                secret=secretmanager.Secret(
                    replication=secretmanager.Replication(
                        automatic=secretmanager.Replication.Automatic()
                    )
                ),
            )
        self.client.add_secret_version(
            parent=self._path(name),
            payload=secretmanager.SecretPayload(data=json.dumps(values).encode("utf-8")),
        )
        return f"gsm:{name}"

    def delete(self, name: str) -> None:
        """Delete the secret and all its versions (no error when absent)."""
        with contextlib.suppress(google_errors.NotFound):
            self.client.delete_secret(name=self._path(name))
