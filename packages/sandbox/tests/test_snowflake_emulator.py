"""Snowflake on loopback (fakesnow's server), driven with snowflake-connector-python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import snowflake.connector
from growthnav.sandbox import LOYALTY, POS, DemoBusiness, generate_business
from growthnav.sandbox.snowflake import SnowflakeEmulator, upper_snake


@pytest.fixture(scope="module")
def business() -> DemoBusiness:
    return generate_business(people=500, seed=12)


@pytest.fixture(scope="module")
def snowflake_db(business: DemoBusiness) -> Iterator[SnowflakeEmulator]:
    with SnowflakeEmulator(business) as emulator:
        yield emulator


def test_upper_snake_names() -> None:
    assert upper_snake("Customer Email") == "CUSTOMER_EMAIL"
    assert upper_snake("# of Guests") == "NUMBER_OF_GUESTS"
    assert upper_snake("PURCHASED_AT") == "PURCHASED_AT"


def test_all_rows_through_arrow_batches_without_duplicates(
    snowflake_db: SnowflakeEmulator, business: DemoBusiness
) -> None:
    connection = snowflake.connector.connect(**snowflake_db.params)
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT PURCHASE_ID, USER_ID FROM {snowflake_db.table(LOYALTY)}")
        ids = [i for batch in cursor.fetch_arrow_batches() for i in batch.column(0).to_pylist()]
    finally:
        connection.close()
    assert len(ids) == len(set(ids)) == business.tables[LOYALTY].num_rows


def test_incremental_filter_and_columns(
    snowflake_db: SnowflakeEmulator, business: DemoBusiness
) -> None:
    stamps = sorted(str(s) for s in business.tables[LOYALTY].column("PURCHASED_AT").to_pylist())
    middle = stamps[len(stamps) // 2]
    connection = snowflake.connector.connect(**snowflake_db.params, schema="THANX")
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT PURCHASED_AT, SETTLEMENT_AMOUNT, CARDFINGERPRINT FROM PURCHASES "
            "WHERE PURCHASED_AT >= %s ORDER BY PURCHASED_AT",
            (middle,),
        )
        rows = cursor.fetchall()
        assert [r[0] for r in rows] == [s for s in stamps if s >= middle]
        assert str(rows[0][1]).startswith("$")
        cursor.execute(f"SELECT CUSTOMER_EMAIL, TOTAL FROM {snowflake_db.table(POS)} LIMIT 3")
        assert len(cursor.fetchall()) == 3
        with pytest.raises(snowflake.connector.errors.ProgrammingError):
            cursor.execute("SELECT NO_SUCH_COLUMN FROM PURCHASES")
    finally:
        connection.close()


def test_a_wrong_password_is_refused(snowflake_db: SnowflakeEmulator) -> None:
    params = {**snowflake_db.params, "password": "not-the-password"}
    with pytest.raises(snowflake.connector.errors.DatabaseError) as refused:
        snowflake.connector.connect(**params)
    assert "Incorrect username or password" in str(refused.value)


def test_injected_throttling_is_retried_by_the_connector(snowflake_db: SnowflakeEmulator) -> None:
    from growthnav.sandbox import Fault

    connection = snowflake.connector.connect(**snowflake_db.params, schema="THANX")
    try:
        cursor = connection.cursor()
        before = snowflake_db.query_requests
        snowflake_db.faults.next(Fault("status", 429, {"Retry-After": "0"}))
        cursor.execute("SELECT count(*) FROM PURCHASES")
        assert cursor.fetchall()[0][0] > 0
        assert snowflake_db.query_requests - before == 2  # throttled once, then answered
    finally:
        snowflake_db.faults.clear()
        connection.close()
