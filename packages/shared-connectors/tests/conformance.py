"""The conformance cases: one per connector type, each a live source the suite can drive.

A new adapter joins the suite by adding a case here (a fixture over its sandbox emulator);
``test_conformance.py`` then runs every check against it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from growthnav.connectors import BaseConnector, ConnectorConfig, ConnectorType, get_registry
from sqlite_connector import SQLiteTableConnector, add_rows, make_database, touch_row


@dataclass
class LiveSource:
    """A running source for one case."""

    connector_type: ConnectorType
    config: Callable[..., ConnectorConfig]
    #: A config the source must refuse (wrong credentials, or no such file).
    bad_credentials: Callable[[], ConnectorConfig]
    #: A config missing a required field and holding an unknown one.
    broken: Callable[[], ConnectorConfig]
    #: How many times the source has been contacted so far.
    contacts: Callable[[], int]
    #: Add ``n`` new records; returns their primary keys.
    add_records: Callable[[int], set[str]]
    #: Change one existing record (moving its cursor past every other); returns its key.
    change_record: Callable[[], str]
    #: Every record's primary key, as the source holds them.
    all_keys: Callable[[], set[str]]
    #: A credential value that must never be seen outside the secret store (None: none).
    secret: str | None


@dataclass(frozen=True)
class ConformanceCase:
    """How to start one connector type's source for the suite."""

    name: str
    start: Callable[[Path], Any]
    #: The registered connector type the case exercises (None: a test-only adapter).
    covers: ConnectorType | None = None


@contextmanager
def counting_logins(connector_type: ConnectorType) -> Iterator[Callable[[], int]]:
    """Register the type's adapter with its logins counted; yields the count's reader.

    The registry gets the real adapter back on exit.
    """
    registry = get_registry()
    real = registry.get(connector_type)
    assert real is not None
    logins = {"count": 0}

    def authenticate(self: BaseConnector) -> None:
        logins["count"] += 1
        real.authenticate(self)

    registry.register(
        connector_type, type(f"Counting{real.__name__}", (real,), {"authenticate": authenticate})
    )
    try:
        yield lambda: logins["count"]
    finally:
        registry.register(connector_type, real)


def _borrowed_type() -> ConnectorType:
    registry = get_registry()
    return next(t for t in reversed(ConnectorType) if not registry.is_registered(t))


@contextmanager
def sqlite_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The framework's own test adapter, registered under a connector type no adapter uses."""
    database = tmp_path / "pos.sqlite"
    make_database(database, 230)
    borrowed = _borrowed_type()
    adapter: type[BaseConnector] = type(
        "SQLiteTableConnector", (SQLiteTableConnector,), {"connector_type": borrowed}
    )
    registry = get_registry()
    registry.register(borrowed, adapter)
    added = {"next": 230}

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": borrowed,
            "customer_id": "acme-burgers",
            "name": "POS purchases",
            "credentials": {"password": "s3cret-pass"},
            "connection_params": {"database": str(database), "page_size": 40},
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def add_records(n: int) -> set[str]:
        start = added["next"]
        add_rows(database, start, n)
        added["next"] += n
        return {f"P{i:05d}" for i in range(start, start + n)}

    def change_record() -> str:
        later = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=added["next"] + 60)
        touch_row(database, 3, amount="$99.00", at=later)
        return "P00003"

    try:
        yield LiveSource(
            connector_type=borrowed,
            config=config,
            bad_credentials=lambda: config(credentials={"password": "wrong-pass"}),
            broken=lambda: config(
                credentials={},
                connection_params={"databse": str(tmp_path / "nowhere.sqlite")},
            ),
            contacts=lambda: adapter.connections_opened,  # type: ignore[attr-defined]
            add_records=add_records,
            change_record=change_record,
            all_keys=lambda: {f"P{i:05d}" for i in range(added["next"])},
            secret="s3cret-pass",
        )
    finally:
        registry.unregister(borrowed)


