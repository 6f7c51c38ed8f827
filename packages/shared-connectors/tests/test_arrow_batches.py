"""Reading a source's batches ahead of the caller, on a thread of their own."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from growthnav.connectors.arrow_batches import read_ahead


class Source:
    """Numbers read one at a time, noting the thread of each read and whether it was closed."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.read: list[int] = []
        self.threads: set[str] = set()
        self.closed = False

    def __iter__(self) -> Iterator[int]:
        try:
            for number in range(self.count):
                if number == self.fail_at:
                    raise OSError(f"cannot read batch {number}")
                self.read.append(number)
                self.threads.add(threading.current_thread().name)
                yield number
        finally:
            self.closed = True


def test_batches_come_in_order_read_by_one_thread_of_their_own() -> None:
    source = Source(5)
    assert list(read_ahead(source)) == [0, 1, 2, 3, 4]
    assert len(source.threads) == 1
    assert source.threads.pop().startswith("read-ahead")
    assert source.closed


def test_at_most_one_batch_is_read_ahead_of_the_caller() -> None:
    source = Source(10)
    batches = read_ahead(source)
    assert next(batches) == 0
    assert next(batches) == 1
    # Batch 2 may be read already (the one ahead); batch 3 waits for the caller.
    assert source.read in ([0, 1], [0, 1, 2])
    batches.close()
    assert source.read[-1] <= 2
    assert source.closed


def test_a_failed_read_is_raised_at_the_batch_that_failed() -> None:
    source = Source(5, fail_at=3)
    batches = read_ahead(source)
    assert [next(batches) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(OSError, match="cannot read batch 3"):
        next(batches)
    assert source.closed


def test_an_empty_source_yields_nothing() -> None:
    source = Source(0)
    assert list(read_ahead(source)) == []
    assert source.closed
