"""Every connector type passes the same checks against a live source (STYLE.md habit 1)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conformance import CASES, LiveSource
from growthnav.connectors import ConfigurationError, SyncMode, get_registry
from growthnav.conversions import NormalizedBatch, parse_timestamp


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveSource]:
    with request.param.start(tmp_path) as live:
        yield live


class CollectingSink:
    def __init__(self) -> None:
        self.batches: list[NormalizedBatch] = []

    def write(self, connector: object, batch: NormalizedBatch, screened: object = None) -> None:
        self.batches.append(batch)


def test_every_registered_type_has_a_case() -> None:
    covered = {case.covers for case in CASES}
    missing = set(get_registry().list_available()) - covered
    assert not missing, f"connector types without a conformance case: {missing}"


def test_spec_lists_required_and_secret_fields(source: LiveSource) -> None:
    connector = get_registry().create(source.config())
    fields = connector.spec.fields()
    assert any(f.required for f in fields)
    assert bool(connector.spec.secret_fields) == (source.secret is not None)
    assert all(f.description for f in fields)


def test_bad_config_is_refused_before_any_network_call(source: LiveSource) -> None:
    with pytest.raises(ConfigurationError) as refused:
        get_registry().create(source.broken())
    message = str(refused.value)
    assert "is required" in message
    assert "is not a known field" in message
    assert source.contacts() == 0


def test_connection_is_true_and_false_when_refused(
    source: LiveSource, caplog: pytest.LogCaptureFixture
) -> None:
    good = get_registry().create(source.config())
    assert good.test_connection() is True
    good.close()
    bad = get_registry().create(source.bad_credentials())
    with caplog.at_level(logging.WARNING):
        assert bad.test_connection() is False
    if source.secret is not None:
        assert source.secret not in caplog.text
    bad.close()


def test_schema_names_the_primary_key_and_cursor(source: LiveSource) -> None:
    connector = get_registry().create(source.config())
    schema = connector.get_schema()
    assert connector.primary_key in schema
    assert connector.cursor_field is None or connector.cursor_field in schema
    connector.close()


def test_records_arrive_once_each_across_pages(source: LiveSource) -> None:
    connector = get_registry().create(source.config())
    keys = [r[connector.primary_key] for r in connector.fetch_records()]
    connector.close()
    assert len(keys) == len(set(keys)), "a page repeated records"
    assert set(keys) == source.all_keys()


def test_sync_streams_bounded_batches_and_counts_every_record(source: LiveSource) -> None:
    config = source.config(sync_mode=SyncMode.FULL)
    connector = get_registry().create(config)
    sink = CollectingSink()
    result = connector.sync(sink=sink)
    connector.close()
    assert result.success, result.error
    assert all(b.input_rows <= config.batch_size for b in sink.batches)
    assert result.batches == len(sink.batches) > 1
    assert result.records_fetched == len(source.all_keys())
    assert result.records_fetched == result.records_loaded + sum(result.records_rejected.values())
    assert result.records_failed == sum(result.records_rejected.values())
    loaded = {k for b in sink.batches for k in b.conversions.column("transaction_id").to_pylist()}
    rejected = {k for b in sink.batches for k in b.rejects.column("reject_key").to_pylist()}
    assert loaded | rejected == source.all_keys()


def test_incremental_rerun_from_the_saved_cursor_returns_only_new_or_changed_rows(
    source: LiveSource,
) -> None:
    first = get_registry().create(source.config())
    result = first.sync()
    first.close()
    assert result.success
    assert result.cursor is not None
    high = parse_timestamp(result.cursor).value
    assert isinstance(high, datetime)

    new_keys = source.add_records(5) | {source.change_record()}
    second = get_registry().create(source.config(last_sync_cursor=result.cursor))
    fetched = list(second.fetch_records(since=second.resume_point()))
    second.close()
    keys = {r[second.primary_key] for r in fetched}
    cursor_field = second.cursor_field
    assert cursor_field is not None
    at_cursor = {
        r[second.primary_key] for r in fetched if parse_timestamp(r[cursor_field]).value == high
    }
    assert keys - at_cursor == new_keys


def test_an_incremental_rerun_in_a_timezone_other_than_utc_misses_nothing(
    source: LiveSource,
) -> None:
    # Naive source timestamps are read in the connector's timezone: the saved watermark and
    # the next sync's window must read them alike, or rows near the watermark fall between.
    config = source.config(timezone="America/New_York")
    first = get_registry().create(config)
    result = first.sync()
    first.close()
    assert result.success
    new_keys = source.add_records(3) | {source.change_record()}
    second = get_registry().create(
        source.config(timezone="America/New_York", last_sync_cursor=result.cursor)
    )
    fetched = {r[second.primary_key] for r in second.fetch_records(since=second.resume_point())}
    second.close()
    assert new_keys <= fetched


def test_final_state_is_the_data_high_watermark(source: LiveSource) -> None:
    connector = get_registry().create(source.config())
    result = connector.sync()
    records = list(connector.fetch_records())
    connector.close()
    field = connector.cursor_field
    assert field is not None
    top = max(parse_timestamp(r[field]).value for r in records)  # type: ignore[type-var]
    assert parse_timestamp(result.cursor).value == top


def test_no_secret_in_repr_result_or_logs(
    source: LiveSource, caplog: pytest.LogCaptureFixture
) -> None:
    config = source.config()
    connector = get_registry().create(config)
    with caplog.at_level(logging.DEBUG):
        result = connector.sync()
    connector.close()
    assert result.success, result.error
    if source.secret is None:
        pytest.skip("this connector takes no credentials")
    for text in (repr(config), str(config), repr(result), caplog.text):
        assert source.secret not in text
