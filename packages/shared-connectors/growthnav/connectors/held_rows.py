"""Normalized conversions held back so that a DuckDB load ends at a whole row group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

#: Rows in a DuckDB row group (its default). DuckDB writes a load's whole row groups to the
#: file as they fill, on every core. A few rows past the last whole group become a small row
#: group of the table, which the next load tops up and compresses again; a load smaller than
#: a group is appended at commit, and written to the log in full first.
ROW_GROUP_ROWS = 122_880


@dataclass
class HeldRows:
    """Conversions in stream order, with what a load needs of each: raw and load hashes."""

    conversions: pa.Table
    #: One per conversion, when the sync screened the batches (else None).
    raw_hashes: pa.ChunkedArray[Any] | None
    #: The conversions' load hashes, when computed ahead (else None).
    hashes: pa.Table | None

    @classmethod
    def of(
        cls, conversions: pa.Table, raw_hashes: pa.Array[Any] | None, hashes: pa.Table | None
    ) -> HeldRows:
        """A batch's rows."""
        raw = None if raw_hashes is None else pa.chunked_array([raw_hashes])
        return cls(conversions, raw, hashes)

    @property
    def num_rows(self) -> int:
        """How many conversions."""
        return self.conversions.num_rows

    def joins(self, later: HeldRows) -> bool:
        """True when ``later``'s rows can follow these in one load (the same extras)."""
        if self.conversions.schema != later.conversions.schema:
            return False
        same_raw = (self.raw_hashes is None) == (later.raw_hashes is None)
        return same_raw and (self.hashes is None) == (later.hashes is None)

    def then(self, later: HeldRows) -> HeldRows:
        """These rows followed by ``later``'s (nothing copied); see :meth:`joins`."""
        raw = None
        if self.raw_hashes is not None and later.raw_hashes is not None:
            raw = pa.chunked_array(self.raw_hashes.chunks + later.raw_hashes.chunks)
        hashes = None
        if self.hashes is not None and later.hashes is not None:
            hashes = pa.concat_tables([self.hashes, later.hashes])
        return HeldRows(pa.concat_tables([self.conversions, later.conversions]), raw, hashes)

    def split(self, limit: int = ROW_GROUP_ROWS) -> tuple[HeldRows, HeldRows | None]:
        """(the rows to load now, the rows to hold or None).

        Fewer rows than a row group of ``limit`` rows are all held. Rows past the last whole
        group are held when they are fewer than half a group: DuckDB leaves a larger last
        group as it is. The part loaded is one Arrow chunk per column (DuckDB appends one
        chunk several times faster than many); a part held past it is a copy, so that it
        does not keep its whole batch in memory.
        """
        rest = self.num_rows % limit
        whole = self.num_rows - rest
        if whole == 0:
            return self._slice(0, 0), self
        if rest == 0 or rest >= limit // 2:
            return self.combined(), None
        return self._slice(0, whole).combined(), self._slice(whole, rest).combined()

    def combined(self) -> HeldRows:
        """The rows as one Arrow chunk per column."""
        raw = self.raw_hashes
        return HeldRows(
            self.conversions.combine_chunks(),
            None if raw is None else pa.chunked_array([raw.combine_chunks()]),
            None if self.hashes is None else self.hashes.combine_chunks(),
        )

    def raw_hash_array(self) -> pa.Array[Any] | None:
        """The raw hashes as one array (None when the batches were not screened)."""
        raw = self.raw_hashes
        if raw is None:
            return None
        return raw.chunks[0] if raw.num_chunks == 1 else pa.concat_arrays(raw.chunks)

    def _slice(self, start: int, length: int) -> HeldRows:
        return HeldRows(
            self.conversions.slice(start, length),
            None if self.raw_hashes is None else self.raw_hashes.slice(start, length),
            None if self.hashes is None else self.hashes.slice(start, length),
        )
