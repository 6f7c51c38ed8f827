from __future__ import annotations

from decimal import Decimal

import pytest
from growthnav.conversions import parse_money

OK = [
    ("1234.5", "1234.5", None),
    ("$1,234.50", "1234.50", None),
    ("$12.50", "12.50", None),
    ("12", "12", None),
    ("0", "0", None),
    ("0.99", "0.99", None),
    (".5", "0.5", None),
    ("12.", "12", None),
    ("(12.00)", "-12.00", None),
    ("($12.00)", "-12.00", None),
    ("-12.00", "-12.00", None),
    ("-$3", "-3", None),
    ("$-3", "-3", None),
    ("USD 12", "12", "USD"),
    ("usd 12", "12", "USD"),
    ("12.50 EUR", "12.50", "EUR"),
    ("12.50EUR", "12.50", "EUR"),
    ("€7", "7", "EUR"),
    ("£1,000.00", "1000.00", "GBP"),
    ("¥500", "500", "JPY"),
    ("  $ 42.10  ", "42.10", None),
    ("1,234,567.89", "1234567.89", None),
    ("CAD 1,000", "1000", "CAD"),
    ("(USD 5.25)", "-5.25", "USD"),
    ("12.34567", "12.3457", None),
    (12, "12", None),
    (12.5, "12.5", None),
    (Decimal("19.99"), "19.99", None),
    (-3.25, "-3.25", None),
]

BLANK = [None, "", "   ", "\t"]

BAD = [
    ("N/A", "is not an amount"),
    ("abc", "is not an amount"),
    ("$", "is not an amount"),
    ("12,34", "is not an amount"),
    ("1,2345.00", "is not an amount"),
    ("12.50.1", "is not an amount"),
    ("$$12", "two currency symbols"),
    ("(12.00", "unbalanced parenthesis"),
    ("12.00)", "unbalanced parenthesis"),
    ("USD 12 EUR", "two currency codes"),
    ("$12€", "is not an amount"),
    ("$-$12", "two currency symbols"),
    ("XYZ 12", "not an ISO 4217 currency code"),
    ("12 ABC", "not an ISO 4217 currency code"),
    ("1e5", "is not an amount"),
    ("+12", "is not an amount"),
    ("99999999999999999999", "too large"),
    (float("nan"), "is not an amount"),
    (float("inf"), "is not an amount"),
    (True, "boolean"),
    ([12], "not an amount"),
]


@pytest.mark.parametrize(("text", "amount", "currency"), OK)
def test_parses_real_world_amounts(text: object, amount: str, currency: str | None) -> None:
    parsed = parse_money(text)
    assert parsed.ok, parsed.error
    assert parsed.value is not None
    assert parsed.value.amount == Decimal(amount)
    assert parsed.value.currency == currency


@pytest.mark.parametrize("text", BLANK)
def test_blank_is_missing_not_zero(text: object) -> None:
    parsed = parse_money(text)
    assert parsed.ok
    assert parsed.value is None


@pytest.mark.parametrize(("text", "reason"), BAD)
def test_rejects_with_a_reason(text: object, reason: str) -> None:
    parsed = parse_money(text)
    assert not parsed.ok
    assert parsed.value is None
    assert parsed.error is not None
    assert reason in parsed.error


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1250", "12.50"),
        (1250, "12.50"),
        ("$1,000", "10.00"),
        ("-99", "-0.99"),
        ("1250.00", "12.50"),
    ],
)
def test_integer_cents_when_declared(text: object, amount: str) -> None:
    parsed = parse_money(text, cents=True)
    assert parsed.value is not None
    assert parsed.value.amount == Decimal(amount)


def test_cents_with_a_fraction_is_rejected() -> None:
    parsed = parse_money("12.50", cents=True)
    assert parsed.error is not None
    assert "integer cents" in parsed.error


def test_amounts_keep_four_decimal_places() -> None:
    parsed = parse_money("1.00005")
    assert parsed.value is not None
    assert parsed.value.amount == Decimal("1.0001")
