"""Identity resolution: keys, deterministic and probabilistic linking, stable ids."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from growthnav.connectors.identity import (
    GraphEntry,
    IdentityFragment,
    IdentityLinker,
    IdentityStore,
    IdentityType,
    ResolvedIdentity,
    assign_stable_ids,
    canonical_email,
    canonical_phone,
    canonical_postal_code,
    fold_name,
    identity_keys,
    resolve_customer,
)
from growthnav.connectors.identity.keys_sql import identity_keys_table
from growthnav.conversions import CONVERSION_SCHEMA, records_to_arrow
from growthnav.sandbox import EXPECTED_FIELD_MAPS, SYSTEMS, DemoBusiness, generate_business
from growthnav.warehouse import DuckDBWarehouse


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Ana.Lee@Gmail.com", "analee@gmail.com"),
        ("ana.lee+orders@googlemail.com", "analee@gmail.com"),
        (" ANA.LEE+x@Example.COM ", "ana.lee@example.com"),
        ("not an email", None),
        ("+tag@example.com", None),
    ],
)
def test_canonical_email(raw: str, canonical: str | None) -> None:
    assert canonical_email(raw) == canonical


KEY_CASES: list[dict[str, Any]] = [
    {
        "id": "1",
        "email": "Ana.Lee@Gmail.com",
        "phone": "(917) 933-6320",
        "first_name": "José-María",
        "last_name": "O'Neil",
        "zip": "10001-1234",
        "card_fingerprint": " abc ",
    },
    {
        "id": "2",
        "email": " ana.lee+x@googlemail.com ",
        "phone": "+44 20 7946 0958",
        "first_name": "  ANA  ",
        "last_name": "van  der Berg",
        "zip": "sw1a 1aa",
        "member_id": "TX1",
    },
    {"id": "3", "email": "+tag@example.com", "phone": "12345", "first_name": "!!!", "zip": ""},
    {
        "id": "4",
        "email": "nope",
        "phone": "917.933.6320",
        "first_name": "Zoë",
        "last_name": "Ñandú",
    },
]


def test_table_keys_match_the_per_value_keys() -> None:
    """The linker's SQL normalization reads every case as ``identity_keys`` does."""
    table = identity_keys_table(records_to_arrow(KEY_CASES), "s", "id")
    for case, row in zip(KEY_CASES, table.to_pylist(), strict=True):
        assert {k: v for k, v in row.items() if k not in ("source_system", "source_id")} == (
            identity_keys(case)
        )


def test_phone_name_and_zip_keys() -> None:
    assert canonical_phone("12345") is None
    assert canonical_phone("(917) 933-6320") == "+19179336320"
    assert canonical_phone("  ") is None
    assert fold_name("  José-María O'Neil ") == "jose maria oneil"
    assert fold_name("!!!") is None
    assert canonical_postal_code("10001-1234") == "10001"
    assert canonical_postal_code("sw1a 1aa") == "SW1A1AA"


def _people() -> list[dict[str, str]]:
    return [
        {"id": "1", "email": "ana.lee@gmail.com", "first_name": "Ana", "last_name": "Lee"},
        {"id": "2", "email": "AnaLee@gmail.com", "phone": "917-933-6320", "first_name": "Ana"},
        {"id": "3", "phone": "(917) 933 6320", "first_name": "ana", "cc_hash": "abc123"},
        {"id": "4", "card_fingerprint": "abc123", "first_name": "A."},
        {"id": "5", "phone": "917.933.6320", "first_name": "Ben", "last_name": "Lee"},
        {"id": "6", "email": "someone@example.com", "member_id": "TX1"},
    ]


def test_deterministic_linking_is_transitive_and_guards_households() -> None:
    linker = IdentityLinker()
    linker.add_records(_people(), source="pos")
    identities = linker.resolve_deterministic()
    by_member = {
        source_id: identity for identity in identities for _, source_id in identity.source_records
    }
    # 1-2 by canonical email, 2-3 by phone and first name, 3-4 by card: one person.
    assert by_member["1"] is by_member["4"]
    assert by_member["1"].source_records == [("pos", "1"), ("pos", "2"), ("pos", "3"), ("pos", "4")]
    # Ben shares the household phone but not the first name: someone else.
    assert by_member["5"] is not by_member["1"]
    assert by_member["6"].has_fragment_type(IdentityType.LOYALTY_ID)
    assert len(identities) == 3


