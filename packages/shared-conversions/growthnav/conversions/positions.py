"""Row positions (0, 1, … n-1) as an Arrow array, built without Python integers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa


def row_positions(count: int) -> pa.Array[Any]:
    """``0 .. count-1`` as int64 (``pa.array(range(n))`` boxes every number: ~70 ms per 1M)."""
    return pa.array(np.arange(count, dtype=np.int64))
