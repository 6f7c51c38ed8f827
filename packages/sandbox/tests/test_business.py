"""The demo business: deterministic, noisy the way real systems are, with its truth kept."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from growthnav.connectors.identity import canonical_email, canonical_phone
from growthnav.sandbox import (
    CRM,
    EXPECTED_FIELD_MAPS,
    LOYALTY,
    ONLINE,
    POS,
    SYSTEMS,
    DemoBusiness,
    generate_business,
    write_exports,
)


@pytest.fixture(scope="module")
def business() -> DemoBusiness:
    return generate_business(people=400, seed=3)


def test_same_seed_same_business(business: DemoBusiness) -> None:
    again = generate_business(people=400, seed=3)
    for system in SYSTEMS:
        assert again.tables[system].equals(business.tables[system])
    assert again.truth.equals(business.truth)
    other = generate_business(people=400, seed=4)
    assert not other.tables[POS].equals(business.tables[POS])


def test_every_record_has_truth_and_expected_columns_exist(business: DemoBusiness) -> None:
    assert business.truth.num_rows == business.source_records
    for system in SYSTEMS:
        columns = set(business.tables[system].column_names)
        assert set(EXPECTED_FIELD_MAPS[system]) <= columns
    per_system = Counter(business.truth.column("system").to_pylist())
    assert per_system == {s: business.tables[s].num_rows for s in SYSTEMS}
    assert len(business.locations) == 20


def test_customer_keys_point_to_one_person(business: DemoBusiness) -> None:
    owners: dict[tuple[str, str], set[str]] = {}
    for row in business.truth.to_pylist():
        if row["customer_key"]:
            owners.setdefault((row["system"], row["customer_key"]), set()).add(row["person_id"])
    assert owners
    assert all(len(people) == 1 for people in owners.values())
    # The same people appear in several systems.
    people_per_system = {
        s: {p for (system, _), ps in owners.items() if system == s for p in ps} for s in SYSTEMS
    }
    assert people_per_system[POS] & people_per_system[LOYALTY] & people_per_system[ONLINE]


def test_noise_is_realistic(business: DemoBusiness) -> None:
    emails = [e for e in business.tables[LOYALTY].column("EMAIL").to_pylist() if e]
    assert any(e != e.lower() for e in emails), "some addresses are written in another case"
    assert any("+" in e.split("@")[0] for e in emails), "some addresses carry +tags"
    phones = [p for p in business.tables[ONLINE].column("contactNumber").to_pylist() if p]
    shapes = {
        "paren"
        if p.startswith("(")
        else "plus"
        if p.startswith("+")
        else "dot"
        if "." in p
        else "dash"
        if "-" in p
        else "digits"
        for p in phones
    }
    assert shapes == {"paren", "plus", "dot", "dash", "digits"}
    assert all(canonical_phone(p) for p in phones), "every format still parses"
    # Households share a phone and surname; namesakes share a name and nothing else.
    by_phone = Counter(p.phone for p in business.people)
    assert any(n > 1 for n in by_phone.values())
    assert len({p.person_id for p in business.people}) == len(business.people)
    mailboxes = Counter(canonical_email(p.email) for p in business.people)
    assert max(mailboxes.values()) == 1, "two people never share a mailbox"


def test_malformed_rows_are_marked(business: DemoBusiness) -> None:
    bad = [r for r in business.truth.to_pylist() if r["bad_reason"]]
    assert {r["bad_reason"] for r in bad} <= {"bad_value", "bad_timestamp"}
    pos_bad = {r["record_id"] for r in bad if r["system"] == POS}
    rows = {
        row["Order Id"]: row
        for row in business.tables[POS].to_pylist()
        if row["Order Id"] in pos_bad
    }
    for record_id in pos_bad:
        row = rows[record_id]
        assert row["Total"] in ("N/A", "12..50") or row["Closed"] == "13/45/2024 9:99 PM"


def test_exports_are_written_in_each_systems_format(business: DemoBusiness, tmp_path: Path) -> None:
    paths = write_exports(business, tmp_path)
    assert paths[POS].read_text().splitlines()[0].startswith('"Location","Order Id"')
    assert pq.read_table(paths[LOYALTY]).num_rows == business.tables[LOYALTY].num_rows
    lines = paths[ONLINE].read_text().splitlines()
    assert len(lines) == business.tables[ONLINE].num_rows
    first = json.loads(lines[0])
    assert first["timePlaced"][8] == " "
    assert "storeUtcOffset" in first
    assert paths[CRM].suffix == ".csv"
