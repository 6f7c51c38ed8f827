"""``run-due``: sync every active connector whose schedule is due, safely from cron.

A lock file per connector (``$GROWTHNAV_HOME/locks/<id>.lock``, held with ``flock``) keeps two
runs of one connector from overlapping; a connector that fails is reported and the others
still run.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from growthnav.cli.home import Home
from growthnav.connectors import ConnectorConfig, SyncResult, SyncSchedule

INTERVALS = {
    SyncSchedule.HOURLY: timedelta(hours=1),
    SyncSchedule.DAILY: timedelta(days=1),
    SyncSchedule.WEEKLY: timedelta(weeks=1),
}


def is_due(config: ConnectorConfig, last_success: datetime | None, now: datetime) -> bool:
    """True when an active connector's interval has passed since its last successful sync."""
    if not config.is_active:
        return False
    interval = INTERVALS.get(config.sync_schedule)
    if interval is None:  # manual / real-time schedules are not run by cron
        return False
    return last_success is None or now - last_success >= interval


@contextmanager
def connector_lock(home: Home, connector_id: str) -> Iterator[bool]:
    """Hold the connector's lock; yields False (without waiting) when another run holds it."""
    path = home.path / "locks" / f"{connector_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _last_success(home: Home, connector_id: str) -> datetime | None:
    for run in home.storage.runs(connector_id, limit=50):
        if run.success:
            return run.finished_at or run.started_at
    return None


def run_due(
    home: Home,
    sync: Callable[[ConnectorConfig], SyncResult],
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Sync each due connector under its lock; one outcome per connector considered."""
    moment = now or datetime.now(UTC)
    outcomes: list[dict[str, Any]] = []
    for config in home.storage.list():
        connector_id = config.connector_id or ""
        if not is_due(config, _last_success(home, connector_id), moment):
            continue
        with connector_lock(home, connector_id) as held:
            if not held:
                outcomes.append(
                    {"connector_id": connector_id, "status": "skipped: already running"}
                )
                continue
            try:
                result = sync(config)
            except Exception as exc:  # one connector's failure must not stop the others
                outcomes.append(
                    {"connector_id": connector_id, "status": "failed", "error": str(exc)}
                )
                continue
        outcomes.append(
            {
                "connector_id": connector_id,
                "status": "synced" if result.success else "failed",
                "fetched": result.records_fetched,
                "loaded": result.records_loaded,
                "error": result.error,
            }
        )
    return outcomes
