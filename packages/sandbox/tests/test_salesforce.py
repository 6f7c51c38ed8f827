"""The Salesforce REST emulator over TLS, driven with the real simple-salesforce client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from growthnav.sandbox import DemoBusiness, generate_business
from growthnav.sandbox.salesforce import SalesforceEmulator, salesforce_records, salesforce_truth
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

SESSION = "00Dtest!distinctive-session-0123"


@pytest.fixture(scope="module")
def business() -> DemoBusiness:
    return generate_business(people=900, seed=8)


@pytest.fixture(scope="module")
def records(business: DemoBusiness) -> dict[str, list[dict[str, Any]]]:
    return salesforce_records(business)


@pytest.fixture
def emulator(records: dict[str, list[dict[str, Any]]]) -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator(records, session_id=SESSION, page_size=100) as running:
        yield running


def client(emulator: SalesforceEmulator, session_id: str = SESSION) -> Any:
    """The real client (typed loosely: its sobject attributes are dynamic)."""
    # This machine sets REQUESTS_CA_BUNDLE, which would override verify: trust_env=False.
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulator.ca_path)
    return Salesforce(instance_url=emulator.url, session_id=session_id, session=session)


def test_serves_tls_with_its_own_ca(emulator: SalesforceEmulator) -> None:
    assert emulator.url.startswith("https://127.0.0.1:")
    plain = requests.Session()
    plain.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(f"{emulator.url}/services/data/", timeout=5)


def test_query_all_follows_next_records_url_without_duplicates(
    emulator: SalesforceEmulator, records: dict[str, list[dict[str, Any]]]
) -> None:
    sf = client(emulator)
    first = sf.query("SELECT Id, Amount FROM Opportunity")
    assert first["done"] is False
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    everything = sf.query_all("SELECT Id, Amount, SystemModstamp FROM Opportunity ORDER BY Id")
    ids = [r["Id"] for r in everything["records"]]
    live = [r for r in records["Opportunity"] if not r["IsDeleted"]]
    assert len(ids) == len(set(ids)) == len(live) == everything["totalSize"]
    with_deleted = sf.query_all("SELECT Id FROM Opportunity", include_deleted=True)
    assert with_deleted["totalSize"] == len(records["Opportunity"]) > len(live)


def test_incremental_filter_on_system_modstamp(
    emulator: SalesforceEmulator, records: dict[str, list[dict[str, Any]]]
) -> None:
    stamps = sorted(r["SystemModstamp"] for r in records["Contact"])
    middle = stamps[len(stamps) // 2]
    literal = middle[:19] + "Z"
    result = client(emulator).query_all(
        f"SELECT Id, Email, SystemModstamp FROM Contact WHERE SystemModstamp >= {literal} "
        "ORDER BY SystemModstamp ASC, Id ASC"
    )
    got = [r["SystemModstamp"] for r in result["records"]]
    assert got == sorted(got)
    assert all(s >= middle[:19] for s in got)
    assert result["totalSize"] == sum(1 for s in stamps if s[:19] >= literal[:19])


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T18:05:00", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Contact WHERE SystemModstamp >= 2024-01-31T18:05:00.123Z",
            "MALFORMED_QUERY",
        ),
        (
            "SELECT Id FROM Contact WHERE SystemModstamp >= '2024-01-31T18:05:00Z'",
            "MALFORMED_QUERY",
        ),
        ("SELECT Id, Shoe_Size__c FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Account__x", "INVALID_TYPE"),
        ("SELEKT Id FROM Contact", "MALFORMED_QUERY"),
    ],
)
def test_bad_queries_are_refused_as_salesforce_does(
    emulator: SalesforceEmulator, soql: str, code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as refused:
        client(emulator).query(soql)
    content: Any = refused.value.content
    assert content[0]["errorCode"] == code


def test_describe_and_limit_info(emulator: SalesforceEmulator) -> None:
    sf = client(emulator)
    fields = {f["name"]: f["type"] for f in sf.Opportunity.describe()["fields"]}
    assert fields["SystemModstamp"] == "datetime"
    assert fields["CloseDate"] == "date"
    sf.query("SELECT Id FROM Contact LIMIT 1")
    assert sf.api_usage["api-usage"].used == emulator.used


def test_session_and_daily_budget(records: dict[str, list[dict[str, Any]]]) -> None:
    with SalesforceEmulator(records, session_id=SESSION, daily_limit=2) as emulator:
        with pytest.raises(SalesforceExpiredSession):
            client(emulator, session_id="00Dwrong").query("SELECT Id FROM Contact")
        sf = client(emulator)
        sf.query("SELECT Id FROM Contact LIMIT 1")
        sf.query("SELECT Id FROM Contact LIMIT 1")
        with pytest.raises(SalesforceRefusedRequest) as exhausted:
            sf.query("SELECT Id FROM Contact LIMIT 1")
        content: Any = exhausted.value.content
        assert content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert emulator.ca_path is None  # the CA file is removed with the server


def test_leads_are_inquiries_some_converted_into_the_contacts(
    emulator: SalesforceEmulator,
    records: dict[str, list[dict[str, Any]]],
    business: DemoBusiness,
) -> None:
    sf = client(emulator)
    fields = "Id, Email, Status, IsConverted, ConvertedContactId, SystemModstamp"
    leads = sf.query_all(f"SELECT {fields} FROM Lead ORDER BY SystemModstamp")["records"]
    live = [r for r in records["Lead"] if not r["IsDeleted"]]
    assert len(leads) == len({r["Id"] for r in leads}) == len(live)
    converted = [r for r in leads if r["IsConverted"]]
    contacts = {r["Id"] for r in records["Contact"]}
    assert converted
    assert all(r["ConvertedContactId"] in contacts for r in converted)
    assert all(r["Status"] == "Closed - Converted" for r in converted)
    open_leads = sf.query_all("SELECT Id, Status FROM Lead WHERE IsConverted = false")["records"]
    assert open_leads
    assert len(open_leads) == len(leads) - len(converted)
    assert all(r["Status"] != "Closed - Converted" for r in open_leads)
    # The truth names a person behind every lead; a converted lead is its contact's person.
    truth = salesforce_truth(business)
    assert all(r["Id"] in truth for r in records["Lead"])
    assert all(truth[r["Id"]] == truth[r["ConvertedContactId"]] for r in converted)
    assert {f["name"] for f in sf.Lead.describe()["fields"]} >= {"IsConverted", "PostalCode"}
    assert salesforce_records(generate_business(people=900, seed=8))["Lead"] == records["Lead"]
