"""The Zoho CRM emulator (accounts + API servers of one data centre), driven with httpx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from growthnav.sandbox import ZohoDataCentre, generate_business, zoho_records


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict[str, Any]]]:
    return zoho_records(generate_business(people=1500, seed=6))


@pytest.fixture
def zoho(records: dict[str, list[dict[str, Any]]]) -> Iterator[ZohoDataCentre]:
    with ZohoDataCentre(records, data_centre="eu", page_records_max=100) as centre:
        yield centre


def token(zoho: ZohoDataCentre, refresh: str | None = None) -> dict[str, Any]:
    params = zoho.params
    response = httpx.post(
        f"{params['accounts_url']}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": params["client_id"],
            "client_secret": params["client_secret"],
            "refresh_token": refresh or params["refresh_token"],
        },
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def api(zoho: ZohoDataCentre) -> httpx.Client:
    grant = token(zoho)
    return httpx.Client(
        base_url=grant["api_domain"],
        headers={"Authorization": f"Zoho-oauthtoken {grant['access_token']}"},
    )


def test_data_centre_hosts_and_token_refresh(zoho: ZohoDataCentre) -> None:
    assert set(zoho.hosts) == {"accounts.zoho.eu", "www.zohoapis.eu"}
    grant = token(zoho)
    assert grant["api_domain"] == zoho.hosts["www.zohoapis.eu"]
    assert grant["token_type"] == "Bearer"
    assert token(zoho, refresh="1000.wrong") == {"error": "invalid_code"}
    with pytest.raises(ValueError, match="unknown Zoho data centre 'mars'"):
        ZohoDataCentre({}, data_centre="mars")


def test_pages_then_page_token_to_the_end(
    zoho: ZohoDataCentre, records: dict[str, list[dict[str, Any]]]
) -> None:
    seen: list[str] = []
    with api(zoho) as http:
        params: dict[str, Any] = {"fields": "Deal_Name,Amount,Modified_Time", "per_page": 50}
        page = 1
        while True:  # page numbers reach only the first 100 records here (2,000 in Zoho)
            body = http.get("/crm/v3/Deals", params={**params, "page": page}).json()
            seen += [d["id"] for d in body["data"]]
            if not body["info"]["more_records"] or page * 50 >= 100:
                break
            page += 1
        refused = http.get("/crm/v3/Deals", params={**params, "page": page + 1})
        assert refused.status_code == 400
        assert refused.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
        next_token = body["info"]["next_page_token"]
        while next_token:
            body = http.get("/crm/v3/Deals", params={**params, "page_token": next_token}).json()
            seen += [d["id"] for d in body["data"]]
            next_token = body["info"]["next_page_token"]
    assert len(seen) == len(set(seen)) == len(records["Deals"])
    assert set(body["data"][0]) == {"id", "Deal_Name", "Amount", "Modified_Time"}


def test_if_modified_since_and_sorting(
    zoho: ZohoDataCentre, records: dict[str, list[dict[str, Any]]]
) -> None:
    stamps = [r["Modified_Time"] for r in records["Contacts"]]
    middle = stamps[len(stamps) // 2]
    header = format_datetime(datetime.fromisoformat(middle), usegmt=True)
    with api(zoho) as http:
        body = http.get(
            "/crm/v3/Contacts",
            params={"fields": "Email,Modified_Time", "per_page": 200, "sort_by": "Modified_Time"},
            headers={"If-Modified-Since": header},
        ).json()
        got = [r["Modified_Time"] for r in body["data"]]
        assert got == sorted(got)
        assert all(t >= middle for t in got)
        future = format_datetime(datetime(2031, 1, 1).astimezone(), usegmt=True)
        none = http.get(
            "/crm/v3/Contacts", params={"fields": "Email"}, headers={"If-Modified-Since": future}
        )
        assert none.status_code == 304


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "REQUIRED_PARAM_MISSING"),
        ({"fields": "Email", "per_page": 201}, "INVALID_DATA"),
        ({"fields": "Email", "page_token": "forged"}, "INVALID_DATA"),
    ],
)
def test_bad_requests(zoho: ZohoDataCentre, params: dict[str, Any], code: str) -> None:
    with api(zoho) as http:
        response = http.get("/crm/v3/Contacts", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_expired_and_invalid_tokens(zoho: ZohoDataCentre) -> None:
    with api(zoho) as http:
        assert http.get("/crm/v3/Deals", params={"fields": "Amount"}).status_code == 200
        zoho.accounts.expire_all()
        expired = http.get("/crm/v3/Deals", params={"fields": "Amount"})
        assert (expired.status_code, expired.json()["code"]) == (401, "INVALID_TOKEN")
    with api(zoho) as http:  # a refreshed token works again
        assert http.get("/crm/v3/Deals", params={"fields": "Amount"}).status_code == 200
        zoho.api.faults.throttle(retry_after=5)
        assert http.get("/crm/v3/Deals", params={"fields": "Amount"}).status_code == 429
    anonymous = httpx.get(f"{zoho.api.url}/crm/v3/Deals", params={"fields": "Amount"})
    assert anonymous.status_code == 401
