"""An emulator of HubSpot CRM v3 for contacts and deals, seeded from the demo brand's CRM.

- ``GET /crm/v3/objects/{contacts|deals}``: ``limit`` (1..100), ``after`` cursor,
  ``properties`` repeated or comma-separated; ``paging.next.after`` until the end.
- ``POST /crm/v3/objects/{type}/search``: ``filterGroups`` (OR of ANDed filters; EQ, NEQ, GT,
  GTE, LT, LTE; dates compared as epoch-ms strings), ``sorts``, ``limit`` 1..200 (else 400),
  and at most 10,000 results reachable (``after`` beyond that is a 400, as in HubSpot).
- ``GET /crm/v3/properties/{type}``.
- Private-app bearer auth (401); a burst limit per window answered with 429, ``Retry-After``
  and the ``X-HubSpot-RateLimit-*`` headers on every response.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from growthnav.sandbox.business import CRM, DemoBusiness
from growthnav.sandbox.loopback import LoopbackServer, Request, Response

LIST_LIMIT = 100
SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
_DATES = ("createdate", "lastmodifieddate", "hs_lastmodifieddate", "closedate")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def hubspot_objects(business: DemoBusiness) -> dict[str, list[dict[str, Any]]]:
    """The brand's CRM as HubSpot contacts and deals (``id`` and ``properties``)."""
    contacts: dict[str, dict[str, Any]] = {}
    deals = []
    for row in business.tables[CRM].to_pylist():
        created, closed = _parse(row["Create Date"]), _parse(row["Close Date"])
        contact_id = row["Associated Contact ID"]
        contact = contacts.setdefault(
            contact_id,
            {
                "id": contact_id,
                "properties": {
                    "hs_object_id": contact_id,
                    "firstname": row["Contact First Name"],
                    "lastname": row["Contact Last Name"],
                    "email": row["Contact Email"],
                    "phone": row["Contact Phone Number"],
                    "zip": row["Contact Postal Code"],
                    "createdate": _iso(created),
                    "lastmodifieddate": _iso(created),
                },
            },
        )
        if _iso(closed) > contact["properties"]["lastmodifieddate"]:
            contact["properties"]["lastmodifieddate"] = _iso(closed)
        deals.append(
            {
                "id": row["Record ID"],
                "properties": {
                    "hs_object_id": row["Record ID"],
                    "dealname": row["Deal Name"],
                    "amount": row["Amount"],
                    "closedate": _iso(closed),
                    "createdate": _iso(created),
                    "hs_lastmodifieddate": _iso(closed),
                    "dealstage": "closedwon",
                    "pipeline": "default",
                    "hubspot_owner_id": row["Owner ID"],
                    "associated_contact_id": contact_id,
                },
            }
        )
    for objects in (contacts, {d["id"]: d for d in deals}):
        for item in objects.values():
            props = item["properties"]
            item["createdAt"] = props["createdate"]
            item["updatedAt"] = props.get("lastmodifieddate") or props["hs_lastmodifieddate"]
            item["archived"] = False
    ordered = sorted(contacts.values(), key=lambda c: int(c["id"]))
    return {"contacts": ordered, "deals": sorted(deals, key=lambda d: int(d["id"]))}


def _epoch_ms(value: str) -> int:
    return int(
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.000Z").replace(tzinfo=UTC).timestamp() * 1000
    )


def _matches(props: dict[str, Any], flt: dict[str, Any]) -> bool:
    name, operator, wanted = flt.get("propertyName"), flt.get("operator"), flt.get("value")
    value = props.get(str(name))
    if value is None:
        return operator == "NOT_HAS_PROPERTY"
    if operator == "HAS_PROPERTY":
        return True
    left: Any = value
    right: Any = wanted
    if name in _DATES:
        left, right = _epoch_ms(value), int(str(wanted))
    elif isinstance(value, str) and str(wanted).lstrip("-").replace(".", "", 1).isdigit():
        with contextlib.suppress(ValueError):
            left, right = float(value), float(str(wanted))
    comparisons = {
        "EQ": lambda: left == right,
        "NEQ": lambda: left != right,
        "GT": lambda: left > right,
        "GTE": lambda: left >= right,
        "LT": lambda: left < right,
        "LTE": lambda: left <= right,
    }
    check = comparisons.get(str(operator))
    if check is None:
        raise ValueError(f"unsupported operator {operator!r}")
    return bool(check())