@contextmanager
def file_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The file connector over a directory of nightly CSV exports."""
    exports = tmp_path / "exports"
    exports.mkdir()
    stack = ExitStack()
    contacts = stack.enter_context(counting_logins(ConnectorType.FILE))
    state = {"next": 0, "files": 0}

    def write_export(start: int, count: int) -> set[str]:
        state["files"] += 1
        lines = ["purchase_id,purchased_at,amount,email,updated_at"]
        for i in range(start, start + count):
            stamp = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=i)
            amount = "N/A" if i == 7 else f"${i % 50 + 1}.25"
            at = stamp.isoformat()
            lines.append(f"P{i:05d},{at},{amount},guest{i % 9}@example.com,{at}")
        (exports / f"purchases-{state['files']:03d}.csv").write_text("\n".join(lines) + "\n")
        state["next"] = start + count
        return {f"P{i:05d}" for i in range(start, start + count)}

    write_export(0, 230)

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": ConnectorType.FILE,
            "customer_id": "acme-burgers",
            "name": "POS exports",
            "connection_params": {
                "path": str(exports),
                "cursor_field": "updated_at",
                "primary_key": "purchase_id",
            },
            "field_overrides": {
                "purchase_id": "transaction_id",
                "purchased_at": "timestamp",
                "amount": "value",
                "email": "email",
            },
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def change_record() -> str:
        later = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=state["next"] + 60)
        (exports / "purchases-999-correction.csv").write_text(
            "purchase_id,purchased_at,amount,email,updated_at\n"
            f"P00003,2024-01-01T00:03:00+00:00,$99.00,guest3@example.com,{later.isoformat()}\n"
        )
        return "P00003"

    try:
        yield LiveSource(
            connector_type=ConnectorType.FILE,
            config=config,
            bad_credentials=lambda: config(
                connection_params={"path": str(tmp_path / "missing" / "*.csv")}
            ),
            broken=lambda: config(connection_params={"paht": str(exports)}),
            contacts=contacts,
            add_records=lambda n: write_export(state["next"], n),
            change_record=change_record,
            all_keys=lambda: {f"P{i:05d}" for i in range(state["next"])},
            secret=None,
        )
    finally:
        stack.close()


def _purchase_values(start: int, count: int) -> str:
    rows = []
    for i in range(start, start + count):
        stamp = datetime(2024, 1, 1) + timedelta(minutes=i)
        amount = "N/A" if i == 7 else f"${i % 50 + 1}.25"
        rows.append(
            f"('P{i:05d}', '{stamp.isoformat()}Z', '{amount}', 'guest{i % 9}@example.com', "
            f"'{stamp.isoformat(sep=' ')}')"
        )
    return ", ".join(rows)


@contextmanager
def snowflake_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The Snowflake connector over a table in the sandbox's Snowflake (fakesnow's server)."""
    import snowflake.connector
    from growthnav.sandbox import generate_business
    from growthnav.sandbox.snowflake import SnowflakeEmulator

    secret = "sf-pass-9f31c"
    emulator = SnowflakeEmulator(generate_business(people=20, seed=3), password=secret).start()
    stack = ExitStack()
    contacts = stack.enter_context(counting_logins(ConnectorType.SNOWFLAKE))
    admin = snowflake.connector.connect(**emulator.params, schema="POS")
    cursor = admin.cursor()
    cursor.execute(
        "CREATE OR REPLACE TABLE PURCHASES (PURCHASE_ID VARCHAR, PURCHASED_AT VARCHAR, "
        "AMOUNT VARCHAR, EMAIL VARCHAR, UPDATED_AT TIMESTAMP_NTZ)"
    )
    cursor.execute(f"INSERT INTO PURCHASES VALUES {_purchase_values(0, 230)}")
    state = {"next": 230}

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": ConnectorType.SNOWFLAKE,
            "customer_id": "acme-burgers",
            "name": "POS purchases (Snowflake)",
            "credentials": {"password": secret},
            "connection_params": {
                "account": "sandbox",
                "user": emulator.user,
                "host": "127.0.0.1",
                "port": emulator.params["port"],
                "protocol": "http",
                "network_timeout": 5,
                "database": "JUNIPER",
                "schema_name": "POS",
                "table": "PURCHASES",
                "cursor_field": "UPDATED_AT",
                "primary_key": "PURCHASE_ID",
            },
            "field_overrides": {
                "PURCHASE_ID": "transaction_id",
                "PURCHASED_AT": "timestamp",
                "AMOUNT": "value",
                "EMAIL": "email",
            },
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def add_records(n: int) -> set[str]:
        start = state["next"]
        cursor.execute(f"INSERT INTO PURCHASES VALUES {_purchase_values(start, n)}")
        state["next"] += n
        return {f"P{i:05d}" for i in range(start, start + n)}

    def change_record() -> str:
        later = datetime(2024, 1, 1) + timedelta(minutes=state["next"] + 60)
        cursor.execute(
            "UPDATE PURCHASES SET AMOUNT = '$99.00', UPDATED_AT = %s::TIMESTAMP_NTZ "
            "WHERE PURCHASE_ID = 'P00003'",
            (later.isoformat(sep=" "),),
        )
        return "P00003"

    try:
        yield LiveSource(
            connector_type=ConnectorType.SNOWFLAKE,
            config=config,
            bad_credentials=lambda: config(credentials={"password": "wrong-pass"}),
            broken=lambda: config(connection_params={"acount": "sandbox", "user": "x"}),
            contacts=contacts,
            add_records=add_records,
            change_record=change_record,
            all_keys=lambda: {f"P{i:05d}" for i in range(state["next"])},
            secret=secret,
        )
    finally:
        admin.close()
        stack.close()
        emulator.stop()


