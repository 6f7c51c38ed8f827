"""Connector storage: saved configs, sync state and sync-run history (SQLite by default).

One file, ``$GROWTHNAV_HOME/registry.db``, opened per operation in WAL mode so a CLI sync and
an MCP server can share it. Configs are stored without credential values: saving a config
with inline credentials moves them to the secret store and keeps only the reference.
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from growthnav.connectors.config import (
    ConnectorConfig,
    ConnectorType,
    SyncMode,
    SyncSchedule,
)
from growthnav.connectors.secrets import (
    FileSecretStore,
    SecretStore,
    secret_name,
    split_reference,
)
from growthnav.warehouse import growthnav_home

_SETTINGS = ("batch_size", "lookback_seconds", "timezone", "default_currency", "phone_region")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS connectors (
    connector_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    connector_type TEXT NOT NULL,
    name TEXT NOT NULL,
    connection_params TEXT NOT NULL DEFAULT '{}',
    field_overrides TEXT NOT NULL DEFAULT '{}',
    sync_mode TEXT NOT NULL DEFAULT 'incremental',
    sync_schedule TEXT NOT NULL DEFAULT 'daily',
    last_sync TEXT,
    last_sync_cursor TEXT,
    credentials_secret_path TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    error_message TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connectors_by_customer ON connectors (customer_id);
CREATE TABLE IF NOT EXISTS sync_state (
    connector_id TEXT PRIMARY KEY,
    cursor TEXT,
    tiebreak TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    connector_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    mode TEXT NOT NULL,
    success INTEGER NOT NULL,
    records_fetched INTEGER NOT NULL DEFAULT 0,
    records_loaded INTEGER NOT NULL DEFAULT 0,
    records_unchanged INTEGER NOT NULL DEFAULT 0,
    records_rejected TEXT NOT NULL DEFAULT '{}',
    cursor_before TEXT,
    cursor_after TEXT,
    schema_drift TEXT NOT NULL DEFAULT '{}',
    error TEXT
);
CREATE INDEX IF NOT EXISTS sync_runs_by_connector ON sync_runs (connector_id, run_id);
CREATE TABLE IF NOT EXISTS source_schemas (
    connector_id TEXT PRIMARY KEY,
    columns TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class SyncState:
    """Where a connector's next incremental sync resumes: the data high-watermark."""

    connector_id: str
    cursor: str | None
    tiebreak: str | None
    updated_at: datetime


@dataclass
class SyncRun:
    """One sync's record: counts, rejects by reason, cursor movement, drift and error."""

    connector_id: str
    started_at: datetime
    mode: SyncMode
    success: bool = False
    finished_at: datetime | None = None
    records_fetched: int = 0
    records_loaded: int = 0
    records_unchanged: int = 0
    records_rejected: dict[str, int] = field(default_factory=dict)
    cursor_before: str | None = None
    cursor_after: str | None = None
    schema_drift: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    run_id: int | None = None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-") or "connector"


