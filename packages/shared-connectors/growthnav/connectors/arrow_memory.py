"""Which allocator Arrow memory comes from, for a process that runs syncs."""

from __future__ import annotations

import pyarrow as pa


def use_sync_allocator() -> str:
    """Allocate Arrow memory with jemalloc (else the system allocator) for the rest of the process.

    pyarrow's default allocator (mimalloc) keeps freed pages for reuse: a sync frees about a
    batch's worth of memory every batch, and the kept pages raised a 4M-row file sync's peak
    RSS by ~70 MB. The system allocator returns them, but DuckDB trims the C heap many times a
    second, so each batch faults its memory in afresh. jemalloc (in pyarrow's Linux wheels)
    hands freed pages back lazily: a quarter fewer page faults and a sync ~3% faster, at the
    system allocator's peak (``bench/sync_file.py``, interleaved runs). A process that owns its
    memory (the CLI) calls this at start; a library importing GrowthNav keeps its own choice.
    Arrays already made are unaffected. Returns the allocator's name.
    """
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # pragma: no cover - a pyarrow built without jemalloc
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)
    return pool.backend_name
