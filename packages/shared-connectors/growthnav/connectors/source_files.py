"""Batches that a source read whole from one file, unaltered: their raw copy can be the file.

A Parquet export read as it is holds exactly the raw records its batches carry, so the sync
keeps a copy of the file instead of writing the records again (no encoding, no compression).
Each batch is tagged in its schema metadata with the file as it was when reading began; the
copy is made only while the file is still that file (same inode, size and modification time),
else the batches are written as usual.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

_KEY = b"growthnav.source_file"


@dataclass(frozen=True)
class SourceFile:
    """A file as it was when a source began reading it."""

    path: str
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def at(cls, path: Path) -> SourceFile:
        """The file at ``path`` as it is now."""
        stat = path.stat()
        return cls(str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)

    def is_unchanged(self) -> bool:
        """True while the path still holds this file, as it was (not replaced, not written)."""
        try:
            return SourceFile.at(Path(self.path)) == self
        except OSError:
            return False

    def tag(self, batch: pa.Table) -> pa.Table:
        """``batch`` marked as read whole, unaltered, from this file (no data is copied)."""
        return batch.replace_schema_metadata({_KEY: json.dumps(asdict(self))})

    @classmethod
    def of(cls, batch: Any) -> SourceFile | None:
        """The file an Arrow batch was tagged with, if any."""
        schema = getattr(batch, "schema", None)
        metadata = schema.metadata if isinstance(schema, pa.Schema) else None
        if not metadata or _KEY not in metadata:
            return None
        return cls(**json.loads(metadata[_KEY]))
