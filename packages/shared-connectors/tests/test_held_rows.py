"""The DuckDB sink loads whole row groups: holding rows back changes nothing that lands."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from growthnav.connectors import ConnectorConfig, ConnectorType, SyncMode, get_registry
from growthnav.connectors.config import SyncResult
from growthnav.connectors.held_rows import HeldRows
from growthnav.connectors.sinks import WarehouseSink
from growthnav.warehouse import DuckDBWarehouse

MAP = {"ID": "transaction_id", "AT": "timestamp", "AMOUNT": "value", "EMAIL": "email"}


def held(rows: int, *, hashed: bool = True) -> HeldRows:
    ids = pa.array([f"t{i}" for i in range(rows)])
    hashes = pa.table({"h": pa.array(range(rows), pa.uint64())}) if hashed else None
    return HeldRows.of(
        pa.table({"transaction_id": ids}), pa.array(range(rows), pa.uint64()), hashes
    )


def ids(rows: HeldRows | None) -> list[str]:
    return [] if rows is None else [str(i) for i in rows.conversions["transaction_id"].to_pylist()]


@pytest.mark.parametrize(
    ("rows", "loaded", "kept"),
    [
        (7, 0, 7),  # less than a group: all held
        (10, 10, 0),  # whole groups
        (12, 10, 2),  # a few past the last whole group: held
        (25, 25, 0),  # half a group or more past it: DuckDB leaves that group as it is
        (34, 30, 4),
    ],
)
def test_split_loads_whole_groups_and_holds_a_short_rest(rows: int, loaded: int, kept: int) -> None:
    now, rest = held(rows).split(10)
    assert ids(now) == [f"t{i}" for i in range(loaded)]
    assert ids(rest) == [f"t{i}" for i in range(loaded, rows)]
    assert len(ids(rest)) == kept
    for part in (now, rest):
        if part is not None and part.num_rows:
            raw = part.raw_hash_array()
            assert raw is not None
            assert raw.to_pylist() == [int(i[1:]) for i in ids(part)]
            assert part.hashes is not None
            assert part.hashes.column("h").to_pylist() == [int(i[1:]) for i in ids(part)]
            assert all(c.num_chunks == 1 for c in part.conversions.columns)


def test_rows_join_only_rows_like_them() -> None:
    first, second = held(3), held(4)
    both = first.then(second)
    assert ids(both) == ids(first) + ids(second)
    assert first.joins(second)
    assert not first.joins(held(2, hashed=False))
    other = HeldRows.of(pa.table({"transaction_id": pa.array([1], pa.int64())}), None, None)
    assert not first.joins(other)


class Home:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.export = root / "orders.csv"

    def sync(self, group: int, lines: list[str], batch_size: int = 3) -> tuple[SyncResult, Any]:
        """Sync ``lines`` into this group size's own warehouse; (result, what landed)."""
        self.export.write_text("\n".join(["ID,AT,AMOUNT,EMAIL", *lines]) + "\n")
        warehouse = DuckDBWarehouse(self.root / f"w{group}.duckdb")
        config = ConnectorConfig(
            connector_type=ConnectorType.FILE,
            customer_id="acme",
            name="export",
            connection_params={"path": str(self.export)},
            field_overrides=MAP,
            sync_mode=SyncMode.FULL,
            batch_size=batch_size,
        )
        connector = get_registry().create(config)
        sink = WarehouseSink(warehouse, row_group_rows=group)
        try:
            with warehouse.session():
                result = connector.sync(sink=sink)
        finally:
            connector.close()
        assert result.success, result.error
        conversions = sorted(
            (r["transaction_id"], r["timestamp"], r["value"], r["email"])
            for r in warehouse.read_conversions("acme").to_pylist()
        )
        rejects = sorted(
            (r["transaction_id"], r["reason"], r["raw_record"])
            for r in warehouse.read_rejects("acme").to_pylist()
        )
        # A record twice in one load counts its first version unchanged (superseded), in two
        # loads loaded twice: only the sum stays whatever the loads are.
        counts = (
            result.records_fetched,
            result.records_loaded + result.records_unchanged,
            result.records_rejected,
        )
        return result, (counts, conversions, rejects)


def lines(version: int) -> list[str]:
    """A file whose records change, repeat across batches, and fail and recover."""
    rows = [f"r{i},2024-01-{1 + i % 28:02d} 10:00,${i}.{version}0,u{i}@x.com" for i in range(30)]
    rows[4] = "r4,not a date,$4.00,u4@x.com"  # a reject
    rows[9] = "r1,2024-01-02 10:00,$1.90,u1@x.com"  # r1 again, a later version
    rows[13] = "r2,not a date,$2.00,u2@x.com"  # r2 valid, then its last version rejected
    rows[15] = "r7,2024-01-08 10:00,$7.70,u7@x.com"
    if version == 2:
        rows[21] = "r4,2024-01-05 10:00,$4.40,u4@x.com"  # the reject now loads
        rows[27] = "r13,not a date,$0.00,"
    return rows


def test_holding_rows_changes_nothing_that_lands(tmp_path: Path) -> None:
    home = Home(tmp_path)
    # 1: never held. 4 and 7: loads split at whole groups mid-batch. 1000: held to the end.
    landed = {group: home.sync(group, lines(1))[1] for group in (1, 4, 7, 1000)}
    assert landed[4] == landed[7] == landed[1000] == landed[1]
    counts, conversions, rejects = landed[1]
    assert counts == (30, 28, {"bad_timestamp": 2})
    assert next(c for c in conversions if c[0] == "r1")[2] == Decimal("1.9")
    # r2's last version was rejected: its reject stays beside the conversion loaded before.
    assert "r2" in {c[0] for c in conversions}
    assert {r[0] for r in rejects} == {"r2", "r4"}
    # A second sync: unchanged records screened out, changed ones merged, a reject retired.
    again = {group: home.sync(group, lines(2))[1] for group in (1, 4, 7, 1000)}
    assert again[4] == again[7] == again[1000] == again[1]
    counts, conversions, rejects = again[1]
    assert counts == (30, 27, {"bad_timestamp": 3})
    assert {r[0] for r in rejects} == {"r2", "r13"}
    assert next(c for c in conversions if c[0] == "r4")[2] == Decimal("4.4")
