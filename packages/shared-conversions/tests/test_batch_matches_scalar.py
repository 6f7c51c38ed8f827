"""The batch normalizer (SQL) and the scalar parsers read every value the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from growthnav.conversions import (
    BatchNormalizer,
    parse_email,
    parse_money,
    parse_phone,
    parse_timestamp,
)
from test_money import BAD as MONEY_BAD
from test_money import OK as MONEY_OK
from test_phones_emails import BAD_EMAILS, BAD_PHONES, EMAILS, MORE_EMAILS, PHONES
from test_timestamps import BAD as TS_BAD
from test_timestamps import OK_UTC as TS_OK

MAP = {
    "id": "transaction_id",
    "ts": "timestamp",
    "amount": "value",
    "mail": "email",
    "tel": "phone",
}


def _text_values(cases: list[Any]) -> list[str]:
    return [case[0] if isinstance(case, tuple) else case for case in cases]


def _normalize(column: str, values: list[str], *, tz: str = "UTC", **fixed: str) -> Any:
    rows: dict[str, list[str | None]] = {
        "id": [f"r{i}" for i in range(len(values))],
        "ts": [fixed.get("ts", "2024-01-31T18:05:00Z")] * len(values),
        "amount": [fixed.get("amount", "1.00")] * len(values),
        "mail": [None] * len(values),
        "tel": [None] * len(values),
    }
    rows[column] = list(values)
    table = pa.table({k: pa.array(v, pa.string()) for k, v in rows.items()})
    return BatchNormalizer("acme", MAP, timezone=tz).normalize(table)


def _by_id(result: Any) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    accepted = {row["transaction_id"]: row for row in result.conversions.to_pylist()}
    rejected = {row["transaction_id"]: row for row in result.rejects.to_pylist()}
    return accepted, rejected


MONEY_TEXTS = [v for v in _text_values(MONEY_OK + MONEY_BAD) if isinstance(v, str)] + [
    "12.50 usd",
    "(1,000.00)",
    "$0.00",
    "1234567890123.99",
    "100000000000000",
]


@pytest.mark.parametrize("cents", [False, True])
def test_amounts_agree(cents: bool) -> None:
    normalizer_map = {**MAP, "amount": "value:cents" if cents else "value"}
    values = MONEY_TEXTS
    table = pa.table(
        {
            "id": [f"r{i}" for i in range(len(values))],
            "ts": ["2024-01-31T18:05:00Z"] * len(values),
            "amount": values,
        }
    )
    result = BatchNormalizer("acme", normalizer_map).normalize(table)
    accepted, rejected = _by_id(result)
    for i, text in enumerate(values):
        scalar = parse_money(text, cents=cents)
        key = f"r{i}"
        if scalar.error:
            assert key in rejected, text
            assert rejected[key]["reason"] == "bad_value"
            assert scalar.error in rejected[key]["message"], text
            assert f"'{text.strip()}'" in rejected[key]["message"]
        else:
            assert key in accepted, (text, rejected.get(key))
            row = accepted[key]
            expected = scalar.value.amount if scalar.value else None
            assert row["value"] == expected, text
            assert row["currency"] == ((scalar.value and scalar.value.currency) or "USD"), text


@pytest.mark.parametrize("tz", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_timestamps_agree(tz: str) -> None:
    values = [v for v in _text_values(TS_OK + TS_BAD) if isinstance(v, str)] + [
        "03/10/2024 2:30 AM",
        "2024-11-03 01:30:00",
    ]
    result = _normalize("ts", values, tz=tz)
    accepted, rejected = _by_id(result)
    for i, text in enumerate(values):
        scalar = parse_timestamp(text, tz)
        key = f"r{i}"
        if scalar.error:
            assert rejected[key]["reason"] == "bad_timestamp", text
            assert scalar.error in rejected[key]["message"], text
        elif scalar.value is None:
            assert rejected[key]["reason"] == "missing_timestamp"
        else:
            assert key in accepted, (text, rejected.get(key))
            assert accepted[key]["timestamp"] == scalar.value, text


def test_epoch_numbers_and_typed_columns_agree() -> None:
    stamps = [datetime(2024, 1, 31, 18, 5, tzinfo=UTC), datetime(2023, 7, 4, 12, 0, tzinfo=UTC)]
    table = pa.table(
        {
            "id": ["a", "b", "c", "d", "e"],
            "ts": pa.array([1706724300, 1706724300123, -5, None, 1706724300123456], pa.int64()),
            "when": pa.array([None, None, None, stamps[1], None], pa.timestamp("us", tz="UTC")),
        }
    )
    result = BatchNormalizer(
        "acme", {"id": "transaction_id", "ts": "timestamp", "when": "timestamp"}
    ).normalize(table)
    accepted, rejected = _by_id(result)
    assert accepted["a"]["timestamp"] == parse_timestamp(1706724300).value
    assert accepted["b"]["timestamp"] == parse_timestamp(1706724300123).value
    assert accepted["e"]["timestamp"] == parse_timestamp(1706724300123456).value
    assert accepted["d"]["timestamp"] == stamps[1]
    assert rejected["c"]["reason"] == "bad_timestamp"
    assert parse_timestamp(-5).error in rejected["c"]["message"]


def test_naive_typed_timestamps_are_read_in_the_configured_timezone() -> None:
    table = pa.table(
        {
            "id": ["a", "b"],
            "ts": pa.array(
                [datetime(2024, 1, 31, 18, 5), datetime(2024, 7, 4, 18, 5)], pa.timestamp("us")
            ),
        }
    )
    result = BatchNormalizer(
        "acme", {"id": "transaction_id", "ts": "timestamp"}, timezone="America/Chicago"
    ).normalize(table)
    got = result.conversions.column("timestamp").to_pylist()
    assert got == [
        parse_timestamp(datetime(2024, 1, 31, 18, 5), "America/Chicago").value,
        parse_timestamp(datetime(2024, 7, 4, 18, 5), "America/Chicago").value,
    ]


def test_phones_agree_fast_path_and_library() -> None:
    values = (
        [str(v) for v in _text_values(PHONES)] + BAD_PHONES + ["(212) 555-0134", "+1 312 555 0199"]
    )
    result = _normalize("tel", values)
    accepted, _ = _by_id(result)
    for i, text in enumerate(values):
        assert accepted[f"r{i}"]["phone"] == parse_phone(text).value, text
    assert result.warnings["bad_phone"] == sum(1 for v in values if parse_phone(v).error)


def test_emails_agree() -> None:
    values = _text_values(EMAILS + MORE_EMAILS) + BAD_EMAILS
    result = _normalize("mail", values)
    accepted, _ = _by_id(result)
    for i, text in enumerate(values):
        assert accepted[f"r{i}"]["email"] == parse_email(text).value, text
    assert result.warnings["bad_email"] == sum(1 for v in values if parse_email(v).error)
