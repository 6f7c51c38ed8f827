from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from growthnav.conversions import (
    CONVERSION_SCHEMA,
    BatchNormalizer,
    Conversion,
    ConversionSource,
    ConversionType,
    CRMNormalizer,
    FieldMap,
    FieldMapError,
    POSNormalizer,
    records_to_arrow,
)
from growthnav.conversions.schema import PYTHON_ONLY_FIELDS

THANX = {
    "PURCHASE_ID": "transaction_id",
    "USER_ID": "user_id",
    "SETTLEMENT_AMOUNT": "value",
    "PURCHASED_AT": "timestamp",
    "LOCATION_ID": "location_id",
    "EMAIL": "email",
    "PHONE": "phone",
}


def test_arrow_schema_has_every_conversion_field() -> None:
    fields = [f.name for f in dataclasses.fields(Conversion) if f.name not in PYTHON_ONLY_FIELDS]
    assert CONVERSION_SCHEMA.names == fields


def test_pos_normalizer_keeps_the_seed_call_and_types_every_field() -> None:
    normalizer = POSNormalizer(customer_id="acme-burgers", field_map=THANX)
    rows = [
        {
            "PURCHASE_ID": "P1",
            "USER_ID": 42,
            "SETTLEMENT_AMOUNT": "$1,234.50",
            "PURCHASED_AT": "2024-01-31T18:05:00Z",
            "LOCATION_ID": "L7",
            "EMAIL": " Ana@Example.com ",
            "PHONE": "(212) 555-0134",
            "UNMAPPED": "kept in raw_data",
        }
    ]
    [conversion] = normalizer.normalize(rows)
    assert conversion.customer_id == "acme-burgers"
    assert conversion.transaction_id == "P1"
    assert conversion.timestamp == datetime(2024, 1, 31, 18, 5, tzinfo=UTC)
    assert conversion.value == Decimal("1234.50")
    assert conversion.currency == "USD"
    assert conversion.conversion_type is ConversionType.PURCHASE
    assert conversion.source is ConversionSource.POS
    assert conversion.user_id == "42"
    assert conversion.email == "ana@example.com"
    assert conversion.phone == "+12125550134"
    assert conversion.raw_data == rows[0]


def test_crm_normalizer_takes_the_conversion_type() -> None:
    normalizer = CRMNormalizer(
        customer_id="acme",
        conversion_type=ConversionType.LEAD,
        field_map={"Id": "transaction_id", "CreatedDate": "timestamp", "Email": "email"},
    )
    [lead] = normalizer.normalize(
        [{"Id": "00Q1", "CreatedDate": "2024-02-01T10:00:00.000+0000", "Email": "x@y.com"}]
    )
    assert lead.conversion_type is ConversionType.LEAD
    assert lead.source is ConversionSource.CRM
    assert lead.value is None
    assert lead.timestamp == datetime(2024, 2, 1, 10, tzinfo=UTC)


def test_first_non_blank_column_wins_in_map_order() -> None:
    normalizer = POSNormalizer(
        "acme",
        {
            "id": "transaction_id",
            "closed": "timestamp",
            "opened": "timestamp",
            "total": "value",
            "subtotal": "value",
        },
    )
    rows: list[dict[str, Any]] = [
        {"id": "a", "closed": "2024-01-02", "opened": "2024-01-01", "total": "10", "subtotal": "9"},
        {"id": "b", "closed": "", "opened": "2024-01-01", "total": None, "subtotal": "9"},
    ]
    a, b = normalizer.normalize(rows)
    assert (a.timestamp.day, a.value) == (2, Decimal("10"))
    assert (b.timestamp.day, b.value) == (1, Decimal("9"))


def test_a_bad_first_column_is_rejected_not_skipped_to_the_next() -> None:
    normalizer = POSNormalizer(
        "acme", {"id": "transaction_id", "ts": "timestamp", "total": "value", "subtotal": "value"}
    )
    assert (
        normalizer.normalize([{"id": "a", "ts": "2024-01-01", "total": "abc", "subtotal": "9"}])
        == []
    )
    assert normalizer.last_batch is not None
    [reject] = normalizer.last_batch.rejects.to_pylist()
    assert reject["reason"] == "bad_value"
    assert reject["source_column"] == "total"