def _olo_order(i: int, created: datetime, total: float) -> dict[str, Any]:
    return {
        "orderId": f"P{i:05d}",
        "brandId": "acme",
        "posRef": None,
        "storeNumber": f"{1001 + i % 3}",
        "timePlaced": created.strftime("%Y%m%d %H:%M"),
        "storeUtcOffset": "+00:00",
        "createdAt": created.isoformat().replace("+00:00", "Z"),
        "customer": {
            "customerId": f"C{i % 40}",
            "email": f"guest{i % 9}@example.com",
            "firstName": "Ana",
            "lastName": "Lee",
            "contactNumber": "(212) 555-0100",
            "membershipNumber": None,
        },
        "subtotal": total,
        "tax": 0.0,
        "tip": 0.0,
        "total": total,
        "items": [{"productId": "P100", "name": "Burrito", "quantity": 1, "price": total}],
    }


@contextmanager
def olo_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The Olo connector over the sandbox's Olo order API."""
    from growthnav.sandbox import OloEmulator

    secret = "olo-key-5c2e8a"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    orders = [_olo_order(i, start + timedelta(minutes=i), i % 50 + 1.25) for i in range(230)]
    emulator = OloEmulator(orders, api_key=secret, brand_id="acme").start()
    stack = ExitStack()
    contacts = stack.enter_context(counting_logins(ConnectorType.OLO))
    state = {"next": 230}

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": ConnectorType.OLO,
            "customer_id": "acme-burgers",
            "name": "Olo orders",
            "credentials": {"api_key": secret},
            "connection_params": {"base_url": emulator.url, "brand_id": "acme", "page_size": 40},
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def add_records(n: int) -> set[str]:
        first = state["next"]
        for i in range(first, first + n):
            emulator.publish(_olo_order(i, start + timedelta(minutes=i), 9.5))
        state["next"] += n
        return {f"P{i:05d}" for i in range(first, first + n)}

    def change_record() -> str:
        # An order re-submitted later (an edit after placing) carries a new creation time.
        later = start + timedelta(minutes=state["next"] + 60)
        emulator.publish(_olo_order(3, later, 99.0))
        return "P00003"

    try:
        yield LiveSource(
            connector_type=ConnectorType.OLO,
            config=config,
            bad_credentials=lambda: config(credentials={"api_key": "wrong-key"}),
            broken=lambda: config(connection_params={"base_ulr": emulator.url}),
            contacts=contacts,
            add_records=add_records,
            change_record=change_record,
            all_keys=lambda: {f"P{i:05d}" for i in range(state["next"])},
            secret=secret,
        )
    finally:
        stack.close()
        emulator.stop()


def _hubspot_deal(i: int, modified: datetime, amount: str) -> dict[str, Any]:
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "id": f"{9000 + i}",
        "properties": {
            "hs_object_id": f"{9000 + i}",
            "dealname": f"Lee catering {i}",
            "amount": amount,
            "closedate": stamp,
            "createdate": stamp,
            "hs_lastmodifieddate": stamp,
            "dealstage": "closedwon",
            "pipeline": "default",
        },
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
    }


