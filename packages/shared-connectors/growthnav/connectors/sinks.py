"""Sinks: where a sync makes each normalized batch durable."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from growthnav.connectors.base import (
    RAW_HASH_COLUMN,
    RawBatch,
    ScreenedBatch,
    as_table,
    unscreened,
)
from growthnav.connectors.held_rows import ROW_GROUP_ROWS, HeldRows
from growthnav.connectors.source_files import SourceFile
from growthnav.conversions import REJECT_SCHEMA, NormalizedBatch
from growthnav.conversions.batch import BatchNormalizer
from growthnav.warehouse import DuckDBWarehouse, LoadCounts, Warehouse
from growthnav.warehouse.duckdb_warehouse import raw_hash_sql
from growthnav.warehouse.raw_records import DuckDBRawStore

if TYPE_CHECKING:
    from growthnav.connectors.base import BaseConnector

#: A sync rewrites every raw record, so that older files can be retired, once a connector's
#: raw files hold more than this many times its records (old versions, re-read rejects).
RAW_REWRITE_RATIO = 2


class WarehouseSink:
    """Keeps raw records (DuckDB), and upserts conversions and rejects, batch by batch.

    The raw file is written on its own thread while the warehouse loads, and the load commits
    once it is written; :meth:`flush` returns once every raw file handed over is written, and
    a sync calls it before it moves a cursor, so the cursor never moves past records that are
    not kept. A replayed batch changes nothing: all three are keyed.

    With the DuckDB warehouse, records that a previous sync loaded and that arrive unchanged
    (same raw record, same field map, settings and rules) are left out before normalization:
    see :meth:`screener`. Their raw records are not written again either: the copy an earlier
    sync kept stands (see :attr:`raw_complete`), unless the connector's raw files hold more
    than :data:`RAW_REWRITE_RATIO` times its records (the sync rewrites them all, so the stale
    copies can be retired) or fewer than it loaded (raw files were removed).
    """

    def __init__(
        self, warehouse: Warehouse, *, keep_raw: bool = True, row_group_rows: int = ROW_GROUP_ROWS
    ) -> None:
        self.warehouse = warehouse
        self.row_group_rows = row_group_rows
        self.raw = (
            DuckDBRawStore(warehouse)
            if keep_raw and isinstance(warehouse, DuckDBWarehouse)
            else None
        )
        self.counts = LoadCounts()
        self.rejects_written = 0
        self.raw_written = 0
        #: Ids of the records screened in but not yet written, batch by batch (the screener
        #: runs on the normalizer's thread, ``write`` on the sync's).
        self._lock = threading.Lock()
        self._pending: deque[tuple[ScreenedBatch, pa.ChunkedArray[Any]]] = deque()
        self._raw_writer: ThreadPoolExecutor | None = None
        self._raw_writes: deque[Future[int]] = deque()
        #: Write the raw records of unchanged rows too (set by :meth:`screener`).
        self.rewrite_raw = True
        #: Raw records read but not written again (their earlier copy stands).
        self.raw_kept_earlier = 0
        #: The source file last kept as a copy (its batches need no other).
        self._copied: SourceFile | None = None
        #: Conversions written but held for the next load, and whose customer they are.
        self._held: HeldRows | None = None
        self._held_for = ""
        #: Batches written whose conversions are not all loaded yet (the identity of their
        #: screened batch, or None), each with how many are not, in stream order.
        self._unloaded: deque[tuple[int | None, int]] = deque()

    @property
    def raw_complete(self) -> bool:
        """True when every raw record read was written by this sync (older copies are spare)."""
        return self.raw_kept_earlier == 0

    def screener(
        self, connector: BaseConnector, normalizer: BatchNormalizer
    ) -> Callable[[RawBatch], ScreenedBatch]:
        """A function that screens a sync's batches, one after the other in stream order.

        It leaves out of each batch the records the warehouse holds from the same raw record
        (every column equal, and the normalizer's fingerprint): equal inputs give equal
        conversions, and the raw copy kept earlier is still the record as it is.

        Only Arrow batches whose transaction id is one text column are screened. A record is
        left out only when every row of its id in the batch is as the warehouse loaded it, and
        no earlier batch still on its way to the warehouse holds its id: the last row of an
        id still wins. Every row gets its raw hash, kept with its conversion. The connector is
        handed the hash's SQL (``raw_hash_sql``): an adapter that adds the hashes as it reads
        spares the screen a pass over the batch.
        """
        warehouse = self.warehouse
        if not isinstance(warehouse, DuckDBWarehouse):
            return unscreened
        customer_id = connector.config.customer_id
        connector_id = connector.config.effective_connector_id
        # A connector without raw hashes yet (a first sync) has nothing to match: hash only.
        match = warehouse.holds_raw_hashes(customer_id, connector_id)
        salt = normalizer.fingerprint
        if match and self.raw is not None:
            kept = self.raw.row_count(customer_id, connector_id)
            rows = warehouse.connector_rows(customer_id, connector_id)
            # Fewer copies than loaded records (raw files removed), or, in a full sync that may
            # then retire the older files, too many stale ones.
            stale = not connector.incremental and kept > RAW_REWRITE_RATIO * rows.total
            self.rewrite_raw = stale or kept < rows.raw_hashed

        connector.raw_hash_sql = partial(raw_hash_sql, salt)

        def screen(batch: RawBatch) -> ScreenedBatch:
            table = as_table(batch) if isinstance(batch, pa.Table | pa.RecordBatch) else None
            read_hashes = None
            if table is not None and RAW_HASH_COLUMN in table.column_names:
                read_hashes = table.column(RAW_HASH_COLUMN).combine_chunks()
                table = batch = table.drop_columns([RAW_HASH_COLUMN])
            keys = None if table is None else normalizer.record_keys(table)
            if table is None or keys is None or table.num_rows == 0:
                return ScreenedBatch(batch, batch)
            # Taken before the warehouse is read: a batch written in between is either still
            # in this list or already visible to the query.
            with self._lock:
                on_the_way = [c for _, ids in self._pending for c in ids.chunks]
            hashes, held = warehouse.screen(
                customer_id, connector_id, table, keys, salt, match=match, hashes=read_hashes
            )
            if on_the_way and pc.any(held).as_py():
                written_yet = pc.is_in(keys, value_set=pa.chunked_array(on_the_way, keys.type))
                held = pc.and_(held, pc.invert(written_yet))
            unchanged = pc.sum(held).as_py() or 0
            if unchanged:
                keep = pc.invert(held)
                table, hashes, keys = table.filter(keep), hashes.filter(keep), keys.filter(keep)
            screened = ScreenedBatch(batch, table, unchanged, hashes)
            if match:
                with self._lock:
                    self._pending.append((screened, keys))
            return screened

        return screen

    def prepare_load(self, screened: ScreenedBatch, batch: NormalizedBatch) -> None:
        """Ready the batch's conversions for the DuckDB merge while the previous batch loads.

        They are made one chunk (DuckDB appends that several times faster; the merge would do
        it otherwise) and hashed.
        """
        if isinstance(self.warehouse, DuckDBWarehouse) and batch.conversions.num_rows:
            batch.conversions = batch.conversions.combine_chunks()
            screened.load_hashes = self.warehouse.load_hashes(batch.conversions)

    def write(
        self,
        connector: BaseConnector,
        batch: NormalizedBatch,
        screened: ScreenedBatch | None = None,
    ) -> LoadCounts:
        """Load a batch's conversions and rejects and hand its raw records to a writer.

        The raw file is written on a thread of its own while the warehouse loads; the load
        commits only once it is written, so a conversion never keeps the hash of a raw record
        that was not kept (a later sync would skip the record, and a re-map miss it). Call
        :meth:`flush` before moving a cursor.

        Into DuckDB, conversions are loaded in whole row groups where they can be: rows past
        the last whole group (fewer than half a group, or all the rows when fewer than one)
        are held and loaded with the next batch's, or by :meth:`flush`. A load ending a few
        rows past a whole group costs a fifth more, and a load smaller than a group far more
        (see :data:`ROW_GROUP_ROWS`). Returns what this call loaded.
        """
        customer_id = connector.config.customer_id
        raw_hashes = None
        if screened is not None and screened.raw_hashes is not None:
            raw_hashes = screened.raw_hashes.take(batch.source_rows)
        if self.raw is not None and screened is not None:
            self._keep_raw(connector, screened)
        self._unloaded.append(
            (None if screened is None else id(screened), batch.conversions.num_rows)
        )
        if not isinstance(self.warehouse, DuckDBWarehouse):
            counts, rejects_written = self.warehouse.load(
                customer_id, batch.conversions, batch.rejects, raw_hashes
            )
            self.rejects_written += rejects_written
            return self._loaded(batch.conversions.num_rows, counts)
        arriving = HeldRows.of(
            batch.conversions, raw_hashes, None if screened is None else screened.load_hashes
        )
        counts = LoadCounts()
        held, self._held = self._held, None
        if held is not None and (self._held_for != customer_id or not held.joins(arriving)):
            counts += self._load(self._held_for, held)
            held = None
        rows = arriving if held is None else held.then(arriving)
        if not arriving.num_rows or connector.ordered_by_cursor:
            # Rejects alone go with the conversions held, in stream order: a conversion clears
            # its record's earlier reject, not a later one. Cursor order is never held back.
            now = rows.combined()
        else:
            now, self._held = rows.split(self.row_group_rows)
            self._held_for = customer_id
            if self._held is not None and _rejected_later(self._held, batch.rejects):
                # A record held and then rejected: its conversion loads before the reject.
                now, self._held = rows.combined(), None
        return counts + self._load(customer_id, now, batch.rejects)

    def _load(
        self, customer_id: str, rows: HeldRows, rejects: pa.Table | None = None
    ) -> LoadCounts:
        """Load ``rows`` (and ``rejects``) into the DuckDB warehouse in one transaction."""
        assert isinstance(self.warehouse, DuckDBWarehouse)
        counts, rejects_written = self.warehouse.load(
            customer_id,
            rows.conversions,
            REJECT_SCHEMA.empty_table() if rejects is None else rejects,
            rows.raw_hash_array(),
            before_commit=self._wait_for_raw if self.raw is not None else None,
            hashes=rows.hashes,
        )
        self.rejects_written += rejects_written
        return self._loaded(rows.num_rows, counts)

    def _load_held(self) -> LoadCounts:
        held, self._held = self._held, None
        return LoadCounts() if held is None else self._load(self._held_for, held)

    def _loaded(self, rows: int, counts: LoadCounts) -> LoadCounts:
        """Count a load of the ``rows`` oldest conversions not loaded yet.

        The screener stops treating a batch as on its way once all its conversions loaded.
        """
        self.counts += counts
        done = None
        while self._unloaded:
            batch_id, left = self._unloaded[0]
            if left > rows:
                self._unloaded[0] = (batch_id, left - rows)
                break
            rows -= left
            self._unloaded.popleft()
            done = batch_id if batch_id is not None else done
        if done is not None:
            with self._lock:
                if any(id(pending) == done for pending, _ in self._pending):
                    while id(self._pending.popleft()[0]) != done:
                        pass
        return counts

    def _keep_raw(self, connector: BaseConnector, screened: ScreenedBatch) -> None:
        """Hand the batch's raw records to the writer thread (or the file they were read from).

        A batch read whole from a file (:class:`SourceFile`) is kept as a copy of that file,
        made with its first batch; the file's later batches are in that copy already.
        """
        assert self.raw is not None
        if self._raw_writer is None:
            self._raw_writer = ThreadPoolExecutor(1, thread_name_prefix="raw-records")
        customer_id = connector.config.customer_id
        connector_id = connector.config.effective_connector_id
        source = SourceFile.of(screened.raw)
        if source is not None and source == self._copied:
            return
        raw = screened.raw
        if screened.unchanged and not self.rewrite_raw:
            raw = screened.changed
            self.raw_kept_earlier += screened.unchanged
        elif source is not None and source.is_unchanged():
            self._copied = source
            self._raw_writes.append(
                self._raw_writer.submit(
                    self.raw.store_file,
                    customer_id,
                    connector_id,
                    Path(source.path),
                    source.size,
                    source.mtime_ns,
                )
            )
            return
        self._raw_writes.append(
            self._raw_writer.submit(
                self.raw.store_raw,
                customer_id,
                connector_id,
                as_table(raw),
                connector.record_key_column(),
            )
        )

    def retire_source_rejects(
        self, connector: BaseConnector, scopes: list[str], found: list[str]
    ) -> int:
        """Delete the connector's source rejects under ``scopes`` that are not in ``found``."""
        return self.warehouse.retire_source_rejects(
            connector.config.customer_id, connector.config.effective_connector_id, scopes, found
        )

    def flush(self) -> LoadCounts | None:
        """Load the conversions held, and return once every raw batch handed over is written.

        Raises what a write raised. Returns what loading the held conversions did (None when
        none were held).
        """
        self._wait_for_raw()
        return None if self._held is None else self._load_held()

    def _wait_for_raw(self) -> None:
        """Return once every raw batch handed over is written (raises what a write raised)."""
        while self._raw_writes:
            self.raw_written += self._raw_writes.popleft().result()

    def close(self) -> None:
        """Stop the writer thread once the raw writes handed over are done.

        A write that failed is not raised again here: a sync raises it from :meth:`flush`,
        before its cursor moves, or has already failed for another reason. Conversions still
        held are dropped: no cursor moved past them.
        """
        self._held = None
        self._unloaded.clear()
        while self._raw_writes:
            self._raw_writes.popleft().exception()
        if self._raw_writer is not None:
            self._raw_writer.shutdown()
            self._raw_writer = None


def _rejected_later(held: HeldRows, rejects: pa.Table) -> bool:
    """True when ``rejects`` hold a record of which a conversion is held.

    Loaded after the reject, the conversion would clear it: a record's last version is the
    one rejected, and its reject must stay.
    """
    if not rejects.num_rows:
        return False
    ids = pc.drop_null(rejects.column("transaction_id"))
    if not len(ids):
        return False
    return bool(pc.any(pc.is_in(held.conversions.column("transaction_id"), value_set=ids)).as_py())
