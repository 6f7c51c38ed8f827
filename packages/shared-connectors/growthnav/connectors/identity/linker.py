"""``IdentityLinker``: which customer records, across systems, are the same person.

``resolve()`` scores pairs with Splink 5 (DuckDB by default) and fuses its links with hard
deterministic links; ``resolve_deterministic()`` links on exact canonical keys alone. Both
cluster with union-find (links are transitive).

What the probabilistic model does, and why:
- email is compared exactly in its canonical form (fuzzy email levels link namesakes such as
  ``ana.lee@`` and ``ana.lee4821@``);
- a shared phone counts fully only when first names agree too (households share a phone);
- names use Jaro-Winkler levels with term-frequency adjustment (a shared rare surname says
  more than a shared common one);
- card fingerprints and loyalty ids are near-unique keys: their u is set from the data's own
  distinct counts instead of random sampling, which never sees two equal values at scale;
- clusters larger than ``max_cluster_size`` are re-cut with only near-certain links.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from growthnav.connectors.identity.fragments import (
    IdentityFragment,
    IdentityType,
    ResolvedIdentity,
)
from growthnav.connectors.identity.keys import FIELD_ALIASES, IDENTITY_FIELDS
from growthnav.connectors.identity.keys_sql import KEYS_SCHEMA, identity_keys_table
from growthnav.conversions.phones import PhoneBatchParser
from growthnav.conversions.records import records_to_arrow

logger = logging.getLogger(__name__)

#: Keys that alone make two records the same person.
HARD_KEYS = ("email", "hashed_cc", "loyalty_id")
#: Below this many records there is too little to train a model on: exact keys decide.
MIN_RECORDS_FOR_MODEL = 200
#: Near-certain link probability kept when an oversized cluster is re-cut.
RECUT_THRESHOLD = 0.99

_FRAGMENT_TYPES = {
    "email": IdentityType.EMAIL,
    "phone": IdentityType.PHONE,
    "hashed_cc": IdentityType.HASHED_CC,
    "loyalty_id": IdentityType.LOYALTY_ID,
}


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by size."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.size = [1] * size

    def find(self, x: int) -> int:
        """The representative of ``x``'s set."""
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        """Merge the sets of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]

    def groups(self) -> dict[int, list[int]]:
        """Representative -> members (in index order)."""
        out: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            out[self.find(i)].append(i)
        return out


@dataclass
class Links:
    """Pairwise links between record indexes with their match probabilities."""

    left: list[int] = field(default_factory=list)
    right: list[int] = field(default_factory=list)
    probability: list[float] = field(default_factory=list)

    def add(self, a: int, b: int, p: float) -> None:
        """Record a link."""
        self.left.append(a)
        self.right.append(b)
        self.probability.append(p)

    def __len__(self) -> int:
        return len(self.left)


def deterministic_links(table: pa.Table) -> Links:
    """Links on exact canonical email, card fingerprint or loyalty id.

    Also on phone where first names agree too (the household guard).
    """
    connection = duckdb.connect()
    try:
        connection.register("records", table)
        links = Links()
        keys = [f"{k}" for k in HARD_KEYS] + ["phone || '|' || first_name"]
        for key in keys:
            rows = connection.execute(
                f"SELECT min(unique_id) OVER (PARTITION BY {key}) AS root, unique_id "
                f"FROM records WHERE {key} IS NOT NULL"
            ).fetchall()
            for root, uid in rows:
                if root != uid:
                    links.add(int(root), int(uid), 1.0)
        return links
    finally:
        connection.close()


def _comparisons(table: pa.Table) -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def unique_u(column: str) -> float:
        values = [v for v in table.column(column).to_pylist() if v]
        distinct = len(set(values))
        return 1.0 / max(distinct, 1)

    return [
        cl.CustomComparison(
            output_column_name="email",
            comparison_levels=[
                cll.NullLevel("email"),
                cll.ExactMatchLevel("email").configure(m_probability=0.9),
                cll.ElseLevel().configure(m_probability=0.1),
            ],
        ),
        cl.CustomComparison(
            output_column_name="phone",
            comparison_levels=[
                cll.NullLevel("phone"),
                cll.And(
                    cll.ExactMatchLevel("phone"), cll.JaroWinklerLevel("first_name", 0.88)
                ).configure(m_probability=0.8, label_for_charts="phone and first name"),
                # A shared phone with different first names is a household: no evidence.
                cll.ExactMatchLevel("phone").configure(
                    m_probability=0.001,
                    u_probability=0.001,
                    fix_m_probability=True,
                    fix_u_probability=True,
                    label_for_charts="phone only (household?)",
                ),
                cll.ElseLevel().configure(m_probability=0.2),
            ],
        ),
        cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]).configure(
            term_frequency_adjustments=True
        ),
        cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]).configure(
            term_frequency_adjustments=True
        ),
        cl.ExactMatch("postal_code"),
        cl.CustomComparison(
            output_column_name="hashed_cc",
            comparison_levels=[
                cll.NullLevel("hashed_cc"),
                cll.ExactMatchLevel("hashed_cc").configure(
                    m_probability=0.95, u_probability=unique_u("hashed_cc"), fix_u_probability=True
                ),
                cll.ElseLevel().configure(m_probability=0.05),
            ],
        ),
        cl.CustomComparison(
            output_column_name="loyalty_id",
            comparison_levels=[
                cll.NullLevel("loyalty_id"),
                cll.ExactMatchLevel("loyalty_id").configure(
                    m_probability=0.95,
                    u_probability=unique_u("loyalty_id"),
                    fix_u_probability=True,
                ),
                cll.ElseLevel().configure(m_probability=0.05),
            ],
        ),
    ]


def splink_settings(table: pa.Table) -> Any:
    """The resolver's Splink settings for ``table`` (u of unique keys set from the data)."""
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=_comparisons(table),
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("hashed_cc"),
            block_on("loyalty_id"),
            block_on("first_name", "last_name"),
            block_on("last_name", "postal_code"),
        ],
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source_system"],
    )


