from collections.abc import Iterator

import pyarrow as pa
import pytest
from growthnav.connectors.arrow_memory import use_sync_allocator


@pytest.fixture
def restored_pool() -> Iterator[None]:
    before = pa.default_memory_pool()
    yield
    pa.set_memory_pool(before)


@pytest.mark.usefixtures("restored_pool")
def test_sync_allocator_is_used_for_new_arrow_memory() -> None:
    name = use_sync_allocator()
    assert name in {"jemalloc", "system"}
    assert pa.default_memory_pool().backend_name == name
    before = pa.default_memory_pool().bytes_allocated()
    values = pa.array(range(100_000), pa.int64())
    assert pa.default_memory_pool().bytes_allocated() >= before + values.nbytes
