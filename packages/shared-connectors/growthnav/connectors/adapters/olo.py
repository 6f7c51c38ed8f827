"""Olo online orders through its order API (``GET /v1/orders``, bearer API key).

Orders are paged with ``offset``/``limit`` in creation order and filtered with
``created_after`` (inclusive) / ``created_before`` (exclusive), so the cursor is ``createdAt``.
Each order is flattened into one record: the customer's fields become ``customer.email``,
``customer.firstName``…, the items ``itemCount`` and ``items`` (JSON text). 429 and 5xx answers
and dropped connections are retried with backoff (``Retry-After`` honoured); a refused key is an
``AuthenticationError``.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from growthnav.connectors.base import ChangeStreamConnector
from growthnav.connectors.config import ConnectorCategory, ConnectorConfig, ConnectorType
from growthnav.connectors.exceptions import AuthenticationError, FatalAPIError
from growthnav.connectors.flatten import field_types, flatten
from growthnav.connectors.http_retry import retrying, send
from growthnav.connectors.registry import get_registry
from growthnav.connectors.spec import ConnectorSpec, SpecModel
from pydantic import Field, SecretStr

if TYPE_CHECKING:
    import httpx

#: The API's largest page.
MAX_PAGE = 100


class OloCredentials(SpecModel):
    """The brand's API key."""

    api_key: SecretStr = Field(description="Olo API key (sent as a bearer token)")


class OloParams(SpecModel):
    """Which brand to read, and where."""

    base_url: str = Field(description="API root, e.g. https://ordering.example-olo.com")
    brand_id: str = Field(description="the brand whose orders to read")
    page_size: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE, description="orders per request")
    timeout: float = Field(default=30.0, gt=0, description="seconds a request may take")
    max_attempts: int = Field(default=5, ge=1, description="tries per request before failing")


def flatten_order(order: Mapping[str, Any]) -> dict[str, Any]:
    """One record per order: the customer as ``customer.*``, items counted and as JSON."""
    record = flatten(order)
    items = order.get("items")
    if isinstance(items, list):
        record["itemCount"] = sum(int(i.get("quantity", 1)) for i in items)
    return record


class OloConnector(ChangeStreamConnector):
    """Reads a brand's online orders."""

    connector_type: ClassVar[ConnectorType] = ConnectorType.OLO
    category = ConnectorCategory.OLO
    spec = ConnectorSpec(OloCredentials, OloParams)
    primary_key = "orderId"
    cursor_field = "createdAt"
    ordered_by_cursor = True
    default_field_map: ClassVar[dict[str, str]] = {
        "orderId": "transaction_id",
        "createdAt": "timestamp",
        "total": "value",
        "customer.customerId": "user_id",
        "storeNumber": "location_id",
        "customer.email": "email",
        "customer.contactNumber": "phone",
        "customer.firstName": "first_name",
        "customer.lastName": "last_name",
        "customer.membershipNumber": "loyalty_id",
        "itemCount": "quantity",
    }

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        self._http: httpx.Client | None = None

    @property
    def params(self) -> OloParams:
        """The validated connection params."""
        params: OloParams = self.settings.params
        return params

    def _client_for(self) -> httpx.Client:
        import httpx

        if self._http is None:
            credentials = self.settings.credentials
            if credentials is None:
                raise AuthenticationError("no Olo credentials: set credentials.api_key")
            self._http = httpx.Client(
                base_url=self.params.base_url,
                headers={"Authorization": f"Bearer {credentials.api_key.get_secret_value()}"},
                timeout=self.params.timeout,
            )
        return self._http

    def _page(self, query: dict[str, Any]) -> dict[str, Any]:
        """One ``GET /v1/orders``, retried on throttling, 5xx and dropped connections."""

        @retrying(self.params.max_attempts)
        def attempt() -> dict[str, Any]:
            response = send(self._client_for(), "Olo", "GET", "/v1/orders", params=query)
            if response.status_code == 401:
                raise AuthenticationError("Olo refused the API key: check credentials.api_key")
            if response.status_code != 200:
                raise FatalAPIError(
                    f"Olo answered {response.status_code} for brand "
                    f"{self.params.brand_id!r}: {response.text[:200]}"
                )
            body: dict[str, Any] = response.json()
            return body

        return attempt()

    def authenticate(self) -> None:
        """One small request: the key and the brand are accepted."""
        self._page({"brand_id": self.params.brand_id, "limit": 1})
        self._authenticated = True

    def _changes(
        self, since: datetime | None, until: datetime | None
    ) -> Generator[dict[str, Any], None, None]:
        query: dict[str, Any] = {"brand_id": self.params.brand_id, "limit": self.params.page_size}
        if since is not None:
            query["created_after"] = since.astimezone(UTC).isoformat()
        if until is not None:
            query["created_before"] = until.astimezone(UTC).isoformat()
        offset = 0
        while True:
            body = self._page({**query, "offset": offset})
            orders = body.get("orders", [])
            for order in orders:
                yield flatten_order(order)
            offset += len(orders)
            if not orders or offset >= int(body.get("totalCount", 0)):
                return

    def get_schema(self) -> dict[str, str]:
        """The flattened order's fields and their JSON types (from the first page of orders)."""
        types = field_types(self.fetch_records(limit=self.params.page_size))
        return types or dict.fromkeys(self.default_field_map, "null")

    def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            self._http.close()
            self._http = None
        super().close()


get_registry().register(ConnectorType.OLO, OloConnector)
