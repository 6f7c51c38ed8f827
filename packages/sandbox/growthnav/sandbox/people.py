"""The demo brand's customers: seeded people with the identifiers each system sees.

Noise is generated the way it happens in real systems: nicknames and typos in names, email
case and gmail dots, phones in five formats, households sharing a phone, namesakes.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass

import phonenumbers
from faker import Faker

EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com")
#: Area codes of the brand's region (real NANP codes; the numbers themselves are random).
ZIP_PREFIXES = ("100", "101", "104", "112", "113", "070")
AREA_CODES = ("212", "347", "646", "718", "917", "201", "973", "516", "914", "203")

NICKNAMES = {
    "william": "Bill",
    "robert": "Bob",
    "elizabeth": "Liz",
    "katherine": "Kate",
    "michael": "Mike",
    "jennifer": "Jen",
    "christopher": "Chris",
    "jessica": "Jess",
    "matthew": "Matt",
    "daniel": "Dan",
    "joseph": "Joe",
    "anthony": "Tony",
    "richard": "Rick",
    "thomas": "Tom",
    "james": "Jim",
    "nicholas": "Nick",
    "samantha": "Sam",
    "alexander": "Alex",
    "benjamin": "Ben",
    "patricia": "Pat",
    "margaret": "Peggy",
    "susan": "Sue",
    "steven": "Steve",
    "andrew": "Andy",
    "david": "Dave",
    "jonathan": "Jon",
    "rebecca": "Becky",
    "timothy": "Tim",
}


@dataclass(frozen=True)
class Person:
    """One real customer, as the brand's systems would know them at their cleanest."""

    person_id: str
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164
    postal_code: str
    loyalty_id: str | None
    card_fingerprint: str | None
    card_last4: str | None
    uses_online_ordering: bool
    #: How often they come (visits over the demo period).
    visits: int


def _phone(rng: random.Random) -> str:
    while True:
        number = f"+1{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number


def _email(rng: random.Random, first: str, last: str) -> str:
    first, last = first.lower(), last.lower().replace("'", "").replace(" ", "")
    local = rng.choice(
        (
            f"{first}.{last}",
            f"{first}{last}",
            f"{first[0]}{last}",
            f"{first}.{last}{rng.randint(1, 9999)}",
            f"{first}{rng.randint(10, 99)}",
        )
    )
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _mailbox(email: str) -> str:
    """The mailbox an address reaches (gmail ignores dots): unique per person."""
    local, _, domain = email.partition("@")
    return f"{local.replace('.', '')}@{domain}" if domain == "gmail.com" else email


def generate_people(count: int, seed: int) -> list[Person]:
    """``count`` people; 4% share a household phone, 2% are namesakes of someone else."""
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    people: list[Person] = []
    used_emails: set[str] = set()
    for index in range(count):
        first, last = fake.first_name(), fake.last_name()
        phone = _phone(rng)
        if people and rng.random() < 0.04:  # a housemate: same surname and phone
            housemate = rng.choice(people)
            last, phone = housemate.last_name, housemate.phone
        elif people and rng.random() < 0.02:  # a namesake: same name, nothing else shared
            namesake = rng.choice(people)
            first, last = namesake.first_name, namesake.last_name
        email = _email(rng, first, last)
        while _mailbox(email) in used_emails:
            email = _email(rng, first, last)
        used_emails.add(_mailbox(email))
        person_id = f"P{index + 1:07d}"
        member = rng.random() < 0.55
        has_card = rng.random() < 0.8
        people.append(
            Person(
                person_id=person_id,
                first_name=first,
                last_name=last,
                email=email,
                phone=phone,
                postal_code=f"{rng.choice(ZIP_PREFIXES)}{rng.randint(0, 99):02d}",
                loyalty_id=f"TX{rng.randint(10_000_000, 99_999_999)}" if member else None,
                card_fingerprint=hashlib.sha256(f"card:{seed}:{person_id}".encode()).hexdigest()
                if has_card
                else None,
                card_last4=f"{rng.randint(0, 9999):04d}" if has_card else None,
                uses_online_ordering=rng.random() < 0.4,
                visits=max(1, min(80, int(rng.paretovariate(1.4) * 2))),
            )
        )
    return people


def source_key(person_id: str, system: str) -> str:
    """The id a system gives a person (stable, different in every system)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"growthnav-sandbox:{system}:{person_id}"))


class Noise:
    """How each system garbles what a customer typed, seeded."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def first_name(self, name: str, rate: float = 0.1) -> str:
        """Sometimes a nickname, sometimes a typo, sometimes shouted."""
        roll = self.rng.random()
        if roll < rate / 2 and name.lower() in NICKNAMES:
            return NICKNAMES[name.lower()]
        if roll < rate:
            return self.typo(name)
        if roll < rate * 1.5:
            return name.upper()
        return name

    def last_name(self, name: str, rate: float = 0.06) -> str:
        """Sometimes a typo or lower case."""
        roll = self.rng.random()
        if roll < rate:
            return self.typo(name)
        if roll < rate * 1.5:
            return name.lower()
        return name

    def typo(self, text: str) -> str:
        """One dropped or swapped letter (names of 4+ letters)."""
        if len(text) < 4:
            return text
        i = self.rng.randint(1, len(text) - 2)
        if self.rng.random() < 0.5:
            return text[:i] + text[i + 1 :]
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    def email(self, email: str) -> str:
        """Case changes, gmail dots and +tags: the same mailbox written differently."""
        local, domain = email.split("@")
        roll = self.rng.random()
        if domain == "gmail.com" and roll < 0.15:
            local = local.replace(".", "") if "." in local else f"{local[:2]}.{local[2:]}"
        elif roll < 0.22:
            local = f"{local}+{self.rng.choice(('orders', 'food', 'promo'))}"
        if self.rng.random() < 0.15:
            return f"{local}@{domain}".title() if self.rng.random() < 0.5 else email.upper()
        return f"{local}@{domain}"

    def phone(self, e164: str) -> str:
        """One of five ways people and systems write a US number."""
        digits = e164[2:]
        a, b, c = digits[:3], digits[3:6], digits[6:]
        return self.rng.choice(
            (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", digits)
        )

    def maybe(self, value: str | None, keep: float) -> str | None:
        """The value, or None when the system did not capture it."""
        return value if value is not None and self.rng.random() < keep else None
