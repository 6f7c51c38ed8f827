"""The demo business: one restaurant brand whose customers appear across its systems.

``generate_business(people=5000, seed=7)`` returns, for each system, its records in the shape
and column names that system exports (Toast-like POS orders, Thanx-like loyalty purchases,
Olo-like online orders, HubSpot-like catering deals), plus the ground truth: which person each
record belongs to, and which records are malformed on purpose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from growthnav.sandbox.people import Noise, Person, generate_people, source_key

BRAND_TIMEZONE = "America/New_York"
_ZONE = ZoneInfo(BRAND_TIMEZONE)
_START = datetime(2024, 1, 1, tzinfo=_ZONE)
_DAYS = 366

STREETS = (
    "Harbor St",
    "Maple Ave",
    "Union Sq",
    "Bay Ridge",
    "Atlantic Ave",
    "Court St",
    "Fulton St",
    "Main St",
    "Park Slope",
    "Astoria Blvd",
    "Jersey Ave",
    "Hoboken Pier",
    "White Plains Rd",
    "Stamford Ctr",
    "Montclair Ave",
    "Garden City",
    "Flatiron",
    "Chelsea Mkt",
    "Tribeca",
    "Long Island City",
)

SERVERS = ("Ana", "Luis", "Kim", "Omar", "Dee")

#: System names as they appear in the truth table and the demo's connector names.
POS, LOYALTY, ONLINE, CRM = "toast_pos", "thanx_loyalty", "olo_online", "hubspot_crm"
SYSTEMS = (POS, LOYALTY, ONLINE, CRM)


@dataclass(frozen=True)
class Location:
    """A restaurant of the brand."""

    location_id: str
    store_number: str
    name: str


@dataclass
class DemoBusiness:
    """A brand's systems' records and the truth behind them."""

    brand: str
    customer_id: str
    timezone: str
    locations: list[Location]
    people: list[Person]
    #: System name -> its records, in that system's own column names.
    tables: dict[str, pa.Table] = field(default_factory=dict)
    #: One row per source record: system, record_id, customer_key, person_id, bad_reason,
    #: value (the amount a correct normalization gives, as text).
    truth: pa.Table = field(default_factory=lambda: pa.table({}))

    @property
    def source_records(self) -> int:
        """How many records all systems hold together."""
        return sum(t.num_rows for t in self.tables.values())


TRUTH_SCHEMA = pa.schema(
    [
        ("system", pa.string()),
        ("record_id", pa.string()),
        ("customer_key", pa.string()),
        ("person_id", pa.string()),
        ("bad_reason", pa.string()),
        ("value", pa.string()),
    ]
)

#: For each system, the mapping a careful analyst would make (what discovery should find).
EXPECTED_FIELD_MAPS: dict[str, dict[str, str]] = {
    POS: {
        "Order Id": "transaction_id",
        "Closed": "timestamp",
        "Total": "value",
        "Location": "location_name",
        "Customer Id": "user_id",
        "Customer Email": "email",
        "Customer Phone": "phone",
        "Customer First Name": "first_name",
        "Customer Last Name": "last_name",
    },
    LOYALTY: {
        "PURCHASE_ID": "transaction_id",
        "PURCHASED_AT": "timestamp",
        "SETTLEMENT_AMOUNT": "value",
        "USER_ID": "user_id",
        "LOCATION_ID": "location_id",
        "LOCATION_NAME": "location_name",
        "EMAIL": "email",
        "PHONE": "phone",
        "FIRST_NAME": "first_name",
        "LAST_NAME": "last_name",
        "MEMBERSHIP_NUMBER": "loyalty_id",
        "CARDFINGERPRINT": "hashed_cc",
    },
    ONLINE: {
        "orderId": "transaction_id",
        "timePlaced": "timestamp",
        "total": "value",
        "customerId": "user_id",
        "storeNumber": "location_id",
        "email": "email",
        "contactNumber": "phone",
        "firstName": "first_name",
        "lastName": "last_name",
        "membershipNumber": "loyalty_id",
        "itemCount": "quantity",
    },
    CRM: {
        "Record ID": "transaction_id",
        "Close Date": "timestamp",
        "Amount": "value",
        "Associated Contact ID": "user_id",
        "Contact Email": "email",
        "Contact Phone Number": "phone",
        "Contact First Name": "first_name",
        "Contact Last Name": "last_name",
        "Contact Postal Code": "postal_code",
    },
}


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _cents(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(round(rng.uniform(low, high), 2)).quantize(Decimal("0.01"))


class _Builder:
    """Accumulates rows per system and the truth for each."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed + 1)
        self.noise = Noise(random.Random(seed + 2))
        self.rows: dict[str, list[dict[str, Any]]] = {system: [] for system in SYSTEMS}
        self.truth: list[dict[str, Any]] = []

    def add(
        self,
        system: str,
        row: dict[str, Any],
        record_id: str,
        person: Person | None,
        value: Decimal,
        customer_key: str | None,
        bad_rate: float = 0.004,
        corrupt: tuple[tuple[str, str, str], ...] = (),
    ) -> None:
        """Add ``row``; with probability ``bad_rate`` corrupt one of its fields on purpose."""
        bad_reason = None
        if corrupt and self.rng.random() < bad_rate:
            column, bad_value, bad_reason = self.rng.choice(corrupt)
            row[column] = bad_value
        self.rows[system].append(row)
        self.truth.append(
            {
                "system": system,
                "record_id": record_id,
                "customer_key": customer_key,
                "person_id": person.person_id if person else None,
                "bad_reason": bad_reason,
                "value": None if bad_reason else _money(value),
            }
        )

    def moment(self) -> datetime:
        day = _START + timedelta(days=self.rng.randrange(_DAYS))
        return day.replace(hour=self.rng.randint(11, 21), minute=self.rng.randrange(60))


