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
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from growthnav.connectors.identity.fragments import (
    IdentityFragment,
    IdentityType,
    ResolvedIdentity,
)
from growthnav.connectors.identity.keys import FIELD_ALIASES, IDENTITY_FIELDS
from growthnav.connectors.identity.keys_sql import KEYS_SCHEMA, identity_keys_table
from growthnav.conversions.duckdb_arrow import arrow_result
from growthnav.conversions.duckdb_arrow import connect as connect_quietly
from growthnav.conversions.phones import PhoneBatchParser
from growthnav.conversions.positions import row_positions
from growthnav.conversions.records import records_to_arrow

logger = logging.getLogger(__name__)

#: Keys that alone make two records the same person.
HARD_KEYS = ("email", "hashed_cc", "loyalty_id")
#: DuckDB memory for Splink's work tables (it spills to disk beyond this).
SPLINK_MEMORY_LIMIT = "600MB"
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


@dataclass
class Links:
    """Pairwise links between record indexes (``unique_id``) with their match probabilities."""

    left: np.ndarray[Any, np.dtype[np.int64]] = field(default_factory=lambda: np.empty(0, np.int64))
    right: np.ndarray[Any, np.dtype[np.int64]] = field(
        default_factory=lambda: np.empty(0, np.int64)
    )
    probability: np.ndarray[Any, np.dtype[np.float64]] = field(
        default_factory=lambda: np.empty(0, np.float64)
    )

    @classmethod
    def from_arrow(cls, pairs: pa.Table) -> Links:
        """Links from a table of (left, right, probability) columns."""
        return cls(
            pairs.column(0).to_numpy().astype(np.int64),
            pairs.column(1).to_numpy().astype(np.int64),
            pairs.column(2).to_numpy().astype(np.float64),
        )

    def __add__(self, other: Links) -> Links:
        return Links(
            np.concatenate([self.left, other.left]),
            np.concatenate([self.right, other.right]),
            np.concatenate([self.probability, other.probability]),
        )

    def __len__(self) -> int:
        return len(self.left)


def deterministic_links(table: pa.Table) -> Links:
    """Links on exact canonical email, card fingerprint or loyalty id.

    Also on phone where first names agree too (the household guard).
    """
    connection = connect_quietly()
    try:
        connection.register("records", table)
        keys = [*HARD_KEYS, "phone || '|' || first_name"]
        pairs = arrow_result(
            connection,
            " UNION ALL ".join(
                f"SELECT root, unique_id, 1.0::DOUBLE AS probability FROM ("
                f"SELECT min(unique_id) OVER (PARTITION BY {key}) AS root, unique_id "
                f"FROM records WHERE {key} IS NOT NULL) WHERE root <> unique_id"
                for key in keys
            ),
        )
        return Links.from_arrow(pairs)
    finally:
        connection.close()


def _filled(table: pa.Table) -> set[str]:
    """Identity fields with at least one value (the model compares only those)."""
    return {name for name in IDENTITY_FIELDS if table.column(name).null_count < table.num_rows}


