from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conformance import sqlite_source
from growthnav.connectors import (
    ConfigurationError,
    ConnectorConfig,
    ConnectorRegistry,
    ConnectorType,
    get_registry,
)
from growthnav.connectors.base import BaseConnector


@pytest.fixture
def live(tmp_path: Path) -> Iterator[object]:
    with sqlite_source(tmp_path) as source:
        yield source


def test_registry_is_one_instance() -> None:
    assert ConnectorRegistry() is ConnectorRegistry() is get_registry()


def test_register_get_list_unregister(live: object) -> None:
    registry = get_registry()
    kind = live.connector_type  # type: ignore[attr-defined]
    cls = registry.get(kind)
    assert cls is not None
    assert issubclass(cls, BaseConnector)
    assert registry.is_registered(kind)
    assert kind in registry.list_available()
    registry.unregister(kind)
    assert not registry.is_registered(kind)
    assert registry.get(kind) is None
    registry.unregister(kind)  # no error the second time
    registry.register(kind, cls)


def test_create_unregistered_type_names_what_is_available() -> None:
    config = ConnectorConfig(ConnectorType.OTTER, "acme", "orders")
    if get_registry().is_registered(ConnectorType.OTTER):  # pragma: no cover
        pytest.skip("otter has an adapter")
    with pytest.raises(ConfigurationError, match="no connector is registered for type 'otter'"):
        get_registry().create(config)


def test_create_validates_every_field_and_hides_secret_values(live: object) -> None:
    config = live.config(  # type: ignore[attr-defined]
        credentials={"password": 12345},
        connection_params={"table": "purchases", "page_size": 0, "warehous": "x"},
    )
    with pytest.raises(ConfigurationError) as refused:
        get_registry().create(config)
    problems = refused.value.problems
    assert any(p.startswith("connection_params.database is required") for p in problems)
    assert any(
        "page_size" in p and "greater than or equal to 1" in p and "(got 0)" in p for p in problems
    )
    assert any("warehous is not a known field" in p for p in problems)
    assert any(p.startswith("credentials.password") for p in problems)
    assert "12345" not in str(refused.value)


def test_credentials_by_reference_are_read_and_validated_before_any_contact(
    live: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POS_SECRET", '{"password": "s3cret-pass"}')
    config = live.config(credentials={}, credentials_secret_path="env:POS_SECRET")  # type: ignore[attr-defined]
    connector = get_registry().create(config)
    assert connector.test_connection()
    connector.close()
    monkeypatch.delenv("POS_SECRET")
    with pytest.raises(ConfigurationError, match="environment variable POS_SECRET is not set"):
        get_registry().create(config)
    monkeypatch.setenv("POS_SECRET", "not json")
    with pytest.raises(ConfigurationError, match="does not hold a JSON object"):
        get_registry().create(config)
    assert live.contacts() == 1  # type: ignore[attr-defined]


def test_bad_settings_are_configuration_errors(live: object) -> None:
    config = live.config(  # type: ignore[attr-defined]
        batch_size=0,
        lookback_seconds=-1,
        field_overrides={"amount": "amount"},
        timezone="Mars/Base",
    )
    with pytest.raises(ConfigurationError) as refused:
        get_registry().create(config)
    text = str(refused.value)
    assert "batch_size must be at least 1" in text
    assert "lookback_seconds must not be negative" in text
    assert "unknown target 'amount'" in text
    assert "not an IANA timezone" in text
