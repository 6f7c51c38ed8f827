"""Snowflake on loopback: ``fakesnow``'s server, loaded with the brand's POS and loyalty tables.

The real ``snowflake-connector-python`` connects with the params this hands out. In front of
fakesnow's app sits a gate that checks the login's user and password (a wrong one gets
Snowflake's 390100 "Incorrect username or password") and injects ``faults`` into queries (an
HTTP status, or a dropped connection). Tables are loaded from Arrow straight into fakesnow's
DuckDB (``executemany`` through the connector runs at a few hundred rows a second). fakesnow
keeps one in-memory store per process, so emulators started in one process share their
tables; each load replaces its tables.

Tables, in database ``JUNIPER``: ``TOAST.ORDER_DETAILS`` (the POS export's columns as
UPPER_SNAKE) and ``THANX.PURCHASES`` (``PURCHASE_ID``, ``SETTLEMENT_AMOUNT``,
``PURCHASED_AT``, ``CARDFINGERPRINT``, …), values as the systems write them.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
from typing import Any

from growthnav.sandbox.business import LOYALTY, POS, DemoBusiness
from growthnav.sandbox.loopback import Faults

DATABASE = "JUNIPER"
TABLES = {POS: ("TOAST", "ORDER_DETAILS"), LOYALTY: ("THANX", "PURCHASES")}


def upper_snake(name: str) -> str:
    """``"Customer Email"`` -> ``CUSTOMER_EMAIL``; ``"# of Guests"`` -> ``NUMBER_OF_GUESTS``."""
    text = name.replace("#", "number")
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()


class _Gate:
    """ASGI middleware: the login check and fault injection in front of fakesnow's app."""

    def __init__(self, app: Any, emulator: SnowflakeEmulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/queries/v1/query-request":
            self.emulator.query_requests += 1
            fault = self.emulator.faults.draw()
            if fault is not None:
                if fault.kind == "drop":
                    raise ConnectionAbortedError("fault: dropped connection")
                await _json(send, fault.status, {"message": "fault", "success": False})
                return
        if path != "/session/v1/login-request":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        text = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
        data = json.loads(text or b"{}").get("data", {})
        if (data.get("LOGIN_NAME"), data.get("PASSWORD")) != (
            self.emulator.user,
            self.emulator.password,
        ):
            await _json(
                send,
                200,
                {
                    "data": None,
                    "code": "390100",
                    "message": "Incorrect username or password was specified.",
                    "success": False,
                },
            )
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _json(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(data)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class SnowflakeEmulator:
    """fakesnow's app behind a login check and faults; ``params`` are the connector's kwargs."""

    def __init__(
        self, business: DemoBusiness, *, user: str = "growthnav", password: str = "sandbox-pass"
    ) -> None:
        self.business = business
        self.user = user
        self.password = password
        self.faults = Faults()
        #: Query requests received (a retried query counts each attempt).
        self.query_requests = 0
        self.params: dict[str, Any] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> SnowflakeEmulator:
        """Start the server (a free loopback port) and load the tables."""
        import fakesnow.server as fakesnow_server
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(
            _Gate(fakesnow_server.app, self), host="127.0.0.1", port=port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        ready = threading.Event()
        while self._thread.is_alive() and not self._server.started:
            ready.wait(0.02)  # uvicorn offers no start callback; this polls its flag
        if not self._server.started:
            raise RuntimeError("the Snowflake emulator did not start")
        self.params = {
            "user": self.user,
            "password": self.password,
            "account": "sandbox",
            "host": "127.0.0.1",
            "port": port,
            "protocol": "http",
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
            "network_timeout": 5,
        }
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
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._server = None

    def table(self, system: str) -> str:
        """The fully qualified table holding ``system``'s records."""
        schema, table = TABLES[system]
        return f"{DATABASE}.{schema}.{table}"

    def __enter__(self) -> SnowflakeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
