"""``BaseConnector``: what every adapter declares and implements, and the sync loop.

An adapter declares its type, category, spec, primary key, cursor field and default field
map, and implements ``authenticate``, ``fetch_records`` and ``get_schema``. Tabular sources
(``TabularConnector``) implement ``fetch_batches`` yielding Arrow instead of ``fetch_records``;
APIs (``ChangeStreamConnector``) implement ``_changes``. Everything else, normalization and
the streaming sync, is shared.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, ClassVar, Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc
from growthnav.connectors.config import (
    ConnectorCategory,
    ConnectorConfig,
    ConnectorType,
    SyncMode,
    SyncResult,
)
from growthnav.connectors.exceptions import ConfigurationError, ConnectorError, redact
from growthnav.connectors.secrets import read_secret
from growthnav.connectors.spec import ConnectorSpec, RecordKindParams, Validated
from growthnav.conversions import (
    CONVERSION_SCHEMA,
    Conversion,
    ConversionSource,
    ConversionType,
    FieldMap,
    FieldMapError,
    NormalizedBatch,
    Normalizer,
    parse_timestamp,
)
from growthnav.conversions.batch import BatchNormalizer, settings_problems
from growthnav.conversions.records import records_to_arrow
from growthnav.conversions.timestamps import latest_timestamp
from growthnav.warehouse import LoadCounts

logger = logging.getLogger(__name__)

#: A batch as adapters hand it over: Arrow (tabular sources) or a list of dicts (APIs).
RawBatch = pa.Table | pa.RecordBatch | Sequence[dict[str, Any]]

#: The column in which an adapter hands over each record's raw hash, computed as it read the
#: record (see ``BaseConnector.raw_hash_sql``). It is not a column of the source: the sink
#: takes it out before anything else sees the batch.
RAW_HASH_COLUMN = "__gn_raw_hash"

_SOURCE_BY_CATEGORY = {
    ConnectorCategory.POS: ConversionSource.POS,
    ConnectorCategory.CRM: ConversionSource.CRM,
    ConnectorCategory.OLO: ConversionSource.OLO,
    ConnectorCategory.LOYALTY: ConversionSource.LOYALTY,
    ConnectorCategory.DATA_LAKE: ConversionSource.OTHER,
    ConnectorCategory.FILE: ConversionSource.OTHER,
}


@dataclass
class ScreenedBatch:
    """A raw batch as the source sent it, and the part of it that needs normalizing.

    ``unchanged`` rows were left out: the warehouse holds them as they are.
    ``raw_hashes`` (one per row of ``changed``) are kept with their conversions.
    """

    raw: RawBatch
    changed: RawBatch
    unchanged: int = 0
    raw_hashes: pa.Array[Any] | None = None
    #: What the sink computed for the batch's load ahead of it (see ``prepare_load``).
    load_hashes: pa.Table | None = None


class ConversionSink(Protocol):
    """Where a sync puts each normalized batch (the warehouse, in production)."""

    def write(
        self,
        connector: BaseConnector,
        batch: NormalizedBatch,
        screened: ScreenedBatch | None = None,
    ) -> LoadCounts | None:
        """Make the batch's conversions and rejects durable before the cursor moves.

        ``screened`` is what the sink's screener made of the batch; its raw records are kept for
        re-mapping when the sink can. Returns what the load did when the sink can tell
        (inserted, updated, unchanged).
        """


@runtime_checkable
class ScreeningSink(ConversionSink, Protocol):
    """A sink that can tell which raw records it already holds as they are.

    It may finish making a batch durable after ``write`` returns: ``flush`` does it.
    """

    def flush(self) -> LoadCounts | None:
        """Return once every batch written so far is durable.

        Returns what it loaded of them that ``write`` had not (None: nothing).
        """

    def close(self) -> None:
        """Finish what was handed over and release threads (the end of a sync)."""

    def screener(
        self, connector: BaseConnector, normalizer: BatchNormalizer
    ) -> Callable[[RawBatch], ScreenedBatch]:
        """A function leaving out of each batch the records the sink holds as they are.

        The sync calls it once per batch, in stream order, on the normalizer's thread.
        """

    def prepare_load(self, screened: ScreenedBatch, batch: NormalizedBatch) -> None:
        """Do the part of a batch's load that needs no warehouse transaction, ahead of it.

        The sync calls it on the normalizer's thread once the batch is normalized, while the
        previous batch loads; it keeps what it made in ``screened``.
        """


@runtime_checkable
class SourceRejectSink(ConversionSink, Protocol):
    """A sink that can retire source rejects a sync no longer finds."""

    def retire_source_rejects(
        self, connector: BaseConnector, scopes: list[str], found: list[str]
    ) -> int:
        """Delete the connector's source rejects under ``scopes`` not in ``found``; count."""