def _exact_unique(column: str, u: float) -> Any:
    """Exact match on a near-unique key, with u set from the data (sampling never sees it)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(
                m_probability=0.95, u_probability=u, fix_u_probability=True
            ),
            cll.ElseLevel().configure(m_probability=0.05),
        ],
    )


def _comparisons(table: pa.Table, filled: set[str]) -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def unique_u(column: str) -> float:
        distinct = pc.count_distinct(table.column(column)).as_py() or 1
        return 1.0 / max(int(distinct), 1)

    comparisons: list[Any] = []
    if "email" in filled:
        comparisons.append(
            cl.CustomComparison(
                output_column_name="email",
                comparison_levels=[
                    cll.NullLevel("email"),
                    cll.ExactMatchLevel("email").configure(m_probability=0.9),
                    cll.ElseLevel().configure(m_probability=0.1),
                ],
            )
        )
    if "phone" in filled:
        comparisons.append(
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
            )
        )
    for name in ("first_name", "last_name"):
        if name in filled:
            comparisons.append(
                cl.JaroWinklerAtThresholds(name, [0.92, 0.8]).configure(
                    term_frequency_adjustments=True
                )
            )
    if "postal_code" in filled:
        comparisons.append(cl.ExactMatch("postal_code"))
    if "date_of_birth" in filled:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("date_of_birth", [1]))
    if "address" in filled:
        comparisons.append(cl.JaroWinklerAtThresholds("address", [0.9, 0.7]))
    for name in ("hashed_cc", "loyalty_id"):
        if name in filled:
            comparisons.append(_exact_unique(name, unique_u(name)))
    return comparisons


#: Blocking rules, each used when all its fields have values.
_BLOCKS = (
    ("email",),
    ("phone",),
    ("hashed_cc",),
    ("loyalty_id",),
    ("first_name", "last_name"),
    ("last_name", "postal_code"),
    ("date_of_birth",),
    ("first_name", "postal_code"),
)
#: Near-certain rules for estimating how often two random records match.
_CERTAIN = (
    ("email",),
    ("hashed_cc",),
    ("loyalty_id",),
    ("first_name", "last_name", "date_of_birth"),
    ("first_name", "last_name", "postal_code", "address"),
)
#: Blocks the EM training runs on (each leaves the other comparisons to be estimated): the
#: contact keys when the data has them; else date of birth and surname within a postcode.
_TRAINING = (("email",), ("phone",))
_TRAINING_WITHOUT_CONTACTS = (("date_of_birth",), ("last_name", "postal_code"))


def _rules(rules: tuple[tuple[str, ...], ...], filled: set[str]) -> list[Any]:
    from splink import block_on

    return [block_on(*fields) for fields in rules if set(fields) <= filled]


def splink_settings(table: pa.Table) -> Any:
    """The resolver's Splink settings for ``table`` (u of unique keys set from the data)."""
    from splink import SettingsCreator

    filled = _filled(table)
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=_comparisons(table, filled),
        blocking_rules_to_generate_predictions=_rules(_BLOCKS, filled),
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["source_system"],
    )


class SplinkBackend:
    """Where Splink runs: DuckDB (default, bounded memory) or a Spark session."""

    def __init__(self, spark_session: Any | None = None) -> None:
        self.spark = spark_session
        self.connection: duckdb.DuckDBPyConnection | None = None
        if spark_session is None:
            from splink import DuckDBAPI

            self.connection = connect_quietly()
            # Splink's work tables spill to disk beyond this, so a big resolve stays bounded.
            self.connection.execute(f"SET memory_limit = '{SPLINK_MEMORY_LIMIT}'")
            self.db_api: Any = DuckDBAPI(self.connection)
        else:
            from splink import SparkAPI

            self.db_api = SparkAPI(spark_session=spark_session)  # type: ignore[no-untyped-call]

    def register(self, table: pa.Table, name: str) -> Any:
        """Hand a table to Splink."""
        data = table if self.spark is None else self.spark.createDataFrame(table)
        return self.db_api.register(data, dataset_display_name=name)

    def links(self, predictions: Any) -> Links:
        """Scored pairs as links."""
        columns = ["unique_id_l", "unique_id_r", "match_probability"]
        if self.spark is None:
            pairs = predictions.as_pyarrow_table().select(columns)
        else:
            pairs = predictions.as_spark_dataframe().select(*columns).toArrow()
        return Links.from_arrow(pairs)

    def close(self) -> None:
        """Release the DuckDB connection (a Spark session belongs to its caller)."""
        if self.connection is not None:
            self.connection.close()


def splink_links(
    table: pa.Table,
    match_threshold: float,
    *,
    seed: int = 42,
    model_path: Path | None = None,
    new_records: pa.Array[Any] | None = None,
    spark_session: Any | None = None,
) -> Links:
    """Pairs Splink scores at or above ``match_threshold``.

    Without a saved model at ``model_path`` the model is trained on ``table`` (and saved there,
    when a path is given). With one, nothing is trained; and when ``new_records`` (a boolean
    mask over ``table``) is given, only pairs involving a new record are scored: new against
    existing (``predict_between``) and new among themselves (``predict_within``). Runs on
    ``spark_session`` when one is given, else on DuckDB.
    """
    backend = SplinkBackend(spark_session)
    try:
        if model_path is not None and model_path.exists():
            return _scored_with_model(backend, table, model_path, match_threshold, new_records)
        return _scored_pairs(backend, table, match_threshold, seed, model_path)
    finally:
        backend.close()


