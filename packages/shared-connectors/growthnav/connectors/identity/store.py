"""Identity resolution over a customer's warehouse: collapse, resolve, keep ids, write back.

Per connector, conversions are collapsed into customer records (one per source customer key:
the user id, else the email, phone, card fingerprint or loyalty id), resolved across all of
the customer's connectors, and persisted as an identity graph
``(source_system, source_record_id) -> global_customer_id`` with stable ids. The id is then
written onto every conversion of the record.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from growthnav.connectors.identity.fragments import ResolvedIdentity
from growthnav.connectors.identity.linker import IdentityLinker
from growthnav.connectors.identity.stable_ids import (
    GraphEntry,
    RecordKey,
    StableAssignment,
    assign_stable_ids,
)
from growthnav.conversions.duckdb_arrow import arrow_result
from growthnav.warehouse import DuckDBWarehouse

logger = logging.getLogger(__name__)

#: Columns whose first non-blank value is a conversion's source customer key.
KEY_COLUMNS = ("user_id", "email", "phone", "hashed_cc", "loyalty_id")


def customer_key(alias: str | None = None, columns: Collection[str] = KEY_COLUMNS) -> str:
    """SQL for a conversion's source customer key (columns qualified by ``alias``).

    Only the key columns in ``columns`` are read (those a table has; the others are NULL).
    """
    prefix = f"{alias}." if alias else ""
    present = [prefix + c for c in KEY_COLUMNS if c in columns]
    return f"coalesce({', '.join(present)})" if present else "NULL::VARCHAR"


CUSTOMER_KEY = customer_key()
_FIELDS = ("email", "phone", "first_name", "last_name", "postal_code", "hashed_cc", "loyalty_id")

_DDL = (
    "CREATE TABLE IF NOT EXISTS {s}.identity_graph (source_system VARCHAR NOT NULL, "
    "source_record_id VARCHAR NOT NULL, global_customer_id VARCHAR NOT NULL, "
    "first_seen_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (source_system, source_record_id))",
    # A digest of the record's identity fields when it was resolved: a change re-scores it.
    "ALTER TABLE {s}.identity_graph ADD COLUMN IF NOT EXISTS key_hash VARCHAR",
    "CREATE TABLE IF NOT EXISTS {s}.identities (global_customer_id VARCHAR PRIMARY KEY, "
    "match_probability DOUBLE NOT NULL, records INTEGER NOT NULL, systems VARCHAR[] NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {s}.identity_aliases (old_id VARCHAR PRIMARY KEY, "
    "survivor_id VARCHAR NOT NULL, merged_at TIMESTAMPTZ NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {s}.identity_events (occurred_at TIMESTAMPTZ NOT NULL, "
    "kind VARCHAR NOT NULL, global_customer_id VARCHAR NOT NULL, detail VARCHAR)",
)


@dataclass
class IdentityReport:
    """What one resolution run found and changed."""

    method: str
    records: int = 0
    people: int = 0
    multi_system_people: int = 0
    largest_cluster: int = 0
    new_ids: int = 0
    merges: int = 0
    splits: int = 0
    conversions_linked: int = 0
    recut_clusters: int = 0
    systems_per_person: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {k: v for k, v in self.__dict__.items()}


class IdentityStore:
    """The identity tables of one DuckDB warehouse, beside each customer's conversions."""

    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        self.warehouse = warehouse

    def ensure(self, customer_id: str) -> None:
        """Create the customer's identity tables when missing."""
        self.warehouse.ensure_customer(customer_id)
        schema = f'"{customer_id}"'
        with self.warehouse.connection() as connection:
            for ddl in _DDL:
                connection.execute(ddl.format(s=schema))

    def model_path(self, customer_id: str) -> Path:
        """Where the customer's trained match model is kept."""
        return self.warehouse.path.parent / "models" / f"{customer_id}.json"

    def customer_records(self, customer_id: str) -> pa.Table:
        """One record per (connector, source customer key), with its latest identity values."""
        latest = ", ".join(
            f"arg_max({f}, timestamp) FILTER (WHERE {f} IS NOT NULL) AS {f}" for f in _FIELDS
        )
        digest = "md5(concat_ws('|', " + ", ".join(f"coalesce({f}, '')" for f in _FIELDS) + "))"
        table = self.warehouse.table_name(customer_id, "conversions")
        with self.warehouse.connection() as connection:
            return arrow_result(
                connection,
                f"SELECT *, {digest} AS key_hash FROM ("
                f"SELECT connector_id AS source_system, {CUSTOMER_KEY} AS source_id, {latest}, "
                f"min(timestamp) AS first_seen FROM {table} WHERE {CUSTOMER_KEY} IS NOT NULL "
                "GROUP BY ALL) ORDER BY source_system, source_id",
            )

    def previous(self, customer_id: str) -> tuple[dict[RecordKey, GraphEntry], set[str]]:
        """The current graph, and the ids retired by merges."""
        graph = self.warehouse.table_name(customer_id, "identity_graph")
        aliases = self.warehouse.table_name(customer_id, "identity_aliases")
        with self.warehouse.connection() as connection:
            rows = connection.execute(
                f"SELECT source_system, source_record_id, global_customer_id, first_seen_at, "
                f"key_hash FROM {graph}"
            ).fetchall()
            retired = {r[0] for r in connection.execute(f"SELECT old_id FROM {aliases}").fetchall()}
        return {(r[0], r[1]): GraphEntry(r[2], r[3], r[4]) for r in rows}, retired

    def save(
        self,
        customer_id: str,
        records: pa.Table,
        identities: list[ResolvedIdentity],
        assignment: StableAssignment,
        previous: dict[RecordKey, GraphEntry],
    ) -> int:
        """Replace the graph, record aliases and events, and write ids onto conversions.

        One transaction; returns how many conversions carry a global id afterwards.
        """
        now = datetime.now(UTC)
        hashes = by_record(records, "key_hash")
        seen = by_record(records, "first_seen")
        keys = list(assignment.ids)
        graph = pa.table(
            {
                "source_system": [k[0] for k in keys],
                "source_record_id": [k[1] for k in keys],
                "global_customer_id": [assignment.ids[k] for k in keys],
                "first_seen_at": pa.array(
                    [previous[k].first_seen if k in previous else seen.get(k) or now for k in keys],
                    pa.timestamp("us", tz="UTC"),
                ),
                "key_hash": pa.array([hashes.get(k) for k in keys], pa.string()),
            }
        )
        summary = pa.table(
            {
                "global_customer_id": [assignment.ids[i.source_records[0]] for i in identities],
                "match_probability": [i.match_probability for i in identities],
                "records": pa.array([len(i.source_records) for i in identities], pa.int32()),
                "systems": [i.source_systems for i in identities],
            }
        )
        aliases = pa.table(
            {
                "old_id": [a[0] for a in assignment.aliases],
                "survivor_id": [a[1] for a in assignment.aliases],
                "merged_at": pa.array(
                    [now] * len(assignment.aliases), pa.timestamp("us", tz="UTC")
                ),
            }
        )
        events = pa.table(
            {
                "occurred_at": pa.array(
                    [now] * len(assignment.events), pa.timestamp("us", tz="UTC")
                ),
                "kind": [e[0] for e in assignment.events],
                "global_customer_id": [e[1] for e in assignment.events],
                "detail": [e[2] for e in assignment.events],
            }
        )
        name = self.warehouse.table_name
        with self.warehouse.connection() as connection:
            connection.execute("BEGIN TRANSACTION")
            try:
                for table_name, data in (
                    ("identity_graph", graph),
                    ("identities", summary),
                ):
                    connection.register("incoming", data)
                    connection.execute(f"DELETE FROM {name(customer_id, table_name)}")
                    connection.execute(
                        f"INSERT INTO {name(customer_id, table_name)} BY NAME "
                        "SELECT * FROM incoming"
                    )
                    connection.unregister("incoming")
                connection.register("incoming", aliases)
                connection.execute(
                    f"INSERT INTO {name(customer_id, 'identity_aliases')} SELECT * FROM incoming "
                    "ON CONFLICT DO NOTHING"
                )
                connection.unregister("incoming")
                connection.register("incoming", events)
                connection.execute(
                    f"INSERT INTO {name(customer_id, 'identity_events')} SELECT * FROM incoming"
                )
                connection.unregister("incoming")
                # The table behind the conversions view, which may lack empty columns.
                conversions, stored = self.warehouse.stored_conversions(
                    connection, customer_id, ["global_customer_id"]
                )
                connection.execute(
                    f"UPDATE {conversions} c SET global_customer_id = g.global_customer_id "
                    f"FROM {name(customer_id, 'identity_graph')} g "
                    f"WHERE c.connector_id = g.source_system "
                    f"AND {customer_key('c', stored)} = g.source_record_id "
                    "AND c.global_customer_id IS DISTINCT FROM g.global_customer_id"
                )
                linked = connection.execute(
                    f"SELECT count(*) FROM {conversions} WHERE global_customer_id IS NOT NULL"
                ).fetchall()[0][0]
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return int(linked)

    def lookup(
        self,
        customer_id: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        global_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """People matching an email, a phone or a global id (aliases followed)."""
        from growthnav.connectors.identity.keys import canonical_email, canonical_phone

        name = self.warehouse.table_name
        conversions = name(customer_id, "conversions")
        with self.warehouse.connection() as connection:
            if global_id is not None:
                survivor = connection.execute(
                    f"SELECT survivor_id FROM {name(customer_id, 'identity_aliases')} "
                    "WHERE old_id = ?",
                    [global_id],
                ).fetchall()
                ids = [survivor[0][0] if survivor else global_id]
            else:
                wanted = canonical_email(email) if email else canonical_phone(phone)
                if wanted is None:
                    field_name = "email" if email else "phone"
                    raise ValueError(
                        f"{field_name} {email or phone!r} is not a valid {field_name}; "
                        "give it as written in the source, e.g. 'ana@example.com' or "
                        "'+1 212 555 0134'"
                    )
                column = "email" if email else "phone"
                rows = connection.execute(
                    f"SELECT DISTINCT global_customer_id, {column} FROM {conversions} "
                    f"WHERE global_customer_id IS NOT NULL AND {column} IS NOT NULL"
                ).fetchall()
                match = canonical_email if email else canonical_phone
                ids = sorted({gid for gid, value in rows if match(value) == wanted})
            people = []
            for gid in ids:
                stats = connection.execute(
                    f"SELECT count(*), sum(value), min(timestamp), max(timestamp), "
                    f"list(DISTINCT connector_id ORDER BY connector_id), "
                    f"list(DISTINCT email ORDER BY email) FILTER (WHERE email IS NOT NULL), "
                    f"list(DISTINCT phone ORDER BY phone) FILTER (WHERE phone IS NOT NULL) "
                    f"FROM {conversions} WHERE global_customer_id = ?",
                    [gid],
                ).fetchall()[0]
                if not stats[0]:
                    continue
                people.append(
                    {
                        "global_customer_id": gid,
                        "conversions": stats[0],
                        "lifetime_value": str(stats[1]),
                        "first_seen": stats[2].isoformat(),
                        "last_seen": stats[3].isoformat(),
                        "systems": stats[4],
                        "emails": stats[5] or [],
                        "phones": stats[6] or [],
                    }
                )
        return people


def by_record(records: pa.Table, column: str) -> dict[RecordKey, Any]:
    """``column``'s value for each ``(source_system, source_id)`` of the customer records."""
    keys = zip(
        (str(v) for v in records.column("source_system").to_pylist()),
        (str(v) for v in records.column("source_id").to_pylist()),
        strict=True,
    )
    return dict(zip(keys, records.column(column).to_pylist(), strict=True))


def resolve_customer(
    warehouse: DuckDBWarehouse,
    customer_id: str,
    *,
    deterministic: bool = False,
    match_threshold: float = 0.9,
    linker: IdentityLinker | None = None,
    progress: Callable[[int], None] | None = None,
    full: bool = False,
) -> IdentityReport:
    """Resolve everyone in a customer's conversions and write stable ids back.

    The first run trains the match model and saves it (``models/<customer>.json`` beside the
    warehouse); later runs reuse it and score only records not resolved before, against the
    people already found. ``full=True`` retrains and re-resolves everyone.
    ``progress(records)`` is called once the customer records are read and once resolved.
    """
    store = IdentityStore(warehouse)
    store.ensure(customer_id)
    records = store.customer_records(customer_id)
    if progress is not None:
        progress(0)
    linker = linker or IdentityLinker()
    for system in dict.fromkeys(records.column("source_system").to_pylist()):
        mine = records.filter(pc.equal(records.column("source_system"), pa.scalar(str(system))))
        linker.add_table(mine, source=str(system), id_column="source_id")
    previous, retired = store.previous(customer_id)
    model = store.model_path(customer_id)
    if full:
        model.unlink(missing_ok=True)
    current = by_record(records, "key_hash")
    # Records resolved before whose identity fields have not changed stay as they were.
    known = (
        None
        if full
        else {
            key: entry.global_id
            for key, entry in previous.items()
            if current.get(key) is not None and current.get(key) == entry.key_hash
        }
    )
    identities = linker.identities(
        linker.resolve_table(
            match_threshold, deterministic=deterministic, model_path=model, known=known
        )
    )
    if progress is not None:
        progress(records.num_rows)
    assignment = assign_stable_ids([i.source_records for i in identities], previous, retired)
    for identity in identities:
        identity.global_id = assignment.ids[identity.source_records[0]]
    linked = store.save(customer_id, records, identities, assignment, previous)
    kinds = Counter(kind for kind, _, _ in assignment.events)
    per_person = Counter(len(i.source_systems) for i in identities)
    return IdentityReport(
        method="deterministic" if deterministic else "probabilistic",
        records=records.num_rows,
        people=len(identities),
        multi_system_people=sum(c for n, c in per_person.items() if n > 1),
        largest_cluster=max((len(i.source_records) for i in identities), default=0),
        new_ids=kinds["new"],
        merges=kinds["merge"],
        splits=kinds["split"],
        conversions_linked=linked,
        recut_clusters=len(linker.recut_clusters),
        systems_per_person=dict(sorted(per_person.items())),
    )
