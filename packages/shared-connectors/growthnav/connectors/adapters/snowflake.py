"""Snowflake tables (a data lake's Toast orders, Thanx or Fishbowl loyalty purchases).

Reads one table with ``snowflake-connector-python`` and hands its rows over as Arrow
(``fetch_arrow_batches``, regrouped to the batch size). With a ``cursor_field`` the query is
ordered by it and an incremental sync reads from the saved high-watermark; a wall-clock
cursor (``TIMESTAMP_NTZ``, ``DATE``) is compared in the connector's timezone, as the watermark
read it; a cursor held as text is compared as a timestamp (``TRY_CAST``), and rows whose cursor
does not parse are read on every incremental sync rather than never (the keyed load makes the
re-read harmless).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from growthnav.connectors.arrow_batches import gathered, read_ahead
from growthnav.connectors.base import RawBatch, TabularConnector
from growthnav.connectors.config import ConnectorCategory, ConnectorConfig, ConnectorType
from growthnav.connectors.exceptions import AuthenticationError, ConnectorError, SchemaError
from growthnav.connectors.registry import get_registry
from growthnav.connectors.spec import ConnectorSpec, RecordKindParams, SpecModel
from growthnav.conversions.timestamps import zone
from pydantic import Field, SecretStr

#: Snowflake's error numbers for a refused login (wrong user/password, locked or expired).
_LOGIN_REFUSED = frozenset({390100, 390101, 390102, 390144, 390318})


class SnowflakeCredentials(SpecModel):
    """Password login (key-pair login is not supported yet)."""

    password: SecretStr = Field(description="the user's password")


class SnowflakeParams(RecordKindParams):
    """Which account and table to read, and how."""

    account: str = Field(description="account identifier, e.g. xy12345.us-east-1")
    user: str = Field(description="login name")
    database: str = Field(description="database holding the table, e.g. ANALYTICS")
    schema_name: str = Field(description="schema holding the table, e.g. TOAST")
    table: str = Field(description="table (or view) to read, e.g. ORDER_DETAILS")
    warehouse: str | None = Field(default=None, description="virtual warehouse to run on")
    role: str | None = Field(default=None, description="role to assume")
    cursor_field: str | None = Field(
        default=None, description="column whose high-watermark makes syncs incremental"
    )
    primary_key: str | None = Field(
        default=None, description="column that identifies a record (default: none)"
    )
    host: str | None = Field(
        default=None, description="host, for private links (default: Snowflake's)"
    )
    port: int | None = Field(default=None, description="port, with host")
    protocol: str = Field(default="https", description="https (or http, for a local emulator)")
    network_timeout: int = Field(default=60, ge=1, description="seconds a request may take")


def _quoted(*parts: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


class SnowflakeConnector(TabularConnector):
    """Reads one Snowflake table."""

    connector_type: ClassVar[ConnectorType] = ConnectorType.SNOWFLAKE
    category = ConnectorCategory.DATA_LAKE
    spec = ConnectorSpec(SnowflakeCredentials, SnowflakeParams)
    primary_key = ""
    cursor_field = None
    #: With a cursor_field the query is ordered by it (without one there is no cursor).
    ordered_by_cursor = True

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        params: SnowflakeParams = self.settings.params
        self.primary_key = params.primary_key or ""
        self.cursor_field = params.cursor_field
        self._columns: dict[str, str] | None = None

    @property
    def table(self) -> str:
        """The table's quoted, fully qualified name."""
        params: SnowflakeParams = self.settings.params
        return _quoted(params.database, params.schema_name, params.table)

    def authenticate(self) -> None:
        """Log in; a refused login is an ``AuthenticationError`` (no secret in its message)."""
        import snowflake.connector
        from snowflake.connector.errors import DatabaseError

        params: SnowflakeParams = self.settings.params
        credentials = self.settings.credentials
        if credentials is None:
            raise AuthenticationError("no Snowflake credentials: set credentials.password")
        options: dict[str, Any] = {
            "account": params.account,
            "user": params.user,
            "password": credentials.password.get_secret_value(),
            "database": params.database,
            "schema": params.schema_name,
            "protocol": params.protocol,
            "network_timeout": params.network_timeout,
            "login_timeout": params.network_timeout,
            "session_parameters": {
                # Nothing leaves for Snowflake's telemetry endpoint.
                "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
                # A naive text cursor cast to TIMESTAMP_TZ is read in the connector's
                # timezone, as the watermark read it (Snowflake's default is Los Angeles).
                "TIMEZONE": self.config.timezone,
            },
        }
        for name in ("warehouse", "role", "host", "port"):
            if getattr(params, name) is not None:
                options[name] = getattr(params, name)
        try:
            self._client = snowflake.connector.connect(**options)
        except DatabaseError as exc:
            if getattr(exc, "errno", None) in _LOGIN_REFUSED:
                raise AuthenticationError(
                    f"Snowflake refused the login of user {params.user!r} to account "
                    f"{params.account!r}: check the user and password"
                ) from None
            raise ConnectorError(
                f"cannot connect to Snowflake account {params.account!r}: "
                f"{getattr(exc, 'msg', exc)}"
            ) from None
        self._authenticated = True

    def _execute(self, sql: str, values: tuple[Any, ...] = ()) -> Any:
        from snowflake.connector.errors import ProgrammingError

        if not self.is_authenticated:
            self.authenticate()
        cursor = self._client.cursor()
        try:
            cursor.execute(sql, values)
        except ProgrammingError as exc:
            raise SchemaError(
                f"Snowflake could not run a query on {self.table}: {exc.msg}"
            ) from None
        return cursor

    def get_schema(self) -> dict[str, str]:
        """The table's columns and their Snowflake types."""
        if self._columns is None:
            rows = self._execute(f"DESCRIBE TABLE {self.table}").fetchall()
            self._columns = {str(row[0]): str(row[1]) for row in rows}
        return dict(self._columns)

    def _cursor_sql(self) -> tuple[str, str]:
        """The cursor column as a timestamp in SQL, and the type its bounds are cast to."""
        field = self.cursor_field
        assert field is not None
        kind = self.get_schema().get(field, "").upper()
        if field not in self.get_schema():
            raise SchemaError(f"cursor_field {field!r} is not a column of {self.table}")
        column = _quoted(field)
        if kind.startswith(("TIMESTAMP_NTZ", "DATETIME")) or kind in ("TIMESTAMP", "DATE"):
            return column, "TIMESTAMP_NTZ"
        if kind.startswith("TIMESTAMP"):
            return column, "TIMESTAMP_TZ"
        return f"TRY_CAST({column} AS TIMESTAMP_TZ)", "TIMESTAMP_TZ"

    def fetch_batches(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int | None = None,
    ) -> Iterator[RawBatch]:
        """Yield Arrow tables of at most ``batch_size`` rows, in cursor order when there is one.

        The next batch is fetched on a thread of its own while the caller handles this one.
        """
        return read_ahead(self._batches(since, until, batch_size or self.config.batch_size))

    def _batches(
        self, since: datetime | None, until: datetime | None, size: int
    ) -> Iterator[RawBatch]:
        sql = f"SELECT * FROM {self.table}"
        values: list[str] = []
        if self.cursor_field is not None:
            moment, bound_type = self._cursor_sql()
            bounds = []
            for bound, op in ((since, ">="), (until, "<")):
                if bound is not None:
                    bounds.append(f"{moment} {op} %s::{bound_type}")
                    # A wall-clock column holds times in the connector's timezone, as the
                    # watermark read them: its bound is that wall-clock time.
                    values.append(
                        bound.astimezone(zone(self.config.timezone))
                        .replace(tzinfo=None)
                        .isoformat(sep=" ")
                        if bound_type == "TIMESTAMP_NTZ"
                        else bound.astimezone(UTC).isoformat()
                    )
            if bounds:
                sql += f" WHERE ({' AND '.join(bounds)}) OR {moment} IS NULL"
            sql += f" ORDER BY {moment}"
            if self.primary_key:
                sql += f", {_quoted(self.primary_key)}"
        cursor = self._execute(sql, tuple(values))
        try:
            yield from gathered(cursor.fetch_arrow_batches(), size)
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the Snowflake session."""
        if self._client is not None:
            self._client.close()
        self._columns = None
        super().close()


get_registry().register(ConnectorType.SNOWFLAKE, SnowflakeConnector)