def _scored_with_model(
    backend: SplinkBackend,
    table: pa.Table,
    model_path: Path,
    match_threshold: float,
    new_records: pa.Array[Any] | None,
) -> Links:
    from splink import Linker

    linker = Linker(
        backend.register(table, "customer_records"), str(model_path), log_level=logging.ERROR
    )
    for name in ("first_name", "last_name"):
        if name in _filled(table):
            linker.table_management.compute_tf_table(name)
    if new_records is None:
        return backend.links(linker.inference.predict(threshold_match_probability=match_threshold))
    fresh = backend.register(table.filter(new_records), "new_records")
    known = backend.register(table.filter(pc.invert(new_records)), "known_records")
    between = linker.inference.predict_between(
        fresh, known, threshold_match_probability=match_threshold
    )
    within = linker.inference.predict_within(fresh, threshold_match_probability=match_threshold)
    return backend.links(between) + backend.links(within)


def _scored_pairs(
    backend: SplinkBackend,
    table: pa.Table,
    match_threshold: float,
    seed: int,
    model_path: Path | None,
) -> Links:
    from splink import Linker

    filled = _filled(table)
    frame = backend.register(table, "customer_records")
    linker = Linker(frame, splink_settings(table), log_level=logging.ERROR)
    certain = _rules(_CERTAIN, filled)
    if certain:
        linker.training.estimate_probability_two_random_records_match(certain, recall=0.8)
    # One chunk: half the time on Spark, the same estimate on DuckDB.
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed, num_chunks=1)
    training = _rules(_TRAINING, filled) or _rules(_TRAINING_WITHOUT_CONTACTS, filled)
    for rule in training:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except Exception as exc:  # too few pairs to train on: keep the priors
            logger.info("EM on %s skipped: %s", rule, exc)
    if model_path is not None:
        model_path.parent.mkdir(parents=True, exist_ok=True)
        linker.misc.save_model_to_json(str(model_path), overwrite=True)
    return backend.links(linker.inference.predict(threshold_match_probability=match_threshold))


def _known_links(
    table: pa.Table, known: Mapping[tuple[str, str], str]
) -> tuple[Links, pa.Array[Any]]:
    """Links holding previously resolved people together, and a mask of the new records."""
    systems = table.column("source_system").to_pylist()
    ids = table.column("source_id").to_pylist()
    first: dict[str, int] = {}
    left: list[int] = []
    right: list[int] = []
    new = []
    for index, key in enumerate(zip(systems, ids, strict=True)):
        person = known.get((str(key[0]), str(key[1])))
        new.append(person is None)
        if person is None:
            continue
        root = first.setdefault(person, index)
        if root != index:
            left.append(root)
            right.append(index)
    links = Links(
        np.array(left, np.int64), np.array(right, np.int64), np.ones(len(left), np.float64)
    )
    return links, pa.array(new, pa.bool_())


def _components(size: int, left: np.ndarray[Any, Any], right: np.ndarray[Any, Any]) -> Any:
    # Imported here: SciPy (like Splink) costs every CLI command its import time otherwise.
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(size, size))
    return connected_components(graph, directed=False)[1]


