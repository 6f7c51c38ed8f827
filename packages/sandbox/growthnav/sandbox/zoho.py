"""An emulator of Zoho CRM v3 (Deals, Contacts) and its accounts server, per data centre.

Zoho keeps OAuth and data on different hosts per data centre (``accounts.zoho.eu`` and
``www.zohoapis.eu``); here each is a loopback port, and ``hosts`` maps the real names to them.

- Accounts: ``POST /oauth/v2/token`` with ``grant_type=refresh_token`` returns an access token
  and the ``api_domain``; a bad refresh token answers 200 with ``{"error": "invalid_code"}``,
  as Zoho does.
- API: ``GET /crm/v3/{module}`` with ``Authorization: Zoho-oauthtoken …``; ``fields`` is
  mandatory; ``per_page`` ≤ 200; ``page`` reaches only the first 2,000 records, after which
  ``info.next_page_token`` / ``page_token`` must be used; ``sort_by=Modified_Time``;
  ``If-Modified-Since`` returns records modified at or after it (304 when none). An expired or
  unknown token is 401 ``INVALID_TOKEN``.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs

from growthnav.sandbox.business import CRM, DemoBusiness
from growthnav.sandbox.loopback import LoopbackServer, Request, Response

PER_PAGE_MAX = 200
PAGE_RECORDS_MAX = 2_000
DATA_CENTRES = {"us": ".com", "eu": ".eu", "in": ".in", "au": ".com.au", "jp": ".jp"}


def _zoho_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def zoho_records(business: DemoBusiness) -> dict[str, list[dict[str, Any]]]:
    """The brand's CRM as Zoho Deals and Contacts, by ``Modified_Time`` then id."""
    contacts: dict[str, dict[str, Any]] = {}
    deals = []
    for row in business.tables[CRM].to_pylist():
        created = datetime.strptime(row["Create Date"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        closed = datetime.strptime(row["Close Date"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        contact_id = f"5{int(row['Associated Contact ID']):017d}"
        name = f"{row['Contact First Name']} {row['Contact Last Name']}"
        contact = contacts.setdefault(
            contact_id,
            {
                "id": contact_id,
                "First_Name": row["Contact First Name"],
                "Last_Name": row["Contact Last Name"],
                "Email": row["Contact Email"],
                "Phone": row["Contact Phone Number"],
                "Mailing_Zip": row["Contact Postal Code"],
                "Created_Time": _zoho_time(created),
                "Modified_Time": _zoho_time(created),
            },
        )
        contact["Modified_Time"] = max(contact["Modified_Time"], _zoho_time(closed))
        deals.append(
            {
                "id": f"4{int(row['Record ID']):017d}",
                "Deal_Name": row["Deal Name"],
                "Amount": float(row["Amount"]),
                "Stage": "Closed Won",
                "Closing_Date": closed.date().isoformat(),
                "Created_Time": _zoho_time(created),
                "Modified_Time": _zoho_time(closed),
                "Contact_Name": {"id": contact_id, "name": name},
                "Owner": {"id": f"3{int(row['Owner ID']):017d}", "name": row["Deal owner"]},
            }
        )
    order = lambda r: (r["Modified_Time"], r["id"])  # noqa: E731
    return {"Deals": sorted(deals, key=order), "Contacts": sorted(contacts.values(), key=order)}


class ZohoAccounts(LoopbackServer):
    """The OAuth accounts server of one data centre."""

    def __init__(
        self, client_id: str, client_secret: str, refresh_token: str, *, seed: int = 0
    ) -> None:
        super().__init__(seed=seed)
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.api_domain = ""
        self.issued: dict[str, datetime] = {}
        self._counter = itertools.count(1)
        self.token_lifetime = timedelta(hours=1)

    def handle(self, request: Request) -> Response:
        """``POST /oauth/v2/token`` (refresh-token grant)."""
        if request.method != "POST" or request.path != "/oauth/v2/token":
            return Response(404, {"error": "invalid_url"})
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        params = {**{k: v[0] for k, v in request.query.items()}, **form}
        if params.get("grant_type") != "refresh_token":
            return Response(200, {"error": "unsupported_grant_type"})
        if (params.get("client_id"), params.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return Response(200, {"error": "invalid_client"})
        if params.get("refresh_token") != self.refresh_token:
            return Response(200, {"error": "invalid_code"})
        number = next(self._counter)
        token = "1000." + hashlib.sha256(f"{self.client_id}:{number}".encode()).hexdigest()[:40]
        self.issued[token] = datetime.now(UTC) + self.token_lifetime
        return Response(
            200,
            {
                "access_token": token,
                "api_domain": self.api_domain,
                "token_type": "Bearer",
                "expires_in": int(self.token_lifetime.total_seconds()),
            },
        )

    def valid(self, token: str | None) -> bool:
        """True for a token issued here that has not expired."""
        expires = self.issued.get(token or "")
        return expires is not None and expires > datetime.now(UTC)

    def expire_all(self) -> None:
        """Every issued access token expires now."""
        for token in self.issued:
            self.issued[token] = datetime.now(UTC) - timedelta(seconds=1)


class ZohoAPI(LoopbackServer):
    """The CRM API server of one data centre."""

    def __init__(
        self,
        records: dict[str, list[dict[str, Any]]],
        accounts: ZohoAccounts,
        *,
        page_records_max: int = PAGE_RECORDS_MAX,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed)
        self.records = records
        self.accounts = accounts
        self.page_records_max = page_records_max
        self._tokens: dict[str, tuple[str, int]] = {}

    def error_body(self, status: int, message: str) -> Any:
        """Zoho's error shape."""
        code = {401: "INVALID_TOKEN", 429: "TOO_MANY_REQUESTS"}.get(status, "INTERNAL_ERROR")
        return {"code": code, "details": {}, "message": message, "status": "error"}

    def expired(self, request: Request) -> Response:
        """An expired access token."""
        return Response(401, self.error_body(401, "invalid oauth token"))

    def handle(self, request: Request) -> Response:
        """``GET /crm/v3/{module}``."""
        parts = request.path.strip("/").split("/")
        if request.method != "GET" or parts[:2] != ["crm", "v3"] or len(parts) != 3:
            return Response(404, {"code": "INVALID_URL_PATTERN", "status": "error"})
        auth = request.headers.get("authorization", "")
        token = (
            auth.removeprefix("Zoho-oauthtoken ") if auth.startswith("Zoho-oauthtoken ") else None
        )
        if not self.accounts.valid(token):
            return Response(401, self.error_body(401, "invalid oauth token"))
        module = parts[2]
        if module not in self.records:
            return Response(400, self._invalid("INVALID_MODULE", f"unknown module {module!r}"))
        fields = request.param("fields")
        if not fields:
            return Response(400, self._invalid("REQUIRED_PARAM_MISSING", "fields is required"))
        try:
            per_page = int(request.param("per_page") or PER_PAGE_MAX)
            page = int(request.param("page") or 1)
        except ValueError:
            return Response(400, self._invalid("INVALID_DATA", "page/per_page must be numbers"))
        if not 1 <= per_page <= PER_PAGE_MAX:
            return Response(
                400, self._invalid("INVALID_DATA", f"per_page must be 1..{PER_PAGE_MAX}")
            )
        records = self.records[module]
        since = request.headers.get("if-modified-since")
        if since:
            moment = _zoho_time(
                parsedate_to_datetime(since) if "," in since else datetime.fromisoformat(since)
            )
            records = [r for r in records if r["Modified_Time"] >= moment]
            if not records:
                return Response(304, None)
        if (request.param("sort_order") or "asc") == "desc":
            records = list(reversed(records))
        token_in = request.param("page_token")
        if token_in:
            known = self._tokens.get(token_in)
            if known is None or known[0] != module:
                return Response(400, self._invalid("INVALID_DATA", "invalid page_token"))
            start = known[1]
        else:
            start = (page - 1) * per_page
            if start >= self.page_records_max:
                return Response(
                    400,
                    self._invalid(
                        "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                        f"page reaches only the first {self.page_records_max} records; "
                        "use page_token",
                    ),
                )
        chunk = records[start : start + per_page]
        more = start + per_page < len(records)
        info: dict[str, Any] = {
            "per_page": per_page,
            "count": len(chunk),
            "page": page,
            "more_records": more,
            "sort_by": "Modified_Time",
            "next_page_token": None,
        }
        if more:
            next_token = hashlib.sha256(f"{module}:{start + per_page}".encode()).hexdigest()[:32]
            self._tokens[next_token] = (module, start + per_page)
            info["next_page_token"] = next_token
        wanted = ["id", *fields.split(",")]
        data = [{f: r.get(f) for f in wanted} for r in chunk]
        return Response(200, {"data": data, "info": info})

    @staticmethod
    def _invalid(code: str, message: str) -> dict[str, Any]:
        return {"code": code, "details": {}, "message": message, "status": "error"}


class ZohoDataCentre:
    """The accounts and API servers of one data centre, started and stopped together."""

    def __init__(
        self,
        records: dict[str, list[dict[str, Any]]],
        *,
        data_centre: str = "eu",
        client_id: str = "1000.SANDBOXCLIENT",
        client_secret: str = "sandbox-zoho-secret",
        refresh_token: str = "1000.sandbox-refresh-token",
        page_records_max: int = PAGE_RECORDS_MAX,
        seed: int = 0,
    ) -> None:
        if data_centre not in DATA_CENTRES:
            raise ValueError(f"unknown Zoho data centre {data_centre!r}: {', '.join(DATA_CENTRES)}")
        self.data_centre = data_centre
        self.accounts = ZohoAccounts(client_id, client_secret, refresh_token, seed=seed)
        self.api = ZohoAPI(records, self.accounts, page_records_max=page_records_max, seed=seed)

    def start(self) -> ZohoDataCentre:
        """Start both servers."""
        self.api.start()
        try:
            self.accounts.start()
        except BaseException:
            self.api.stop()
            raise
        self.accounts.api_domain = self.api.url
        return self

    def stop(self) -> None:
        """Stop both servers."""
        self.accounts.stop()
        self.api.stop()

    @property
    def hosts(self) -> dict[str, str]:
        """The real host names of this data centre and the loopback URLs standing in for them."""
        suffix = DATA_CENTRES[self.data_centre]
        return {f"accounts.zoho{suffix}": self.accounts.url, f"www.zohoapis{suffix}": self.api.url}

    @property
    def params(self) -> dict[str, str]:
        """What a client needs to connect."""
        return {
            "data_centre": self.data_centre,
            "accounts_url": self.accounts.url,
            "api_domain": self.api.url,
            "client_id": self.accounts.client_id,
            "client_secret": self.accounts.client_secret,
            "refresh_token": self.accounts.refresh_token,
        }

    def __enter__(self) -> ZohoDataCentre:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