def test_rejects_keep_the_raw_record_a_reason_and_a_message_naming_column_and_value() -> None:
    normalizer = POSNormalizer("acme", THANX, connector_id="thanx-purchases", source_system="thanx")
    rows: list[dict[str, Any]] = [
        {"PURCHASE_ID": "ok", "PURCHASED_AT": "2024-01-31", "SETTLEMENT_AMOUNT": "1"},
        {"PURCHASE_ID": None, "PURCHASED_AT": "2024-01-31", "SETTLEMENT_AMOUNT": "1"},
        {"PURCHASE_ID": "p2", "PURCHASED_AT": "", "SETTLEMENT_AMOUNT": "1"},
        {"PURCHASE_ID": "p3", "PURCHASED_AT": "31/31/2024", "SETTLEMENT_AMOUNT": "1"},
        {"PURCHASE_ID": "p4", "PURCHASED_AT": "2024-01-31", "SETTLEMENT_AMOUNT": "N/A"},
    ]
    conversions = normalizer.normalize(rows)
    assert [c.transaction_id for c in conversions] == ["ok"]
    batch = normalizer.last_batch
    assert batch is not None
    assert dict(batch.rejected) == {
        "missing_transaction_id": 1,
        "missing_timestamp": 1,
        "bad_timestamp": 1,
        "bad_value": 1,
    }
    rejects = {r["reason"]: r for r in batch.rejects.to_pylist()}
    assert "PURCHASE_ID" in rejects["missing_transaction_id"]["message"]
    assert rejects["missing_transaction_id"]["reject_key"].startswith("sha256:")
    assert "PURCHASED_AT" in rejects["missing_timestamp"]["message"]
    assert rejects["bad_timestamp"]["message"].startswith("\"PURCHASED_AT\" = '31/31/2024'")
    assert rejects["bad_value"]["source_column"] == "SETTLEMENT_AMOUNT"
    assert "'N/A'" in rejects["bad_value"]["message"]
    assert json.loads(rejects["bad_value"]["raw_record"])["SETTLEMENT_AMOUNT"] == "N/A"
    assert {r["connector_id"] for r in rejects.values()} == {"thanx-purchases"}


def test_identity_fields_that_do_not_parse_are_blank_and_counted() -> None:
    normalizer = POSNormalizer("acme", {**THANX, "QTY": "quantity"})
    rows = [
        {
            "PURCHASE_ID": "a",
            "PURCHASED_AT": "2024-01-31",
            "EMAIL": "not-an-email",
            "PHONE": "123",
            "QTY": "1.5",
        },
    ]
    [conversion] = normalizer.normalize(rows)
    assert (conversion.email, conversion.phone, conversion.quantity) == (None, None, None)
    assert normalizer.last_batch is not None
    assert dict(normalizer.last_batch.warnings) == {
        "bad_email": 1,
        "bad_phone": 1,
        "bad_quantity": 1,
    }


def test_a_rejected_record_counts_no_identity_warning() -> None:
    normalizer = POSNormalizer("acme", THANX)
    rows = [
        {"PURCHASE_ID": "a", "PURCHASED_AT": "2024-01-31", "EMAIL": "nope", "PHONE": "12"},
        {"PURCHASE_ID": "b", "PURCHASED_AT": "not a time", "EMAIL": "nope", "PHONE": "12"},
        {"PURCHASE_ID": "c", "PURCHASED_AT": "2024-01-31", "EMAIL": " A@B.co ", "PHONE": ""},
    ]
    conversions = normalizer.normalize(rows)
    assert [(c.transaction_id, c.email, c.phone) for c in conversions] == [
        ("a", None, None),
        ("c", "a@b.co", None),
    ]
    assert normalizer.last_batch is not None
    # Only the loaded record's values are warned about; a blank phone is no warning.
    assert dict(normalizer.last_batch.warnings) == {"bad_email": 1, "bad_phone": 1}
    assert dict(normalizer.last_batch.rejected) == {"bad_timestamp": 1}


def test_currency_from_text_then_column_then_default() -> None:
    normalizer = POSNormalizer(
        "acme",
        {"id": "transaction_id", "ts": "timestamp", "amt": "value", "cur": "currency"},
        default_currency="CAD",
    )
    rows: list[dict[str, Any]] = [
        {"id": "a", "ts": "2024-01-01", "amt": "12.50 EUR", "cur": "usd"},
        {"id": "b", "ts": "2024-01-01", "amt": "12.50", "cur": "gbp"},
        {"id": "c", "ts": "2024-01-01", "amt": "12.50", "cur": None},
        {"id": "d", "ts": "2024-01-01", "amt": "12.50", "cur": "bitcoin"},
    ]
    conversions = normalizer.normalize(rows)
    assert [c.currency for c in conversions] == ["EUR", "GBP", "CAD"]
    assert normalizer.last_batch is not None
    assert normalizer.last_batch.rejected == {"bad_currency": 1}