def cluster(size: int, links: Links, max_cluster_size: int) -> tuple[Any, list[int]]:
    """Connected components of ``links``; oversized ones re-cut with near-certain links only.

    Returns each record's cluster (the lowest record index in it) and the lowest index of
    every cluster that was re-cut.
    """
    labels = _components(size, links.left, links.right)
    sizes = np.bincount(labels)
    big = np.nonzero(sizes > max_cluster_size)[0]
    recut: list[int] = []
    if big.size:
        logger.warning("%d clusters above %d records: re-cut", big.size, max_cluster_size)
        first = np.full(sizes.size, size, np.int64)
        np.minimum.at(first, labels, np.arange(size))
        recut = sorted(int(first[b]) for b in big)
        keep = ~np.isin(labels[links.left], big) | (links.probability >= RECUT_THRESHOLD)
        labels = _components(size, links.left[keep], links.right[keep])
    first = np.full(int(labels.max()) + 1 if size else 0, size, np.int64)
    np.minimum.at(first, labels, np.arange(size))
    return first[labels], recut


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
        spark_session: run Splink on this Spark session (data beyond one machine; see
            ``local_spark_session``) instead of DuckDB.
    """

    def __init__(
        self,
        *,
        aliases: Mapping[str, Iterable[str]] | None = None,
        phone_region: str = "US",
        max_cluster_size: int = 20,
        spark_session: Any | None = None,
    ) -> None:
        self.spark_session = spark_session
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
        return keys.add_column(0, "unique_id", row_positions(keys.num_rows))

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

    def resolve(self, match_threshold: float = 0.7) -> list[ResolvedIdentity]:
        """Resolve identities with Splink, fused with hard deterministic links.

        The default threshold is the plan's; the warehouse resolution and the CLI link at 0.9
        (a little more precise on customer data, see bench/identity.py). With fewer than
        ``MIN_RECORDS_FOR_MODEL`` records there is nothing to train on, and the exact-key links
        alone decide.
        """
        return self.identities(self.resolve_table(match_threshold))

    def resolve_deterministic(self) -> list[ResolvedIdentity]:
        """Resolve identities on exact canonical keys only (transitively)."""
        return self.identities(self.resolve_table(deterministic=True))

    def resolve_table(
        self,
        match_threshold: float = 0.9,
        *,
        deterministic: bool = False,
        model_path: Path | None = None,
        known: Mapping[tuple[str, str], str] | None = None,
    ) -> pa.Table:
        """One row per record: its cluster (a record index) and the cluster's probability.

        Columns: ``unique_id``, ``source_system``, ``source_id``, ``cluster``,
        ``match_probability``. The data-sized form of ``resolve``.

        ``model_path``: a Splink model saved there is reused (no training); without one the
        model is trained and saved there. ``known``: records resolved before, mapped to their
        person; they stay together, and only new records are scored (against the known ones
        and among themselves) with the saved model.
        """
        if not 0 < match_threshold < 1:
            raise ValueError(f"match_threshold must be between 0 and 1 (got {match_threshold})")
        table = self.table()
        links = deterministic_links(table) if table.num_rows else Links()
        new_records = None
        if known:
            previous, new_records = _known_links(table, known)
            links = links + previous
        if deterministic:
            pass
        elif table.num_rows < MIN_RECORDS_FOR_MODEL:
            logger.info(
                "%d records are too few to train a match model: linking on exact keys only",
                table.num_rows,
            )
        elif new_records is not None and model_path is not None and model_path.exists():
            if pc.any(new_records).as_py():
                links = links + splink_links(
                    table,
                    match_threshold,
                    model_path=model_path,
                    new_records=new_records,
                    spark_session=self.spark_session,
                )
        else:
            links = links + splink_links(
                table, match_threshold, model_path=model_path, spark_session=self.spark_session
            )
        self.last_links = links
        size = table.num_rows
        roots, recut = cluster(size, links, self.max_cluster_size)
        systems = table.column("source_system")
        ids = table.column("source_id")
        self.recut_clusters = [(str(systems[r]), str(ids[r])) for r in recut]
        inside = roots[links.left] == roots[links.right]
        totals = np.bincount(
            roots[links.left[inside]], weights=links.probability[inside], minlength=size
        )
        counts = np.bincount(roots[links.left[inside]], minlength=size)
        mean = np.divide(totals, counts, out=np.ones(size), where=counts > 0)
        return pa.table(
            {
                "unique_id": table.column("unique_id"),
                "source_system": systems,
                "source_id": ids,
                "cluster": pa.array(roots, pa.int64()),
                "match_probability": pa.array(np.round(mean[roots], 6), pa.float64()),
            }
        )

    def identities(self, clusters: pa.Table) -> list[ResolvedIdentity]:
        """``ResolvedIdentity`` objects for a ``resolve_table`` result."""
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
