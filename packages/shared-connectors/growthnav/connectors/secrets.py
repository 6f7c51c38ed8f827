"""Credentials by reference: configs hold ``env:NAME`` or ``file:NAME``, never values.

``env:NAME`` reads a JSON object of credentials from an environment variable; ``file:NAME``
reads ``$GROWTHNAV_HOME/secrets/NAME.json`` (written 0600). Secret values never appear in
errors or reprs.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from growthnav.connectors.exceptions import ConfigurationError
from growthnav.warehouse import growthnav_home

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")


def secret_name(customer_id: str, connector_id: str) -> str:
    """The secret name for a connector: ``growthnav-{customer_id}-connector-{connector_id}``."""
    return f"growthnav-{customer_id}-connector-{connector_id}"


class SecretStore(Protocol):
    """Where credentials live; configs refer to them as ``scheme:name``."""

    scheme: str

    def read(self, name: str) -> dict[str, str]:
        """The credentials stored under ``name``."""

    def write(self, name: str, values: dict[str, str]) -> str:
        """Store ``values`` under ``name``; return the reference to keep in the config."""

    def delete(self, name: str) -> None:
        """Remove ``name`` (no error when absent)."""


def parse_secret(reference: str, text: str) -> dict[str, str]:
    """A secret's text as a dict of credentials; raise naming the reference otherwise."""
    try:
        values = json.loads(text)
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, dict):
        raise ConfigurationError(
            f"secret {reference!r}",
            ['it does not hold a JSON object of credentials (e.g. {"password": "..."})'],
        )
    return {str(k): str(v) for k, v in values.items()}


class EnvSecretStore:
    """``env:NAME``: a JSON object in the environment variable NAME (read-only)."""

    scheme = "env"

    def read(self, name: str) -> dict[str, str]:
        """The credentials in environment variable ``name``."""
        text = os.environ.get(name)
        if text is None:
            raise ConfigurationError(
                f"secret 'env:{name}'", [f"environment variable {name} is not set"]
            )
        return parse_secret(f"env:{name}", text)

    def write(self, name: str, values: dict[str, str]) -> str:
        """Environment secrets are set outside the program."""
        raise ConfigurationError(
            f"secret 'env:{name}'", ["environment secrets are read-only; set the variable"]
        )

    def delete(self, name: str) -> None:
        """Nothing to delete: the environment is not ours."""


class FileSecretStore:
    """``file:NAME``: ``<root>/NAME.json``, created with mode 0600."""

    scheme = "file"

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else growthnav_home() / "secrets"

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"secret 'file:{name}'",
                ["a secret name is letters, digits, '.', '_' or '-' (no path separators)"],
            )
        return self.root / f"{name}.json"

    def read(self, name: str) -> dict[str, str]:
        """The credentials in ``<root>/name.json``."""
        path = self._path(name)
        if not path.exists():
            raise ConfigurationError(f"secret 'file:{name}'", [f"{path} does not exist"])
        return parse_secret(f"file:{name}", path.read_text())

    def write(self, name: str, values: dict[str, str]) -> str:
        """Write atomically with mode 0600; returns ``file:name``."""
        path = self._path(name)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".tmp-", suffix=".json")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(values, handle)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return f"file:{name}"

    def delete(self, name: str) -> None:
        """Remove the secret file."""
        self._path(name).unlink(missing_ok=True)


def default_stores() -> dict[str, SecretStore]:
    """The stores known by scheme.

    env and file (rooted at ``$GROWTHNAV_HOME``) always; gsm when ``GROWTHNAV_GCP_PROJECT``
    names a project (``GROWTHNAV_SECRET_MANAGER_ENDPOINT`` points it at an emulator).
    """
    stores: dict[str, SecretStore] = {"env": EnvSecretStore(), "file": FileSecretStore()}
    project = os.environ.get("GROWTHNAV_GCP_PROJECT")
    if project:
        from google.auth.credentials import AnonymousCredentials
        from growthnav.connectors.google_secrets import GoogleSecretStore

        endpoint = os.environ.get("GROWTHNAV_SECRET_MANAGER_ENDPOINT")
        # An endpoint override is a local emulator, which takes no Google credentials.
        credentials = AnonymousCredentials() if endpoint else None  # type: ignore[no-untyped-call]
        stores["gsm"] = GoogleSecretStore(project, endpoint=endpoint, credentials=credentials)
    return stores


def split_reference(reference: str) -> tuple[str, str]:
    """``scheme:name`` as ``(scheme, name)``; raise naming the reference when malformed."""
    scheme, _, name = reference.partition(":")
    if not name:
        raise ConfigurationError(
            f"secret {reference!r}",
            ["a secret reference is scheme:name, e.g. 'env:ACME_SNOWFLAKE' or 'file:acme-pos'"],
        )
    return scheme, name


def read_secret(reference: str, stores: Mapping[str, SecretStore] | None = None) -> dict[str, str]:
    """The credentials behind ``reference``."""
    scheme, name = split_reference(reference)
    known = stores if stores is not None else default_stores()
    store = known.get(scheme)
    if store is None:
        raise ConfigurationError(
            f"secret {reference!r}",
            [f"unknown secret scheme {scheme!r} (known: {', '.join(sorted(known))})"],
        )
    return store.read(name)
