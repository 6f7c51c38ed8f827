"""The Zoho connector against the sandbox's data centre: page tokens, token expiry, 304."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conformance import _zoho_deal
from growthnav.connectors import ConnectorConfig, ConnectorType, get_registry
from growthnav.sandbox import ZohoDataCentre

REFRESH = "1000.refresh-test-0b7e"


def config(centre: ZohoDataCentre) -> ConnectorConfig:
    return ConnectorConfig(
        connector_type=ConnectorType.ZOHO,
        customer_id="acme-burgers",
        name="Zoho deals",
        credentials={"client_secret": centre.accounts.client_secret, "refresh_token": REFRESH},
        connection_params={
            "client_id": centre.accounts.client_id,
            "data_centre": "eu",
            "accounts_url": centre.accounts.url,
            "per_page": 50,
        },
    )


def test_pages_past_the_page_limit_and_through_an_expired_token() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    deals = [_zoho_deal(i, start + timedelta(minutes=i), 5.0) for i in range(400)]
    with ZohoDataCentre(
        {"Deals": deals, "Contacts": []}, refresh_token=REFRESH, page_records_max=100
    ) as centre:
        connector = get_registry().create(config(centre))
        records = []
        for record in connector.fetch_records():
            records.append(record)
            if len(records) == 120:
                centre.accounts.expire_all()  # the next page meets 401 INVALID_TOKEN
        connector.close()
        tokens = [r for r in centre.accounts.requests if r.path == "/oauth/v2/token"]
        pages = [r for r in centre.api.requests if r.path == "/crm/v3/Deals"]
    assert [r["id"] for r in records] == [d["id"] for d in deals]
    assert records[0]["Contact_Name.id"] == deals[0]["Contact_Name"]["id"]
    assert len(tokens) == 2  # the first login, then one refresh
    assert any("page_token" in r.query for r in pages)


def test_nothing_modified_since_the_cursor_reads_nothing() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    deals = [_zoho_deal(i, start + timedelta(minutes=i), 5.0) for i in range(10)]
    with ZohoDataCentre({"Deals": deals, "Contacts": []}, refresh_token=REFRESH) as centre:
        connector = get_registry().create(config(centre))
        later = list(connector.fetch_records(since=start + timedelta(days=1)))
        connector.close()
        statuses = [r for r in centre.api.requests if r.headers.get("if-modified-since")]
    assert later == []
    assert statuses
