"""``Sandbox``: any subset of the emulators on loopback, with their connection params.

Ports are chosen free; everything started is stopped on exit.

Example:
    with Sandbox(systems=("olo", "anthropic"), people=500) as sandbox:
        params = sandbox.params["olo"]  # {"base_url": ..., "api_key": ..., "brand_id": ...}
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from growthnav.sandbox.anthropic_stub import AnthropicStub
from growthnav.sandbox.business import DemoBusiness, generate_business
from growthnav.sandbox.hubspot import HubSpotEmulator, hubspot_objects
from growthnav.sandbox.loopback import LoopbackServer
from growthnav.sandbox.olo import OloEmulator, olo_orders
from growthnav.sandbox.salesforce import SalesforceEmulator, salesforce_records
from growthnav.sandbox.snowflake import TABLES, SnowflakeEmulator
from growthnav.sandbox.zoho import ZohoDataCentre, zoho_records

#: Emulators available so far.
SYSTEMS = ("snowflake", "olo", "hubspot", "zoho", "salesforce", "anthropic")


class Sandbox:
    """Emulators of the brand's systems, seeded with one generated business."""

    def __init__(
        self,
        systems: Sequence[str] = SYSTEMS,
        *,
        people: int = 5000,
        seed: int = 7,
        business: DemoBusiness | None = None,
    ) -> None:
        unknown = [s for s in systems if s not in SYSTEMS]
        if unknown:
            raise ValueError(
                f"no emulator for {', '.join(unknown)}; available: {', '.join(SYSTEMS)}"
            )
        self.systems = tuple(systems)
        self.people = people
        self.seed = seed
        self._business = business
        self.servers: dict[str, LoopbackServer] = {}
        self._snowflake: SnowflakeEmulator | None = None
        self.params: dict[str, dict[str, Any]] = {}

    @property
    def business(self) -> DemoBusiness:
        """The generated business the emulators serve (generated on first use)."""
        if self._business is None:
            self._business = generate_business(self.people, self.seed)
        return self._business

    def start(self) -> Sandbox:
        """Start every requested emulator; on any failure, stop those already started."""
        business = self.business
        # Snowflake's start is mostly importing its client and fakesnow: overlap it with the rest.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="snowflake-start") as pool:
            snowflake = (
                pool.submit(SnowflakeEmulator(business).start)
                if "snowflake" in self.systems
                else None
            )
            try:
                self._start_http()  # stops what it started when it fails
            except BaseException:
                if snowflake is not None:
                    with contextlib.suppress(Exception):
                        snowflake.result().stop()
                raise
            if snowflake is not None:
                try:
                    self._snowflake = snowflake.result()
                except BaseException:
                    self.stop()
                    raise
        if self._snowflake is not None:
            self.params["snowflake"] = {
                **self._snowflake.params,
                "tables": {s: self._snowflake.table(s) for s in TABLES},
            }
        return self

    def _start_http(self) -> None:
        try:
            if "olo" in self.systems:
                olo = OloEmulator(olo_orders(self.business, self.seed), seed=self.seed)
                self.servers["olo"] = olo.start()
                self.params["olo"] = {
                    "base_url": olo.url,
                    "api_key": olo.api_key,
                    "brand_id": olo.brand_id,
                }
            if "hubspot" in self.systems:
                hub = HubSpotEmulator(hubspot_objects(self.business), seed=self.seed)
                self.servers["hubspot"] = hub.start()
                self.params["hubspot"] = {"host": hub.url, "access_token": hub.access_token}
            if "zoho" in self.systems:
                zoho = ZohoDataCentre(zoho_records(self.business), seed=self.seed)
                zoho.start()
                self.servers["zoho accounts"] = zoho.accounts
                self.servers["zoho api"] = zoho.api
                self.params["zoho"] = zoho.params
            if "salesforce" in self.systems:
                force = SalesforceEmulator(salesforce_records(self.business), seed=self.seed)
                self.servers["salesforce"] = force.start()
                self.params["salesforce"] = {
                    "instance_url": force.url,
                    "session_id": force.session_id,
                    "ca_file": force.ca_path,
                }
            if "anthropic" in self.systems:
                stub = AnthropicStub(seed=self.seed)
                self.servers["anthropic"] = stub.start()
                self.params["anthropic"] = {"base_url": stub.url, "api_key": stub.api_key}
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every emulator."""
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        if self._snowflake is not None:
            self._snowflake.stop()
            self._snowflake = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
