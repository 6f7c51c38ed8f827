"""Source adapters. Each module registers its connector type on import."""

from growthnav.connectors.adapters.file import FileConnector

__all__ = ["FileConnector"]