def _pos_row(
    b: _Builder, order: int, location: Location, opened: datetime, person: Person | None
) -> tuple[dict[str, Any], Decimal, str | None]:
    amount = _cents(b.rng, 6, 85)
    discount = _cents(b.rng, 1, 5) if b.rng.random() < 0.1 else Decimal("0.00")
    amount -= discount
    tax = (amount * Decimal("0.08875")).quantize(Decimal("0.01"))
    tip = (amount * Decimal(b.rng.choice(("0", "0.15", "0.18", "0.2")))).quantize(Decimal("0.01"))
    total = amount + tax + tip
    closed = opened + timedelta(minutes=b.rng.randint(15, 95))
    identified = person is not None and b.rng.random() < 0.45
    key = source_key(person.person_id, POS) if identified and person else None
    server = b.rng.randint(100, 140)
    n = b.noise
    row = {
        "Location": location.name,
        "Order Id": f"{order:012d}",
        "Order #": str(order % 1000),
        "Opened": opened.strftime("%m/%d/%Y %I:%M %p"),
        "Closed": closed.strftime("%m/%d/%Y %I:%M %p"),
        "# of Guests": str(b.rng.randint(1, 6)),
        "Server": f"{b.rng.choice(SERVERS)} (Emp {server})",
        "Server Id": f"E{server}",
        "Revenue Center": b.rng.choice(("Dining Room", "Bar", "Patio")),
        "Dining Options": b.rng.choice(("Dine In", "Take Out")),
        "Discount Amount": _money(discount),
        "Amount": _money(amount),
        "Tax": _money(tax),
        "Tip": _money(tip),
        "Total": _money(total),
        "Voided": "false",
        "Customer Id": key,
        "Customer First Name": n.first_name(person.first_name) if key and person else None,
        "Customer Last Name": n.last_name(person.last_name) if key and person else None,
        "Customer Phone": n.maybe(n.phone(person.phone), 0.8) if key and person else None,
        "Customer Email": n.maybe(n.email(person.email), 0.6) if key and person else None,
        "Order Source": "In store",
        "External Reference": None,
    }
    return row, total, key


