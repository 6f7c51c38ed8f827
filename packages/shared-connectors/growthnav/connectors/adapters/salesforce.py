"""Salesforce objects (Opportunity, Lead, Contact…) through the REST API and simple-salesforce.

One SOQL query per sync, ``ORDER BY SystemModstamp, Id`` (so batches arrive in cursor order),
``WHERE SystemModstamp >= <saved high-watermark>`` when incremental; the client follows
``nextRecordsUrl`` pages. Datetime literals are written as Salesforce wants them (whole seconds,
UTC ``Z``). Login is by session id (an OAuth access token); an expired one is an
``AuthenticationError``, a spent daily API budget a ``QuotaExhaustedError``. Relationship fields
come flattened (``Account.Name``).
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any, ClassVar

from growthnav.connectors.base import ChangeStreamConnector
from growthnav.connectors.config import ConnectorCategory, ConnectorType
from growthnav.connectors.exceptions import (
    AuthenticationError,
    FatalAPIError,
    QuotaExhaustedError,
    SchemaError,
)
from growthnav.connectors.flatten import flatten
from growthnav.connectors.registry import get_registry
from growthnav.connectors.spec import ConnectorSpec, RecordKindParams, SpecModel
from growthnav.conversions import FieldMap, parse_timestamp
from pydantic import Field, SecretStr

_DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "Opportunity": ("Id", "Name", "Amount", "StageName", "CloseDate", "ContactId", "LeadSource"),
    "Lead": (
        "Id",
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "PostalCode",
        "Status",
        "CreatedDate",
    ),
    "Contact": (
        "Id",
        "FirstName",
        "LastName",
        "Email",
        "Phone",
        "MailingPostalCode",
        "CreatedDate",
    ),
}
_DEFAULT_MAPS: dict[str, dict[str, str]] = {
    "Opportunity": {
        "Id": "transaction_id",
        "CloseDate": "timestamp",
        "Amount": "value",
        "ContactId": "user_id",
        "LeadSource": "utm_source",
    },
    "Lead": {
        "Id": "transaction_id",
        "CreatedDate": "timestamp",
        "FirstName": "first_name",
        "LastName": "last_name",
        "Email": "email",
        "Phone": "phone",
        "PostalCode": "postal_code",
    },
    "Contact": {
        "Id": "transaction_id",
        "CreatedDate": "timestamp",
        "FirstName": "first_name",
        "LastName": "last_name",
        "Email": "email",
        "Phone": "phone",
        "MailingPostalCode": "postal_code",
    },
}


class SalesforceCredentials(SpecModel):
    """A session id: an OAuth access token for the org."""

    session_id: SecretStr = Field(description="session id / OAuth access token")


class SalesforceParams(RecordKindParams):
    """Which org and object to read."""

    instance_url: str = Field(description="the org's URL, e.g. https://acme.my.salesforce.com")
    object_name: str = Field(default="Opportunity", description="sObject, e.g. Opportunity, Lead")
    fields: list[str] | None = Field(
        default=None, description="fields to read (default: the usual ones for the object)"
    )
    api_version: str = Field(default="59.0", description="REST API version")
    ca_file: str | None = Field(
        default=None, description="CA bundle to trust (default: the system's)"
    )


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal: UTC, whole seconds (Salesforce refuses fractions)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SalesforceConnector(ChangeStreamConnector):
    """Reads one Salesforce object."""

    connector_type: ClassVar[ConnectorType] = ConnectorType.SALESFORCE
    category = ConnectorCategory.CRM
    spec = ConnectorSpec(SalesforceCredentials, SalesforceParams)
    primary_key = "Id"
    cursor_field = "SystemModstamp"
    ordered_by_cursor = True

    @property
    def params(self) -> SalesforceParams:
        """The validated connection params."""
        params: SalesforceParams = self.settings.params
        return params

    @property
    def field_map(self) -> FieldMap:
        """Overrides, then the usual mapping for the object."""
        default = _DEFAULT_MAPS.get(self.params.object_name, {"Id": "transaction_id"})
        return FieldMap.layered(self.config.field_overrides, default)

    @property
    def fields(self) -> list[str]:
        """The fields queried (always the id and the cursor)."""
        wanted = list(self.params.fields or _DEFAULT_FIELDS.get(self.params.object_name, ("Id",)))
        for required in ("Id", "SystemModstamp"):
            if required not in wanted:
                wanted.append(required)
        return wanted

    def _sf(self) -> Any:
        if self._client is None:
            import requests
            from requests.adapters import HTTPAdapter
            from simple_salesforce.api import Salesforce
            from urllib3.util.retry import Retry

            credentials = self.settings.credentials
            if credentials is None:
                raise AuthenticationError("no Salesforce credentials: set credentials.session_id")
            session = requests.Session()
            session.trust_env = False  # only the CA bundle named here, never the environment's
            if self.params.ca_file:
                session.verify = self.params.ca_file
            retry = Retry(
                total=4,
                status_forcelist=(429, 500, 502, 503, 504),
                allowed_methods=None,
                backoff_factor=0.5,
                respect_retry_after_header=True,
                raise_on_status=False,
            )
            session.mount("https://", HTTPAdapter(max_retries=retry))
            session.mount("http://", HTTPAdapter(max_retries=retry))
            self._client = Salesforce(
                instance_url=self.params.instance_url,
                session_id=credentials.session_id.get_secret_value(),
                session=session,
                version=self.params.api_version,
            )
        return self._client

    def _call(self, action: str, function: Any, *arguments: Any, **options: Any) -> Any:
        from simple_salesforce.exceptions import (
            SalesforceError,
            SalesforceExpiredSession,
            SalesforceMalformedRequest,
            SalesforceRefusedRequest,
            SalesforceResourceNotFound,
        )

        try:
            return function(*arguments, **options)
        except SalesforceExpiredSession:
            raise AuthenticationError(
                "Salesforce refused the session (expired or invalid): renew credentials.session_id"
            ) from None
        except SalesforceRefusedRequest as exc:
            raise QuotaExhaustedError(
                f"Salesforce refused the {action} (daily API budget spent?): {_first(exc)}"
            ) from None
        except (SalesforceMalformedRequest, SalesforceResourceNotFound) as exc:
            raise SchemaError(
                f"Salesforce could not {action} {self.params.object_name}: {_first(exc)}"
            ) from None
        except SalesforceError as exc:
            raise FatalAPIError(f"Salesforce {action} failed: {_first(exc)}") from None

    def authenticate(self) -> None:
        """Describe the object: the session is accepted and the object exists."""
        self.get_schema()
        self._authenticated = True

    def get_schema(self) -> dict[str, str]:
        """The queried fields and their Salesforce types."""
        sobject = getattr(self._sf(), self.params.object_name)
        described = self._call("describe", sobject.describe)
        types = {f["name"]: f["type"] for f in described["fields"]}
        missing = [f for f in self.fields if "." not in f and f not in types]
        if missing:
            raise SchemaError(
                f"Salesforce {self.params.object_name} has no fields {', '.join(missing)}"
            )
        return {f: str(types.get(f, "reference")) for f in self.fields}

    def _changes(
        self, since: datetime | None, until: datetime | None
    ) -> Generator[dict[str, Any], None, None]:
        soql = f"SELECT {', '.join(self.fields)} FROM {self.params.object_name}"
        bounds = []
        if since is not None:
            # Whole seconds, rounded down: a GTE bound never skips a record.
            bounds.append(f"SystemModstamp >= {soql_datetime(since)}")
        if until is not None:
            bounds.append(f"SystemModstamp < {soql_datetime(until)}")
        if bounds:
            soql += " WHERE " + " AND ".join(bounds)
        soql += " ORDER BY SystemModstamp ASC, Id ASC"
        records = self._call("query", self._sf().query_all_iter, soql)
        while True:
            item = self._call("query", next, records, None)
            if item is None:
                return
            record = flatten(_without_attributes(item))
            moment = parse_timestamp(record.get("SystemModstamp")).value
            if until is not None and moment is not None and moment >= until:
                return
            yield record

    def close(self) -> None:
        """Drop the client."""
        self._client = None
        super().close()


def _without_attributes(item: Any) -> Any:
    """A record without the ``attributes`` (type, url) Salesforce puts on every object."""
    if isinstance(item, dict):
        return {k: _without_attributes(v) for k, v in item.items() if k != "attributes"}
    return item


def _first(error: Exception) -> str:
    content: Any = getattr(error, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return f"{content[0].get('errorCode')}: {content[0].get('message')}"
    return type(error).__name__


get_registry().register(ConnectorType.SALESFORCE, SalesforceConnector)