def test_plan_api_and_fragments() -> None:
    linker = IdentityLinker()
    linker.add_records(_people()[:2], source="toast")
    linker.add_records([{"guest": "g1", "email_address": "ANA.LEE@gmail.com"}], "olo", "guest")
    [identity] = linker.resolve_deterministic()
    assert isinstance(identity, ResolvedIdentity)
    assert identity.emails == ["analee@gmail.com"]
    assert identity.phones == ["+19179336320"]
    assert identity.source_systems == ["olo", "toast"]
    assert identity.global_id.startswith("gc_")
    assert IdentityFragment(IdentityType.EMAIL, "A@B.co") == IdentityFragment(
        IdentityType.EMAIL, "a@b.co", "other"
    )


def test_aliases_and_bad_input() -> None:
    linker = IdentityLinker(aliases={"email": ["correo"]})
    linker.add_records([{"id": "1", "correo": "x@example.com"}], "crm")
    assert linker.records[0]["email"] == "x@example.com"
    with pytest.raises(ValueError, match="unknown identity field 'mail'"):
        IdentityLinker(aliases={"mail": ["m"]})
    with pytest.raises(ValueError, match="no 'id'"):
        linker.add_records([{"email": "y@example.com"}], "crm")
    with pytest.raises(ValueError, match="between 0 and 1"):
        linker.resolve(1.5)
    assert IdentityLinker().resolve() == []


def _truth(business: DemoBusiness) -> dict[tuple[str, str], str]:
    """Each source customer key's person."""
    return {
        (r["system"], r["customer_key"]): r["person_id"]
        for r in business.truth.to_pylist()
        if r["customer_key"]
    }


def _linker(
    business: DemoBusiness, systems: tuple[str, ...] = SYSTEMS, **options: Any
) -> IdentityLinker:
    """A linker holding one customer record per source customer key of ``systems``."""
    linker = IdentityLinker(**options)
    for system in systems:
        columns = {target: column for column, target in EXPECTED_FIELD_MAPS[system].items()}
        seen: dict[str, dict[str, str]] = {}
        for row in business.tables[system].to_pylist():
            key = row[columns["user_id"]]
            if key and key not in seen:
                seen[key] = {t: row[c] for t, c in columns.items()} | {"id": key}
        linker.add_records(seen.values(), source=system)
    return linker


def _truth_customers(
    people: int, seed: int, **options: Any
) -> tuple[IdentityLinker, dict[tuple[str, str], str]]:
    business = generate_business(people=people, seed=seed)
    return _linker(business, **options), _truth(business)


