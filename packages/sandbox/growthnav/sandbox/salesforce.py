"""An emulator of the Salesforce REST API (``/services/data/vXX.X/``) over HTTPS on loopback.

Leads (catering and event inquiries: open, lost, or converted into a Contact), Contacts and
Opportunities from the demo brand's CRM, a few of them deleted (``queryAll`` sees those,
``query`` does not). ``salesforce_truth`` names the person behind every record.

- ``query`` / ``queryAll`` with a SOQL subset: ``SELECT f, … FROM Obj [WHERE c [AND|OR c …]]
  [ORDER BY f [ASC|DESC], …] [LIMIT n]``. Datetime literals are validated as Salesforce does
  (``2024-01-31T18:05:00Z`` or with ``+hh:mm``; a naive or fractional-second literal is
  ``MALFORMED_QUERY``); unknown fields are ``INVALID_FIELD``, unknown objects ``INVALID_TYPE``.
  Results come in pages (2,000 records) linked by ``nextRecordsUrl``.
- ``sobjects/{Obj}/describe``; the ``Sforce-Limit-Info`` header on every response; after the
  daily request budget, 403 ``REQUEST_LIMIT_EXCEEDED``; a wrong session, 401
  ``INVALID_SESSION_ID``.
"""

from __future__ import annotations

import itertools
import random
import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from growthnav.sandbox.business import CRM, DemoBusiness
from growthnav.sandbox.loopback import LoopbackServer, Request, Response
from growthnav.sandbox.people import Noise

API_VERSION = "59.0"
PAGE_SIZE = 2_000

_DATETIME_LITERAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
_DATE_LITERAL = re.compile(r"\d{4}-\d{2}-\d{2}")
_SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(
    r"^\s*(?P<field>\w+)\s*(?P<op><=|>=|!=|<>|=|<|>)\s*(?P<value>'(?:[^'\\]|\\.)*'|\S+)\s*$"
)

FIELDS: dict[str, dict[str, str]] = {
    "Lead": {
        "Id": "id",
        "FirstName": "string",
        "LastName": "string",
        "Email": "email",
        "Phone": "phone",
        "Company": "string",
        "PostalCode": "string",
        "LeadSource": "picklist",
        "Status": "picklist",
        "IsConverted": "boolean",
        "ConvertedContactId": "reference",
        "ConvertedDate": "date",
        "CreatedDate": "datetime",
        "LastModifiedDate": "datetime",
        "SystemModstamp": "datetime",
        "IsDeleted": "boolean",
    },
    "Contact": {
        "Id": "id",
        "FirstName": "string",
        "LastName": "string",
        "Email": "email",
        "Phone": "phone",
        "MailingPostalCode": "string",
        "CreatedDate": "datetime",
        "LastModifiedDate": "datetime",
        "SystemModstamp": "datetime",
        "IsDeleted": "boolean",
    },
    "Opportunity": {
        "Id": "id",
        "Name": "string",
        "Amount": "currency",
        "StageName": "picklist",
        "CloseDate": "date",
        "ContactId": "reference",
        "LeadSource": "picklist",
        "CreatedDate": "datetime",
        "LastModifiedDate": "datetime",
        "SystemModstamp": "datetime",
        "IsDeleted": "boolean",
    },
}


