"""The HubSpot connector against the sandbox's CRM v3 emulator: the search cap, retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conformance import _hubspot_deal
from growthnav.connectors import ConnectorConfig, ConnectorType, get_registry
from growthnav.sandbox import HubSpotEmulator

TOKEN = "pat-na1-test-31b7"


def test_more_than_the_search_cap_arrive_once_each_despite_throttling() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    # 10,450 deals, some sharing a modified time, so the restart must skip what it handed over.
    deals = [_hubspot_deal(i, start + timedelta(seconds=i // 3), "5.00") for i in range(10_450)]
    with HubSpotEmulator(
        {"deals": deals, "contacts": []}, access_token=TOKEN, burst_limit=100_000
    ) as emulator:
        emulator.faults.throttle(times=2, retry_after=0)
        connector = get_registry().create(
            ConnectorConfig(
                connector_type=ConnectorType.HUBSPOT,
                customer_id="acme-burgers",
                name="HubSpot deals",
                credentials={"access_token": TOKEN},
                connection_params={"host": emulator.url},
            )
        )
        ids = [r["id"] for r in connector.fetch_records()]
        connector.close()
        searches = [r for r in emulator.requests if r.path.endswith("/search")]
    assert len(ids) == len(set(ids)) == len(deals)
    modified = {d["id"]: d["properties"]["hs_lastmodifieddate"] for d in deals}
    handed = [modified[i] for i in ids]
    assert handed == sorted(handed)  # in cursor order, across the restart
    # Two throttled attempts were retried, and the query restarted once past the cap.
    assert len(searches) >= -(-len(deals) // 200) + 2
    assert any('"GTE"' in r.body.decode() for r in searches), (
        "no restarted search filtered from the last modified time"
    )
