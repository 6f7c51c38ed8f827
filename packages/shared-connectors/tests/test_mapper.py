"""The heuristic mapper, its business rules, the dry run and the remembered mapping."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from growthnav.connectors.discovery import (
    ColumnProfiler,
    MappingMemory,
    SchemaDiscovery,
    heuristic_suggestions,
    source_signature,
    tokens,
)
from growthnav.connectors.discovery.heuristic import MAP_THRESHOLD
from growthnav.sandbox import EXPECTED_FIELD_MAPS, SYSTEMS, generate_business


def field_map(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    suggestions = heuristic_suggestions(ColumnProfiler().profile(rows))
    return {s.source_field: s.target_field for s in suggestions}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("PURCHASED_AT", ["purchased", "at"]),
        ("settlementAmount", ["settlement", "amount"]),
        ("hs_lastmodifieddate", ["lastmodifieddate"]),
        ("Customer_Email__c", ["customer", "email"]),
        ("pi__score", ["score"]),
        ("Order #", ["order", "number"]),
        ("CARDFINGERPRINT", ["card", "fingerprint"]),
        ("txn_amt", ["transaction", "amount"]),
        ("Lineitem name", ["line", "item", "name"]),
        ("Closing_Date", ["close", "date"]),
        ("Transaction Datetime", ["transaction", "date", "time"]),
        ("Total (Tax Incl)", ["total", "tax", "including"]),
        ("RESTAURANT_GUID", ["restaurant", "id"]),
        ("Visitor UUID", ["visitor", "id"]),
        ("Order Total (inc tax)", ["order", "total", "including", "tax"]),
        ("Subtotal (ex tax)", ["subtotal", "excluding", "tax"]),
        ("fn", ["first", "name"]),
    ],
)
def test_tokens(name: str, expected: list[str]) -> None:
    assert tokens(name) == expected


def test_value_is_what_the_customer_paid_not_tip_tax_or_subtotal() -> None:
    rows = [
        {"subtotal": "10.00", "tax": "0.89", "tip": "2.00", "discount": "1.00", "total": "11.89"},
        {"subtotal": "20.00", "tax": "1.78", "tip": "0.00", "discount": "0.00", "total": "21.78"},
    ]
    mapped = field_map(rows)
    assert mapped["total"] == "value"
    assert {mapped[c] for c in ("subtotal", "tax", "tip", "discount")} == {None}


def test_value_prefers_a_total_excluding_tip() -> None:
    rows = [{"total": "12.89", "total_excl_tip": "10.89"}, {"total": "5", "total_excl_tip": "4"}]
    assert field_map(rows)["total_excl_tip"] == "value"


def test_amounts_in_cents_are_read_as_cents() -> None:
    rows = [{"id": str(i), "total_cents": str(1250 + i), "points": str(9 + i)} for i in range(9)]
    suggestions = {s.source_field: s for s in heuristic_suggestions(ColumnProfiler().profile(rows))}
    assert suggestions["total_cents"].field_map_target == "value:cents"
    # Whole dollars below 100 are not cents; decimals never are.
    dollars = [{"total": str(20 + i)} for i in range(9)] + [{"total": "12.50"}]
    [only] = heuristic_suggestions(ColumnProfiler().profile(dollars))
    assert only.field_map_target == "value"
    big = [{"order_total": str(1200 + 100 * i)} for i in range(9)]
    [cents] = heuristic_suggestions(ColumnProfiler().profile(big))
    assert cents.field_map_target == "value:cents"
    assert "cents" in cents.reason


def test_timestamp_is_when_the_check_closed_not_opened() -> None:
    rows = [
        {"opened_at": "2024-01-31 18:00", "closed_at": "2024-01-31 18:45"},
        {"opened_at": "2024-02-01 12:00", "closed_at": "2024-02-01 12:30"},
    ]
    mapped = field_map(rows)
    assert mapped["closed_at"] == "timestamp"
    assert mapped["opened_at"] is None


def test_timestamp_is_the_purchase_event_not_when_the_record_was_created() -> None:
    rows = [
        {
            "id": str(i),
            "created_at": f"2024-03-0{i + 1} 09:00:00",
            "receipt_date": f"2024-03-0{i + 1} 08:12:00",
        }
        for i in range(5)
    ]
    assert field_map(rows)["receipt_date"] == "timestamp"
    assert field_map(rows)["created_at"] is None


def test_timestamp_prefers_a_time_of_day_over_a_date_alone() -> None:
    rows = [
        {
            "id": str(i),
            "order_date": f"2024-03-0{i + 1}",
            "ordered_at_utc": f"2024-03-0{i + 1}T18:05:00Z",
        }
        for i in range(5)
    ]
    assert field_map(rows)["ordered_at_utc"] == "timestamp"
    # ...but a date alone is the timestamp when nothing finer exists.
    only_days = [{"id": r["id"], "order_date": r["order_date"]} for r in rows]
    assert field_map(only_days)["order_date"] == "timestamp"


def test_value_is_what_a_processor_collected_not_its_net_payout() -> None:
    rows = [
        {"Total Collected": f"{20 + i}.00", "Fees": "0.88", "Net Total": f"{19 + i}.12"}
        for i in range(5)
    ]
    assert field_map(rows)["Total Collected"] == "value"
    assert field_map(rows)["Net Total"] is None


def test_a_required_target_is_offered_even_when_its_only_candidate_is_weak() -> None:
    rows = [
        {"Check Id": str(i), "Opened Date": f"03/0{i + 1}/2024", "Total": "9.50"} for i in range(5)
    ]
    suggestion = next(
        s
        for s in heuristic_suggestions(ColumnProfiler().profile(rows))
        if s.source_field == "Opened Date"
    )
    assert suggestion.target_field == "timestamp"
    assert suggestion.confidence < 0.2  # named as an opening time: offered, flagged weak


def test_user_id_is_the_customer_never_an_employee_or_owner() -> None:
    rows = [
        {"server_id": "E1", "owner_id": "O1", "guest_id": "G1", "check_id": "C1"},
        {"server_id": "E1", "owner_id": "O2", "guest_id": "G2", "check_id": "C2"},
    ]
    mapped = field_map(rows)
    assert mapped["guest_id"] == "user_id"
    assert mapped["server_id"] is None
    assert mapped["owner_id"] is None


def test_order_level_id_over_line_item_id() -> None:
    rows = [
        {"line_item_id": f"L{i}", "order_id": f"O{i // 2}", "item_name": "Taco"} for i in range(6)
    ]
    mapped = field_map(rows)
    assert mapped["order_id"] == "transaction_id"
    assert mapped["line_item_id"] != "transaction_id"


def test_values_decide_when_names_say_nothing() -> None:
    rows = [{"col_a": f"user{i}@example.com", "col_b": "x"} for i in range(20)]
    suggestions = {s.source_field: s for s in heuristic_suggestions(ColumnProfiler().profile(rows))}
    assert suggestions["col_a"].target_field == "email"
    assert "email addresses" in suggestions["col_a"].reason
    assert suggestions["col_b"].target_field is None


def test_name_without_fitting_values_loses_confidence() -> None:
    rows = [{"email": "not an address", "phone": "call me"} for _ in range(10)]
    suggestions = {s.source_field: s for s in heuristic_suggestions(ColumnProfiler().profile(rows))}
    assert suggestions["email"].confidence < 0.5
    assert suggestions["phone"].confidence < 0.5


@pytest.mark.parametrize("system", SYSTEMS)
def test_demo_exports_map_as_an_analyst_would(system: str) -> None:
    business = generate_business(people=300, seed=11)
    result = SchemaDiscovery(llm="off", timezone=business.timezone).analyze_sync(
        business.tables[system]
    )
    assert result["field_map"] == EXPECTED_FIELD_MAPS[system]
    assert result["validation"]["missing_required"] == []


def test_analyze_keeps_the_plans_async_api_and_reports_the_dry_run() -> None:
    rows: list[dict[str, Any]] = [
        {"order_id": "1", "closed_at": "2024-01-31 18:05", "total": "$12.50", "email": "a@b.co"},
        {"order_id": "2", "closed_at": "31/31/2024", "total": "N/A", "email": "nope"},
        {"order_id": "3", "closed_at": "2024-02-01 10:00", "total": "3.00", "email": None},
    ]
    result = asyncio.run(SchemaDiscovery(environ={}).analyze(rows, context="POS"))
    assert set(result) >= {"profiles", "suggestions", "field_map", "confidence_summary"}
    assert result["mapper"] == "heuristic"
    assert "no ANTHROPIC_API_KEY" in result["warnings"][0]
    validation = result["validation"]
    assert validation["rows"] == 3
    assert validation["would_load"] == 2
    # The second row has a bad date and a bad amount: one reject, under its first reason.
    assert validation["would_reject"] == {"bad_timestamp": 1}
    assert validation["columns"]["closed_at"]["parse_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert validation["columns"]["total"]["filled"] == 3
    assert validation["columns"]["email"]["parse_rate"] == 0.5
    assert validation["required_covered"] == {
        "transaction_id": True,
        "timestamp": True,
        "value": True,
    }


def test_missing_required_fields_are_reported() -> None:
    result = SchemaDiscovery(llm="off").analyze_sync([{"email": "a@b.co"}, {"email": "c@d.co"}])
    assert result["validation"]["missing_required"] == ["transaction_id", "timestamp", "value"]


def test_a_confirmed_mapping_is_offered_first_next_time(tmp_path: Path) -> None:
    memory = MappingMemory(tmp_path / "registry.db")
    rows = [{"Ticket": "1", "When": "2024-01-31", "Paid": "4.00", "Guest": "x"}]  # names say little
    discovery = SchemaDiscovery(llm="off", memory=memory)
    first = discovery.analyze_sync(rows)
    assert first["remembered"] is False
    chosen = {"Ticket": "transaction_id", "When": "timestamp", "Paid": "value", "Guest": "user_id"}
    discovery.confirm(first["profiles"], chosen)
    # Another export with the same columns, in another order and case, maps identically.
    second = SchemaDiscovery(llm="off", memory=MappingMemory(tmp_path / "registry.db"))
    again = second.analyze_sync([{"guest": "y", "PAID": "1", "when": "2024-02-01", "ticket": "2"}])
    assert source_signature(["Ticket", "When", "Paid", "Guest"]) == source_signature(
        ["guest", "PAID", "when", "ticket"]
    )
    assert again["remembered"] is True
    assert again["mapper"] == "remembered"
    assert again["field_map"] == chosen
    assert all(s.confidence == 1.0 for s in again["suggestions"] if s.target_field)


def test_value_is_the_total_with_tax_in_it_not_the_one_without() -> None:
    rows = [
        {"Sale ID": f"s{i}", "Total (Tax Incl)": f"{10 + i}.80", "Total (Tax Excl)": f"{10 + i}.00"}
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Total (Tax Incl)"] == "value"
    assert mapped["Total (Tax Excl)"] is None


def test_analytics_traffic_source_fields_map_to_source_medium_and_campaign() -> None:
    rows = [
        {
            "traffic_source_source": "google",
            "traffic_source_medium": "cpc",
            "traffic_source_name": f"spring_{i}",
            "device_category": "mobile",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["traffic_source_source"] == "utm_source"
    assert mapped["traffic_source_medium"] == "utm_medium"
    assert mapped["traffic_source_name"] == "utm_campaign"
    # A device's category is no product category: too weak to enter a field map.
    device = next(
        s
        for s in heuristic_suggestions(ColumnProfiler().profile(rows))
        if s.source_field == "device_category"
    )
    assert device.confidence < MAP_THRESHOLD


def test_timestamps_in_epoch_microseconds_are_recognised() -> None:
    rows = [{"event_timestamp": str(1706724300123456 + i * 10**9)} for i in range(5)]
    profiles = ColumnProfiler().profile(rows)
    assert profiles["event_timestamp"].rate("epoch_micros") == 1.0
    assert field_map(rows)["event_timestamp"] == "timestamp"


def test_store_and_customer_synonyms() -> None:
    rows = [
        {"Outlet": "Harbor St", "Customer Code": f"C{i % 2}", "Amount": "5.00"} for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Outlet"] == "location_name"
    assert mapped["Customer Code"] == "user_id"


def test_guid_columns_are_ids_of_what_they_name() -> None:
    rows = [
        {
            "ORDER_GUID": f"{i:08x}-0000-4000-8000-000000000000",
            "RESTAURANT_GUID": f"{i % 2:08x}-1111-4222-8333-444455556666",
            "GUEST_GUID": f"{i % 3:08x}-aaaa-4bbb-8ccc-000000000000",
            "SERVER_GUID": f"{i % 2:08x}-5555-4666-8777-000000000000",
            "CLOSED_DATE": f"2024-03-0{i + 1}T12:00:00Z",
            "TOTAL_AMOUNT": "9.50",
        }
        for i in range(6)
    ]
    mapped = field_map(rows)
    assert mapped["ORDER_GUID"] == "transaction_id"
    assert mapped["RESTAURANT_GUID"] == "location_id"
    assert mapped["GUEST_GUID"] == "user_id"
    assert mapped["SERVER_GUID"] is None  # an employee, never the customer


def test_the_check_closed_not_paid_and_the_total_amount_not_the_amount() -> None:
    rows = [
        {
            "PAID_DATE": f"2024-03-0{i + 1}T12:05:00Z",
            "CLOSED_DATE": f"2024-03-0{i + 1}T12:00:00Z",
            "AMOUNT": "8.50",
            "TOTAL_AMOUNT": "9.25",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["CLOSED_DATE"] == "timestamp"
    assert mapped["PAID_DATE"] is None
    assert mapped["TOTAL_AMOUNT"] == "value"
    assert mapped["AMOUNT"] is None


def test_a_documents_date_is_the_purchase_not_when_its_record_was_created() -> None:
    rows = [
        {
            "Invoice ID": str(i),
            "Invoice Date": f"2024-03-0{i + 1}",
            "Created Time": f"2024-03-0{i + 1} 09:00:00",
            "Total": "120.00",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Invoice Date"] == "timestamp"
    assert mapped["Created Time"] is None


def test_a_customers_summary_is_never_a_purchase() -> None:
    rows = [
        {
            "Receipt": str(i),
            "Last Visit Date": f"2024-03-0{i + 1}",
            "Total Spend": "420.00",
            "Points Balance": "120",
        }
        for i in range(5)
    ]
    suggestions = heuristic_suggestions(ColumnProfiler().profile(rows))
    mapped = {s.source_field: s.target_field for s in suggestions}
    # Not even as the last resort a required target otherwise gets.
    assert mapped["Last Visit Date"] is None
    assert mapped["Total Spend"] is None
    assert mapped["Points Balance"] is None


def test_a_list_of_people_is_keyed_by_the_persons_id() -> None:
    rows = [
        {
            "Guest ID": str(7000 + i),
            "Reference ID": f"REF{i % 2}",
            "First Name": "Ana",
            "Email": f"ana{i}@example.com",
            "Signup Date": f"2024-03-0{i + 1}",
            "Total Spend": "88.00",
        }
        for i in range(6)
    ]
    suggestions = {s.source_field: s for s in heuristic_suggestions(ColumnProfiler().profile(rows))}
    assert suggestions["Guest ID"].target_field == "transaction_id"
    assert "list of people" in suggestions["Guest ID"].reason
    assert suggestions["Reference ID"].target_field is None
    assert suggestions["Signup Date"].target_field == "timestamp"


def test_purchases_keep_their_customer_id_even_when_each_row_has_another_customer() -> None:
    rows = [
        {
            "Transaction #": str(100 + i),
            "Customer ID": str(7000 + i),
            "Email": f"ana{i}@example.com",
            "Total": "9.50",
        }
        for i in range(6)
    ]
    mapped = field_map(rows)
    assert mapped["Transaction #"] == "transaction_id"
    assert mapped["Customer ID"] == "user_id"


def test_sales_including_tax_is_the_value_and_a_payout_never_is() -> None:
    rows = [
        {
            "Workflow": str(i),
            "Order Date": f"2024-03-0{i + 1}",
            "Sales (excl. tax)": "10.00",
            "Tax on Sales": "0.89",
            "Sales (incl. tax)": "10.89",
            "Total Payout": "8.20",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Sales (incl. tax)"] == "value"
    assert {mapped[c] for c in ("Sales (excl. tax)", "Tax on Sales", "Total Payout")} == {None}


def test_a_count_of_orders_is_not_a_value_and_a_contacts_own_id_keys_it() -> None:
    rows = [
        {
            "Id": f"003{i:015d}",
            "AccountId": f"001{i:015d}",
            "Email": f"ana{i}@example.com",
            "Total Orders": str(3 + i),
            "Total Spent": "120.00",
            "CreatedDate": f"2024-03-0{i + 1}T10:00:00Z",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Id"] == "transaction_id"
    assert mapped["Total Orders"] is None
    assert mapped["Total Spent"] is None
    assert mapped["CreatedDate"] == "timestamp"


def test_an_attribution_media_source_is_the_utm_source() -> None:
    rows = [
        {"Media Source": source, "Event Revenue": "5.00"}
        for source in ("googleadwords_int", "Facebook Ads")
    ]
    assert field_map(rows)["Media Source"] == "utm_source"


def test_a_processors_gross_is_the_value_and_a_total_quantity_is_a_quantity() -> None:
    rows = [
        {
            "Transaction ID": f"7XK{i}",
            "Date": f"03/0{i + 1}/2024",
            "Gross": "25.00",
            "Fee": "-1.03",
            "Net": "23.97",
            "Sales Tax": "2.02",
            "Total Quantity": str(i + 1),
            "Item Title": "Taco Box",
            "item_code": f"SKU-{i}",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Gross"] == "value"
    assert mapped["Total Quantity"] == "quantity"
    assert {mapped[c] for c in ("Fee", "Net", "Sales Tax")} == {None}
    assert mapped["Item Title"] == "product_name"
    assert mapped["item_code"] == "product_id"


def test_an_ad_platforms_short_names_and_lower_case_currency_codes() -> None:
    rows = [
        {
            "fn": "ana",
            "ln": "lee",
            "zp": "10001",
            "order_id": str(i),
            "event_time": str(1709290000 + i),
            "amount_total": str(2500 + i),
            "currency": "usd",
            "customer": f"cus_{i:014X}",
            "client_reference_id": f"ref-{i}",
        }
        for i in range(5)
    ]
    assert ColumnProfiler().profile(rows)["currency"].rate("iso_currency_code") == 1.0
    mapped = field_map(rows)
    assert (mapped["fn"], mapped["ln"], mapped["zp"]) == ("first_name", "last_name", "postal_code")
    assert mapped["currency"] == "currency"
    assert mapped["customer"] == "user_id"
    assert mapped["client_reference_id"] is None  # the merchant's reference, not the customer


def test_a_people_lists_customer_since_is_its_timestamp() -> None:
    rows = [
        {
            "Customer ID": f"{i:08x}-aaaa-4bbb-8ccc-000000000000",
            "Email Address": f"ana{i}@example.com",
            "Customer Since": f"03/0{i + 1}/2023",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Customer Since"] == "timestamp"
    assert mapped["Customer ID"] == "transaction_id"


def test_a_line_item_export_is_keyed_by_its_repeated_order_id() -> None:
    rows = [
        {
            "Order Id": str(300 + i // 3),
            "Order #": str(i),
            "Item Selection Id": f"L{i}",
            "Order Date": f"03/0{i // 3 + 1}/2024 12:00 PM",
            "Gross Price": "9.00",
            "Discount": "1.00",
            "Net Price": "8.00",
        }
        for i in range(9)
    ]
    mapped = field_map(rows)
    assert mapped["Order Id"] == "transaction_id"
    assert mapped["Order #"] is None
    assert mapped["Net Price"] == "value"
    assert mapped["Gross Price"] is None


def test_campaign_fields_and_a_combined_source_medium() -> None:
    rows = [
        {
            "context_campaign_source": "google",
            "context_campaign_medium": "cpc",
            "Source / Medium": "google / cpc",
            "traffic_source_medium": "cpc",
            "Total Purchases": "310.00",
        }
        for _ in range(3)
    ]
    mapped = field_map(rows)
    assert mapped["context_campaign_source"] == "utm_source"
    assert mapped["Source / Medium"] is None
    assert mapped["Total Purchases"] is None  # a customer's purchases summed: no one purchase
    assert "utm_medium" in {mapped["context_campaign_medium"], mapped["traffic_source_medium"]}


def test_an_objects_own_id_over_its_display_number_and_its_effective_date() -> None:
    rows = [
        {
            "Id": f"801{i:015d}",
            "OrderNumber": f"{100 + i:08d}",
            "EffectiveDate": f"2024-03-0{i + 1}",
            "CreatedDate": f"2024-03-0{i + 1}T09:00:00Z",
            "TotalAmount": "420.00",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Id"] == "transaction_id"
    assert mapped["OrderNumber"] is None
    assert mapped["EffectiveDate"] == "timestamp"


def test_when_an_order_was_processed_and_when_a_member_enrolled() -> None:
    orders = [
        {
            "id": str(i),
            "processed_at_foreign": f"2024-03-0{i + 1}T12:00:00Z",
            "updated_at_foreign": f"2024-03-0{i + 2}T12:00:00Z",
            "order_total": "30.00",
        }
        for i in range(5)
    ]
    assert field_map(orders)["processed_at_foreign"] == "timestamp"
    members = [
        {
            "id": f"LA{i:06d}",
            "phone_number": f"+1212555{i:04d}",
            "enrolled_at": f"2024-03-0{i + 1}T12:00:00Z",
            "created_at": f"2024-02-0{i + 1}T12:00:00Z",
        }
        for i in range(5)
    ]
    assert field_map(members)["enrolled_at"] == "timestamp"


def test_a_card_number_written_out_is_a_loyalty_card_a_masked_one_is_not() -> None:
    guests = [
        {"Card Number": f"60{i:014d}", "Email": f"ana{i}@example.com", "Points": "40"}
        for i in range(5)
    ]
    # A list of loyalty members: the card keys it.
    assert field_map(guests)["Card Number"] == "transaction_id"
    payments = [
        {
            "Transaction ID": str(i),
            "Customer ID": str(5000 + i),
            "Card Number": f"XXXX{1000 + i}",
            "Member Card Number": f"TX{40000000 + i}",
            "Settlement Amount": "12.00",
            "Item": "Taco Box",
        }
        for i in range(5)
    ]
    mapped = field_map(payments)
    assert mapped["Card Number"] is None
    assert mapped["Member Card Number"] == "loyalty_id"
    assert mapped["Item"] == "product_name"


def test_when_a_payment_was_submitted_not_when_its_batch_settled() -> None:
    rows = [
        {
            "Transaction ID": str(i),
            "Submit Date/Time": f"03/0{i + 1}/2024 12:00 PM",
            "Settlement Date/Time": f"03/0{i + 2}/2024 03:00 AM",
            "Settlement Amount": "12.00",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Submit Date/Time"] == "timestamp"
    assert mapped["Settlement Date/Time"] is None


def test_the_currency_and_total_the_customer_paid_in_not_the_stores_base() -> None:
    rows = [
        {
            "increment_id": str(100000001 + i),
            "created_at": f"2024-03-0{i + 1} 12:00:00",
            "base_grand_total": "10.00",
            "grand_total": "13.60",
            "base_currency_code": "USD",
            "order_currency_code": "CAD",
            "customers.elements.0.id": f"C{i:012d}",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["order_currency_code"] == "currency"
    assert mapped["base_currency_code"] is None
    assert mapped["grand_total"] == "value"
    assert mapped["customers.elements.0.id"] == "user_id"


def test_in_purchases_naming_no_other_customer_the_member_is_the_customer() -> None:
    rows = [
        {
            "Transaction ID": str(i),
            "Member ID": str(880000 + i % 2),
            "Transaction Date": f"03/0{i + 1}/2024 12:00 PM",
            "Check Total": "18.00",
        }
        for i in range(5)
    ]
    assert field_map(rows)["Member ID"] == "user_id"


def test_an_online_order_processed_not_closed_and_discounts_are_no_value() -> None:
    rows = [
        {
            "id": str(5_000_000_000_000 + i),
            "processed_at": f"2024-03-0{i + 1} 12:00:00",
            "closed_at": f"2024-03-1{i + 1} 09:00:00",
            "total_discounts": "1.50",
            "total_price": "21.40",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["processed_at"] == "timestamp"
    assert mapped["closed_at"] is None
    assert mapped["total_price"] == "value"
    assert mapped["total_discounts"] is None


def test_an_events_derived_time_not_the_devices_clock_and_marketing_fields() -> None:
    rows = [
        {
            "tr_orderid": str(100000 + i),
            "derived_tstamp": f"2024-03-0{i + 1}T12:00:00Z",
            "dvce_created_tstamp": f"2024-03-0{i + 1}T11:59:00Z",
            "collector_tstamp": f"2024-03-0{i + 1}T12:00:02Z",
            "tr_total": "12.00",
            "mkt_source": "google",
            "mkt_medium": "cpc",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert tokens("derived_tstamp") == ["derived", "timestamp"]
    assert mapped["derived_tstamp"] == "timestamp"
    assert mapped["dvce_created_tstamp"] is None
    assert mapped["collector_tstamp"] is None
    assert mapped["mkt_source"] == "utm_source"
    assert mapped["mkt_medium"] == "utm_medium"


def test_a_documents_bare_number_keys_it_and_a_customers_name_is_no_id() -> None:
    rows = [
        {
            "Date": f"03/0{i + 1}/2024",
            "Num": str(1001 + i),
            "Customer": ("Ana Lee", "Ben Kim", "Chloe Rossi")[i % 3],
            "Amount": "42.00",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Num"] == "transaction_id"
    assert mapped["Customer"] is None


def test_a_crm_contacts_original_source() -> None:
    rows = [
        {
            "Record ID": str(100 + i),
            "Email": f"a{i}@example.com",
            "Create Date": f"03/0{i + 1}/2024 10:00 AM",
            "Original Source": ("Organic Search", "Paid Social")[i % 2],
        }
        for i in range(5)
    ]
    assert field_map(rows)["Original Source"] == "utm_source"


def test_customers_with_a_purchase_count_keyed_by_their_external_id() -> None:
    rows = [
        {
            "external_id": f"usr_{i:04d}",
            "braze_id": f"{i:024x}",
            "email": f"a{i}@example.com",
            "created_at": f"2024-03-0{i + 1}T12:00:00Z",
            "total_revenue": f"{100 + i * 37}.50",
            "purchase_count": str(3 + i),
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["external_id"] == "transaction_id"
    assert mapped["braze_id"] is None
    assert mapped["total_revenue"] is None
    assert mapped["created_at"] == "timestamp"


def test_an_orders_own_number_does_not_make_its_rows_customers() -> None:
    rows = [
        {
            "Order Number": str(1001 + i),
            "Order Date": f"2024-03-0{i + 1}",
            "Total": "18.00",
            "Email": f"a{i}@example.com",
        }
        for i in range(5)
    ]
    assert field_map(rows)["Total"] == "value"


def test_a_marketplace_reports_order_and_subtotal_not_its_payout() -> None:
    rows = [
        {
            "Timestamp UTC time": f"2024-03-0{i + 1}T12:00:00Z",
            "Transaction ID": str(10**15 + i * 7919),
            "DoorDash order ID": f"{i * 2654435761 % 2**32:08x}",
            "Subtotal": "24.50",
            "Commission": "3.68",
            "Net total": "20.82",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["DoorDash order ID"] == "transaction_id"
    assert mapped["Transaction ID"] is None
    assert mapped["Subtotal"] == "value"
    assert mapped["Net total"] is None
    without_commission = [{k: v for k, v in r.items() if k != "Commission"} for r in rows]
    assert field_map(without_commission)["Subtotal"] is None


def test_an_invoice_number_and_what_was_paid_not_owed_or_the_subscription() -> None:
    rows = [
        {
            "Invoice Number": f"INV-{i:06d}",
            "Subscription Id": f"sub{i:013d}",
            "Amount": "50.00",
            "Amount Paid": "50.00" if i % 2 else "20.00",
            "Amount Due": "0.00" if i % 2 else "30.00",
            "Paid At": f"03/0{i + 1}/2024 10:00 AM",
        }
        for i in range(5)
    ]
    mapped = field_map(rows)
    assert mapped["Invoice Number"] == "transaction_id"
    assert mapped["Subscription Id"] is None
    assert mapped["Amount Paid"] == "value"
    assert {mapped["Amount"], mapped["Amount Due"]} == {None}


def test_a_charge_over_another_systems_order_and_a_deal_won_not_created() -> None:
    charges = [
        {
            "charge_id": str(700000 + i),
            "shopify_order_id": str(5_000_000_000_000 + i * 7),
            "processed_at": f"2024-03-0{i + 1} 12:00:00",
            "total_price": "31.00",
        }
        for i in range(5)
    ]
    assert field_map(charges)["charge_id"] == "transaction_id"
    deals = [
        {
            "Deal - ID": str(100 + i),
            "Deal - Value": "1200.00",
            "Deal - Deal created": f"2024-02-0{i + 1} 09:00:00",
            "Deal - Won time": f"2024-03-0{i + 1} 16:00:00",
            "Acquisition Program": ("spring_promo", "brand")[i % 2],
        }
        for i in range(5)
    ]
    mapped = field_map(deals)
    assert mapped["Deal - Won time"] == "timestamp"
    assert mapped["Deal - Deal created"] is None
    assert mapped["Acquisition Program"] == "utm_campaign"
