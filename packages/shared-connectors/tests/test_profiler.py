"""ColumnProfiler: types, statistics and every pattern detector."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from growthnav.connectors.discovery import ColumnProfiler

PATTERN_CASES = [
    ("email", ["ana.lee@example.com", "b+food@mail.example.org"]),
    ("phone", ["(212) 555-0134", "+1 917 555 0199", "212.555.0100", "2125550134"]),
    ("currency", ["$12.50", "1,234.50", "(12.00)", "USD 12", "12.50 EUR"]),
    ("date_iso", ["2024-01-31", "2024-01-31T18:05:00Z", "2024-01-31 18:05:00+02:00"]),
    ("us_date", ["01/31/2024 6:05 PM", "1/2/2024", "12/31/24 23:59"]),
    ("compact_date", ["20240131 18:05", "20241231"]),
    ("uuid", ["6f1c2a9e-4b7d-4e8a-9c3f-0d1e2f3a4b5c"]),
    ("gclid", ["Cj0KCQiA2eKtBhDcARIsAEGTG40xgqYtV3Z7aK9bM1_example-Value"]),
    ("url", ["https://example.com/menu", "http://example.org/x?y=1"]),
    ("utm_in_url", ["https://example.com/?utm_source=google&utm_medium=cpc"]),
    ("sha256_hex", ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]),
    ("md5_hex", ["5d41402abc4b2a76b9719d911017c592"]),
    ("card_last4", ["4242", "****1881", "xx0005"]),
    ("us_zip", ["10001", "07030-1234"]),
    ("iso_currency_code", ["USD", "EUR", "GBP"]),
    ("epoch_seconds", ["1706724300", "1672531200"]),
    ("epoch_millis", ["1706724300000", "1672531200123"]),
    ("amount_cents", ["1250", "999", "45000"]),
    ("words", ["Ana Lee", "Chloe O'Neil", "Harbor St"]),
]


@pytest.mark.parametrize(("pattern", "values"), PATTERN_CASES)
def test_each_pattern_is_detected(pattern: str, values: list[str]) -> None:
    profile = ColumnProfiler().profile([{"c": v} for v in values])["c"]
    assert pattern in profile.detected_patterns, profile.pattern_rates


@pytest.mark.parametrize(
    ("pattern", "values"),
    [
        ("email", ["ana.lee", "@example.com"]),
        ("sha256_hex", ["9f86d081884c7d659a2feaa0c55ad015"]),
        ("us_zip", ["1000", "ABCDE"]),
        ("epoch_seconds", ["12", "99999999999"]),
        ("iso_currency_code", ["ABC", "XYZ"]),
        ("words", ["ana lee", "C1042", "Ana"]),
    ],
)
def test_near_misses_are_not_detected(pattern: str, values: list[str]) -> None:
    profile = ColumnProfiler().profile([{"c": v} for v in values])["c"]
    assert pattern not in profile.detected_patterns


def test_statistics_and_types() -> None:
    rows: list[dict[str, Any]] = [
        {"n": 1, "s": "abc", "d": datetime(2024, 1, 1, tzinfo=UTC), "b": True, "blank": " "},
        {"n": 3, "s": "de", "d": datetime(2024, 1, 2, tzinfo=UTC), "b": False, "blank": None},
        {"n": None, "s": "abc", "d": None, "b": True},
    ]
    profiles = ColumnProfiler().profile(rows)
    n = profiles["n"]
    assert (n.inferred_type, n.min_value, n.max_value, n.mean_value) == ("number", 1, 3, 2)
    assert n.null_count == 1
    assert n.total_count == 3
    s = profiles["s"]
    assert (s.inferred_type, s.unique_count, s.min_length, s.max_length) == ("string", 2, 2, 3)
    assert s.unique_percentage == pytest.approx(200 / 3)
    assert profiles["d"].inferred_type == "datetime"
    assert profiles["b"].inferred_type == "boolean"
    blank = profiles["blank"]
    assert blank.inferred_type == "unknown"
    assert blank.null_percentage == 100.0
    assert profiles["n"].sample_values == ["1", "3"]


def test_text_numbers_and_dates_are_typed_from_patterns() -> None:
    profiles = ColumnProfiler().profile(
        [{"amount": "12.50", "when": "01/31/2024 6:05 PM"}, {"amount": "3", "when": "1/1/2024"}]
    )
    assert profiles["amount"].inferred_type == "number"
    assert profiles["when"].inferred_type == "datetime"


def test_a_wide_sample_profiles_every_column() -> None:
    rows = [
        {
            "id": f"{i:08d}",
            "email": f"user{i}@example.com",
            "phone": f"(212) 555-{i % 10000:04d}",
            "amount": f"${i % 500}.{i % 100:02d}",
            "when": "2024-01-31T18:05:00Z",
            **{f"extra_{k}": f"value {i % (k + 2)}" for k in range(15)},
        }
        for i in range(2_000)
    ]
    profiles = ColumnProfiler().profile(rows)
    assert len(profiles) == 20
    assert profiles["email"].detected_patterns == ["email"]
    assert profiles["id"].unique_count == 2_000
    assert profiles["extra_0"].unique_count == 2


def test_dates_without_a_time_of_day_are_told_apart() -> None:
    profiles = ColumnProfiler().profile(
        [
            {
                "day": "2024-03-01",
                "moment": "2024-03-01T10:00:00Z",
                "us": "3/1/2024",
                "compact": "20240301",
            }
        ]
    )
    assert profiles["day"].rate("date_only") == 1.0
    assert profiles["us"].rate("date_only") == 1.0
    assert profiles["compact"].rate("date_only") == 1.0
    assert profiles["moment"].rate("date_only") == 0.0
