"""Zoho CRM modules (Deals, Contacts…) through the v3 REST API, with OAuth refresh.

Zoho keeps OAuth and data on different hosts per data centre: an access token is obtained
from ``accounts.zoho<dc>`` with the refresh token, and the token response names the API
domain. Records are read sorted by ``Modified_Time`` (so batches arrive in cursor order);
``If-Modified-Since`` starts an incremental read at the saved high-watermark (304: nothing
new). Pages follow ``info.next_page_token`` (Zoho's ``page`` stops at 2,000 records). An
expired token is refreshed once; 429 and 5xx answers and dropped connections are retried.
Nested values (``Contact_Name``, ``Owner``) become ``Contact_Name.id``, ``Owner.name``…
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from growthnav.connectors.base import ChangeStreamConnector
from growthnav.connectors.config import ConnectorCategory, ConnectorConfig, ConnectorType
from growthnav.connectors.exceptions import AuthenticationError, FatalAPIError
from growthnav.connectors.flatten import field_types, flatten
from growthnav.connectors.http_retry import retrying, send
from growthnav.connectors.registry import get_registry
from growthnav.connectors.spec import ConnectorSpec, RecordKindParams, SpecModel
from pydantic import Field, SecretStr

if TYPE_CHECKING:
    import httpx

PER_PAGE = 200
DATA_CENTRES = {"us": ".com", "eu": ".eu", "in": ".in", "au": ".com.au", "jp": ".jp"}
_DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "Deals": ("Deal_Name", "Amount", "Stage", "Closing_Date", "Contact_Name", "Modified_Time"),
    "Contacts": ("First_Name", "Last_Name", "Email", "Phone", "Mailing_Zip", "Modified_Time"),
}


class ZohoCredentials(SpecModel):
    """The OAuth client's secret and a refresh token (from a self client)."""

    client_secret: SecretStr = Field(description="OAuth client secret")
    refresh_token: SecretStr = Field(description="OAuth refresh token")


class ZohoParams(RecordKindParams):
    """Which data centre and module to read."""

    client_id: str = Field(description="OAuth client id (1000.…)")
    data_centre: Literal["us", "eu", "in", "au", "jp"] = Field(
        default="us", description="the account's data centre: us, eu, in, au or jp"
    )
    accounts_url: str | None = Field(
        default=None, description="accounts server (default: the data centre's)"
    )
    api_domain: str | None = Field(
        default=None, description="API server (default: the one the token response names)"
    )
    module: str = Field(default="Deals", description="CRM module, e.g. Deals or Contacts")
    fields: list[str] | None = Field(
        default=None, description="fields to read (default: the usual ones for the module)"
    )
    per_page: int = Field(default=PER_PAGE, ge=1, le=PER_PAGE, description="records per request")
    timeout: float = Field(default=30.0, gt=0, description="seconds a request may take")
    max_attempts: int = Field(default=5, ge=1, description="tries per request before failing")


