"""The whole job on a generated brand: exports → connectors → discovery → sync → identity.

``run_demo`` is independent of the terminal: it reports progress through a callback and
returns a ``DemoSummary`` the CLI prints (and the tests check against the sandbox's truth).
Re-running on the same home finds nothing new: the exports are not rewritten, the connectors
are reused, and the file connector's fingerprints skip files already read.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from growthnav.cli.connectors_file import config_from_spec, read_connector_specs
from growthnav.cli.home import Home
from growthnav.connectors import ConnectorConfig, ConnectorType, SyncResult, get_registry, run_sync
from growthnav.connectors.discovery import SchemaDiscovery, source_signature
from growthnav.connectors.identity import IdentityReport, resolve_customer
from growthnav.sandbox import (
    CRM,
    EXPECTED_FIELD_MAPS,
    EXPORT_FILES,
    LOYALTY,
    ONLINE,
    POS,
    DemoBusiness,
    generate_business,
    write_exports,
)

#: System -> (connector name, what kind of source its conversions come from).
DEMO_CONNECTORS = {
    POS: ("Toast POS order export", "pos"),
    LOYALTY: ("Thanx loyalty purchases", "loyalty"),
    ONLINE: ("Olo online orders", "olo"),
    CRM: ("HubSpot catering deals", "crm"),
}
SAMPLE_ROWS = 10_000

#: Progress callback: (stage, message, done, total).
Progress = Callable[[str, str, int, int], None]


def _quiet(stage: str, message: str, done: int, total: int) -> None:
    return None


@dataclass
class ConnectorOutcome:
    """One export's discovery and sync."""

    system: str
    connector_id: str
    name: str
    discovered: bool
    field_map: dict[str, str]
    confidences: dict[str, float]
    mapping_agrees: int
    mapping_expected: int
    sync: SyncResult


@dataclass
class DemoSummary:
    """What the demo did and found."""

    home: Path
    customer_id: str
    people_generated: int
    source_records: int
    connectors: list[ConnectorOutcome] = field(default_factory=list)
    by_source: list[dict[str, Any]] = field(default_factory=list)
    rejects: dict[str, int] = field(default_factory=dict)
    identity: IdentityReport | None = None
    precision: float = 0.0
    recall: float = 0.0
    top_customers: list[dict[str, Any]] = field(default_factory=list)
    report_path: Path | None = None

    @property
    def fetched(self) -> int:
        """Records read from the exports in this run."""
        return sum(c.sync.records_fetched for c in self.connectors)

    @property
    def nothing_new(self) -> bool:
        """True when every export had been read before."""
        return self.fetched == 0

    @property
    def f1(self) -> float:
        """Harmonic mean of identity precision and recall."""
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for ``--json``."""
        return {
            "home": str(self.home),
            "customer_id": self.customer_id,
            "people_generated": self.people_generated,
            "source_records": self.source_records,
            "records_fetched": self.fetched,
            "nothing_new": self.nothing_new,
            "connectors": [
                {
                    "connector_id": c.connector_id,
                    "name": c.name,
                    "discovered": c.discovered,
                    "field_map": c.field_map,
                    "mapping_agrees_with_truth": f"{c.mapping_agrees}/{c.mapping_expected}",
                    "fetched": c.sync.records_fetched,
                    "loaded": c.sync.records_loaded,
                    "unchanged": c.sync.records_unchanged,
                    "rejected": c.sync.records_rejected,
                    "success": c.sync.success,
                    "error": c.sync.error,
                }
                for c in self.connectors
            ],
            "by_source": self.by_source,
            "rejects": self.rejects,
            "identity": self.identity.as_dict() if self.identity else None,
            "identity_precision": round(self.precision, 4),
            "identity_recall": round(self.recall, 4),
            "identity_f1": round(self.f1, 4),
            "top_customers": self.top_customers,
            "report": str(self.report_path) if self.report_path else None,
        }


def exports_once(business: DemoBusiness, directory: Path) -> dict[str, Path]:
    """The brand's exports in ``directory``, written only when not there yet."""
    paths = {system: directory / name for system, name in EXPORT_FILES.items()}
    if all(p.exists() for p in paths.values()):
        return paths  # already written: rewriting would make every file look new
    return write_exports(business, directory)


def _connector(
    home: Home, business: DemoBusiness, system: str, path: Path
) -> tuple[str, bool, dict[str, float]]:
    """The saved connector for an export, created and mapped by discovery when new.

    Returns its id, whether it was new, and discovery's confidence per mapped column.
    """
    name, kind = DEMO_CONNECTORS[system]
    config = ConnectorConfig(
        connector_type=ConnectorType.FILE,
        customer_id=business.customer_id,
        name=name,
        connection_params={"path": str(path), "source": kind},
        timezone=business.timezone,
        batch_size=50_000,
    )
    connector = get_registry().create(config)
    try:
        sample = connector.sample(SAMPLE_ROWS)
    finally:
        connector.close()
    discovery = SchemaDiscovery(llm="off", timezone=business.timezone)
    result = discovery.analyze_sync(sample, context=name)
    confidences = {
        s.source_field: s.confidence for s in result["suggestions"] if s.target_field is not None
    }
    for saved in home.storage.list(business.customer_id):
        if saved.name == name and saved.connector_id:
            return saved.connector_id, False, confidences
    config.field_overrides = dict(result["field_map"])
    home.memory.remember(source_signature(result["profiles"]), config.field_overrides)
    return home.storage.save(config), True, confidences


def _saved(home: Home, config: ConnectorConfig) -> str:
    """The id of the saved connector with ``config``'s customer and name (saved when new)."""
    get_registry().create(config).close()  # refused before anything is saved
    for saved in home.storage.list(config.customer_id):
        if saved.name == config.name and saved.connector_id:
            return saved.connector_id
    return home.storage.save(config)


