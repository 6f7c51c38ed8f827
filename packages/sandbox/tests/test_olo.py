"""The Olo order API emulator, driven with httpx: paging, the incremental filter, caps, faults."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from growthnav.sandbox import Fault, OloEmulator, Sandbox, generate_business, olo_orders


@pytest.fixture(scope="module")
def orders() -> list[dict[str, object]]:
    return olo_orders(generate_business(people=400, seed=5))


@pytest.fixture
def olo(orders: list[dict[str, object]]) -> Iterator[OloEmulator]:
    with OloEmulator(orders, api_key="olo-test-key") as emulator:
        yield emulator


def client(emulator: OloEmulator, key: str = "olo-test-key") -> httpx.Client:
    return httpx.Client(
        base_url=emulator.url, headers={"Authorization": f"Bearer {key}"}, timeout=5
    )


def fetch_all(http: httpx.Client, **params: str) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    offset = 0
    while True:
        page = http.get(
            "/v1/orders", params={"brand_id": "juniper", "offset": offset, "limit": 100, **params}
        )
        page.raise_for_status()
        body = page.json()
        seen += body["orders"]
        offset += len(body["orders"])
        if offset >= body["totalCount"]:
            return seen


def test_orders_have_the_olo_shape(olo: OloEmulator) -> None:
    with client(olo) as http:
        order = http.get("/v1/orders", params={"brand_id": "juniper", "limit": 1}).json()["orders"][
            0
        ]
    assert set(order) >= {"orderId", "posRef", "storeNumber", "timePlaced", "storeUtcOffset"}
    assert set(order["customer"]) >= {
        "email",
        "firstName",
        "lastName",
        "contactNumber",
        "membershipNumber",
    }
    assert {"subtotal", "discount", "tax", "tip", "deliveryFee", "total", "items"} <= set(order)
    datetime.strptime(order["timePlaced"], "%Y%m%d %H:%M")
    assert round(sum(i["price"] for i in order["items"]), 2) == order["subtotal"]


def test_paging_to_the_end_without_duplicates(
    olo: OloEmulator, orders: list[dict[str, object]]
) -> None:
    with client(olo) as http:
        everything = fetch_all(http)
    ids = [o["orderId"] for o in everything]
    assert len(ids) == len(set(ids)) == len(orders)


def test_incremental_filter(olo: OloEmulator, orders: list[dict[str, object]]) -> None:
    middle = str(orders[len(orders) // 2]["createdAt"])
    with client(olo) as http:
        later = fetch_all(http, created_after=middle)
        earlier = fetch_all(http, created_before=middle)
    assert all(str(o["createdAt"]) >= middle for o in later)
    assert all(str(o["createdAt"]) < middle for o in earlier)
    assert len(later) + len(earlier) == len(orders)


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"limit": "101"}, 400, "limit must be 1..100"),
        ({"limit": "0"}, 400, "limit must be 1..100"),
        ({"created_after": "yesterday"}, 400, "not ISO 8601"),
        ({"created_after": "2024-01-01T00:00:00"}, 400, "no UTC offset"),
        ({"brand_id": "other"}, 404, "unknown brand"),
        ({"brand_id": ""}, 400, "brand_id is required"),
    ],
)
def test_caps_and_bad_requests(
    olo: OloEmulator, params: dict[str, str], status: int, message: str
) -> None:
    with client(olo) as http:
        response = http.get("/v1/orders", params={"brand_id": "juniper", **params})
    assert response.status_code == status
    assert message in response.json()["message"]


def test_auth_failures(olo: OloEmulator) -> None:
    with client(olo, key="wrong") as http:
        assert http.get("/v1/orders", params={"brand_id": "juniper"}).status_code == 401
    with httpx.Client(base_url=olo.url) as anonymous:
        assert anonymous.get("/v1/orders", params={"brand_id": "juniper"}).status_code == 401
    olo.faults.next(Fault("expire"))
    with client(olo) as http:
        expired = http.get("/v1/orders", params={"brand_id": "juniper"})
        assert (expired.status_code, expired.json()["message"]) == (401, "API key expired")
        assert http.get("/v1/orders", params={"brand_id": "juniper"}).status_code == 200


def test_throttling_errors_and_dropped_connections(olo: OloEmulator) -> None:
    olo.faults.throttle(times=2, retry_after=3)
    olo.faults.next(Fault("status", 503))
    olo.faults.next(Fault("drop"))
    with client(olo) as http:
        first = http.get("/v1/orders", params={"brand_id": "juniper"})
        assert (first.status_code, first.headers["retry-after"]) == (429, "3")
        assert http.get("/v1/orders", params={"brand_id": "juniper"}).status_code == 429
        assert http.get("/v1/orders", params={"brand_id": "juniper"}).status_code == 503
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/v1/orders", params={"brand_id": "juniper"})
    with client(olo) as http:
        assert http.get("/v1/orders", params={"brand_id": "juniper"}).status_code == 200


def test_seeded_fault_rates_repeat(orders: list[dict[str, object]]) -> None:
    def statuses() -> list[int]:
        with OloEmulator(orders, seed=3) as emulator:
            emulator.faults.rate(Fault("status", 500), 0.3)
            with client(emulator, key="sandbox-olo-key") as http:
                return [
                    http.get("/v1/orders", params={"brand_id": "juniper", "limit": 1}).status_code
                    for _ in range(20)
                ]

    first = statuses()
    assert first == statuses()
    assert 500 in first
    assert 200 in first


def test_sandbox_starts_a_subset_and_stops_everything() -> None:
    business = generate_business(people=150, seed=2)
    with Sandbox(business=business) as sandbox:
        params = sandbox.params
        assert set(params) == {"snowflake", "olo", "hubspot", "zoho", "salesforce", "anthropic"}
        with httpx.Client(
            base_url=params["olo"]["base_url"],
            headers={"Authorization": f"Bearer {params['olo']['api_key']}"},
        ) as http:
            ok = http.get("/v1/orders", params={"brand_id": params["olo"]["brand_id"]})
            assert ok.status_code == 200
        url = params["olo"]["base_url"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/orders", timeout=2)
    with pytest.raises(ValueError, match="no emulator for teradata"):
        Sandbox(systems=("teradata",))