class HubSpotEmulator(LoopbackServer):
    """CRM v3 objects, search and properties over ``objects`` (from :func:`hubspot_objects`)."""

    def __init__(
        self,
        objects: dict[str, list[dict[str, Any]]],
        *,
        access_token: str = "sandbox-hubspot-token",
        burst_limit: int = 100,
        burst_window_seconds: float = 10.0,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.objects = objects
        self.access_token = access_token
        self.burst_limit = burst_limit
        self.burst_window = burst_window_seconds
        self._recent: deque[float] = deque()
        self._burst_lock = threading.Lock()

    def error_body(self, status: int, message: str) -> Any:
        """HubSpot's error shape."""
        category = {
            400: "VALIDATION_ERROR",
            401: "INVALID_AUTHENTICATION",
            404: "OBJECT_NOT_FOUND",
            429: "RATE_LIMITS",
        }.get(status, "INTERNAL_ERROR")
        return {
            "status": "error",
            "message": message,
            "correlationId": "00000000-0000-4000-8000-000000000000",
            "category": category,
        }

    def _limits(self) -> tuple[bool, dict[str, str]]:
        now = time.monotonic()
        with self._burst_lock:
            while self._recent and now - self._recent[0] > self.burst_window:
                self._recent.popleft()
            allowed = len(self._recent) < self.burst_limit
            if allowed:
                self._recent.append(now)
            remaining = max(0, self.burst_limit - len(self._recent))
        return allowed, {
            "X-HubSpot-RateLimit-Max": str(self.burst_limit),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.burst_window * 1000)),
        }

    def handle(self, request: Request) -> Response:
        """Route a request (auth and the burst limit first)."""
        if request.bearer != self.access_token:
            return Response(401, self.error_body(401, "Authentication credentials not found."))
        allowed, headers = self._limits()
        if not allowed:
            headers["Retry-After"] = "1"
            return Response(
                429, self.error_body(429, "You have reached your secondly limit."), headers
            )
        response = self._route(request)
        response.headers.update(headers)
        return response

    def _route(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts[:3] == ["crm", "v3", "properties"] and len(parts) == 4 and request.method == "GET":
            return self._properties(parts[3])
        if parts[:3] != ["crm", "v3", "objects"] or len(parts) < 4 or parts[3] not in self.objects:
            return Response(404, self.error_body(404, f"no route {request.method} {request.path}"))
        kind = parts[3]
        try:
            if len(parts) == 4 and request.method == "GET":
                return self._list(kind, request)
            if len(parts) == 5 and parts[4] == "search" and request.method == "POST":
                return self._search(kind, request.json())
        except ValueError as exc:
            return Response(400, self.error_body(400, str(exc)))
        return Response(404, self.error_body(404, f"no route {request.method} {request.path}"))

    def _properties(self, kind: str) -> Response:
        if kind not in self.objects:
            return Response(404, self.error_body(404, f"unknown object type {kind!r}"))
        names = sorted({p for item in self.objects[kind] for p in item["properties"]})
        return Response(
            200,
            {
                "results": [
                    {
                        "name": name,
                        "label": name.replace("_", " ").title(),
                        "type": "datetime" if name in _DATES else "string",
                        "fieldType": "date" if name in _DATES else "text",
                    }
                    for name in names
                ]
            },
        )

    @staticmethod
    def _view(item: dict[str, Any], properties: list[str]) -> dict[str, Any]:
        wanted = properties or ["createdate", "lastmodifieddate", "hs_object_id"]
        return {
            "id": item["id"],
            "properties": {p: item["properties"].get(p) for p in wanted},
            "createdAt": item["createdAt"],
            "updatedAt": item["updatedAt"],
            "archived": False,
        }

    def _page(
        self, items: list[dict[str, Any]], after: int, limit: int, properties: list[str]
    ) -> dict[str, Any]:
        page = items[after : after + limit]
        body: dict[str, Any] = {"results": [self._view(i, properties) for i in page]}
        if after + limit < len(items):
            body["paging"] = {"next": {"after": str(after + limit)}}
        return body

    def _list(self, kind: str, request: Request) -> Response:
        limit = int(request.param("limit") or 10)
        if not 1 <= limit <= LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {LIST_LIMIT}")
        after = int(request.param("after") or 0)
        properties = [p for value in request.query.get("properties", []) for p in value.split(",")]
        return Response(200, self._page(self.objects[kind], after, limit, properties))

    def _search(self, kind: str, body: dict[str, Any]) -> Response:
        limit = int(body.get("limit") or 10)
        if not 1 <= limit <= SEARCH_LIMIT:
            raise ValueError(f"limit must be between 1 and {SEARCH_LIMIT}")
        after = int(body.get("after") or 0)
        if after + limit > SEARCH_CAP:
            raise ValueError(f"search can page through at most {SEARCH_CAP} results")
        groups = body.get("filterGroups") or []
        items = [
            item
            for item in self.objects[kind]
            if not groups
            or any(
                all(_matches(item["properties"], f) for f in g.get("filters", [])) for g in groups
            )
        ]
        for sort in reversed(body.get("sorts") or []):
            name = sort if isinstance(sort, str) else sort.get("propertyName")
            descending = not isinstance(sort, str) and sort.get("direction") == "DESCENDING"
            items.sort(key=lambda i: str(i["properties"].get(name) or ""), reverse=descending)
        page = self._page(items, after, limit, list(body.get("properties") or []))
        return Response(200, {"total": len(items), **page})