def _pairwise(identities: list[ResolvedIdentity], truth: dict[tuple[str, str], str]) -> float:
    found = correct = 0
    people: dict[str, int] = defaultdict(int)
    for identity in identities:
        members = [truth[m] for m in identity.source_records]
        for person in members:
            people[person] += 1
        found += len(members) * (len(members) - 1) // 2
        counts: dict[str, int] = defaultdict(int)
        for person in members:
            counts[person] += 1
        correct += sum(n * (n - 1) // 2 for n in counts.values())
    true_pairs = sum(n * (n - 1) // 2 for n in people.values())
    precision, recall = correct / found, correct / true_pairs
    return 2 * precision * recall / (precision + recall)


def test_probabilistic_beats_deterministic_on_the_demo_business() -> None:
    linker, truth = _truth_customers(people=1500, seed=5)
    deterministic = _pairwise(linker.resolve_deterministic(), truth)
    identities = linker.resolve()
    probabilistic = _pairwise(identities, truth)
    assert probabilistic > deterministic
    assert probabilistic > 0.95
    assert max(len(i.source_records) for i in identities) <= 20
    linked = [i.match_probability for i in identities if len(i.source_records) > 1]
    assert len(set(linked)) > 10, "match probability comes from the pairs, not a constant"
    assert all(0.7 <= p <= 1.0 for p in linked)  # every link is at or above the threshold


def test_oversized_clusters_are_recut() -> None:
    # A shared office email chains many people; only near-certain links survive the cap.
    rows = [
        {"id": str(i), "email": "front.desk@example.com", "first_name": f"Person{i}"}
        for i in range(6)
    ]
    linker = IdentityLinker(max_cluster_size=3)
    linker.add_records(rows, "crm")
    identities = linker.resolve_deterministic()
    assert linker.recut_clusters == [("crm", "0")]
    assert max(len(i.source_records) for i in identities) == 6  # hard links are certain
    assert len(linker.last_links) == 5


T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_stable_ids_through_merge_and_split() -> None:
    a, b, c, d = ("s", "a"), ("s", "b"), ("s", "c"), ("s", "d")
    first = assign_stable_ids([[a, b], [c]], {})
    id_ab, id_c = first.ids[a], first.ids[c]
    assert first.new_ids == 2
    previous = {
        a: GraphEntry(id_ab, T0),
        b: GraphEntry(id_ab, T0 + timedelta(days=1)),
        c: GraphEntry(id_c, T0 + timedelta(days=2)),
    }
    # Run 2: a new record d joins, and c merges into a+b: the older id survives.
    second = assign_stable_ids([[a, b, c, d]], previous)
    assert set(second.ids.values()) == {id_ab}
    assert second.aliases == [(id_c, id_ab)]
    assert [e[0] for e in second.events] == ["merge"]
    previous = {
        k: GraphEntry(id_ab, previous.get(k, GraphEntry("", T0 + timedelta(days=3))).first_seen)
        for k in (a, b, c, d)
    }
    # Run 3: b's records turn out to be someone else: the part with the oldest record (a) keeps
    # the id, b gets a new one, never a retired one.
    third = assign_stable_ids([[b], [a, c, d]], previous, retired={id_c})
    assert third.ids[a] == third.ids[c] == third.ids[d] == id_ab
    assert third.ids[b] not in (id_ab, id_c)
    assert sorted(e[0] for e in third.events) == ["new", "split"]


def _conversions(rows: list[dict[str, object]]) -> pa.Table:
    base = {name: None for name in CONVERSION_SCHEMA.names}
    filled = [
        base
        | {
            "customer_id": "brand",
            "currency": "USD",
            "conversion_type": "purchase",
            "source": "pos",
            "source_system": "file",
            "value": Decimal("10.0000"),
        }
        | row
        for row in rows
    ]
    return pa.Table.from_pylist(filled, CONVERSION_SCHEMA)


def test_warehouse_resolution_keeps_ids_across_incremental_runs(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    first = [
        {
            "transaction_id": "t1",
            "connector_id": "pos",
            "user_id": "g1",
            "email": "ana@example.com",
            "timestamp": T0,
        },
        {
            "transaction_id": "t2",
            "connector_id": "pos",
            "user_id": "g1",
            "timestamp": T0 + timedelta(days=1),
        },
        {
            "transaction_id": "o1",
            "connector_id": "olo",
            "user_id": "c9",
            "email": "ANA@example.com",
            "timestamp": T0,
        },
        {
            "transaction_id": "o2",
            "connector_id": "olo",
            "user_id": "c7",
            "email": "bo@example.com",
            "phone": "+19179336320",
            "first_name": "Bo",
            "timestamp": T0,
        },
    ]
    warehouse.upsert_conversions("brand", _conversions(first))
    report = resolve_customer(warehouse, "brand", deterministic=True)
    assert (report.records, report.people, report.new_ids, report.conversions_linked) == (
        3,
        2,
        2,
        4,
    )
    ids = {
        r["transaction_id"]: r["global_customer_id"]
        for r in warehouse.read_conversions("brand").to_pylist()
    }
    assert ids["t1"] == ids["t2"] == ids["o1"] != ids["o2"]
    # Run 2: nothing changed: same ids, nothing minted.
    again = resolve_customer(warehouse, "brand", deterministic=True)
    assert again.new_ids == 0
    assert {
        r["transaction_id"]: r["global_customer_id"]
        for r in warehouse.read_conversions("brand").to_pylist()
    } == ids
    # Run 3: a loyalty record with Bo's phone and Ana's email merges the two people.
    warehouse.upsert_conversions(
        "brand",
        _conversions(
            [
                {
                    "transaction_id": "l1",
                    "connector_id": "loyalty",
                    "user_id": "m1",
                    "email": "ana@example.com",
                    "phone": "+19179336320",
                    "first_name": "Bo",
                    "timestamp": T0 + timedelta(days=5),
                }
            ]
        ),
    )
    merged = resolve_customer(warehouse, "brand", deterministic=True)
    assert (merged.people, merged.merges, merged.new_ids) == (1, 1, 0)
    after = {r["global_customer_id"] for r in warehouse.read_conversions("brand").to_pylist()}
    assert len(after) == 1
    store = IdentityStore(warehouse)
    # Looking up the retired id follows the alias to the survivor.
    retired = (set(ids.values()) - after).pop()
    [person] = store.lookup("brand", global_id=retired)
    assert person["global_customer_id"] == after.pop()
    assert person["conversions"] == 5
    assert store.lookup("brand", email="Ana@Example.com")[0]["systems"] == ["loyalty", "olo", "pos"]
    with pytest.raises(ValueError, match="not a valid email"):
        store.lookup("brand", email="nope")
    # Run 4: the loyalty member's details change to someone else's: that record is scored
    # again, no longer matches, and splits off; the id stays with the part that had the
    # oldest record, and the member gets a new one.
    survivor = next(
        iter({r["global_customer_id"] for r in warehouse.read_conversions("brand").to_pylist()})
    )
    warehouse.upsert_conversions(
        "brand",
        _conversions(
            [
                {
                    "transaction_id": "l2",
                    "connector_id": "loyalty",
                    "user_id": "m1",
                    "email": "lu.new@example.com",
                    "phone": "+12129336321",
                    "first_name": "Lu",
                    "timestamp": T0 + timedelta(days=9),
                }
            ]
        ),
    )
    split = resolve_customer(warehouse, "brand", deterministic=True)
    assert (split.people, split.splits, split.new_ids, split.merges) == (2, 1, 1, 0)
    after_split = {
        r["transaction_id"]: r["global_customer_id"]
        for r in warehouse.read_conversions("brand").to_pylist()
    }
    assert after_split["t1"] == after_split["o1"] == after_split["o2"] == survivor
    assert after_split["l1"] == after_split["l2"] != survivor


def test_incremental_runs_reuse_the_model_and_score_only_new_records(tmp_path: Path) -> None:
    business = generate_business(people=700, seed=9)
    truth = _truth(business)
    model = tmp_path / "model.json"
    first = _linker(business, SYSTEMS[:2]).resolve_table(model_path=model)
    assert model.exists()
    trained = model.stat().st_mtime_ns
    known = {
        (str(s), str(i)): f"p{c}"
        for s, i, c in zip(
            first.column("source_system").to_pylist(),
            first.column("source_id").to_pylist(),
            first.column("cluster").to_pylist(),
            strict=True,
        )
    }
    linker = _linker(business)
    second = linker.resolve_table(model_path=model, known=known)
    assert model.stat().st_mtime_ns == trained, "the saved model is reused, not retrained"
    rows = second.to_pylist()
    cluster_of = {(r["source_system"], r["source_id"]): r["cluster"] for r in rows}
    # Everyone resolved before stays together.
    together: dict[str, set[int]] = defaultdict(set)
    for key, person in known.items():
        together[person].add(cluster_of[key])
    assert all(len(c) == 1 for c in together.values())
    # New records joined the people they belong to, scored against the known ones.
    new = [k for k in cluster_of if k not in known]
    assert new
    joined = correct = 0
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for key, cluster in cluster_of.items():
        members[cluster].append(key)
    for key in new:
        others = [m for m in members[cluster_of[key]] if m in known]
        if others:
            joined += 1
            correct += all(truth[m] == truth[key] for m in others)
    assert joined > len(new) / 3
    assert correct / joined > 0.95
    assert _pairwise(linker.identities(second), truth) > 0.95


@pytest.mark.slow
def test_spark_backend_matches_duckdb(tmp_path: Path) -> None:
    from growthnav.connectors.identity.spark import local_spark_session

    duckdb_linker, truth = _truth_customers(people=300, seed=13)
    duckdb_f1 = _pairwise(duckdb_linker.resolve(), truth)
    session = local_spark_session(tmp_path / "checkpoints")
    try:
        spark_linker, _ = _truth_customers(people=300, seed=13, spark_session=session)
        identities = spark_linker.resolve()
        spark_f1 = _pairwise(identities, truth)
    finally:
        session.stop()
    assert spark_f1 > 0.95
    assert abs(spark_f1 - duckdb_f1) < 0.02
    assert max(len(i.source_records) for i in identities) <= 20
