"""Snowflake on loopback: ``fakesnow``'s server, loaded with the brand's POS and loyalty tables.

The real ``snowflake-connector-python`` connects with the params this hands out. Tables are
loaded from Arrow straight into fakesnow's DuckDB (``executemany`` through the connector runs
at a few hundred rows a second). fakesnow keeps one in-memory store per process, so emulators
started in one process share their tables; each load replaces its tables.

Tables, in database ``JUNIPER``: ``TOAST.ORDER_DETAILS`` (the POS export's columns as
UPPER_SNAKE) and ``THANX.PURCHASES`` (``PURCHASE_ID``, ``SETTLEMENT_AMOUNT``,
``PURCHASED_AT``, ``CARDFINGERPRINT``, …), values as the systems write them.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Any

import fakesnow
from growthnav.sandbox.business import LOYALTY, POS, DemoBusiness

# fakesnow's context manager; importing its ``server`` module later shadows the name.
_serve = fakesnow.server

DATABASE = "JUNIPER"
TABLES = {POS: ("TOAST", "ORDER_DETAILS"), LOYALTY: ("THANX", "PURCHASES")}


def upper_snake(name: str) -> str:
    """``"Customer Email"`` -> ``CUSTOMER_EMAIL``; ``"# of Guests"`` -> ``NUMBER_OF_GUESTS``."""
    text = name.replace("#", "number")
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


class SnowflakeEmulator:
    """fakesnow's server with the brand's tables; ``params`` are the connector's kwargs."""

    def __init__(self, business: DemoBusiness) -> None:
        self.business = business
        self.params: dict[str, Any] = {}
        self._server: AbstractContextManager[dict[str, Any]] | None = None

    def start(self) -> SnowflakeEmulator:
        """Start the server and load the tables."""
        self._server = _serve()
        self.params = dict(self._server.__enter__())
        try:
            self._load()
        except BaseException:
            self.stop()
            raise
        self.params.update(database=DATABASE)
        return self

    def _load(self) -> None:
        import fakesnow.server as fakesnow_server
        import snowflake.connector

        # Connecting creates the database and schemas the way fakesnow records them.
        for schema in {s for s, _ in TABLES.values()}:
            snowflake.connector.connect(**self.params, database=DATABASE, schema=schema).close()
        duck = fakesnow_server.shared_fs.duck_conn.cursor()
        try:
            for system, (schema, table) in TABLES.items():
                data = self.business.tables[system]
                renamed = data.rename_columns([upper_snake(n) for n in data.column_names])
                duck.register("incoming", renamed)
                duck.execute(
                    f"CREATE OR REPLACE TABLE {DATABASE}.{schema}.{table} AS SELECT * FROM incoming"
                )
                duck.unregister("incoming")
        finally:
            duck.close()

    def stop(self) -> None:
        """Stop the server."""
        if self._server is not None:
            self._server.__exit__(None, None, None)
            self._server = None

    def table(self, system: str) -> str:
        """The fully qualified table holding ``system``'s records."""
        schema, table = TABLES[system]
        return f"{DATABASE}.{schema}.{table}"

    def __enter__(self) -> SnowflakeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