def splink_links(table: pa.Table, match_threshold: float, *, seed: int = 42) -> Links:
    """Pairs Splink scores at or above ``match_threshold``, trained on ``table`` itself."""
    from splink import DuckDBAPI, Linker, block_on

    db_api = DuckDBAPI()
    frame = db_api.register(table, dataset_display_name="customer_records")
    linker = Linker(frame, splink_settings(table), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("hashed_cc"), block_on("loyalty_id")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for rule in (block_on("email"), block_on("phone")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except Exception as exc:  # too few pairs to train on: keep the priors
            logger.info("EM on %s skipped: %s", rule, exc)
    predictions = linker.inference.predict(threshold_match_probability=match_threshold)
    pairs = predictions.as_pyarrow_table().select(  # type: ignore[no-untyped-call]
        ["unique_id_l", "unique_id_r", "match_probability"]
    )
    links = Links(
        pairs.column(0).to_pylist(), pairs.column(1).to_pylist(), pairs.column(2).to_pylist()
    )
    return links


def cluster(size: int, links: Links, max_cluster_size: int) -> tuple[UnionFind, list[int]]:
    """Union-find over ``links``; oversized clusters re-cut with near-certain links only.

    Returns the sets and the representatives of clusters that were re-cut.
    """
    sets = UnionFind(size)
    for a, b in zip(links.left, links.right, strict=True):
        sets.union(a, b)
    big = {root for root, members in sets.groups().items() if len(members) > max_cluster_size}
    if not big:
        return sets, []
    logger.warning("%d clusters above %d records: re-cut", len(big), max_cluster_size)
    in_big = {i for i in range(size) if sets.find(i) in big}
    recut = UnionFind(size)
    for a, b, p in zip(links.left, links.right, links.probability, strict=True):
        if a not in in_big or p >= RECUT_THRESHOLD:
            recut.union(a, b)
    return recut, sorted(big)


class IdentityLinker:
    """Probabilistic identity resolution across source systems.

    Example:
        linker = IdentityLinker()
        linker.add_records(pos_customers, source="toast", id_column="guest_id")
        linker.add_records(olo_customers, source="olo")
        for identity in linker.resolve():
            print(identity.global_id, identity.emails, identity.match_probability)

    Args:
        aliases: identity field -> the column names it may be found under.
        phone_region: region of phone numbers written without a country code.
        max_cluster_size: clusters above this size are re-cut with near-certain links only.
    """

    def __init__(
        self,
        *,
        aliases: Mapping[str, Iterable[str]] | None = None,
        phone_region: str = "US",
        max_cluster_size: int = 20,
    ) -> None:
        self.aliases = dict(FIELD_ALIASES)
        for name, extra in (aliases or {}).items():
            if name not in FIELD_ALIASES:
                raise ValueError(
                    f"alias for unknown identity field {name!r}; fields are "
                    f"{', '.join(IDENTITY_FIELDS)}"
                )
            self.aliases[name] = (*extra, *FIELD_ALIASES[name])
        self.phone_region = phone_region
        self.max_cluster_size = max_cluster_size
        self._tables: list[pa.Table] = []
        self._phones = PhoneBatchParser(phone_region)
        #: Clusters re-cut by the last resolve (their first member's key).
        self.recut_clusters: list[tuple[str, str]] = []
        #: Links behind the last resolve, as (left, right, probability) over ``records``.
        self.last_links = Links()

    @property
    def size(self) -> int:
        """How many records were added."""
        return sum(t.num_rows for t in self._tables)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The normalized records added so far (canonical keys)."""
        return self.table().to_pylist()

    def table(self) -> pa.Table:
        """The normalized records as one Arrow table, with a ``unique_id`` per record."""
        keys = pa.concat_tables(self._tables) if self._tables else KEYS_SCHEMA.empty_table()
        return keys.add_column(0, "unique_id", pa.array(range(keys.num_rows), pa.int64()))

    def add_records(
        self, records: Iterable[Mapping[str, Any]], source: str, id_column: str = "id"
    ) -> None:
        """Add customer records from one source system; ``id_column`` holds the source id."""
        rows = list(records)
        if rows:
            self.add_table(records_to_arrow(rows), source, id_column)

    def add_table(self, table: pa.Table, source: str, id_column: str = "id") -> None:
        """Add a table of customer records (the fast path: normalized in one query)."""
        self._tables.append(
            identity_keys_table(
                table, source, id_column, self.aliases, self.phone_region, self._phones
            )
        )

    def resolve(self, match_threshold: float = 0.9) -> list[ResolvedIdentity]:
        """Resolve identities with Splink, fused with hard deterministic links.

        With fewer than ``MIN_RECORDS_FOR_MODEL`` records there is nothing to train on, and
        the exact-key links alone decide.
        """
        return self._identities(self.resolve_table(match_threshold))

    def resolve_deterministic(self) -> list[ResolvedIdentity]:
        """Resolve identities on exact canonical keys only (transitively)."""
        return self._identities(self.resolve_table(deterministic=True))

    def resolve_table(
        self, match_threshold: float = 0.9, *, deterministic: bool = False
    ) -> pa.Table:
        """One row per record: its cluster (a record index) and the cluster's probability.

        Columns: ``unique_id``, ``source_system``, ``source_id``, ``cluster``,
        ``match_probability``. The data-sized form of ``resolve``.
        """
        if not 0 < match_threshold < 1:
            raise ValueError(f"match_threshold must be between 0 and 1 (got {match_threshold})")
        table = self.table()
        links = deterministic_links(table) if table.num_rows else Links()
        if deterministic:
            pass
        elif table.num_rows < MIN_RECORDS_FOR_MODEL:
            logger.info(
                "%d records are too few to train a match model: linking on exact keys only",
                table.num_rows,
            )
        else:
            scored = splink_links(table, match_threshold)
            links.left += scored.left
            links.right += scored.right
            links.probability += scored.probability
        self.last_links = links
        size = table.num_rows
        sets, recut = cluster(size, links, self.max_cluster_size)
        systems = [str(v) for v in table.column("source_system").to_pylist()]
        ids = [str(v) for v in table.column("source_id").to_pylist()]
        self.recut_clusters = [(systems[r], ids[r]) for r in recut]
        roots = [sets.find(i) for i in range(size)]
        totals: dict[int, float] = defaultdict(float)
        counts: dict[int, int] = defaultdict(int)
        for a, b, p in zip(links.left, links.right, links.probability, strict=True):
            if roots[a] == roots[b]:
                totals[roots[a]] += p
                counts[roots[a]] += 1
        probability = [round(totals[r] / counts[r], 6) if counts.get(r) else 1.0 for r in roots]
        return pa.table(
            {
                "unique_id": table.column("unique_id"),
                "source_system": table.column("source_system"),
                "source_id": table.column("source_id"),
                "cluster": pa.array(roots, pa.int64()),
                "match_probability": pa.array(probability, pa.float64()),
            }
        )

    def _identities(self, clusters: pa.Table) -> list[ResolvedIdentity]:
        records = self.table().to_pylist()
        members: dict[int, list[int]] = defaultdict(list)
        for index, root in enumerate(clusters.column("cluster").to_pylist()):
            members[int(root or 0)].append(index)
        probability = [float(p or 0.0) for p in clusters.column("match_probability").to_pylist()]
        return [
            self._identity(records, indexes, probability[indexes[0]])
            for indexes in members.values()
        ]

    @staticmethod
    def _identity(
        records: list[dict[str, Any]], members: list[int], probability: float
    ) -> ResolvedIdentity:
        fragments: dict[IdentityFragment, None] = {}
        sources = []
        for i in members:
            record = records[i]
            sources.append((record["source_system"], record["source_id"]))
            for name, kind in _FRAGMENT_TYPES.items():
                if record.get(name):
                    fragment = IdentityFragment(kind, record[name], record["source_system"])
                    fragments.setdefault(fragment)
        first = min(sources)
        digest = hashlib.sha256(f"{first[0]}\x1f{first[1]}".encode()).hexdigest()[:20]
        return ResolvedIdentity(
            global_id=f"gc_{digest}",
            fragments=list(fragments),
            match_probability=probability,
            source_records=sorted(sources),
        )