class ConnectorStorage:
    """Saved connector configs, their sync state and run history, in SQLite."""

    def __init__(self, path: Path | str | None = None, *, secrets: SecretStore | None = None):
        self.path = Path(path) if path is not None else growthnav_home() / "registry.db"
        self.secrets = secrets if secrets is not None else FileSecretStore()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.row_factory = sqlite3.Row
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            with connection:
                yield connection
        finally:
            connection.close()

    # -- configs ---------------------------------------------------------------------------

    def save(self, config: ConnectorConfig) -> str:
        """Store a new config; returns its id (readable, stable, unique in this registry).

        Inline credentials move to the secret store first; the stored row keeps only the
        reference, and ``config`` is updated to match.
        """
        with self._connect() as connection:
            taken = {row[0] for row in connection.execute("SELECT connector_id FROM connectors")}
            connector_id = config.connector_id or readable_id(config, taken)
            if connection.execute(
                "SELECT 1 FROM connectors WHERE connector_id = ?", (connector_id,)
            ).fetchone():
                raise ValueError(
                    f"connector {connector_id!r} is already saved; use update() to change it"
                )
            config.connector_id = connector_id
            move_credentials(config, self.secrets)
            now = _now()
            connection.execute(
                "INSERT INTO connectors (connector_id, customer_id, connector_type, name, "
                "connection_params, field_overrides, sync_mode, sync_schedule, last_sync, "
                "last_sync_cursor, credentials_secret_path, is_active, error_message, settings, "
                "created_at, updated_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*self._row(config), now, now),
            )
        return connector_id

    def update(self, config: ConnectorConfig) -> None:
        """Replace a saved config (matched by ``connector_id``)."""
        if not config.connector_id:
            raise ValueError("config has no connector_id: save() it first")
        move_credentials(config, self.secrets)
        with self._connect() as connection:
            changed = connection.execute(
                "UPDATE connectors SET connector_id = ?, customer_id = ?, connector_type = ?, "
                "name = ?, connection_params = ?, field_overrides = ?, sync_mode = ?, "
                "sync_schedule = ?, last_sync = ?, last_sync_cursor = ?, "
                "credentials_secret_path = ?, is_active = ?, error_message = ?, settings = ?, "
                "updated_at = ? WHERE connector_id = ?",
                (*self._row(config), _now(), config.connector_id),
            ).rowcount
        if not changed:
            raise KeyError(f"connector {config.connector_id!r} is not saved")

    def get(self, connector_id: str) -> ConnectorConfig | None:
        """The saved config, or None."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT * FROM connectors WHERE connector_id = ?", (connector_id,)
            ).fetchone()
        return None if row is None else config_from_values(row)

    def list(self, customer_id: str | None = None) -> list[ConnectorConfig]:
        """Saved configs, all or one customer's, by id."""
        with self._connect() as connection:
            if customer_id is None:
                rows = connection.execute("SELECT * FROM connectors ORDER BY connector_id")
            else:
                rows = connection.execute(
                    "SELECT * FROM connectors WHERE customer_id = ? ORDER BY connector_id",
                    (customer_id,),
                )
            return [config_from_values(row) for row in rows.fetchall()]

    def delete(self, connector_id: str) -> bool:
        """Remove a config, its state, runs and stored secret; False when it was not saved."""
        config = self.get(connector_id)
        if config is None:
            return False
        with self._connect() as connection:
            for table in ("connectors", "sync_state", "sync_runs", "source_schemas"):
                connection.execute(f"DELETE FROM {table} WHERE connector_id = ?", (connector_id,))
        reference = config.credentials_secret_path
        if reference:
            scheme, name = split_reference(reference)
            if scheme == self.secrets.scheme and name == secret_name(
                config.customer_id, connector_id
            ):
                self.secrets.delete(name)
        return True

    # -- state and runs --------------------------------------------------------------------

    def state(self, connector_id: str) -> SyncState | None:
        """Where the connector's next incremental sync resumes, or None before the first."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT * FROM sync_state WHERE connector_id = ?", (connector_id,)
            ).fetchone()
        if row is None:
            return None
        return SyncState(
            row["connector_id"],
            row["cursor"],
            row["tiebreak"],
            datetime.fromisoformat(row["updated_at"]),
        )

    def checkpoint(
        self, connector_id: str, cursor: str | None, tiebreak: str | None = None
    ) -> None:
        """Record the high-watermark the warehouse now holds (after the load, never before)."""
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO sync_state (connector_id, cursor, tiebreak, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (connector_id) DO UPDATE SET "
                "cursor = excluded.cursor, tiebreak = excluded.tiebreak, "
                "updated_at = excluded.updated_at",
                (connector_id, cursor, tiebreak, _now()),
            )
            connection.execute(
                "UPDATE connectors SET last_sync_cursor = ?, updated_at = ? WHERE connector_id = ?",
                (cursor, _now(), connector_id),
            )

    @staticmethod
    def _row(config: ConnectorConfig) -> tuple[Any, ...]:
        values = config_values(config)
        values["is_active"] = int(values["is_active"])
        return tuple(values.values())

    def source_schema(self, connector_id: str) -> dict[str, str] | None:
        """The source's columns as of the last successful sync, or None."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT columns FROM source_schemas WHERE connector_id = ?", (connector_id,)
            ).fetchone()
        if row is None:
            return None
        columns: dict[str, str] = json.loads(row["columns"])
        return columns

    def save_source_schema(self, connector_id: str, columns: dict[str, str]) -> None:
        """Remember the source's columns (after a successful sync)."""
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO source_schemas (connector_id, columns, seen_at) VALUES (?, ?, ?) "
                "ON CONFLICT (connector_id) DO UPDATE SET columns = excluded.columns, "
                "seen_at = excluded.seen_at",
                (connector_id, json.dumps(columns), _now()),
            )

    def record_run(self, run: SyncRun) -> int:
        """Append a run to the history; returns its id."""
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO sync_runs (connector_id, started_at, finished_at, mode, success, "
                "records_fetched, records_loaded, records_unchanged, records_rejected, "
                "cursor_before, cursor_after, schema_drift, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.connector_id,
                    run.started_at.isoformat(),
                    run.finished_at.isoformat() if run.finished_at else None,
                    SyncMode(run.mode).value,
                    int(run.success),
                    run.records_fetched,
                    run.records_loaded,
                    run.records_unchanged,
                    json.dumps(run.records_rejected, sort_keys=True),
                    run.cursor_before,
                    run.cursor_after,
                    json.dumps(run.schema_drift, sort_keys=True),
                    run.error,
                ),
            )
            if run.success and run.finished_at:
                connection.execute(
                    "UPDATE connectors SET last_sync = ?, error_message = NULL "
                    "WHERE connector_id = ?",
                    (run.finished_at.isoformat(), run.connector_id),
                )
            elif run.error:
                connection.execute(
                    "UPDATE connectors SET error_message = ? WHERE connector_id = ?",
                    (run.error, run.connector_id),
                )
            run.run_id = int(cursor.lastrowid or 0)
        return run.run_id

    def runs(self, connector_id: str, limit: int = 20) -> builtins.list[SyncRun]:
        """The connector's most recent runs, newest first."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT * FROM sync_runs WHERE connector_id = ? ORDER BY run_id DESC LIMIT ?",
                (connector_id, limit),
            ).fetchall()
        return [run_from_values(row) for row in rows]


# -- rows shared by the storage backends -------------------------------------------------------


def readable_id(config: ConnectorConfig, taken: set[str]) -> str:
    """``{type}-{name}`` as a slug, with ``-2``, ``-3``... when the registry already has it."""
    base = _slug(f"{config.connector_type.value} {config.name}")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def move_credentials(config: ConnectorConfig, secrets: SecretStore) -> None:
    """Put inline credentials in the secret store; the config keeps only the reference."""
    if not config.credentials:
        return
    assert config.connector_id is not None
    name = secret_name(config.customer_id, config.connector_id)
    values = {k: str(v) for k, v in config.credentials.items()}
    config.credentials_secret_path = secrets.write(name, values)
    config.credentials = {}


def config_values(config: ConnectorConfig) -> dict[str, Any]:
    """A config as stored: JSON text for the mappings, no credential values."""
    return {
        "connector_id": config.connector_id,
        "customer_id": config.customer_id,
        "connector_type": config.connector_type.value,
        "name": config.name,
        "connection_params": json.dumps(config.connection_params, sort_keys=True, default=str),
        "field_overrides": json.dumps(config.field_overrides),
        "sync_mode": config.sync_mode.value,
        "sync_schedule": config.sync_schedule.value,
        "last_sync": config.last_sync.isoformat() if config.last_sync else None,
        "last_sync_cursor": config.last_sync_cursor,
        "credentials_secret_path": config.credentials_secret_path,
        "is_active": config.is_active,
        "error_message": config.error_message,
        "settings": json.dumps({name: getattr(config, name) for name in _SETTINGS}),
    }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or {})


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def config_from_values(row: Mapping[str, Any]) -> ConnectorConfig:
    """A stored row back as a config."""
    settings = _json(row["settings"])
    return ConnectorConfig(
        connector_type=ConnectorType(row["connector_type"]),
        customer_id=row["customer_id"],
        name=row["name"],
        credentials_secret_path=row["credentials_secret_path"],
        connection_params=_json(row["connection_params"]),
        field_overrides=_json(row["field_overrides"]),
        sync_mode=SyncMode(row["sync_mode"]),
        sync_schedule=SyncSchedule(row["sync_schedule"]),
        last_sync=_moment(row["last_sync"]),
        last_sync_cursor=row["last_sync_cursor"],
        is_active=bool(row["is_active"]),
        error_message=row["error_message"],
        connector_id=row["connector_id"],
        **{k: v for k, v in settings.items() if k in _SETTINGS},
    )


def run_from_values(row: Mapping[str, Any]) -> SyncRun:
    """A stored sync-run row back as a SyncRun."""
    started = _moment(row["started_at"])
    assert started is not None
    return SyncRun(
        connector_id=row["connector_id"],
        started_at=started,
        finished_at=_moment(row["finished_at"]),
        mode=SyncMode(row["mode"]),
        success=bool(row["success"]),
        records_fetched=row["records_fetched"],
        records_loaded=row["records_loaded"],
        records_unchanged=row["records_unchanged"],
        records_rejected=_json(row["records_rejected"]),
        cursor_before=row["cursor_before"],
        cursor_after=row["cursor_after"],
        schema_drift=_json(row["schema_drift"]),
        error=row["error"],
        run_id=row["run_id"],
    )