def test_cents_modifier_reads_integer_cents() -> None:
    normalizer = POSNormalizer(
        "acme", {"id": "transaction_id", "ts": "timestamp", "amount_cents": "value:cents"}
    )
    [c] = normalizer.normalize([{"id": "a", "ts": "2024-01-01", "amount_cents": 1250}])
    assert c.value == Decimal("12.50")


def test_typed_arrow_columns_are_read_without_text_round_trips() -> None:
    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "ts": pa.array([datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)]),
            "amount": pa.array([Decimal("12.50"), Decimal("-3.00")], pa.decimal128(10, 2)),
            "qty": pa.array([2.0, 3.0]),
        }
    )
    result = BatchNormalizer(
        "acme", {"id": "transaction_id", "ts": "timestamp", "amount": "value", "qty": "quantity"}
    ).normalize(table)
    rows = result.conversions.to_pylist()
    assert [r["transaction_id"] for r in rows] == ["1", "2"]
    assert [r["value"] for r in rows] == [Decimal("12.50"), Decimal("-3.00")]
    assert [r["quantity"] for r in rows] == [2, 3]
    assert result.conversions.schema == CONVERSION_SCHEMA


def test_unknown_target_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        FieldMapError, match=r"'PURCHASE_ID' maps to unknown target 'transaction'.*transaction_id"
    ):
        POSNormalizer("acme", {"PURCHASE_ID": "transaction", "AT": "timestamp"})


def test_unknown_modifier_is_refused() -> None:
    with pytest.raises(FieldMapError, match="takes no modifier 'cents'"):
        FieldMap.parse({"ts": "timestamp:cents"})


def test_a_required_target_with_no_column_in_the_data_is_a_clear_error() -> None:
    normalizer = BatchNormalizer(
        "acme", {"ORDER_ID": "transaction_id", "PURCHASED_AT": "timestamp"}
    )
    with pytest.raises(
        FieldMapError, match=r"none of the columns mapped to 'transaction_id' \(ORDER_ID\)"
    ):
        normalizer.normalize(pa.table({"PURCHASE_ID": ["a"], "PURCHASED_AT": ["2024-01-01"]}))
    with pytest.raises(FieldMapError, match=r"no column for required target 'timestamp'"):
        BatchNormalizer("acme", {"id": "transaction_id"}).normalize(pa.table({"id": ["a"]}))


def test_absent_optional_columns_are_reported() -> None:
    result = BatchNormalizer(
        "acme", {"id": "transaction_id", "ts": "timestamp", "mail": "email"}
    ).normalize(pa.table({"id": ["a"], "ts": ["2024-01-01"]}))
    assert result.absent_columns == ["mail"]
    assert result.conversions.column("email").to_pylist() == [None]


def test_layered_maps_give_the_higher_layer_the_whole_target() -> None:
    overrides = {"CloseDate": "timestamp", "Notes": ""}
    defaults = {
        "Id": "transaction_id",
        "CreatedDate": "timestamp",
        "Notes": "product_name",
        "Amount": "value",
    }
    layered = FieldMap.layered(overrides, defaults)
    assert layered.as_dict() == {
        "CloseDate": "timestamp",
        "Id": "transaction_id",
        "Amount": "value",
    }


def test_bad_settings_are_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="not an IANA timezone"):
        BatchNormalizer("acme", THANX, timezone="Nowhere/Land")
    with pytest.raises(ValueError, match="ISO 4217"):
        BatchNormalizer("acme", THANX, default_currency="dollars")
    with pytest.raises(ValueError, match="region"):
        BatchNormalizer("acme", THANX, phone_region="ZZ")
    with pytest.raises(ValueError, match="customer_id is blank"):
        BatchNormalizer(" ", THANX)


def test_records_with_mixed_types_keep_every_value() -> None:
    table = records_to_arrow([{"a": 12.5, "b": {"x": 1}}, {"a": "12.50", "c": None}])
    assert table.column("a").to_pylist() == ["12.5", "12.50"]
    assert table.column("c").type == pa.string()
    assert table.column("b").to_pylist()[1] is None