class SOQLError(Exception):
    """A query Salesforce would refuse: ``code`` is its error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _sf_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


#: Share of the people without a catering deal who still sent an inquiry (an open/lost lead).
INQUIRY_RATE = 0.04
_LEAD_SOURCES = ("Catering Inquiry", "Event Inquiry", "Web", "Phone Inquiry")
_OPEN_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")


def _contact_id(customer_key: str) -> str:
    return f"003{int(customer_key):012d}AAA"


def _lead_rng(business: DemoBusiness) -> random.Random:
    # Seeded by the people themselves, so a different brand gets different leads.
    first = business.people[0].person_id if business.people else ""
    return random.Random(f"leads:{business.customer_id}:{len(business.people)}:{first}")


def _crm_truth(business: DemoBusiness) -> pa.Table:
    return business.truth.filter(pc.equal(business.truth.column("system"), pa.scalar(CRM)))


def salesforce_leads(business: DemoBusiness) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Leads: one converted lead per person with a catering deal, plus open/lost inquiries.

    Returns the Lead records and, for each, the id of the person behind it.
    """
    rng = _lead_rng(business)
    noise = Noise(rng)
    deals = business.tables[CRM].to_pylist()
    first_deal: dict[str, dict[str, Any]] = {}
    for row in deals:
        first_deal.setdefault(row["Associated Contact ID"], row)
    truth = _crm_truth(business)
    person_of_key = dict(
        zip(
            truth.column("customer_key").to_pylist(),
            truth.column("person_id").to_pylist(),
            strict=True,
        )
    )
    converted = {person_of_key[key]: row for key, row in first_deal.items()}
    leads: list[dict[str, Any]] = []
    people: dict[str, str] = {}
    for person in business.people:
        deal = converted.get(person.person_id)
        if deal is None and rng.random() >= INQUIRY_RATE:
            continue
        if deal is not None:
            converted_at = datetime.strptime(deal["Create Date"], "%Y-%m-%d %H:%M")
            converted_at = converted_at.replace(tzinfo=UTC)
            created = converted_at - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
            modified = converted_at
        else:
            created = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 525_000))
            modified = created
        lead_id = f"00Q{len(leads) + 1:012d}AAA"
        leads.append(
            {
                "Id": lead_id,
                "FirstName": noise.first_name(person.first_name, rate=0.08),
                "LastName": noise.last_name(person.last_name, rate=0.04),
                "Email": noise.maybe(noise.email(person.email), 0.9),
                "Phone": noise.maybe(noise.phone(person.phone), 0.7),
                "Company": rng.choice(("", f"{person.last_name} & Co", "Self")) or None,
                "PostalCode": noise.maybe(person.postal_code, 0.6),
                "LeadSource": rng.choice(_LEAD_SOURCES),
                "Status": "Closed - Converted" if deal else rng.choice(_OPEN_STATUSES),
                "IsConverted": deal is not None,
                "ConvertedContactId": (
                    _contact_id(deal["Associated Contact ID"]) if deal else None
                ),
                "ConvertedDate": converted_at.date().isoformat() if deal else None,
                "CreatedDate": _sf_time(created),
                "LastModifiedDate": _sf_time(modified),
                "SystemModstamp": _sf_time(modified + timedelta(seconds=1)),
                "IsDeleted": len(leads) % 50 == 49,
            }
        )
        people[lead_id] = person.person_id
    return leads, people


def salesforce_truth(business: DemoBusiness) -> dict[str, str]:
    """Salesforce record Id -> the id of the person it belongs to (Leads, Contacts, deals)."""
    truth = _crm_truth(business)
    out = {}
    for row in truth.to_pylist():
        out[f"006{int(row['record_id']) % 10**12:012d}AAA"] = row["person_id"]
        out[_contact_id(row["customer_key"])] = row["person_id"]
    out.update(salesforce_leads(business)[1])
    return out


