"""Canonical identity keys: the forms two records must share to be the same person.

Built on the project's parsers (email, E.164 phone), plus name folding and ZIP codes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from growthnav.conversions import parse_email, parse_phone

#: Identity fields and the column names each is found under (first match wins).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "email_address", "emailaddress", "e_mail", "user_email"),
    "phone": ("phone", "phone_number", "phonenumber", "mobile", "mobile_phone", "contact_number"),
    "first_name": ("first_name", "firstname", "given_name", "fname", "forename"),
    "last_name": ("last_name", "lastname", "surname", "family_name", "lname"),
    "postal_code": ("postal_code", "postcode", "zip", "zip_code", "zipcode"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "birthdate", "birthday"),
    "address": ("address", "street_address", "address_line_1", "address1"),
    "hashed_cc": ("hashed_cc", "cc_hash", "card_fingerprint", "cardfingerprint", "card_hash"),
    "loyalty_id": ("loyalty_id", "member_id", "membership_number", "loyalty_number"),
}
IDENTITY_FIELDS = tuple(FIELD_ALIASES)

_GMAIL = {"gmail.com", "googlemail.com"}
_NOT_LETTER = re.compile(r"[^a-z ]+")
_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_US_ZIP = re.compile(r"(\d{5})(-?\d{4})?")


def canonical_email(value: Any) -> str | None:
    """Lower case, without ``+tags``; gmail without dots. None when not an address."""
    parsed = parse_email(value)
    if parsed.value is None:
        return None
    local, _, domain = parsed.value.partition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def canonical_phone(value: Any, region: str = "US") -> str | None:
    """E.164, or None when not a valid number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_phone(value, region).value


def fold_name(value: Any) -> str | None:
    """Lower case, accents and punctuation removed, spaces collapsed."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _SPACES.sub(" ", _NOT_LETTER.sub("", text.replace("-", " "))).strip()
    return text or None


def canonical_postal_code(value: Any) -> str | None:
    """US ZIP as its five digits; other postcodes upper case without spaces."""
    if value is None:
        return None
    text = str(value).strip().upper()
    match = _US_ZIP.fullmatch(text)
    if match:
        return match.group(1)
    text = _NOT_ALNUM.sub("", text)
    return text or None


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def pick(record: Mapping[str, Any], field: str, aliases: Mapping[str, tuple[str, ...]]) -> Any:
    """The first non-blank value of ``field`` under any of its aliases."""
    for name in aliases.get(field, (field,)):
        value = record.get(name)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return value
    return None


def identity_keys(
    record: Mapping[str, Any],
    aliases: Mapping[str, tuple[str, ...]] = FIELD_ALIASES,
    region: str = "US",
) -> dict[str, str | None]:
    """The canonical identity fields of one record."""
    return {
        "email": canonical_email(pick(record, "email", aliases)),
        "phone": canonical_phone(pick(record, "phone", aliases), region),
        "first_name": fold_name(pick(record, "first_name", aliases)),
        "last_name": fold_name(pick(record, "last_name", aliases)),
        "postal_code": canonical_postal_code(pick(record, "postal_code", aliases)),
        "date_of_birth": _plain(pick(record, "date_of_birth", aliases)),
        "address": fold_name(pick(record, "address", aliases)),
        "hashed_cc": _plain(pick(record, "hashed_cc", aliases)),
        "loyalty_id": _plain(pick(record, "loyalty_id", aliases)),
    }