def test_large_batches_keep_row_order_and_row_links() -> None:
    n = 100_000
    table = pa.table(
        {
            "id": [None if i % 997 == 0 else f"t{i}" for i in range(n)],
            "ts": ["2024-01-01T00:00:00Z"] * n,
        }
    )
    result = BatchNormalizer("acme", {"id": "transaction_id", "ts": "timestamp"}).normalize(table)
    rows = result.source_rows.to_pylist()
    ids = result.conversions.column("transaction_id").to_pylist()
    assert all(ids[k] == f"t{rows[k]}" for k in range(0, len(ids), 101))
    assert result.rejects.num_rows == len(range(0, n, 997))
    assert result.input_rows == n


def test_source_columns_named_like_the_query_internals_are_read_as_data() -> None:
    table = pa.table(
        {
            "reason": ["r1", "r2"],
            "timestamp": ["2024-01-01", "nope"],
            "value": ["$5.00", "1"],
            "raw_value": ["x", "y"],
            "s_0": ["a", "b"],
            "message": ["m", "m"],
        }
    )
    result = BatchNormalizer(
        "acme", {"reason": "transaction_id", "timestamp": "timestamp", "value": "value"}
    ).normalize(table)
    [row] = result.conversions.to_pylist()
    assert (row["transaction_id"], row["value"]) == ("r1", Decimal("5.00"))
    [reject] = result.rejects.to_pylist()
    assert reject["reason"] == "bad_timestamp"
    assert json.loads(reject["raw_record"]) == {
        "reason": "r2",
        "timestamp": "nope",
        "value": "1",
        "raw_value": "y",
        "s_0": "b",
        "message": "m",
    }


def test_stream_keeps_batch_order_and_matches_one_at_a_time() -> None:
    batches = [
        pa.table({"id": [f"b{b}-{i}" for i in range(50)], "ts": ["2024-01-01"] * 50})
        for b in range(5)
    ]
    normalizer = BatchNormalizer("acme", {"id": "transaction_id", "ts": "timestamp"})
    streamed = list(normalizer.normalize_stream(iter(batches)))
    assert [batch for batch, _ in streamed] == batches
    for batch, result in streamed:
        assert result.conversions.equals(normalizer.normalize(batch).conversions)


def test_every_field_map_target_is_a_conversion_column() -> None:
    from growthnav.conversions.field_map import TARGETS

    assert set(TARGETS) <= set(CONVERSION_SCHEMA.names)


@pytest.mark.parametrize(
    "text_type",
    # Plain text is trimmed in Arrow, the other kinds of text in the query; views are read
    # as large strings.
    [pa.string(), pa.large_string(), pa.dictionary(pa.int32(), pa.string()), pa.string_view()],
)
def test_text_columns_are_trimmed_and_blank_is_null_whichever_path_they_take(
    text_type: pa.DataType,
) -> None:
    table = pa.table(
        {
            "id": pa.array(["  a ", "b", "   ", "c"], text_type),
            "ts": ["2024-01-01"] * 4,
            "loc": pa.array([" L1", "", "L3", None], text_type),
            "store": pa.array([1, 2, 3, 4], pa.int64()),
            # Characters beyond ASCII next to the padding stay whole; a no-break space is text.
            "city": pa.array(["\tZürich ", " Café", "x", "\u00a0Malmö\u00a0 "], text_type),
        }
    )
    result = BatchNormalizer(
        "acme",
        {
            "id": "transaction_id",
            "ts": "timestamp",
            "loc": "location_id",
            "store": "location_name",
            "city": "product_name",
        },
    ).normalize(table)
    rows = result.conversions.to_pylist()
    assert [
        (r["transaction_id"], r["location_id"], r["location_name"], r["product_name"]) for r in rows
    ] == [
        ("a", "L1", "1", "Zürich"),
        ("b", None, "2", "Café"),
        ("c", None, "4", "\u00a0Malmö\u00a0"),
    ]
    [reject] = result.rejects.to_pylist()
    assert reject["reason"] == "missing_transaction_id"
    assert reject["message"] == "no transaction id: id blank; the record cannot be keyed"
    assert reject["source_column"] is None
    assert json.loads(reject["raw_record"])["loc"] == "L3"
    assert result.source_rows.to_pylist() == [0, 1, 3]


