"""An emulator of the Olo order API the plan specifies, serving the demo business's online orders.

``GET /v1/orders?brand_id=…&created_after=…&created_before=…&offset=…&limit=…`` with a bearer
API key. Orders come in the shape Olo order payloads have: ``orderId``, ``posRef``,
``storeNumber``, ``timePlaced`` in store-local ``yyyyMMdd HH:mm`` with ``storeUtcOffset``, the
customer, subtotal, discount, tax, tip, delivery fee, total and items. Orders are sorted by
creation time, then id; ``limit`` is 1..100 (else 400); ``created_after`` is inclusive and
``created_before`` exclusive (ISO 8601 with an offset).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from growthnav.sandbox.business import ONLINE, DemoBusiness
from growthnav.sandbox.loopback import LoopbackServer, Request, Response

MAX_LIMIT = 100
PRODUCTS = (("P100", "Burrito"), ("P200", "Taco Box"), ("P300", "Nachos"), ("P400", "Horchata"))


def olo_orders(business: DemoBusiness, seed: int = 0) -> list[dict[str, Any]]:
    """The business's online orders as Olo order payloads, sorted by creation time."""
    rng = random.Random(seed)
    orders = []
    for row in business.tables[ONLINE].to_pylist():
        try:
            local = datetime.strptime(row["timePlaced"], "%Y%m%d %H:%M")
            sign = -1 if row["storeUtcOffset"].startswith("-") else 1
            hours = int(row["storeUtcOffset"][1:3])
        except (ValueError, TypeError):
            continue  # a malformed export row: the API never serves one
        created = (local - timedelta(hours=sign * hours)).replace(tzinfo=UTC)
        items = []
        remaining = Decimal(row["subtotal"])
        count = max(1, int(row["itemCount"]))
        for index in range(count):
            product_id, name = rng.choice(PRODUCTS)
            share = (Decimal(row["subtotal"]) / count).quantize(Decimal("0.01"))
            price = remaining if index == count - 1 else share
            remaining -= price
            items.append(
                {"productId": product_id, "name": name, "quantity": 1, "price": float(price)}
            )
        orders.append(
            {
                "orderId": row["orderId"],
                "brandId": row["brandId"],
                "posRef": row.get("externalReference"),
                "storeNumber": row["storeNumber"],
                "timePlaced": row["timePlaced"],
                "storeUtcOffset": row["storeUtcOffset"],
                "createdAt": created.isoformat().replace("+00:00", "Z"),
                "handoff": row["handoff"],
                "customer": {
                    "customerId": row["customerId"],
                    "email": row["email"],
                    "firstName": row["firstName"],
                    "lastName": row["lastName"],
                    "contactNumber": row["contactNumber"],
                    "membershipNumber": row.get("membershipNumber"),
                },
                "subtotal": float(row["subtotal"]),
                "discount": float(row["discount"]),
                "tax": float(row["tax"]),
                "tip": float(row["tip"]),
                "deliveryFee": float(row["deliveryFee"]),
                "total": float(row["total"]),
                "items": items,
            }
        )
    orders.sort(key=lambda o: (o["createdAt"], o["orderId"]))
    return orders


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} {text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise ValueError(f"{name} {text!r} has no UTC offset")
    return moment


class OloEmulator(LoopbackServer):
    """The order API over ``orders`` (from :func:`olo_orders`)."""

    def __init__(
        self,
        orders: list[dict[str, Any]],
        *,
        api_key: str = "sandbox-olo-key",
        brand_id: str = "juniper",
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.orders = orders
        self._created = [_utc(o["createdAt"]) for o in orders]
        self.api_key = api_key
        self.brand_id = brand_id

    def publish(self, order: dict[str, Any]) -> None:
        """Add an order, or replace the one with its ``orderId``; creation order is kept."""
        kept = [o for o in self.orders if o["orderId"] != order["orderId"]]
        self.orders = sorted([*kept, order], key=lambda o: (o["createdAt"], o["orderId"]))
        self._created = [_utc(o["createdAt"]) for o in self.orders]

    def error_body(self, status: int, message: str) -> Any:
        """Olo's error shape."""
        return {"code": status, "message": message}

    def expired(self, request: Request) -> Response:
        """An expired key."""
        return Response(401, self.error_body(401, "API key expired"))

    def handle(self, request: Request) -> Response:
        """Serve ``GET /v1/orders``."""
        if request.method != "GET" or request.path != "/v1/orders":
            return Response(404, self.error_body(404, f"no route {request.method} {request.path}"))
        if request.bearer != self.api_key:
            return Response(401, self.error_body(401, "missing or invalid API key"))
        brand = request.param("brand_id")
        if not brand:
            return Response(400, self.error_body(400, "brand_id is required"))
        if brand != self.brand_id:
            return Response(404, self.error_body(404, f"unknown brand {brand!r}"))
        try:
            after = _moment(request.param("created_after"), "created_after")
            before = _moment(request.param("created_before"), "created_before")
            offset = int(request.param("offset") or 0)
            limit = int(request.param("limit") or 50)
        except ValueError as exc:
            return Response(400, self.error_body(400, str(exc)))
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            return Response(
                400, self.error_body(400, f"limit must be 1..{MAX_LIMIT} and offset >= 0")
            )
        matching = [
            order
            for order, created in zip(self.orders, self._created, strict=True)
            if (after is None or created >= after) and (before is None or created < before)
        ]
        page = matching[offset : offset + limit]
        return Response(
            200, {"orders": page, "offset": offset, "limit": limit, "totalCount": len(matching)}
        )