def generate_business(people: int = 5000, seed: int = 7) -> DemoBusiness:
    """A seeded, deterministic brand with ``people`` customers and ~20 locations."""
    persons = generate_people(people, seed)
    locations = [
        Location(f"LOC-{i + 1:03d}", f"{1001 + i}", f"Juniper Kitchen {street}")
        for i, street in enumerate(STREETS)
    ]
    b = _Builder(seed)
    order = 100_000_000
    purchase = 50_000_000
    online = 700_000_000
    for person in persons:
        home = b.rng.sample(locations, 2)
        for _ in range(person.visits):
            location = home[0] if b.rng.random() < 0.7 else b.rng.choice(locations)
            opened = b.moment()
            if person.uses_online_ordering and b.rng.random() < 0.35:
                online += 1
                _add_online(b, online, location, opened, person)
                if b.rng.random() < 0.5:  # the order is also rung up in the POS
                    order += 1
                    row, total, key = _pos_row(b, order, location, opened, None)
                    row["Order Source"] = "Online Ordering"
                    row["External Reference"] = f"OLO-{online}"
                    _add_pos(b, row, f"{order:012d}", None, total, None)
                continue
            order += 1
            row, total, key = _pos_row(b, order, location, opened, person)
            _add_pos(b, row, f"{order:012d}", person if key else None, total, key)
            if person.loyalty_id and b.rng.random() < 0.85:
                purchase += 1
                _add_loyalty(b, purchase, location, opened, person, total - Decimal(row["Tip"]))
        if b.rng.random() < 0.08:
            for _ in range(b.rng.randint(1, 3)):
                _add_deal(b, person)
    for _ in range(len(persons) * 2):  # walk-ins who never identify themselves
        order += 1
        row, total, _key = _pos_row(b, order, b.rng.choice(locations), b.moment(), None)
        _add_pos(b, row, f"{order:012d}", None, total, None)
    business = DemoBusiness(
        brand="Juniper Kitchen",
        customer_id="juniper-kitchen",
        timezone=BRAND_TIMEZONE,
        locations=locations,
        people=persons,
    )
    for system, rows in b.rows.items():
        names = list(rows[0]) if rows else []
        business.tables[system] = pa.table(
            {name: pa.array([row.get(name) for row in rows], pa.string()) for name in names}
        )
    business.truth = pa.Table.from_pylist(b.truth, TRUTH_SCHEMA)
    return business


def _add_pos(
    b: _Builder,
    row: dict[str, Any],
    record_id: str,
    person: Person | None,
    total: Decimal,
    key: str | None,
) -> None:
    b.add(
        POS,
        row,
        record_id,
        person,
        total,
        key,
        corrupt=(
            ("Total", "N/A", "bad_value"),
            ("Total", "12..50", "bad_value"),
            ("Closed", "13/45/2024 9:99 PM", "bad_timestamp"),
        ),
    )