def test_the_fingerprint_changes_with_anything_that_changes_a_conversion() -> None:
    def fingerprint(field_map: Mapping[str, str | None], **settings: Any) -> str:
        return BatchNormalizer("acme", field_map, connector_id="c1", **settings).fingerprint

    base = {"id": "transaction_id", "at": "timestamp", "paid_at": "timestamp"}
    same = fingerprint(base)
    assert fingerprint(dict(base)) == same
    swapped = {"id": "transaction_id", "paid_at": "timestamp", "at": "timestamp"}
    assert fingerprint(swapped) != same  # the other column now wins
    assert fingerprint({**base, "amount": "value:cents"}) != fingerprint(
        {**base, "amount": "value"}
    )
    assert fingerprint(base, timezone="America/Chicago") != same
    assert fingerprint(base, default_currency="EUR") != same
    assert fingerprint(base, phone_region="GB") != same


def test_padded_values_are_read_trimmed_and_rejects_keep_them_as_sent() -> None:
    table = pa.table(
        {
            "id": ["a", "b", "c", "d"],
            "closed": ["  ", " 2024-01-02 10:00\t", "\t31/31/2024 ", None],
            "opened": ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-03"],
            "total": [" $12.50 ", " N/A ", "1", "\n"],
        }
    )
    result = BatchNormalizer(
        "acme",
        {"id": "transaction_id", "closed": "timestamp", "opened": "timestamp", "total": "value"},
    ).normalize(table)
    accepted = {r["transaction_id"]: r for r in result.conversions.to_pylist()}
    assert accepted["a"]["timestamp"] == datetime(2024, 1, 1, tzinfo=UTC)  # blank: next column
    assert accepted["a"]["value"] == Decimal("12.5")
    assert accepted["d"]["timestamp"] == datetime(2024, 1, 3, tzinfo=UTC)
    assert accepted["d"]["value"] is None
    rejects = {r["transaction_id"]: r for r in result.rejects.to_pylist()}
    assert rejects["b"]["message"].startswith("\"total\" = 'N/A'")
    assert rejects["c"]["message"].startswith("\"closed\" = '31/31/2024'")
    assert json.loads(rejects["b"]["raw_record"])["total"] == " N/A "
    assert json.loads(rejects["c"]["raw_record"])["closed"] == "\t31/31/2024 "


def test_values_parsed_in_earlier_batches_read_as_a_new_normalizer_reads_them() -> None:
    def batch(start: int, stop: int) -> pa.Table:
        ids = range(start, stop)
        return pa.table(
            {
                "PURCHASE_ID": [f"p{i}" for i in ids],
                "PURCHASED_AT": ["2024-01-31 10:00"] * len(ids),
                "SETTLEMENT_AMOUNT": [f"${i % 7}.50" if i % 5 else "N/A" for i in ids],
                "EMAIL": [f" User.{i % 9}@Example.com" if i % 4 else "no" for i in ids],
                "PHONE": [f"(312) 555-01{i % 11:02d}" if i % 3 else "12" for i in ids],
            }
        )

    used = BatchNormalizer("acme", THANX)
    used.normalize(batch(0, 40))
    # Some values seen before, some new (amounts, emails and phones up to i = 59 are new).
    later = batch(30, 60)
    again, fresh = used.normalize(later), BatchNormalizer("acme", THANX).normalize(later)
    assert again.conversions.equals(fresh.conversions)
    assert again.rejects.equals(fresh.rejects)
    assert (again.rejected, again.warnings) == (fresh.rejected, fresh.warnings)


def test_settings_and_unset_columns_fill_batches_of_any_size_from_one_normalizer() -> None:
    normalizer = BatchNormalizer(
        "acme",
        {"id": "transaction_id", "ts": "timestamp"},
        connector_id="c1",
        source_system="toast",
        default_currency="eur",
    )
    # Smaller than the first (sliced), larger (made again), then smaller again.
    for ids in (["a", "b", "c", "d"], ["e", "f"], ["g", None, "h", "i", "j", "k"], ["l"]):
        batch = pa.table({"id": ids, "ts": ["2024-01-01"] * len(ids)})
        rows = normalizer.normalize(batch).conversions.to_pylist()
        assert [r["transaction_id"] for r in rows] == [i for i in ids if i is not None]
        assert {
            (r["customer_id"], r["connector_id"], r["source_system"], r["currency"]) for r in rows
        } == {("acme", "c1", "toast", "EUR")}
        assert {(r["user_id"], r["value"], r["quantity"]) for r in rows} == {(None, None, None)}
    normalizer.close()
    after = normalizer.normalize(pa.table({"id": ["k"], "ts": ["2024-01-02"]})).conversions
    assert after.column("customer_id").to_pylist() == ["acme"]
