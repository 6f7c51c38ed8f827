"""The sandbox's pytest fixtures: started on demand, stopped after the test."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from growthnav.sandbox import Sandbox

STARTED: list[Sandbox] = []


def test_start_sandbox_starts_a_subset_on_the_shared_business(
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = start_sandbox(["olo", "anthropic"])
    STARTED.append(sandbox)
    assert set(sandbox.params) == {"olo", "anthropic"}
    olo = sandbox.params["olo"]
    with httpx.Client(base_url=olo["base_url"], trust_env=False) as http:
        answer = http.get(
            "/v1/orders",
            params={"brand_id": olo["brand_id"], "limit": 1},
            headers={"Authorization": f"Bearer {olo['api_key']}"},
        )
    assert answer.status_code == 200
    assert answer.json()["totalCount"] > 0


def test_the_previous_tests_sandbox_was_stopped() -> None:
    if not STARTED:
        pytest.skip("runs after the test above (in file order)")
    [previous] = STARTED
    assert previous.servers == {}
    with pytest.raises(httpx.ConnectError), httpx.Client(trust_env=False) as http:
        http.get(previous.params["olo"]["base_url"] + "/v1/orders")