def _add_loyalty(
    b: _Builder,
    purchase: int,
    location: Location,
    opened: datetime,
    person: Person,
    paid: Decimal,
) -> None:
    n = b.noise
    key = source_key(person.person_id, LOYALTY)[:8]
    moment = (opened + timedelta(minutes=b.rng.randint(20, 90))).astimezone(UTC)
    row = {
        "PURCHASE_ID": str(purchase),
        "USER_ID": key,
        "MEMBERSHIP_NUMBER": person.loyalty_id,
        "EMAIL": n.email(person.email),
        "PHONE": n.maybe(n.phone(person.phone), 0.7),
        "FIRST_NAME": n.first_name(person.first_name, rate=0.04),
        "LAST_NAME": n.last_name(person.last_name, rate=0.02),
        "LOCATION_ID": location.location_id,
        "LOCATION_NAME": location.name,
        "PURCHASED_AT": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "SETTLEMENT_AMOUNT": f"${paid:,.2f}",
        "REWARD_AMOUNT": f"${b.rng.choice((0, 0, 0, 5, 10))}.00",
        "POINTS_EARNED": str(int(paid)),
        "CARDFINGERPRINT": person.card_fingerprint,
        "CARD_LAST4": person.card_last4,
        "CREATED_AT": (moment + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    b.add(
        LOYALTY,
        row,
        str(purchase),
        person,
        paid,
        key,
        corrupt=(("SETTLEMENT_AMOUNT", "$--", "bad_value"),),
    )


def _add_online(
    b: _Builder, online: int, location: Location, placed: datetime, person: Person
) -> None:
    n = b.noise
    subtotal = _cents(b.rng, 12, 90)
    discount = _cents(b.rng, 2, 6) if b.rng.random() < 0.15 else Decimal("0.00")
    tax = ((subtotal - discount) * Decimal("0.08875")).quantize(Decimal("0.01"))
    tip = (subtotal * Decimal(b.rng.choice(("0", "0.1", "0.15")))).quantize(Decimal("0.01"))
    delivery = Decimal("4.99") if b.rng.random() < 0.4 else Decimal("0.00")
    total = subtotal - discount + tax + tip + delivery
    offset = placed.utcoffset() or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    order_id = f"OLO-{online}"
    row = {
        "orderId": order_id,
        "externalReference": None,
        "brandId": "juniper",
        "storeNumber": location.store_number,
        "timePlaced": placed.strftime("%Y%m%d %H:%M"),
        "storeUtcOffset": f"{hours:+03d}:00",
        "customerId": source_key(person.person_id, ONLINE)[:13],
        "email": n.email(person.email),
        "firstName": n.first_name(person.first_name, rate=0.05),
        "lastName": n.last_name(person.last_name, rate=0.03),
        "contactNumber": n.phone(person.phone),
        "membershipNumber": n.maybe(person.loyalty_id, 0.5),
        "handoff": b.rng.choice(("pickup", "delivery", "curbside")),
        "subtotal": _money(subtotal),
        "discount": _money(discount),
        "tax": _money(tax),
        "tip": _money(tip),
        "deliveryFee": _money(delivery),
        "total": _money(total),
        "itemCount": str(b.rng.randint(1, 6)),
    }
    b.add(
        ONLINE,
        row,
        order_id,
        person,
        total,
        row["customerId"],
        corrupt=(("timePlaced", "2024-02-30 25:61", "bad_timestamp"),),
    )


def _add_deal(b: _Builder, person: Person) -> None:
    n = b.noise
    deal = f"{9_000_000_000 + len(b.rows[CRM]) + 1}"
    amount = _cents(b.rng, 250, 4000)
    closed = b.moment()
    key = f"{7_000_000 + int(person.person_id[1:])}"
    row = {
        "Record ID": deal,
        "Deal Name": f"{person.last_name} {b.rng.choice(('catering', 'office lunch', 'party'))}",
        "Deal Stage": "Closed Won",
        "Pipeline": "Catering",
        "Amount": _money(amount),
        "Close Date": closed.strftime("%Y-%m-%d %H:%M"),
        "Create Date": (closed - timedelta(days=b.rng.randint(3, 30))).strftime("%Y-%m-%d %H:%M"),
        "Deal owner": b.rng.choice(("Morgan Reyes", "Casey Tran")),
        "Owner ID": str(b.rng.randint(50_000, 50_010)),
        "Associated Contact ID": key,
        "Contact First Name": n.first_name(person.first_name, rate=0.05),
        "Contact Last Name": n.last_name(person.last_name, rate=0.03),
        "Contact Email": n.email(person.email),
        "Contact Phone Number": n.maybe(n.phone(person.phone), 0.85),
        "Contact Postal Code": person.postal_code,
    }
    b.add(CRM, row, deal, person, amount, key)