class ZohoConnector(ChangeStreamConnector):
    """Reads one Zoho CRM module."""

    connector_type: ClassVar[ConnectorType] = ConnectorType.ZOHO
    category = ConnectorCategory.CRM
    spec = ConnectorSpec(ZohoCredentials, ZohoParams)
    primary_key = "id"
    cursor_field = "Modified_Time"
    ordered_by_cursor = True
    default_field_map: ClassVar[dict[str, str]] = {
        "id": "transaction_id",
        "Closing_Date": "timestamp",
        "Amount": "value",
        "Contact_Name.id": "user_id",
        "First_Name": "first_name",
        "Last_Name": "last_name",
        "Email": "email",
        "Phone": "phone",
        "Mailing_Zip": "postal_code",
    }

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        self._http: httpx.Client | None = None
        self._token: str | None = None
        self._api_domain: str | None = self.params.api_domain

    @property
    def params(self) -> ZohoParams:
        """The validated connection params."""
        params: ZohoParams = self.settings.params
        return params

    @property
    def fields(self) -> list[str]:
        """The fields requested (always including the cursor)."""
        wanted = list(self.params.fields or _DEFAULT_FIELDS.get(self.params.module, ()))
        return wanted if "Modified_Time" in wanted else [*wanted, "Modified_Time"]

    def _client_for(self) -> httpx.Client:
        import httpx

        if self._http is None:
            self._http = httpx.Client(timeout=self.params.timeout)
        return self._http

    def authenticate(self) -> None:
        """Trade the refresh token for an access token (and learn the API domain)."""
        credentials = self.settings.credentials
        if credentials is None:
            raise AuthenticationError("no Zoho credentials: set client_secret and refresh_token")
        accounts = self.params.accounts_url or (
            f"https://accounts.zoho{DATA_CENTRES[self.params.data_centre]}"
        )

        @retrying(self.params.max_attempts)
        def attempt() -> dict[str, Any]:
            response = send(
                self._client_for(),
                "Zoho accounts",
                "POST",
                f"{accounts}/oauth/v2/token",
                data={
                    "grant_type": "refresh_token",
                    "client_id": self.params.client_id,
                    "client_secret": credentials.client_secret.get_secret_value(),
                    "refresh_token": credentials.refresh_token.get_secret_value(),
                },
            )
            body: dict[str, Any] = response.json()
            return body

        body = attempt()
        if "error" in body or "access_token" not in body:
            raise AuthenticationError(
                f"Zoho refused the refresh token ({body.get('error', 'no access token')}): "
                "check client_id, client_secret, refresh_token and data_centre"
            )
        self._token = str(body["access_token"])
        self._api_domain = self.params.api_domain or str(body.get("api_domain") or "")
        self._authenticated = True

    def _get(self, query: dict[str, Any], since: datetime | None) -> dict[str, Any] | None:
        """One page (None: 304, nothing modified since), refreshing an expired token once."""
        if not self.is_authenticated:
            self.authenticate()
        headers = {}
        if since is not None:
            headers["If-Modified-Since"] = since.astimezone(UTC).isoformat()

        @retrying(self.params.max_attempts)
        def attempt() -> httpx.Response:
            return send(
                self._client_for(),
                "Zoho",
                "GET",
                f"{self._api_domain}/crm/v3/{self.params.module}",
                params=query,
                headers={**headers, "Authorization": f"Zoho-oauthtoken {self._token}"},
            )

        response = attempt()
        if response.status_code == 401:
            self.authenticate()
            response = attempt()
            if response.status_code == 401:
                raise AuthenticationError("Zoho refused a freshly issued access token")
        if response.status_code == 304:
            return None
        if response.status_code != 200:
            raise FatalAPIError(
                f"Zoho answered {response.status_code} for module {self.params.module!r}: "
                f"{response.text[:200]}"
            )
        body: dict[str, Any] = response.json()
        return body

    def _changes(
        self, since: datetime | None, until: datetime | None
    ) -> Generator[dict[str, Any], None, None]:
        query: dict[str, Any] = {
            "fields": ",".join(self.fields),
            "per_page": self.params.per_page,
            "sort_by": "Modified_Time",
            "sort_order": "asc",
        }
        while True:
            body = self._get(query, since)
            if body is None:
                return
            for item in body.get("data", []):
                record = flatten(item)
                moment = record.get("Modified_Time")
                if until is not None and moment and datetime.fromisoformat(moment) >= until:
                    return
                yield record
            token = (body.get("info") or {}).get("next_page_token")
            if not token:
                return
            query = {**query, "page_token": token}

    def get_schema(self) -> dict[str, str]:
        """The flattened record's fields and their JSON types (from the first page)."""
        types = field_types(self.fetch_records(limit=self.params.per_page))
        return types or {"id": "null", **dict.fromkeys(self.fields, "null")}

    def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            self._http.close()
            self._http = None
        self._token = None
        super().close()


get_registry().register(ConnectorType.ZOHO, ZohoConnector)
