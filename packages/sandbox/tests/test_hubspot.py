"""The HubSpot CRM v3 emulator, driven with the real hubspot-api-client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from growthnav.sandbox import HubSpotEmulator, generate_business, hubspot_objects
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import PublicObjectSearchRequest as DealSearch
from urllib3.util.retry import Retry

TOKEN = "pat-na1-sandbox-test"


@pytest.fixture(scope="module")
def objects() -> dict[str, list[dict[str, Any]]]:
    return hubspot_objects(generate_business(people=900, seed=4))


@pytest.fixture
def emulator(objects: dict[str, list[dict[str, Any]]]) -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(objects, access_token=TOKEN) as running:
        yield running


def client(emulator: HubSpotEmulator, token: str = TOKEN, retry: Retry | None = None) -> HubSpot:
    """The real client, pointed at the emulator (no retries unless asked for)."""
    return HubSpot(access_token=token, host=emulator.url, retry=retry or Retry(total=0))


def test_list_pages_to_the_end_without_duplicates(
    emulator: HubSpotEmulator, objects: dict[str, list[dict[str, Any]]]
) -> None:
    api = client(emulator).crm.contacts.basic_api
    seen: list[str] = []
    after = None
    while True:
        page = api.get_page(limit=100, after=after, properties=["email", "firstname"])
        seen += [c.id for c in page.results]
        assert set(page.results[0].properties) == {"email", "firstname"}
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == len(set(seen)) == len(objects["contacts"])
    # The client sends list parameters repeated; comma-separated works too.
    request = emulator.requests[-1]
    assert request.query["properties"] == ["email", "firstname"]


def test_search_filters_on_last_modified_and_sorts(
    emulator: HubSpotEmulator, objects: dict[str, list[dict[str, Any]]]
) -> None:
    deals = objects["deals"]
    stamps = sorted(d["properties"]["hs_lastmodifieddate"] for d in deals)
    middle = stamps[len(stamps) // 2]
    from datetime import datetime

    since_ms = str(int(datetime.fromisoformat(middle.replace("Z", "+00:00")).timestamp() * 1000))
    request = DealSearch(
        filter_groups=[
            {
                "filters": [
                    {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": since_ms}
                ]
            }
        ],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        properties=["amount", "hs_lastmodifieddate"],
        limit=200,
    )
    api = client(emulator).crm.deals.search_api
    results = []
    while True:
        page = api.do_search(public_object_search_request=request)
        results += page.results
        if page.paging is None:
            break
        request.after = page.paging.next.after
    expected = [d for d in deals if d["properties"]["hs_lastmodifieddate"] >= middle]
    assert page.total == len(expected) == len(results)
    got = [r.properties["hs_lastmodifieddate"] for r in results]
    assert got == sorted(got)


def test_search_caps(emulator: HubSpotEmulator) -> None:
    api = client(emulator).crm.contacts.search_api
    with pytest.raises(ContactsApiException) as too_many:
        api.do_search(public_object_search_request=PublicObjectSearchRequest(limit=201))
    assert too_many.value.status == 400
    assert "limit must be between 1 and 200" in too_many.value.body
    with pytest.raises(ContactsApiException) as beyond:
        api.do_search(
            public_object_search_request=PublicObjectSearchRequest(limit=100, after="9950")
        )
    assert beyond.value.status == 400
    assert "at most 10000" in beyond.value.body


def test_properties_api(emulator: HubSpotEmulator) -> None:
    names = {p.name for p in client(emulator).crm.properties.core_api.get_all("contacts").results}
    assert {"email", "firstname", "lastname", "phone", "lastmodifieddate"} <= names


def test_auth_and_burst_limit(objects: dict[str, list[dict[str, Any]]]) -> None:
    with HubSpotEmulator(objects, access_token=TOKEN, burst_limit=3) as emulator:
        with pytest.raises(DealsApiException) as denied:
            client(emulator, token="pat-wrong").crm.deals.basic_api.get_page(limit=1)
        assert denied.value.status == 401
        api = client(emulator).crm.deals.basic_api
        for _ in range(3):
            api.get_page(limit=1)
        with pytest.raises(DealsApiException) as limited:
            api.get_page(limit=1)
        assert limited.value.status == 429
        headers = {k.lower(): v for k, v in limited.value.headers.items()}
        assert headers["retry-after"] == "1"
        assert headers["x-hubspot-ratelimit-max"] == "3"
        assert headers["x-hubspot-ratelimit-remaining"] == "0"


def test_injected_throttle_and_a_client_that_honours_retry_after(emulator: HubSpotEmulator) -> None:
    emulator.faults.throttle(times=1, retry_after=0)
    api = client(emulator).crm.contacts.basic_api
    with pytest.raises(ContactsApiException) as limited:
        api.get_page(limit=1)
    assert limited.value.status == 429
    emulator.faults.throttle(times=2, retry_after=0)
    patient = Retry(total=3, status_forcelist=[429], respect_retry_after_header=True)
    before = len(emulator.requests)
    assert client(emulator, retry=patient).crm.contacts.basic_api.get_page(limit=1).results
    assert len(emulator.requests) - before == 3  # two throttled, then served
