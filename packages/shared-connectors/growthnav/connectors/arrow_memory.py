"""Which allocator Arrow memory comes from, for a process that runs syncs."""

from __future__ import annotations

import pyarrow as pa


def use_system_allocator() -> None:
    """Allocate Arrow memory with the system allocator for the rest of the process.

    pyarrow's default allocator (mimalloc) keeps freed pages for reuse. A sync frees about a
    batch's worth of memory every batch; the kept pages raised a 4M-row file sync's peak RSS
    by ~70 MB, and the system allocator was no slower (``bench/sync_file.py``). It returns
    large blocks at once. A process that owns its memory (the CLI) calls this at start; a
    library importing GrowthNav keeps its own choice. Arrays already made are unaffected.
    """
    pa.set_memory_pool(pa.system_memory_pool())