def salesforce_records(business: DemoBusiness) -> dict[str, list[dict[str, Any]]]:
    """The brand's CRM as Salesforce Leads, Contacts and Opportunities (a few deleted)."""
    contacts: dict[str, dict[str, Any]] = {}
    opportunities = []
    for index, row in enumerate(business.tables[CRM].to_pylist()):
        created = datetime.strptime(row["Create Date"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        closed = datetime.strptime(row["Close Date"], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        contact_id = _contact_id(row["Associated Contact ID"])
        contacts.setdefault(
            contact_id,
            {
                "Id": contact_id,
                "FirstName": row["Contact First Name"],
                "LastName": row["Contact Last Name"],
                "Email": row["Contact Email"],
                "Phone": row["Contact Phone Number"],
                "MailingPostalCode": row["Contact Postal Code"],
                "CreatedDate": _sf_time(created),
                "LastModifiedDate": _sf_time(created),
                "SystemModstamp": _sf_time(created + timedelta(seconds=1)),
                "IsDeleted": False,
            },
        )
        opportunities.append(
            {
                "Id": f"006{int(row['Record ID']) % 10**12:012d}AAA",
                "Name": row["Deal Name"],
                "Amount": float(row["Amount"]),
                "StageName": "Closed Won",
                "CloseDate": closed.date().isoformat(),
                "ContactId": contact_id,
                "LeadSource": "Catering" if "catering" in row["Deal Name"] else "Events",
                "CreatedDate": _sf_time(created),
                "LastModifiedDate": _sf_time(closed),
                "SystemModstamp": _sf_time(closed + timedelta(seconds=1)),
                "IsDeleted": index % 40 == 39,
            }
        )
    return {
        "Lead": salesforce_leads(business)[0],
        "Contact": list(contacts.values()),
        "Opportunity": opportunities,
    }


def _literal(kind: str, text: str) -> Any:
    if text.lower() == "null":
        return None
    if kind == "datetime":
        if not _DATETIME_LITERAL.fullmatch(text):
            raise SOQLError(
                "MALFORMED_QUERY",
                f"value of filter criterion is not of type dateTime: {text} (use e.g. "
                "2024-01-31T18:05:00Z)",
            )
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    if kind == "date":
        if not _DATE_LITERAL.fullmatch(text):
            raise SOQLError("MALFORMED_QUERY", f"value of filter criterion is not a date: {text}")
        return date.fromisoformat(text)
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "currency":
        try:
            return float(text)
        except ValueError:
            raise SOQLError("MALFORMED_QUERY", f"{text} is not a number") from None
    if not (text.startswith("'") and text.endswith("'")):
        raise SOQLError("MALFORMED_QUERY", f"string literal {text} must be quoted")
    return text[1:-1].replace("\\'", "'")


def _value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC)
    if kind == "date":
        return date.fromisoformat(value)
    return value


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
}


def run_soql(
    soql: str, records: dict[str, list[dict[str, Any]]], *, include_deleted: bool
) -> tuple[str, list[str], list[dict[str, Any]]]:
    """(object, fields, matching records) for a query in the supported subset."""
    match = _SOQL.match(soql)
    if match is None:
        raise SOQLError("MALFORMED_QUERY", f"unexpected token in query: {soql[:80]}")
    obj = match["object"]
    if obj not in FIELDS:
        raise SOQLError("INVALID_TYPE", f"sObject type '{obj}' is not supported.")
    kinds = FIELDS[obj]
    fields = [f.strip() for f in match["fields"].split(",")]
    for name in fields:
        if name not in kinds:
            raise SOQLError("INVALID_FIELD", f"No such column '{name}' on entity '{obj}'.")
    rows = [r for r in records[obj] if include_deleted or not r["IsDeleted"]]
    if match["where"]:
        rows = [r for r in rows if _where(match["where"], kinds, obj)(r)]
    if match["order"]:
        for clause in reversed([c.strip() for c in match["order"].split(",")]):
            name, _, direction = clause.partition(" ")
            if name not in kinds:
                raise SOQLError("INVALID_FIELD", f"No such column '{name}' on entity '{obj}'.")
            descending = direction.strip().upper() == "DESC"
            rows.sort(key=lambda r: (r.get(name) is None, r.get(name)), reverse=descending)
    if match["limit"]:
        rows = rows[: int(match["limit"])]
    return obj, fields, rows


def _where(text: str, kinds: dict[str, str], obj: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate for ``c AND c …`` or ``c OR c …`` (one connective per query)."""
    connective = " OR " if re.search(r"\sOR\s", text, re.IGNORECASE) else " AND "
    parts = re.split(rf"\s{connective.strip()}\s", text, flags=re.IGNORECASE)
    checks = []
    for part in parts:
        condition = _CONDITION.match(part)
        if condition is None:
            raise SOQLError("MALFORMED_QUERY", f"unexpected token in WHERE: {part.strip()}")
        name = condition["field"]
        if name not in kinds:
            raise SOQLError("INVALID_FIELD", f"No such column '{name}' on entity '{obj}'.")
        wanted = _literal(kinds[name], condition["value"])
        checks.append((name, kinds[name], _OPS[condition["op"]], wanted))

    def predicate(row: dict[str, Any]) -> bool:
        results = (op(_value(kind, row.get(name)), wanted) for name, kind, op, wanted in checks)
        return any(results) if connective == " OR " else all(results)

    return predicate


class SalesforceEmulator(LoopbackServer):
    """The REST API over HTTPS; clients trust ``ca_path``."""

    def __init__(
        self,
        records: dict[str, list[dict[str, Any]]],
        *,
        session_id: str = "00Dsandbox!sandbox-session",
        daily_limit: int = 15_000,
        page_size: int = PAGE_SIZE,
        seed: int = 0,
    ) -> None:
        super().__init__(seed=seed, tls=True)
        self.records = records
        self.session_id = session_id
        self.daily_limit = daily_limit
        self.page_size = page_size
        self.used = 0
        self._cursors: dict[str, tuple[str, list[str], list[dict[str, Any]]]] = {}
        self._ids = itertools.count(1)
        self._usage = threading.Lock()

    def error_body(self, status: int, message: str) -> Any:
        """Salesforce's error shape: a list of errors."""
        code = {401: "INVALID_SESSION_ID", 403: "REQUEST_LIMIT_EXCEEDED"}.get(status, "UNKNOWN")
        return [{"message": message, "errorCode": code}]

    def expired(self, request: Request) -> Response:
        """An expired session."""
        return Response(401, self.error_body(401, "Session expired or invalid"))

    def handle(self, request: Request) -> Response:
        """Auth, the daily budget, then the route."""
        if request.bearer != self.session_id:
            return Response(401, self.error_body(401, "Session expired or invalid"))
        with self._usage:
            self.used += 1
            used = self.used
        headers = {"Sforce-Limit-Info": f"api-usage={used}/{self.daily_limit}"}
        if used > self.daily_limit:
            return Response(403, self.error_body(403, "TotalRequests Limit exceeded."), headers)
        response = self._route(request)
        response.headers.update(headers)
        return response

    def _route(self, request: Request) -> Response:
        prefix = f"/services/data/v{API_VERSION}/"
        path = request.path
        if path == "/services/data/" or path == "/services/data":
            return Response(200, [{"version": API_VERSION, "url": prefix.rstrip("/")}])
        if not path.startswith(prefix):
            return Response(404, [{"message": "not found", "errorCode": "NOT_FOUND"}])
        rest = path[len(prefix) :]
        try:
            if rest in ("query", "queryAll", "query/", "queryAll/"):
                soql = request.param("q") or ""
                found = run_soql(soql, self.records, include_deleted=rest.startswith("queryAll"))
                return Response(200, self._page(*found, start=0, locator=None))
            if rest.startswith(("query/", "queryAll/")):
                locator, _, offset = rest.split("/", 1)[1].rpartition("-")
                cursor = self._cursors.get(locator)
                if cursor is None or not offset.isdigit():
                    return Response(
                        400,
                        [
                            {
                                "message": "invalid query locator",
                                "errorCode": "INVALID_QUERY_LOCATOR",
                            }
                        ],
                    )
                return Response(200, self._page(*cursor, start=int(offset), locator=locator))
            parts = rest.split("/")
            if len(parts) == 3 and parts[0] == "sobjects" and parts[2] == "describe":
                return self._describe(parts[1])
        except SOQLError as exc:
            return Response(400, [{"message": str(exc), "errorCode": exc.code}])
        return Response(404, [{"message": f"no route {path}", "errorCode": "NOT_FOUND"}])

    def _page(
        self,
        obj: str,
        fields: list[str],
        rows: list[dict[str, Any]],
        *,
        start: int,
        locator: str | None,
    ) -> dict[str, Any]:
        chunk = rows[start : start + self.page_size]
        body: dict[str, Any] = {
            "totalSize": len(rows),
            "done": start + self.page_size >= len(rows),
            "records": [
                {
                    "attributes": {
                        "type": obj,
                        "url": f"/services/data/v{API_VERSION}/sobjects/{obj}/{r['Id']}",
                    },
                    **{f: r.get(f) for f in fields},
                }
                for r in chunk
            ],
        }
        if not body["done"]:
            locator = locator or f"01gSANDBOX{next(self._ids):08d}"
            self._cursors[locator] = (obj, fields, rows)
            body["nextRecordsUrl"] = (
                f"/services/data/v{API_VERSION}/query/{locator}-{start + self.page_size}"
            )
        return body

    def _describe(self, obj: str) -> Response:
        if obj not in FIELDS:
            return Response(
                404,
                [
                    {
                        "message": f"The requested resource does not exist: {obj}",
                        "errorCode": "NOT_FOUND",
                    }
                ],
            )
        return Response(
            200,
            {
                "name": obj,
                "queryable": True,
                "fields": [
                    {"name": name, "type": kind, "label": name}
                    for name, kind in FIELDS[obj].items()
                ],
            },
        )