@contextmanager
def hubspot_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The HubSpot connector over the sandbox's CRM v3 emulator (deals)."""
    from growthnav.sandbox import HubSpotEmulator

    secret = "pat-na1-4f0a1c"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    deals = [_hubspot_deal(i, start + timedelta(minutes=i), f"{i % 50 + 1}.25") for i in range(230)]
    emulator = HubSpotEmulator(
        {"deals": deals, "contacts": []}, access_token=secret, burst_limit=10_000
    ).start()
    stack = ExitStack()
    contacts = stack.enter_context(counting_logins(ConnectorType.HUBSPOT))
    state = {"next": 230}

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": ConnectorType.HUBSPOT,
            "customer_id": "acme-burgers",
            "name": "HubSpot deals",
            "credentials": {"access_token": secret},
            "connection_params": {"host": emulator.url, "page_size": 40},
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def add_records(n: int) -> set[str]:
        first = state["next"]
        for i in range(first, first + n):
            deals.append(_hubspot_deal(i, start + timedelta(minutes=i), "9.50"))
        state["next"] += n
        return {f"{9000 + i}" for i in range(first, first + n)}

    def change_record() -> str:
        later = start + timedelta(minutes=state["next"] + 60)
        changed = _hubspot_deal(3, later, "99.00")
        changed["properties"]["closedate"] = deals[3]["properties"]["closedate"]
        deals[3] = changed
        return "9003"

    try:
        yield LiveSource(
            connector_type=ConnectorType.HUBSPOT,
            config=config,
            bad_credentials=lambda: config(credentials={"access_token": "pat-wrong"}),
            broken=lambda: config(credentials={}, connection_params={"hots": emulator.url}),
            contacts=contacts,
            add_records=add_records,
            change_record=change_record,
            all_keys=lambda: {f"{9000 + i}" for i in range(state["next"])},
            secret=secret,
        )
    finally:
        stack.close()
        emulator.stop()


def _zoho_deal(i: int, modified: datetime, amount: float) -> dict[str, Any]:
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return {
        "id": f"4{i:017d}",
        "Deal_Name": f"Lee catering {i}",
        "Amount": amount,
        "Stage": "Closed Won",
        "Closing_Date": modified.date().isoformat(),
        "Created_Time": stamp,
        "Modified_Time": stamp,
        "Contact_Name": {"id": f"5{i % 40:017d}", "name": "Ana Lee"},
        "Owner": {"id": "3" + "0" * 17, "name": "Casey Tran"},
    }


@contextmanager
def zoho_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The Zoho connector over the sandbox's Zoho data centre (accounts and API servers)."""
    from growthnav.sandbox import ZohoDataCentre

    secret = "1000.zoho-refresh-8d2c61"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    deals = [_zoho_deal(i, start + timedelta(minutes=i), i % 50 + 1.25) for i in range(230)]
    centre = ZohoDataCentre(
        {"Deals": deals, "Contacts": []}, client_secret="zoho-client-secret", refresh_token=secret
    ).start()
    stack = ExitStack()
    contacts = stack.enter_context(counting_logins(ConnectorType.ZOHO))
    state = {"next": 230}

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": ConnectorType.ZOHO,
            "customer_id": "acme-burgers",
            "name": "Zoho deals",
            "credentials": {"client_secret": "zoho-client-secret", "refresh_token": secret},
            "connection_params": {
                "client_id": centre.accounts.client_id,
                "data_centre": "eu",
                "accounts_url": centre.accounts.url,
                "per_page": 40,
            },
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def resort() -> None:
        deals.sort(key=lambda d: (d["Modified_Time"], d["id"]))

    def add_records(n: int) -> set[str]:
        first = state["next"]
        deals.extend(
            _zoho_deal(i, start + timedelta(minutes=i), 9.5) for i in range(first, first + n)
        )
        resort()
        state["next"] += n
        return {f"4{i:017d}" for i in range(first, first + n)}

    def change_record() -> str:
        later = start + timedelta(minutes=state["next"] + 60)
        key = f"4{3:017d}"
        deals[:] = [d for d in deals if d["id"] != key]
        changed = _zoho_deal(3, later, 99.0)
        changed["Closing_Date"] = start.date().isoformat()
        deals.append(changed)
        resort()
        return key

    try:
        yield LiveSource(
            connector_type=ConnectorType.ZOHO,
            config=config,
            bad_credentials=lambda: config(
                credentials={"client_secret": "zoho-client-secret", "refresh_token": "1000.bad"}
            ),
            broken=lambda: config(connection_params={"client_ic": "x"}),
            contacts=contacts,
            add_records=add_records,
            change_record=change_record,
            all_keys=lambda: {f"4{i:017d}" for i in range(state["next"])},
            secret=secret,
        )
    finally:
        stack.close()
        centre.stop()