def run_demo(
    home: Home,
    *,
    people: int = 5000,
    seed: int = 7,
    progress: Progress = _quiet,
    report: bool = True,
    connectors: Path | None = None,
) -> DemoSummary:
    """Run the whole job on a generated brand into ``home``; returns the summary.

    By default the brand's exports are written and read by file connectors that discovery
    maps. With ``connectors`` (a connectors file, e.g. the one ``growthnav sandbox up``
    writes for the same ``people`` and ``seed``) its connectors are loaded and synced instead.
    """
    progress("generate", f"generating a brand with {people:,} customers", 0, 1)
    business = generate_business(people, seed)
    progress("generate", f"{business.source_records:,} records in 4 systems", 1, 1)
    summary = DemoSummary(
        home=home.path,
        customer_id=business.customer_id,
        people_generated=people,
        source_records=business.source_records,
    )
    warehouse = home.duckdb_warehouse()
    system_of: dict[str, str] = {}
    if connectors is None:
        paths = exports_once(business, home.path / "demo" / f"exports-{people}-{seed}")
        planned = [
            (system, *_connector(home, business, system, path)) for system, path in paths.items()
        ]
    else:
        planned = [
            (str(spec.get("system", "")), _saved(home, config_from_spec(spec)), False, {})
            for spec in read_connector_specs(connectors)
        ]
    for step, (system, connector_id, discovered, confidences) in enumerate(planned):
        system_of[connector_id] = system
        config = home.storage.get(connector_id)
        assert config is not None
        progress("sync", f"syncing {config.name}", step, len(planned))
        connector = get_registry().create(config)
        try:
            result = run_sync(connector, home.storage, warehouse)
        finally:
            connector.close()
        expected = (
            EXPECTED_FIELD_MAPS.get(system, {}) if config.connector_type.value == "file" else {}
        )
        summary.connectors.append(
            ConnectorOutcome(
                system=system,
                connector_id=connector_id,
                name=config.name,
                discovered=discovered,
                field_map=dict(config.field_overrides),
                confidences=confidences,
                mapping_agrees=sum(
                    1 for c, t in expected.items() if config.field_overrides.get(c) == t
                ),
                mapping_expected=len(expected),
                sync=result,
            )
        )
        progress("sync", f"{config.name}: {result.records_fetched:,} read", step + 1, len(planned))
    progress("identity", "resolving identities", 0, 1)
    summary.identity = resolve_customer(warehouse, business.customer_id)
    progress("identity", f"{summary.identity.people:,} people", 1, 1)
    _measure(summary, home, business, system_of)
    if report:
        from growthnav.cli.report import write_report

        summary.report_path = write_report(summary, home, business.customer_id)
    return summary


def _measure(
    summary: DemoSummary, home: Home, business: DemoBusiness, system_of: dict[str, str]
) -> None:
    warehouse = home.duckdb_warehouse()
    customer = business.customer_id
    conversions = warehouse.table_name(customer, "conversions")
    rejects = warehouse.table_name(customer, "conversion_rejects")
    with warehouse.connection() as connection:
        rows = connection.execute(
            f"SELECT connector_id, source, count(*), sum(value), "
            f"count(DISTINCT global_customer_id) FROM {conversions} GROUP BY ALL ORDER BY 1"
        ).fetchall()
        summary.by_source = [
            {
                "connector_id": r[0],
                "source": r[1],
                "conversions": r[2],
                "revenue": str(r[3]),
                "people": r[4],
            }
            for r in rows
        ]
        summary.rejects = dict(
            connection.execute(
                f"SELECT reason, count(*) FROM {rejects} GROUP BY ALL ORDER BY 2 DESC"
            ).fetchall()
        )
        summary.top_customers = [
            {
                "global_customer_id": r[0],
                "lifetime_value": str(r[1]),
                "conversions": r[2],
                "systems": r[3],
                "name": r[4],
            }
            for r in connection.execute(
                f"SELECT global_customer_id, sum(value) AS ltv, count(*), "
                "list(DISTINCT source ORDER BY source), "
                "any_value(first_name || ' ' || last_name) "
                f"FROM {conversions} WHERE global_customer_id IS NOT NULL "
                "GROUP BY 1 ORDER BY ltv DESC, 1 LIMIT 10"
            ).fetchall()
        ]
        graph = connection.execute(
            f"SELECT source_system, source_record_id, global_customer_id "
            f"FROM {warehouse.table_name(customer, 'identity_graph')}"
        ).fetchall()
    summary.precision, summary.recall = pairwise_scores(graph, business, system_of)


def pairwise_scores(
    graph: list[tuple[str, str, str]], business: DemoBusiness, system_of: dict[str, str]
) -> tuple[float, float]:
    """Pairwise precision and recall of the graph's clusters against the generator's truth."""
    truth: dict[tuple[str, str], str] = {}
    for row in business.truth.to_pylist():
        if row["customer_key"] and row["person_id"]:
            truth[(row["system"], row["customer_key"])] = row["person_id"]
    clusters: dict[str, list[str]] = defaultdict(list)
    persons: dict[str, int] = Counter()
    for connector_id, record_id, gid in graph:
        person = truth.get((system_of.get(connector_id, ""), record_id))
        if person is None:
            continue
        clusters[gid].append(person)
        persons[person] += 1
    true_pairs = sum(n * (n - 1) // 2 for n in persons.values())
    found = correct = 0
    for members in clusters.values():
        found += len(members) * (len(members) - 1) // 2
        correct += sum(n * (n - 1) // 2 for n in Counter(members).values())
    precision = correct / found if found else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    return precision, recall
