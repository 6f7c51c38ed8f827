"""Confirmed mappings, remembered by source signature (the set of column names).

A second export with the same columns maps instantly and identically to the first one a
person confirmed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path


def source_signature(columns: Iterable[str]) -> str:
    """A stable digest of a column set (order and case do not matter)."""
    names = sorted({c.strip().lower() for c in columns})
    return hashlib.sha256("\x1f".join(names).encode()).hexdigest()[:32]


class MappingMemory:
    """Confirmed field maps in SQLite (by default beside the connector registry)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS confirmed_mappings ("
                "signature TEXT PRIMARY KEY, field_map TEXT NOT NULL, confirmed_at TEXT NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def remember(self, signature: str, field_map: Mapping[str, str]) -> None:
        """Store ``field_map`` as confirmed for ``signature`` (replacing an older one)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO confirmed_mappings VALUES (?, ?, ?) ON CONFLICT (signature) DO UPDATE "
                "SET field_map = excluded.field_map, confirmed_at = excluded.confirmed_at",
                (signature, json.dumps(dict(field_map)), datetime.now(UTC).isoformat()),
            )

    def recall(self, signature: str) -> dict[str, str] | None:
        """The confirmed field map for ``signature``, or None."""
        with self._connect() as db:
            row = db.execute(
                "SELECT field_map FROM confirmed_mappings WHERE signature = ?", (signature,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))
