from __future__ import annotations

import pytest
from growthnav.conversions import parse_email, parse_phone

PHONES = [
    ("(212) 555-0134", "+12125550134"),
    ("212-555-0134", "+12125550134"),
    ("212.555.0134", "+12125550134"),
    ("212 555 0134", "+12125550134"),
    ("2125550134", "+12125550134"),
    ("12125550134", "+12125550134"),
    ("+1 212 555 0134", "+12125550134"),
    ("+1 (212) 555-0134", "+12125550134"),
    ("1-212-555-0134", "+12125550134"),
    (" (312) 555-0199 ", "+13125550199"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+49 30 901820", "+4930901820"),
    ("+61 2 9374 4000", "+61293744000"),
    ("(416) 555-0123", "+14165550123"),
    ("212-555-0134 ext. 12", "+12125550134"),
    (2125550134, "+12125550134"),
]
BAD_PHONES = [
    "555-0134",
    "123",
    "not a phone",
    "(000) 000-0000",
    "+1 111 111 1111",
    "21255501345678",
    "+999 1234",
    "phone: n/a",
    "0000000000",
]


@pytest.mark.parametrize(("text", "e164"), PHONES)
def test_phones_to_e164(text: object, e164: str) -> None:
    assert parse_phone(text).value == e164


@pytest.mark.parametrize("text", BAD_PHONES)
def test_bad_phones_are_rejected_not_guessed(text: str) -> None:
    parsed = parse_phone(text)
    assert parsed.value is None
    assert parsed.error is not None


def test_default_region_reads_national_numbers() -> None:
    assert parse_phone("020 7946 0958", region="GB").value == "+442079460958"
    assert parse_phone("020 7946 0958", region="US").value is None


def test_unknown_region_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="region 'XX'"):
        parse_phone("2125550134", region="XX")


EMAILS = [
    ("ana@example.com", "ana@example.com"),
    (" Ana@Example.COM ", "ana@example.com"),
    ("ANA.LEE@EXAMPLE.COM", "ana.lee@example.com"),
    ("ana+tag@example.com", "ana+tag@example.com"),
    ("a.b.c@sub.example.co.uk", "a.b.c@sub.example.co.uk"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("user_1@example-mail.com", "user_1@example-mail.com"),
    ("x@y.io", "x@y.io"),
]
BAD_EMAILS = [
    "ana",
    "ana@",
    "@example.com",
    "ana@example",
    "ana@@example.com",
    "ana example@x.com",
    ".ana@example.com",
    "ana.@example.com",
    "ana..lee@example.com",
    "ana@-example.com",
    "ana@example.c",
    "ana@exam_ple.com",
    "n/a",
    "none",
]


@pytest.mark.parametrize(("text", "email"), EMAILS)
def test_emails_trimmed_and_lower_cased(text: str, email: str) -> None:
    assert parse_email(text).value == email


@pytest.mark.parametrize("text", BAD_EMAILS)
def test_invalid_emails_are_rejected(text: str) -> None:
    parsed = parse_email(text)
    assert parsed.value is None
    assert parsed.error is not None


@pytest.mark.parametrize("text", [None, "", "   "])
def test_blank_email_and_phone_are_missing(text: object) -> None:
    assert parse_email(text).ok
    assert parse_email(text).value is None
    assert parse_phone(text).ok
    assert parse_phone(text).value is None


MORE_PHONES = [
    ("(212)555-0134", "+12125550134"),
    ("212/555-0134".replace("/", "-"), "+12125550134"),
    ("+1-212-555-0134", "+12125550134"),
    ("001 212 555 0134", None),
    ("+33 1 42 68 53 00", "+33142685300"),
    ("+81 3-3224-9999", "+81332249999"),
]
MORE_EMAILS = [
    ("\tana@example.com\n", "ana@example.com"),
    ("first.last@sub.domain.example", "first.last@sub.domain.example"),
    ("ANA@EXAMPLE.COM", "ana@example.com"),
    ("x@y", None),
    ("ana@example..com", None),
    ("ana@.example.com", None),
]


@pytest.mark.parametrize(("text", "expected"), MORE_PHONES)
def test_more_phone_forms(text: str, expected: str | None) -> None:
    assert parse_phone(text).value == expected


@pytest.mark.parametrize(("text", "expected"), MORE_EMAILS)
def test_more_email_forms(text: str, expected: str | None) -> None:
    assert parse_email(text).value == expected
