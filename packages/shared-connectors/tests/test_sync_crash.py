"""Killing a sync at any step and running it again yields exactly the source's rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from crash_sync import BATCH, STEPS_PER_BATCH, sync
from growthnav.connectors import ConnectorStorage, FileSecretStore
from growthnav.warehouse import DuckDBWarehouse
from growthnav.warehouse.raw_records import DuckDBRawStore
from sqlite_connector import make_database

HERE = Path(__file__).parent
ROWS = 230
VALID = {f"P{i:05d}" for i in range(ROWS)} - {"P00007"}
STEPS_PER_RUN = -(-ROWS // BATCH) * STEPS_PER_BATCH  # eight batches of 30: 32 kill points


def run_child(home: Path, database: Path, kill_at: int) -> int:
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    return subprocess.run(
        [sys.executable, str(HERE / "crash_sync.py"), str(home), str(database), str(kill_at)],
        env=env,
        timeout=120,
        check=False,
    ).returncode


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", range(1, STEPS_PER_RUN + 1))
def test_resync_after_kill_loses_and_doubles_nothing(tmp_path: Path, kill_at: int) -> None:
    database = tmp_path / "pos.sqlite"
    make_database(database, ROWS)
    home = tmp_path / "home"
    assert run_child(home, database, kill_at) == -9

    result = sync(home, database)
    assert result.success, result.error
    checkpoints_before_kill = kill_at // STEPS_PER_BATCH
    if checkpoints_before_kill:
        # The re-run resumes at the last checkpoint (inclusive), not at the start.
        assert result.records_fetched == ROWS - min(BATCH * checkpoints_before_kill, ROWS) + 1
    else:
        assert result.records_fetched == ROWS

    warehouse = DuckDBWarehouse(home / "warehouse.duckdb")
    keys = warehouse.read_conversions("acme").column("transaction_id").to_pylist()
    assert len(keys) == len(VALID)
    assert set(keys) == VALID
    rejects = warehouse.read_rejects("acme").column("reject_key").to_pylist()
    assert rejects == ["P00007"]
    # Every record is kept raw too, for a re-map.
    raw = DuckDBRawStore(warehouse).read_raw("acme", result.connector_id or "", 100)
    assert {k for t in raw for k in t.column("purchase_id").to_pylist()} == VALID | {"P00007"}
    storage = ConnectorStorage(home / "registry.db", secrets=FileSecretStore(home / "secrets"))
    assert result.connector_id is not None
    state = storage.state(result.connector_id)
    assert state is not None
    assert state.cursor == "2024-01-01T03:49:00+00:00"
    [latest, *_] = storage.runs(result.connector_id)
    assert latest.success
    assert latest.cursor_after == state.cursor


def test_the_crash_harness_leaves_the_registry_as_it_found_it(tmp_path: Path) -> None:
    from growthnav.connectors import ConnectorType, get_registry

    before = get_registry().get(ConnectorType.FILE)
    database = tmp_path / "pos.sqlite"
    make_database(database, 10)
    assert sync(tmp_path / "home", database).success
    assert get_registry().get(ConnectorType.FILE) is before