def _opportunity(i: int, modified: datetime, amount: float) -> dict[str, Any]:
    stamp = modified.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "Id": f"006{i:012d}AAA",
        "Name": f"Lee catering {i}",
        "Amount": amount,
        "StageName": "Closed Won",
        "CloseDate": modified.date().isoformat(),
        "ContactId": f"003{i % 40:012d}AAA",
        "LeadSource": "Catering Inquiry",
        "CreatedDate": stamp,
        "LastModifiedDate": stamp,
        "SystemModstamp": stamp,
        "IsDeleted": False,
    }


@contextmanager
def salesforce_source(tmp_path: Path) -> Iterator[LiveSource]:
    """The Salesforce connector over the sandbox's REST emulator (TLS), Opportunities."""
    from growthnav.sandbox import SalesforceEmulator

    secret = "00Dconformance!session-5e1f"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    opportunities = [
        _opportunity(i, start + timedelta(minutes=i), i % 50 + 1.25) for i in range(230)
    ]
    emulator = SalesforceEmulator(
        {"Lead": [], "Contact": [], "Opportunity": opportunities}, session_id=secret, page_size=50
    ).start()
    stack = ExitStack()
    contacts = stack.enter_context(counting_logins(ConnectorType.SALESFORCE))
    state = {"next": 230}

    def config(**overrides: Any) -> ConnectorConfig:
        values: dict[str, Any] = {
            "connector_type": ConnectorType.SALESFORCE,
            "customer_id": "acme-burgers",
            "name": "Salesforce opportunities",
            "credentials": {"session_id": secret},
            "connection_params": {"instance_url": emulator.url, "ca_file": str(emulator.ca_path)},
            "batch_size": 64,
        }
        values.update(overrides)
        return ConnectorConfig(**values)

    def add_records(n: int) -> set[str]:
        first = state["next"]
        opportunities.extend(
            _opportunity(i, start + timedelta(minutes=i), 9.5) for i in range(first, first + n)
        )
        state["next"] += n
        return {f"006{i:012d}AAA" for i in range(first, first + n)}

    def change_record() -> str:
        later = start + timedelta(minutes=state["next"] + 60)
        changed = _opportunity(3, later, 99.0)
        changed["CloseDate"] = start.date().isoformat()
        opportunities[3] = changed
        return str(changed["Id"])

    try:
        yield LiveSource(
            connector_type=ConnectorType.SALESFORCE,
            config=config,
            bad_credentials=lambda: config(credentials={"session_id": "00Dwrong!session"}),
            broken=lambda: config(credentials={}, connection_params={"instance_ulr": "x"}),
            contacts=contacts,
            add_records=add_records,
            change_record=change_record,
            all_keys=lambda: {f"006{i:012d}AAA" for i in range(state["next"])},
            secret=secret,
        )
    finally:
        stack.close()
        emulator.stop()


CASES = [
    ConformanceCase("sqlite-test-adapter", sqlite_source),
    ConformanceCase("file-csv-exports", file_source, ConnectorType.FILE),
    ConformanceCase("snowflake-table", snowflake_source, ConnectorType.SNOWFLAKE),
    ConformanceCase("olo-order-api", olo_source, ConnectorType.OLO),
    ConformanceCase("hubspot-deals", hubspot_source, ConnectorType.HUBSPOT),
    ConformanceCase("zoho-deals", zoho_source, ConnectorType.ZOHO),
    ConformanceCase("salesforce-opportunities", salesforce_source, ConnectorType.SALESFORCE),
]
