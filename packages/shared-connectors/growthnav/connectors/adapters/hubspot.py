"""HubSpot CRM objects (deals, contacts) through the CRM v3 search API and the official client.

Every read is a search sorted by the last-modified date (then id), so batches arrive in cursor
order: a full sync has no filter, an incremental one filters ``GTE`` the saved high-watermark
(as epoch milliseconds, as HubSpot wants). HubSpot's search reaches at most 10,000 results per
query; when a query is about to hit that cap it restarts from the last modified date seen,
skipping the records already handed over. Records are ``id`` plus the requested properties.
429 and 5xx answers are retried by the client (``Retry-After`` honoured); a refused token is an
``AuthenticationError``.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from growthnav.connectors.base import ChangeStreamConnector
from growthnav.connectors.config import ConnectorCategory, ConnectorConfig, ConnectorType
from growthnav.connectors.exceptions import AuthenticationError, FatalAPIError, SchemaError
from growthnav.connectors.registry import get_registry
from growthnav.connectors.spec import ConnectorSpec, RecordKindParams, SpecModel
from growthnav.conversions import parse_timestamp
from pydantic import Field, SecretStr

#: Results one search can page through, and the most per request.
SEARCH_CAP = 10_000
SEARCH_PAGE = 200

_MODIFIED = {"deals": "hs_lastmodifieddate", "contacts": "lastmodifieddate"}
_DEFAULT_PROPERTIES = {
    "deals": (
        "dealname",
        "amount",
        "closedate",
        "createdate",
        "hs_lastmodifieddate",
        "dealstage",
        "pipeline",
    ),
    "contacts": (
        "email",
        "firstname",
        "lastname",
        "phone",
        "zip",
        "createdate",
        "lastmodifieddate",
    ),
}


class HubSpotCredentials(SpecModel):
    """A private app's access token."""

    access_token: SecretStr = Field(description="private app access token (pat-...)")


class HubSpotParams(RecordKindParams):
    """Which objects to read."""

    object_type: Literal["deals", "contacts"] = Field(
        default="deals", description="deals or contacts"
    )
    properties: list[str] | None = Field(
        default=None, description="properties to read (default: the usual ones for the type)"
    )
    host: str = Field(default="https://api.hubapi.com", description="API host")
    page_size: int = Field(default=SEARCH_PAGE, ge=1, le=SEARCH_PAGE, description="per request")
    max_attempts: int = Field(default=5, ge=1, description="tries per request before failing")


class HubSpotConnector(ChangeStreamConnector):
    """Reads one HubSpot object type."""

    connector_type: ClassVar[ConnectorType] = ConnectorType.HUBSPOT
    category = ConnectorCategory.CRM
    spec = ConnectorSpec(HubSpotCredentials, HubSpotParams)
    primary_key = "id"
    ordered_by_cursor = True
    default_field_map: ClassVar[dict[str, str]] = {
        "id": "transaction_id",
        "closedate": "timestamp",
        "amount": "value",
        "email": "email",
        "firstname": "first_name",
        "lastname": "last_name",
        "phone": "phone",
        "zip": "postal_code",
    }

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        self.cursor_field = _MODIFIED[self.params.object_type]

    @property
    def params(self) -> HubSpotParams:
        """The validated connection params."""
        params: HubSpotParams = self.settings.params
        return params

    @property
    def properties(self) -> list[str]:
        """The properties requested (always including the cursor)."""
        wanted = list(self.params.properties or _DEFAULT_PROPERTIES[self.params.object_type])
        return wanted if self.cursor_field in wanted else [*wanted, str(self.cursor_field)]

    def _api(self) -> Any:
        if self._client is None:
            from hubspot import HubSpot
            from urllib3.util.retry import Retry

            credentials = self.settings.credentials
            if credentials is None:
                raise AuthenticationError("no HubSpot credentials: set credentials.access_token")
            retry = Retry(
                total=self.params.max_attempts - 1,
                status_forcelist=(429, 500, 502, 503, 504),
                allowed_methods=None,  # searches are POSTs, and safe to repeat
                backoff_factor=0.5,
                respect_retry_after_header=True,
                raise_on_status=False,
            )
            self._client = HubSpot(
                access_token=credentials.access_token.get_secret_value(),
                host=self.params.host,
                retry=retry,
            )
        return self._client

    def _call(self, action: str, function: Any, **arguments: Any) -> Any:
        from hubspot.crm.objects import ApiException

        try:
            return function(**arguments)
        except ApiException as exc:
            if exc.status == 401:
                raise AuthenticationError(
                    "HubSpot refused the access token: check credentials.access_token"
                ) from None
            raise FatalAPIError(
                f"HubSpot {action} of {self.params.object_type} answered {exc.status}: {exc.reason}"
            ) from None

    def authenticate(self) -> None:
        """Read the object type's properties: the token is accepted and the type exists."""
        self.get_schema()
        self._authenticated = True

    def get_schema(self) -> dict[str, str]:
        """``id`` and the requested properties, with HubSpot's types."""
        api = self._api().crm.properties.core_api
        found = self._call("properties", api.get_all, object_type=self.params.object_type)
        types = {p.name: p.type for p in found.results}
        missing = [p for p in self.properties if p not in types]
        if missing:
            raise SchemaError(
                f"HubSpot {self.params.object_type} have no properties {', '.join(missing)}"
            )
        return {"id": "string", **{p: str(types[p]) for p in self.properties}}

    def _search(self, since_ms: int | None, after: int) -> Any:
        from hubspot.crm.objects import PublicObjectSearchRequest

        filters = []
        if since_ms is not None:
            filters = [
                {
                    "filters": [
                        {"propertyName": self.cursor_field, "operator": "GTE", "value": since_ms}
                    ]
                }
            ]
        request = PublicObjectSearchRequest(
            filter_groups=filters,
            sorts=[
                {"propertyName": self.cursor_field, "direction": "ASCENDING"},
                {"propertyName": "hs_object_id", "direction": "ASCENDING"},
            ],
            properties=self.properties,
            limit=self.params.page_size,
            after=after or None,
        )
        api = self._api().crm.objects.search_api
        return self._call(
            "search",
            api.do_search,
            object_type=self.params.object_type,
            public_object_search_request=request,
        )

    def _changes(
        self, since: datetime | None, until: datetime | None
    ) -> Generator[dict[str, Any], None, None]:
        field = str(self.cursor_field)
        query_ms = int(since.astimezone(UTC).timestamp() * 1000) if since else None
        skip: set[str] = set()  # after a restart: ids already handed over at its first moment
        last_ms, at_last = None, set[str]()  # the latest moment handed over, and its ids
        after = 0
        while True:
            page = self._search(query_ms, after)
            for item in page.results:
                if item.id in skip:
                    continue
                record = {"id": item.id, **(item.properties or {})}
                moment = parse_timestamp(record.get(field)).value
                if until is not None and moment is not None and moment >= until:
                    return
                yield record
                if moment is not None:
                    stamp = int(moment.timestamp() * 1000)
                    if stamp != last_ms:
                        last_ms, at_last = stamp, set()
                    at_last.add(item.id)
            if page.paging is None or page.paging.next is None:
                return
            after = int(page.paging.next.after)
            if after + self.params.page_size > SEARCH_CAP and last_ms is not None:
                # The cap is per query: search again from the latest moment handed over.
                query_ms, skip, after = last_ms, set(at_last), 0

    def close(self) -> None:
        """Drop the client."""
        self._client = None
        super().close()


get_registry().register(ConnectorType.HUBSPOT, HubSpotConnector)