class BaseConnector(ABC):
    """Abstract base class for data source connectors.

    Subclasses set the class attributes and implement ``authenticate``, ``fetch_records``
    and ``get_schema``. The config is validated against ``spec`` on construction, before any
    network call.
    """

    connector_type: ClassVar[ConnectorType]
    category: ClassVar[ConnectorCategory]
    spec: ClassVar[ConnectorSpec[Any, Any]]
    #: Column that identifies a record in the source.
    primary_key: str
    #: Column whose high-watermark drives incremental syncs (None: the source has none).
    cursor_field: str | None = None
    #: Field map used when neither the user nor discovery gave one.
    default_field_map: ClassVar[dict[str, str]] = {}
    #: True when fetches yield records in cursor order, so a sync may checkpoint after each
    #: batch; otherwise the cursor is saved only when the whole sync succeeded.
    ordered_by_cursor: ClassVar[bool] = False
    conversion_type: ClassVar[ConversionType] = ConversionType.PURCHASE
    conversion_source: ClassVar[ConversionSource | None] = None

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        self._client: Any = None
        self._authenticated = False
        self._normalizer: Normalizer | None = None
        #: True while an incremental sync runs (adapters may skip what they already read).
        self.incremental = False
        #: While a sync screens its batches: the SQL of a raw record's hash over the named
        #: columns (set by the sink). An adapter that reads through DuckDB may add it to its
        #: Arrow batches as ``RAW_HASH_COLUMN``, which spares the sink hashing them again.
        self.raw_hash_sql: Callable[[Sequence[str]], str] | None = None
        label = f"{config.connector_type.value} connector {config.name!r}"
        inline: dict[str, Any] = dict(config.credentials)
        if not inline and config.credentials_secret_path:
            inline = dict(read_secret(config.credentials_secret_path))
        self.settings: Validated[Any, Any] = self.spec.validate(
            label, inline, config.connection_params
        )
        self._check_settings(label)

    def _check_settings(self, label: str) -> None:
        problems = []
        if self.config.batch_size < 1:
            problems.append(f"batch_size must be at least 1 (got {self.config.batch_size})")
        if self.config.lookback_seconds < 0:
            problems.append(
                f"lookback_seconds must not be negative (got {self.config.lookback_seconds})"
            )
        try:
            self.field_map  # noqa: B018 - parsing the map validates the overrides
        except FieldMapError as exc:
            problems.append(f"field_overrides: {exc}")
        config = self.config
        problems += settings_problems(config.timezone, config.default_currency, config.phone_region)
        if problems:
            raise ConfigurationError(label, problems)

    # -- what adapters implement -------------------------------------------------------

    @property
    def is_authenticated(self) -> bool:
        """True once ``authenticate`` succeeded."""
        return self._authenticated

    @abstractmethod
    def authenticate(self) -> None:
        """Connect to the source; raise ``AuthenticationError`` when it refuses."""

    @abstractmethod
    def fetch_records(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield raw records whose cursor is ``>= since`` and ``< until``, in cursor order."""

    @abstractmethod
    def get_schema(self) -> dict[str, str]:
        """The source's columns and their types."""

    def fetch_batches(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int | None = None,
    ) -> Iterator[RawBatch]:
        """Yield batches of at most ``batch_size`` records (default: config.batch_size).

        Tabular adapters override this to hand Arrow batches straight through; the default
        groups ``fetch_records``.
        """
        size = batch_size or self.config.batch_size
        batch: list[dict[str, Any]] = []
        for record in self.fetch_records(since=since, until=until):
            batch.append(record)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def sample(self, rows: int = 10_000) -> pa.Table:
        """The first ``rows`` records as an Arrow table (for discovery; reads nothing else)."""
        parts: list[pa.Table] = []
        taken = 0
        for batch in self.fetch_batches(batch_size=min(rows, self.config.batch_size)):
            parts.append(as_table(batch).slice(0, rows - taken))
            taken += parts[-1].num_rows
            if taken >= rows:
                break
        if not parts:
            return pa.table({})
        return pa.concat_tables(parts, promote_options="permissive")

    # -- normalization -----------------------------------------------------------------

    def record_key_column(self) -> str | None:
        """The column that identifies a raw record: the primary key, else the mapped id."""
        if self.primary_key:
            return self.primary_key
        columns = self.field_map.targets.get("transaction_id", ())
        return columns[0].name if columns else None

    @property
    def conversion_kind(self) -> tuple[ConversionType, ConversionSource]:
        """The type and source kind every conversion of this connector gets.

        Sources that may hold any kind of records say it in their params.
        """
        params = self.settings.params
        if isinstance(params, RecordKindParams):
            return params.conversion_type, params.source
        return self.conversion_type, self.conversion_source or _SOURCE_BY_CATEGORY[self.category]

    @property
    def source_system(self) -> str:
        """The system's name as stored on each conversion."""
        return self.connector_type.value

    @property
    def field_map(self) -> FieldMap:
        """Overrides, then the discovered mapping (when stored), then the adapter's defaults."""
        return FieldMap.layered(self.config.field_overrides, self.default_field_map)

    def normalizer(self) -> Normalizer:
        """The normalizer for this connector's records (built once)."""
        if self._normalizer is None:
            conversion_type, source = self.conversion_kind
            self._normalizer = Normalizer(
                self.config.customer_id,
                self.field_map,
                conversion_type=conversion_type,
                source=source,
                connector_id=self.config.effective_connector_id,
                source_system=self.source_system,
                timezone=self.config.timezone,
                default_currency=self.config.default_currency,
                phone_region=self.config.phone_region,
            )
        return self._normalizer

    def normalize(self, raw_records: list[dict[str, Any]]) -> list[Conversion]:
        """Normalize raw records to conversions; rejects are in ``normalizer().last_batch``."""
        return self.normalizer().normalize(raw_records)

    # -- lifecycle -------------------------------------------------------------------------

    def secret_values(self) -> list[str]:
        """Credential values to scrub from any text that leaves the connector."""
        values = []
        creds = self.settings.credentials
        if creds is not None:
            for name in self.spec.secret_fields:
                value = getattr(creds, name, None)
                if value is not None:
                    values.append(value.get_secret_value())
        values += [str(v) for v in self.config.credentials.values() if isinstance(v, str)]
        return values

    def test_connection(self) -> bool:
        """Authenticate; True when the source accepts the connection."""
        try:
            self.authenticate()
            return True
        except Exception as exc:
            logger.warning(
                "Connection test failed for %s: %s",
                self.config.name,
                redact(f"{type(exc).__name__}: {exc}", self.secret_values()),
            )
            return False

    def sync(
        self,
        mode: SyncMode | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        sink: ConversionSink | None = None,
        checkpoint: Callable[[str | None], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> SyncResult:
        """Stream the source batch by batch: normalize, hand to ``sink``, advance the cursor.

        Incremental syncs start at ``since`` or else at the saved cursor (the high-watermark of
        ``cursor_field`` from the last sync) less ``lookback_seconds``; never at the wall-clock
        time of the last sync. Memory holds one batch at a time.

        ``checkpoint(cursor)`` is called only after ``sink`` has made a batch durable: per batch
        when the source yields in cursor order, else once the whole sync has succeeded. A
        failed sync therefore leaves the last good checkpoint. ``progress(records_fetched)``
        is called after each batch.
        """
        mode = SyncMode(mode or self.config.sync_mode)
        result = SyncResult(
            connector_name=self.config.name,
            customer_id=self.config.customer_id,
            sync_mode=mode,
            started_at=datetime.now(UTC),
            connector_id=self.config.effective_connector_id,
            cursor=self.config.last_sync_cursor,
        )
        try:
            if not self.is_authenticated:
                self.authenticate()
            self.incremental = mode is SyncMode.INCREMENTAL
            if self.incremental and since is None:
                since = self.resume_point()
            normalizer = self.normalizer().batch_normalizer
            cursor = _parse_cursor(result.cursor) if self.cursor_field else None
            # Before the fetch: the screener may ask the adapter to hash records as it reads.
            screen = (
                sink.screener(self, normalizer) if isinstance(sink, ScreeningSink) else unscreened
            )
            batches = self.fetch_batches(since=since, until=until)
            ahead = sink.prepare_load if isinstance(sink, ScreeningSink) else None
            for item, normalized in normalizer.prepare_and_normalize(
                batches, lambda batch: _screened_part(screen(batch)), ahead
            ):
                counts = sink.write(self, normalized, item) if sink is not None else None
                result.add_batch(
                    normalized.input_rows + item.unchanged,
                    normalized.conversions.num_rows if counts is None else counts.loaded,
                    item.unchanged + (0 if counts is None else counts.unchanged),
                    normalized.rejected,
                    normalized.warnings,
                )
                if progress is not None:
                    progress(result.records_fetched)
                high = self.batch_cursor(item.raw)
                if high is not None and (cursor is None or high > cursor):
                    cursor = high
                    result.cursor = high.isoformat()
                    if checkpoint is not None and self.ordered_by_cursor:
                        _flush(sink, result)
                        checkpoint(result.cursor)
                # The batch is loaded: let it go now, not once the next one has arrived (the
                # loop would hold it while waiting, one more batch in memory).
                del item, normalized
            unreadable = self.source_rejects()
            if unreadable is not None and unreadable.num_rows:
                self._write_source_rejects(unreadable, result, sink)
            scopes = self.source_reject_scopes()
            if scopes and isinstance(sink, SourceRejectSink):
                keys = [] if unreadable is None else unreadable.column("reject_key").to_pylist()
                found = [str(key) for key in keys]
                sink.retire_source_rejects(self, scopes, found)
            result.cursor = self.checkpoint_value(result.cursor)
            _flush(sink, result)
            if checkpoint is not None and not self.ordered_by_cursor:
                checkpoint(result.cursor)
            result.records_normalized = result.records_loaded
            result.records_failed = sum(result.records_rejected.values())
            result.success = True
        except Exception as exc:
            result.success = False
            result.error = redact(f"{type(exc).__name__}: {exc}", self.secret_values())
            logger.error("Sync failed for %s: %s", self.config.name, result.error)
            if not isinstance(exc, ConnectorError | FieldMapError):
                logger.debug("Sync failure detail", exc_info=True)
        finally:
            self.raw_hash_sql = None
            if isinstance(sink, ScreeningSink):
                sink.close()
            result.completed_at = datetime.now(UTC)
        logger.info(
            "Sync of %s: %d fetched, %d loaded, %d rejected",
            self.config.name,
            result.records_fetched,
            result.records_loaded,
            sum(result.records_rejected.values()),
        )
        return result

    def source_rejects(self) -> pa.Table | None:
        """Records the source could not hand over as records (malformed lines), as rejects.

        Called once the batches of a sync are consumed; adapters that read raw text override it.
        """
        return None

    def source_reject_scopes(self) -> list[str]:
        """Key prefixes under which this sync looked for unreadable records afresh.

        An earlier sync's source reject under one of them that this sync did not find again
        is retired: the line now reads (the file was replaced, or is read with corrected
        settings). Called once the batches of a sync are consumed; default: none.
        """
        return []

    def _write_source_rejects(
        self, rejects: pa.Table, result: SyncResult, sink: ConversionSink | None
    ) -> None:
        empty = CONVERSION_SCHEMA.empty_table()
        reasons = Counter(str(r) for r in rejects.column("reason").to_pylist())
        batch = NormalizedBatch(empty, pa.array([], pa.int64()), rejects, reasons)
        if sink is not None:
            sink.write(self, batch)
        result.records_fetched += rejects.num_rows
        for reason, count in reasons.items():
            result.records_rejected[reason] = result.records_rejected.get(reason, 0) + count

    def checkpoint_value(self, data_cursor: str | None) -> str | None:
        """What a successful sync saves as its state: by default the data high-watermark.

        Sources without a cursor column (file exports) override it to save what they read.
        """
        return data_cursor

    def resume_point(self) -> datetime | None:
        """Where an incremental sync starts: the saved cursor less the lookback."""
        if self.cursor_field is None:
            return None
        cursor = _parse_cursor(self.config.last_sync_cursor)
        if cursor is None:
            return None
        return cursor - timedelta(seconds=self.config.lookback_seconds)

    def batch_cursor(self, batch: RawBatch) -> datetime | None:
        """The highest ``cursor_field`` value in a raw batch, as aware UTC."""
        name = self.cursor_field
        if name is None:
            return None
        if isinstance(batch, pa.Table | pa.RecordBatch):
            if name not in batch.schema.names:
                return None
            column = batch.column(name)
            if pa.types.is_timestamp(column.type):
                top = pc.max(column).as_py()
                return parse_timestamp(top, self.config.timezone).value if top else None
            return latest_timestamp(column, self.config.timezone)
        values = [record.get(name) for record in batch]
        parsed = (parse_timestamp(v, self.config.timezone).value for v in values)
        return max((p for p in parsed if p is not None), default=None)

    def close(self) -> None:
        """Close the connection and release resources."""
        if self._normalizer is not None:
            self._normalizer.close()
            self._normalizer = None
        self._client = None
        self._authenticated = False


def as_table(batch: RawBatch) -> pa.Table:
    """A raw batch as an Arrow table."""
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    return records_to_arrow(list(batch))


def _flush(sink: ConversionSink | None, result: SyncResult) -> None:
    """Wait until what ``sink`` was handed is durable (before a cursor moves); count it."""
    if isinstance(sink, ScreeningSink):
        counts = sink.flush()
        if counts is not None:
            result.records_loaded += counts.loaded
            result.records_unchanged += counts.unchanged


def unscreened(batch: RawBatch) -> ScreenedBatch:
    """A batch as it is, every record to be normalized."""
    return ScreenedBatch(batch, batch)


def _screened_part(screened: ScreenedBatch) -> tuple[ScreenedBatch, RawBatch]:
    return screened, screened.changed


def _parse_cursor(text: str | None) -> datetime | None:
    if not text:
        return None
    return parse_timestamp(text).value


class TabularConnector(BaseConnector):
    """A source read as Arrow batches (files, a warehouse's tables).

    Adapters supply ``fetch_batches``; ``fetch_records`` unrolls its batches.
    """

    @abstractmethod
    def fetch_batches(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int | None = None,
    ) -> Iterator[RawBatch]:
        """Yield Arrow batches of at most ``batch_size`` records, in the source's order."""

    def fetch_records(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield records one at a time (the batches, unrolled)."""
        records = (
            dict(row)
            for batch in self.fetch_batches(since, until)
            for row in (
                batch.to_pylist() if isinstance(batch, pa.Table | pa.RecordBatch) else batch
            )
        )
        return islice(records, limit)


class ChangeStreamConnector(BaseConnector):
    """A source read as one stream of changed records in cursor order (an API's pages).

    Adapters supply ``_changes``; ``fetch_records`` takes the limit from it.
    """

    def fetch_records(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield records whose cursor is ``>= since`` and ``< until``, in cursor order."""
        return islice(self._changes(since, until), limit)

    @abstractmethod
    def _changes(self, since: datetime | None, until: datetime | None) -> Iterator[dict[str, Any]]:
        """Every record changed in ``[since, until)``, in cursor order, page after page."""
