"""A test-only adapter over a real SQLite table: the framework's conformance subject.

It behaves like a small SQL source: a password checked against the database, a cursor
column read with ``>=``, pages fetched in cursor order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from growthnav.connectors import (
    AuthenticationError,
    BaseConnector,
    ConnectorCategory,
    ConnectorSpec,
    ConnectorType,
    SchemaError,
    SpecModel,
)
from pydantic import Field, SecretStr


class SQLiteCredentials(SpecModel):
    password: SecretStr = Field(description="password stored in the database's _auth table")


class SQLiteParams(SpecModel):
    database: str = Field(description="path of the SQLite file")
    table: str = Field(default="purchases", description="table to read")
    page_size: int = Field(default=50, ge=1, description="rows per query page")


class SQLiteTableConnector(BaseConnector):
    connector_type: ClassVar[ConnectorType] = ConnectorType.FILE  # replaced when registered
    category = ConnectorCategory.POS
    spec = ConnectorSpec(SQLiteCredentials, SQLiteParams)
    primary_key = "purchase_id"
    cursor_field = "updated_at"
    default_field_map: ClassVar[dict[str, str]] = {
        "purchase_id": "transaction_id",
        "purchased_at": "timestamp",
        "amount": "value",
        "email": "email",
    }

    #: How many times any instance contacted its database (per registered subclass).
    connections_opened: ClassVar[int] = 0

    def authenticate(self) -> None:
        type(self).connections_opened += 1
        params = self.settings.params
        if not Path(params.database).exists():
            raise AuthenticationError(f"database {params.database} does not exist")
        connection = sqlite3.connect(params.database)
        rows = connection.execute("SELECT password FROM _auth").fetchall()
        if rows[0][0] != self.secret_values()[0]:
            connection.close()
            raise AuthenticationError("the database refused the password; check credentials")
        self._client = connection
        self._authenticated = True

    def fetch_records(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Generator[dict[str, Any], None, None]:
        if not self.is_authenticated:
            self.authenticate()
        params = self.settings.params
        low = since.astimezone(UTC).isoformat() if since else ""
        high = until.astimezone(UTC).isoformat() if until else "9999"
        last = (low, "")
        sent = 0
        while True:
            page = self._client.execute(
                f"SELECT * FROM {params.table} "
                "WHERE (updated_at > ? OR (updated_at = ? AND purchase_id > ?)) "
                "AND updated_at >= ? AND updated_at < ? "
                "ORDER BY updated_at, purchase_id LIMIT ?",
                (last[0], last[0], last[1], low, high, params.page_size),
            )
            names = [d[0] for d in page.description]
            rows = [dict(zip(names, row, strict=True)) for row in page.fetchall()]
            if not rows:
                return
            for row in rows:
                yield row
                sent += 1
                if limit is not None and sent >= limit:
                    return
            last = (rows[-1]["updated_at"], rows[-1]["purchase_id"])

    def get_schema(self) -> dict[str, str]:
        if not self.is_authenticated:
            self.authenticate()
        rows = self._client.execute(f"PRAGMA table_info({self.settings.params.table})").fetchall()
        if not rows:
            raise SchemaError(f"table {self.settings.params.table!r} does not exist")
        return {row[1]: row[2] for row in rows}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        super().close()


def make_database(path: Path, rows: int, *, password: str = "s3cret-pass") -> None:
    """A purchases table of ``rows`` rows, one minute apart, two of them bad."""
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE _auth (password TEXT)")
    connection.execute("INSERT INTO _auth VALUES (?)", (password,))
    connection.execute(
        "CREATE TABLE purchases (purchase_id TEXT, purchased_at TEXT, amount TEXT, "
        "email TEXT, updated_at TEXT)"
    )
    connection.commit()
    connection.close()
    add_rows(path, 0, rows)


def add_rows(path: Path, start: int, count: int) -> None:
    """Append purchases ``start .. start+count-1``; updated_at grows with the number."""
    connection = sqlite3.connect(path)
    values = []
    for i in range(start, start + count):
        stamp = datetime(2024, 1, 1, tzinfo=UTC).timestamp() + i * 60
        updated = datetime.fromtimestamp(stamp, UTC).isoformat()
        amount = "N/A" if i == 7 else f"${i % 50 + 1}.25"
        email = f"Guest{i % 9}@Example.com"
        values.append((f"P{i:05d}", updated, amount, email, updated))
    connection.executemany("INSERT INTO purchases VALUES (?, ?, ?, ?, ?)", values)
    connection.commit()
    connection.close()


def touch_row(path: Path, index: int, *, amount: str, at: datetime) -> None:
    """Change one purchase, moving its updated_at to ``at``."""
    connection = sqlite3.connect(path)
    connection.execute(
        "UPDATE purchases SET amount = ?, updated_at = ? WHERE purchase_id = ?",
        (amount, at.astimezone(UTC).isoformat(), f"P{index:05d}"),
    )
    connection.commit()
    connection.close()
