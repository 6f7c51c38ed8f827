"""Connector registry: which adapter class serves which connector type."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from growthnav.connectors.config import ConnectorConfig, ConnectorType
from growthnav.connectors.exceptions import ConfigurationError

if TYPE_CHECKING:
    from growthnav.connectors.base import BaseConnector

logger = logging.getLogger(__name__)


class ConnectorRegistry:
    """Registry of connector implementations (a process-wide singleton).

    Example:
        registry = get_registry()
        connector = registry.create(config)  # validates the config; no network yet
    """

    _instance: ConnectorRegistry | None = None
    _connectors: dict[ConnectorType, type[BaseConnector]]

    def __new__(cls) -> ConnectorRegistry:
        """Return the one registry."""
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            cls._instance._connectors = {}
        return cls._instance

    def register(self, connector_type: ConnectorType, connector_class: type[BaseConnector]) -> None:
        """Register ``connector_class`` for ``connector_type`` (replacing any earlier one)."""
        self._connectors[ConnectorType(connector_type)] = connector_class
        logger.debug("Registered connector: %s", connector_type.value)

    def unregister(self, connector_type: ConnectorType) -> None:
        """Remove a connector type; no error when it was not registered."""
        self._connectors.pop(ConnectorType(connector_type), None)

    def get(self, connector_type: ConnectorType) -> type[BaseConnector] | None:
        """The class registered for ``connector_type``, or None."""
        return self._connectors.get(ConnectorType(connector_type))

    def create(self, config: ConnectorConfig) -> BaseConnector:
        """Build a connector for ``config``, validated against its spec before any network call.

        Raises:
            ConfigurationError: the type is not registered, or the config is invalid (the
                message lists every missing or invalid field).
        """
        connector_class = self.get(config.connector_type)
        if connector_class is None:
            available = ", ".join(sorted(t.value for t in self._connectors)) or "none"
            raise ConfigurationError(
                f"{config.connector_type.value} connector {config.name!r}",
                [
                    f"no connector is registered for type {config.connector_type.value!r} "
                    f"(available: {available})"
                ],
            )
        return connector_class(config)

    def list_available(self) -> list[ConnectorType]:
        """Every registered connector type."""
        return list(self._connectors)

    def is_registered(self, connector_type: ConnectorType) -> bool:
        """True when ``connector_type`` has an implementation."""
        return ConnectorType(connector_type) in self._connectors


_registry = ConnectorRegistry()


def get_registry() -> ConnectorRegistry:
    """The process-wide connector registry."""
    return _registry
