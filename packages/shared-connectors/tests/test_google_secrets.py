from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.auth.credentials import AnonymousCredentials
from growthnav.connectors import (
    AuthenticationError,
    ConfigurationError,
    ConnectorConfig,
    ConnectorStorage,
    ConnectorType,
    get_registry,
)
from growthnav.connectors.google_secrets import GoogleSecretStore
from growthnav.connectors.secrets import read_secret
from growthnav.sandbox.secret_manager import SecretManagerStub, secret_manager_stub


@pytest.fixture
def stub() -> Iterator[tuple[SecretManagerStub, str]]:
    with secret_manager_stub() as running:
        yield running


def store(endpoint: str) -> GoogleSecretStore:
    anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
    return GoogleSecretStore("acme-prod", endpoint=endpoint, credentials=anonymous)


def test_write_then_read_round_trips_through_the_rest_api(
    stub: tuple[SecretManagerStub, str],
) -> None:
    server, endpoint = stub
    secrets = store(endpoint)
    name = "growthnav-acme-connector-snowflake-thanx"
    assert secrets.write(name, {"user": "loader", "password": "pw-1"}) == f"gsm:{name}"
    assert secrets.write(name, {"user": "loader", "password": "pw-2"}) == f"gsm:{name}"
    assert secrets.read(name) == {"user": "loader", "password": "pw-2"}
    path = f"projects/acme-prod/secrets/{name}"
    assert next(json.loads(v) for v in server.secrets[path])["password"] == "pw-1"
    assert f"GET /v1/{path}/versions/latest:access" in server.calls
    secrets.delete(name)
    secrets.delete(name)
    assert path not in server.secrets


def test_missing_and_refused_secrets_are_clear_errors(stub: tuple[SecretManagerStub, str]) -> None:
    server, endpoint = stub
    secrets = store(endpoint)
    with pytest.raises(ConfigurationError, match="no secret 'nope' in project 'acme-prod'"):
        secrets.read("nope")
    secrets.write("locked", {"password": "x"})
    server.denied.add("locked")
    with pytest.raises(AuthenticationError, match="secretAccessor"):
        secrets.read("locked")


def test_storage_moves_credentials_into_secret_manager_and_connectors_read_them(
    stub: tuple[SecretManagerStub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _server, endpoint = stub
    monkeypatch.setenv("GROWTHNAV_GCP_PROJECT", "acme-prod")
    monkeypatch.setenv("GROWTHNAV_SECRET_MANAGER_ENDPOINT", endpoint)
    storage = ConnectorStorage(tmp_path / "registry.db", secrets=store(endpoint))
    (tmp_path / "e.csv").write_text("ID,AT\n1,2024-01-01\n")
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id="acme",
        name="exports",
        credentials={"token": "not-needed-but-kept"},
        connection_params={"path": str(tmp_path / "e.csv")},
        field_overrides={"ID": "transaction_id", "AT": "timestamp"},
    )
    with pytest.raises(ConfigurationError, match=r"credentials\.token is not a known field"):
        get_registry().create(config)
    connector_id = storage.save(config)
    saved = storage.get(connector_id)
    assert saved is not None
    reference = saved.credentials_secret_path
    assert reference == f"gsm:growthnav-acme-connector-{connector_id}"
    assert read_secret(reference) == {"token": "not-needed-but-kept"}
    assert b"not-needed-but-kept" not in (tmp_path / "registry.db").read_bytes()
