from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest
from growthnav.conversions import parse_timestamp
from growthnav.conversions.parsed import select_in_stages
from growthnav.conversions.timestamps import (
    TimestampKind,
    latest_timestamp,
    timestamp_stages_sql,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


OK_UTC = [
    ("2024-01-31T18:05:00Z", utc(2024, 1, 31, 18, 5)),
    ("2024-01-31T18:05:00+02:00", utc(2024, 1, 31, 16, 5)),
    ("2024-01-31T18:05:00-0530", utc(2024, 1, 31, 23, 35)),
    ("2024-01-31 18:05:00+05", utc(2024, 1, 31, 13, 5)),
    ("2024-01-31T18:05:00.123Z", utc(2024, 1, 31, 18, 5, 0, 123000)),
    ("2024-01-31T18:05:00.123456", utc(2024, 1, 31, 18, 5, 0, 123456)),
    ("2024-01-31 18:05:00", utc(2024, 1, 31, 18, 5)),
    ("2024-01-31 18:05", utc(2024, 1, 31, 18, 5)),
    ("2024-01-31T18:05", utc(2024, 1, 31, 18, 5)),
    ("2024-01-31", utc(2024, 1, 31)),
    ("01/31/2024 6:05 PM", utc(2024, 1, 31, 18, 5)),
    ("01/31/2024 6:05 pm", utc(2024, 1, 31, 18, 5)),
    ("1/5/2024 6:05 AM", utc(2024, 1, 5, 6, 5)),
    ("01/31/2024 12:00 AM", utc(2024, 1, 31, 0, 0)),
    ("01/31/2024 06:05:07 PM", utc(2024, 1, 31, 18, 5, 7)),
    ("01/31/2024 6:05PM", utc(2024, 1, 31, 18, 5)),
    ("01/31/2024 18:05", utc(2024, 1, 31, 18, 5)),
    ("01/31/2024 18:05:30", utc(2024, 1, 31, 18, 5, 30)),
    ("01/31/2024", utc(2024, 1, 31)),
    ("20240131 18:05", utc(2024, 1, 31, 18, 5)),
    ("20240131 18:05:09", utc(2024, 1, 31, 18, 5, 9)),
    ("20240131", utc(2024, 1, 31)),
    ("  2024-01-31   18:05:00  ".replace("   ", " "), utc(2024, 1, 31, 18, 5)),
    ("01/31/2024  6:05 PM", utc(2024, 1, 31, 18, 5)),
    ("1706724300", utc(2024, 1, 31, 18, 5)),
    ("1706724300.5", utc(2024, 1, 31, 18, 5, 0, 500000)),
    ("1706724300123", utc(2024, 1, 31, 18, 5, 0, 123000)),
    ("1706724300123456", utc(2024, 1, 31, 18, 5, 0, 123456)),
    (1706724300, utc(2024, 1, 31, 18, 5)),
    (1706724300123, utc(2024, 1, 31, 18, 5, 0, 123000)),
    (1706724300123456, utc(2024, 1, 31, 18, 5, 0, 123456)),
    (1706724300.25, utc(2024, 1, 31, 18, 5, 0, 250000)),
    (datetime(2024, 1, 31, 18, 5, tzinfo=timezone(timedelta(hours=-5))), utc(2024, 1, 31, 23, 5)),
    (datetime(2024, 1, 31, 18, 5), utc(2024, 1, 31, 18, 5)),
    (date(2024, 1, 31), utc(2024, 1, 31)),
]

BAD = [
    ("garbage", "is not a timestamp"),
    ("31/31/2024 25:00", "is not a real date"),
    ("2024-02-30", "is not a real date"),
    ("2024-13-01T00:00:00Z", "is not a real date"),
    ("13/01/2024", "is not a real date"),
    ("01/31/24 18:05", "is not a timestamp"),
    ("2024/01/31", "is not a timestamp"),
    ("Jan 31 2024", "is not a timestamp"),
    ("170672430000000000", "is not a timestamp"),
    ("12345", "is not a timestamp"),
    ("2024-01-31T18:05:00 +02:00", "is not a timestamp"),
    (-5, "too large for epoch"),
    (10**17, "too large for epoch"),
    (True, "boolean"),
    (float("nan"), "is not a timestamp"),
]


@pytest.mark.parametrize(("text", "expected"), OK_UTC)
def test_parses_real_world_timestamps_as_utc(text: object, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed.ok, parsed.error
    assert parsed.value == expected
    assert parsed.value is not None
    assert parsed.value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", [None, "", "  "])
def test_blank_is_missing(text: object) -> None:
    assert parse_timestamp(text).ok
    assert parse_timestamp(text).value is None


@pytest.mark.parametrize(("text", "reason"), BAD)
def test_rejects_with_a_reason(text: object, reason: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed.value is None
    assert parsed.error is not None
    assert reason in parsed.error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31 18:05:00", utc(2024, 1, 31, 23, 5)),
        ("07/04/2024 6:05 PM", utc(2024, 7, 4, 22, 5)),
        ("2024-01-31T18:05:00Z", utc(2024, 1, 31, 18, 5)),
        ("1706724300", utc(2024, 1, 31, 18, 5)),
        (date(2024, 1, 31), utc(2024, 1, 31, 5)),
    ],
)
def test_naive_values_are_read_in_the_configured_timezone(text: object, expected: datetime) -> None:
    assert parse_timestamp(text, "America/New_York").value == expected


def test_unknown_timezone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an IANA timezone"):
        parse_timestamp("2024-01-31", "Mars/Olympus")


@pytest.mark.parametrize(
    ("kind", "sql_type", "values"),
    [
        ("text", "VARCHAR", [" 07/04/2024 6:05 PM ", "2024-01-31  18:05", "1706724300", "x", ""]),
        ("integer", "BIGINT", [1706724300, 1706724300123, -5]),
        ("number", "DOUBLE", [1706724300.5, 1.5e20]),
        ("timestamp", "TIMESTAMP", [datetime(2024, 11, 3, 1, 30), datetime(2024, 3, 10, 2, 30)]),
        ("timestamptz", "TIMESTAMPTZ", [utc(2024, 1, 31, 18, 5)]),
        ("date", "DATE", [date(2024, 1, 31)]),
    ],
)
def test_timestamp_stages_read_a_column_as_the_parser_reads_each_value(
    kind: TimestampKind, sql_type: str, values: list[object]
) -> None:
    stages = timestamp_stages_sql("v", kind, "America/New_York", "parsed")
    sql = select_in_stages("SELECT v FROM t", stages)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(f"CREATE TABLE t (i INTEGER, v {sql_type})")
    connection.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    ordered = sql.replace("FROM t", "FROM t ORDER BY i")
    got = [row[0] for row in connection.execute(f"SELECT parsed FROM ({ordered})").fetchall()]
    expected = [parse_timestamp(v, "America/New_York").value for v in values]
    assert [g.replace(tzinfo=UTC) if g else None for g in got] == expected


@pytest.mark.parametrize(
    "column",
    [
        pa.array(["07/04/2024 6:05 PM", " 2024-07-04 19:00 ", "x", None, "1720130000"]),
        pa.array(["2024-07-04"], pa.string()).dictionary_encode(),
        pa.array([1720130000, 1720130000123, None], pa.int64()),
        pa.array([date(2024, 7, 4), None]),
        pa.array(["not a time", None]),
    ],
)
def test_latest_timestamp_is_the_latest_value_the_parser_reads(column: pa.Array) -> None:  # type: ignore[type-arg]
    parsed = [parse_timestamp(v, "America/New_York").value for v in column.to_pylist()]
    expected = max((p for p in parsed if p is not None), default=None)
    assert latest_timestamp(column, "America/New_York") == expected
