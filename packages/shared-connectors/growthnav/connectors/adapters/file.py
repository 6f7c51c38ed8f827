"""File exports: CSV, Parquet and JSONL, from a file, a directory or a glob.

Tabular files are read by DuckDB and handed over as Arrow batches (Parquet by row group, CSV
in chunks, every CSV column as text so the normalizer sees values as written). A malformed
line is a reject naming the file and line number, never a failed sync.

CSV is read with the dialect the settings state (RFC 4180 quoting by default), never one
guessed from a sample: one line with a stray quote must not make DuckDB's sniffer read every
quoted field of the file wrongly. The columns are named from the header as DuckDB names them.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import io
import itertools
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from growthnav.connectors.adapters.jsonl import read_jsonl, text_encoding
from growthnav.connectors.arrow_batches import gathered, read_ahead
from growthnav.connectors.base import RAW_HASH_COLUMN, RawBatch, TabularConnector
from growthnav.connectors.config import ConnectorCategory, ConnectorConfig, ConnectorType
from growthnav.connectors.exceptions import SchemaError
from growthnav.connectors.registry import get_registry
from growthnav.connectors.source_files import SourceFile
from growthnav.connectors.spec import ConnectorSpec, NoCredentials, RecordKindParams
from growthnav.conversions import REJECT_SCHEMA
from growthnav.conversions.duckdb_arrow import arrow_result
from growthnav.conversions.duckdb_arrow import connect as connect_quietly
from growthnav.conversions.parsed import select_in_stages, sql_identifier, sql_literal
from growthnav.conversions.timestamps import (
    TimestampKind,
    timestamp_kind,
    timestamp_stages_sql,
)
from growthnav.warehouse import SOURCE_REJECT
from pydantic import Field, ValidationInfo, field_validator

Format = Literal["csv", "parquet", "jsonl"]
#: Delimiters a one-column CSV is checked against (a sign the configured one is wrong).
_COMMON_DELIMITERS = (",", ";", "\t", "|")
_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


class FileParams(RecordKindParams):
    """Where the files are and how to read them."""

    path: str = Field(description="a file, a directory or a glob (e.g. exports/*.csv)")
    format: Format | None = Field(
        default=None, description="csv, parquet or jsonl (default: from the file suffix)"
    )
    delimiter: str | None = Field(
        default=None,
        min_length=1,
        max_length=1,
        description="CSV delimiter (default: a tab for .tsv files, else a comma)",
    )
    encoding: str = Field(default="utf-8", description="text encoding of CSV and JSONL files")
    header: bool = Field(default=True, description="the CSV's first line names the columns")
    quote: str = Field(
        default='"',
        max_length=1,
        description="CSV quote character, doubled inside a quoted value ('' for none)",
    )
    cursor_field: str | None = Field(
        default=None, description="column whose high-watermark makes syncs incremental"
    )

    @field_validator("quote")
    @classmethod
    def _quote_is_not_the_delimiter(cls, value: str, info: ValidationInfo) -> str:
        delimiter = info.data.get("delimiter")
        if value and value in ({delimiter} if delimiter else {",", "\t"}):
            raise ValueError(f"{value!r} is also the delimiter: use another quote, or '' for none")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"{value!r} is not a text encoding; use e.g. utf-8, latin-1 or utf-16"
            ) from None
        return value

    primary_key: str | None = Field(
        default=None, description="column that identifies a record (default: none)"
    )


class FileConnector(TabularConnector):
    """Reads CSV, Parquet and JSONL exports."""

    connector_type: ClassVar[ConnectorType] = ConnectorType.FILE
    category = ConnectorCategory.FILE
    spec = ConnectorSpec(NoCredentials, FileParams)
    primary_key = ""
    cursor_field = None

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        params: FileParams = self.settings.params
        self.primary_key = params.primary_key or ""
        self.cursor_field = params.cursor_field
        self._source_rejects: list[dict[str, Any]] = []
        self._read: dict[str, str] = {}

    # -- files -----------------------------------------------------------------------------

    def files(self) -> list[Path]:
        """The files the path names, in name order."""
        params: FileParams = self.settings.params
        path = Path(params.path).expanduser()
        if path.is_file():
            found = [path]
        elif path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
        else:
            found = sorted(Path(p) for p in glob.glob(str(path)) if Path(p).is_file())
        return found

    def file_label(self, path: Path) -> str:
        """How rejects name a file: its path below the connector's folder, else its name.

        Exports that share a name in dated folders (``2024-01-02/orders.csv``) stay apart.
        """
        try:
            return path.relative_to(self._folder()).as_posix()
        except ValueError:
            return path.name

    def _folder(self) -> Path:
        """The folder the path names files in: itself, a file's, or a glob's fixed part."""
        params: FileParams = self.settings.params
        path = Path(params.path).expanduser()
        if path.is_dir():
            return path
        fixed = list(itertools.takewhile(_plain, path.parts))
        if len(fixed) == len(path.parts):
            return path.parent  # one file
        return Path(*fixed) if fixed else Path()

    def file_format(self, path: Path) -> Format:
        """The format of ``path``: the configured one, else from its suffix."""
        params: FileParams = self.settings.params
        if params.format is not None:
            return params.format
        found = _SUFFIXES.get(path.suffix.lower())
        if found is None:
            raise SchemaError(
                f"cannot tell the format of {path.name}: set connection_params.format "
                "to csv, parquet or jsonl"
            )
        return found

    def authenticate(self) -> None:
        """Check that the path names at least one readable file."""
        if not self.files():
            params: FileParams = self.settings.params
            raise SchemaError(
                f"no files at {params.path!r}: check the path (a file, a directory or a glob)"
            )
        self._authenticated = True

    # -- reading ---------------------------------------------------------------------------

    def _refuse_a_wrong_delimiter(self, path: Path, delimiter: str) -> None:
        """Raise when a one-column CSV splits evenly on another common delimiter.

        A semicolon-separated export read with commas is one column of whole lines (or rows
        rejected wherever a value holds a comma): refused before anything is read, naming
        the delimiter to set.
        """
        params: FileParams = self.settings.params
        with path.open(encoding=text_encoding(params.encoding), newline="") as handle:
            head = handle.read(1 << 16)
        for other in _COMMON_DELIMITERS:
            if other == delimiter:
                continue
            try:
                lines = list(itertools.islice(self._csv_reader(io.StringIO(head), other), 2))
            except csv.Error:
                continue
            widths = {len(line) for line in lines}
            if len(lines) == 2 and len(widths) == 1 and widths.pop() > 1:
                raise SchemaError(
                    f"{path.name} reads as one column with the delimiter {delimiter!r}, but "
                    f"its first lines split evenly on {other!r} ({', '.join(lines[0])}): set "
                    f"connection_params.delimiter to {other!r}"
                )

    def _relation_sql(self, path: Path, fmt: Format, source: Path | None = None) -> str | None:
        """The DuckDB table function reading ``path``; None for a CSV without a line.

        ``source`` is the file DuckDB reads, when not ``path`` itself (a UTF-8 copy).
        """
        params: FileParams = self.settings.params
        name = sql_literal(str(source or path))
        if fmt == "parquet":
            return f"read_parquet({name})"
        columns = self.csv_columns(path)
        if not columns:
            return None
        types = ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in columns)
        options = [
            "auto_detect = false",
            f"columns = {{{types}}}",
            "store_rejects = true",
            f"header = {str(params.header).lower()}",
            f"delim = {sql_literal(self.delimiter(path))}",
            f"quote = {sql_literal(params.quote)}",
            f"escape = {sql_literal(params.quote)}",
            f"encoding = {sql_literal(_duckdb_encoding(params.encoding) or 'utf-8')}",
        ]
        return f"read_csv({name}, {', '.join(options)})"

    def delimiter(self, path: Path) -> str:
        """The CSV delimiter of ``path``: the configured one, else by its suffix."""
        params: FileParams = self.settings.params
        if params.delimiter is not None:
            return params.delimiter
        return "\t" if path.suffix.lower() == ".tsv" else ","

    def _csv_reader(self, text: Iterable[str], delimiter: str) -> Iterator[list[str]]:
        """Python's CSV reader with the configured quote (none when it is '')."""
        quote: str = self.settings.params.quote
        if quote:
            return csv.reader(text, delimiter=delimiter, quotechar=quote)
        return csv.reader(text, delimiter=delimiter, quoting=csv.QUOTE_NONE)

    def csv_columns(self, path: Path) -> list[str]:
        """A CSV's column names as DuckDB gives them (empty for a file without a line).

        From the header: trimmed, a blank one as ``column<i>``, a repeated one (in any case)
        with ``_<n>``. Without a header: ``column0``, ``column1``...
        """
        params: FileParams = self.settings.params
        delimiter = self.delimiter(path)
        try:
            with path.open(encoding=text_encoding(params.encoding), newline="") as handle:
                first = next(self._csv_reader(handle, delimiter), None)
        except (OSError, UnicodeError, csv.Error) as exc:
            raise SchemaError(f"cannot read {path.name} as csv: {exc}") from exc
        if first is None:
            return []
        if len(first) == 1:
            self._refuse_a_wrong_delimiter(path, delimiter)
        if not params.header:
            return [f"column{i}" for i in range(len(first))]
        names: list[str] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(first):
            name = raw.strip() or f"column{i}"
            base = name.lower()
            if base in seen:
                while f"{base}_{seen[base]}" in seen:
                    seen[base] += 1
                name = f"{name}_{seen[base]}"
                seen[base] += 1
            else:
                seen[base] = 1
            seen.setdefault(name.lower(), 1)
            names.append(name)
        return names

    def _select_sql(
        self, path: Path, fmt: Format, relation: str, since: datetime | None, until: datetime | None
    ) -> str:
        """The file's rows; with a cursor window, those in it and those whose cursor is blank.

        The cursor column is read with the normalizer's timestamp rules in the connector's
        timezone, as :meth:`batch_cursor` reads it, so no row falls between the two. A row
        whose cursor does not parse (or a file without the column) is read every time rather
        than dropped unseen; keyed loads make the re-read harmless.
        """
        field = self.cursor_field
        if field is None or self._reads_whole(since, until):
            return f"SELECT * FROM {relation}"
        return self._window_sql(relation, self._cursor_kind(path, fmt, field), since, until)

    def _reads_whole(self, since: datetime | None, until: datetime | None) -> bool:
        """True when every row of a file is read (no cursor window applies)."""
        return self.cursor_field is None or (since is None and until is None)

    def _window_sql(
        self,
        relation: str,
        kind: TimestampKind | None,
        since: datetime | None,
        until: datetime | None,
    ) -> str:
        """``relation``'s rows whose cursor is in the window, blank or does not parse.

        ``kind`` is how the relation holds the cursor column (None: it has no such column).
        """
        select = f"SELECT * FROM {relation}"
        if self.cursor_field is None or kind is None:
            return select
        alias = "__gn_cursor"
        stages = timestamp_stages_sql(
            sql_identifier(self.cursor_field), kind, self.config.timezone, alias
        )
        bounds = [
            f"{alias} {op} {_naive_utc(moment)}"
            for op, moment in ((">=", since), ("<", until))
            if moment is not None
        ]
        added = ", ".join(name for stage in stages for name in stage)
        return (
            f"SELECT * EXCLUDE ({added}) FROM ({select_in_stages(select, stages)}) "
            f"WHERE {alias} IS NULL OR ({' AND '.join(bounds)})"
        )

    def _cursor_kind(self, path: Path, fmt: Format, field: str) -> TimestampKind | None:
        """How the file holds its cursor column (None: the file has no such column)."""
        if fmt == "csv":
            return "text" if field in self.csv_columns(path) else None
        schema = pq.read_schema(path)
        return timestamp_kind(schema.field(field).type) if field in schema.names else None

    def fetch_batches(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int | None = None,
    ) -> Iterator[RawBatch]:
        """Yield Arrow batches of at most ``batch_size`` rows, file after file.

        The next batch is read on a thread of its own while the caller handles this one.
        """
        return read_ahead(self._batches(since, until, batch_size))

    def _batches(
        self, since: datetime | None, until: datetime | None, batch_size: int | None
    ) -> Iterator[RawBatch]:
        if not self.is_authenticated:
            self.authenticate()
        size = batch_size or self.config.batch_size
        self._source_rejects = []
        self._read = {}
        known = self._manifest() if self.incremental and self.cursor_field is None else {}
        for path in self.files():
            fingerprint = file_fingerprint(path)
            if known.get(str(path)) == fingerprint:
                continue  # this export was read by an earlier sync
            yield from self._file_batches(path, since, until, size)
            self._read[str(path)] = fingerprint

    def _manifest(self) -> dict[str, str]:
        """Fingerprints of the files earlier syncs read (the saved state, for cursorless files).

        Empty when they were read with other reading settings (a delimiter or an encoding
        corrected since): every file is read again with the new ones.
        """
        saved = self.config.last_sync_cursor
        if not saved or not saved.startswith("{"):
            return {}
        manifest = json.loads(saved)
        if manifest.get("read_with", self._reading_settings()) != self._reading_settings():
            return {}
        files: dict[str, str] = manifest.get("files", {})
        return files

    def _reading_settings(self) -> dict[str, Any]:
        """The params that decide how a file's bytes become rows."""
        params: FileParams = self.settings.params
        return {
            "format": params.format,
            "delimiter": params.delimiter,
            "quote": params.quote,
            "encoding": params.encoding,
            "header": params.header,
        }

    def checkpoint_value(self, data_cursor: str | None) -> str | None:
        """With a cursor column, its high-watermark; otherwise the files read so far."""
        if self.cursor_field is not None:
            return data_cursor
        files = {**self._manifest(), **self._read}
        return json.dumps(
            {"files": dict(sorted(files.items())), "read_with": self._reading_settings()}
        )

    def _file_batches(
        self, path: Path, since: datetime | None, until: datetime | None, size: int
    ) -> Iterator[RawBatch]:
        fmt = self.file_format(path)
        if fmt == "jsonl":
            yield from self._jsonl_batches(path, since, until, size)
            return
        # Taken before the file is opened: a file replaced meanwhile differs from it.
        whole = None
        if fmt == "parquet" and self._reads_whole(since, until):
            whole = SourceFile.at(path)
        with self._readable(path, fmt) as source:
            connection = connect_quietly()
            try:
                connection.execute("SET TimeZone = 'UTC'")
                # One reading thread: the sync's normalizer and warehouse already use every
                # core, and parallel reading buffered ~100 MB more for no faster sync.
                connection.execute("SET threads = 1")
                relation = self._relation_sql(path, fmt, source)
                if relation is None:
                    return
                sql = self._select_sql(path, fmt, relation, since, until)
                try:
                    if self.raw_hash_sql is not None:
                        # Hashed as read: cheaper than a second pass over the Arrow batch.
                        columns = connection.sql(sql).columns
                        sql = (
                            f"SELECT *, {self.raw_hash_sql(columns)} AS {RAW_HASH_COLUMN} "
                            f"FROM ({sql})"
                        )
                    for batch in gathered(connection.sql(sql).to_arrow_reader(size), size):
                        # Its rows as the file holds them: the file can be their raw copy.
                        yield batch if whole is None else whole.tag(batch)
                except duckdb.Error as exc:
                    raise SchemaError(f"cannot read {path.name} as {fmt}: {exc}") from exc
                if fmt == "csv":
                    self._collect_csv_rejects(connection, path, source)
            finally:
                connection.close()

    @contextmanager
    def _readable(self, path: Path, fmt: Format) -> Iterator[Path | None]:
        """None when DuckDB reads ``path`` as it is, else a UTF-8 copy (removed afterwards).

        DuckDB reads CSV as UTF-8 or UTF-16; an export in another encoding (Latin-1, or
        Windows-1252 from a spreadsheet) is copied to UTF-8, line for line.
        """
        encoding = self.settings.params.encoding
        if fmt != "csv" or _duckdb_encoding(encoding) is not None:
            yield None
            return
        with tempfile.TemporaryDirectory(prefix="growthnav-csv-") as tmp:
            copy = Path(tmp) / path.name
            try:
                with (
                    path.open(encoding=encoding, newline="") as source,
                    copy.open("w", encoding="utf-8", newline="") as target,
                ):
                    shutil.copyfileobj(source, target, 1 << 20)
            except UnicodeError as exc:
                raise SchemaError(
                    f"cannot read {path.name} as csv: not {encoding} text ({exc}); "
                    "set connection_params.encoding"
                ) from exc
            yield copy

    def _collect_csv_rejects(
        self, connection: duckdb.DuckDBPyConnection, path: Path, source: Path | None
    ) -> None:
        rows = arrow_result(
            connection,
            # One row per line: DuckDB logs a missing-columns error once per missing column.
            "SELECT line, min(line_byte_position) AS start, "
            "string_agg(DISTINCT error_message, '; ') AS error_message, "
            "any_value(csv_line) AS csv_line FROM reject_errors GROUP BY line ORDER BY line",
        ).to_pylist()
        encoding = self.settings.params.encoding if source is None else "utf-8"
        lines = _physical_lines(source or path, encoding, [row["start"] for row in rows])
        for row, line in zip(rows, lines, strict=True):
            number = line or row["line"]
            self._source_rejects.append(
                {
                    "file": self.file_label(path),
                    "line": number,
                    "message": f"{self.file_label(path)} line {number}: {row['error_message']}",
                    "raw": (row["csv_line"] or "").rstrip("\r\n"),
                }
            )

    def _jsonl_batches(
        self, path: Path, since: datetime | None, until: datetime | None, size: int
    ) -> Iterator[RawBatch]:
        chunks = read_jsonl(path, self.settings.params.encoding, size)
        windowed = self.cursor_field is not None and (since is not None or until is not None)
        connection = connect_quietly() if windowed else None
        try:
            if connection is not None:
                connection.execute("SET TimeZone = 'UTC'")
            for table, bad_lines in chunks:
                self._source_rejects.extend(
                    {
                        "file": self.file_label(path),
                        "line": bad.number,
                        "message": f"{self.file_label(path)} line {bad.number}: {bad.problem}",
                        "raw": bad.text,
                    }
                    for bad in bad_lines
                )
                if connection is not None and table.num_rows:
                    table = self._in_window(connection, table, since, until)
                if table.num_rows:
                    yield table
        except UnicodeError as exc:
            encoding = self.settings.params.encoding
            raise SchemaError(
                f"cannot read {path.name} as jsonl: not {encoding} text ({exc}); "
                "set connection_params.encoding"
            ) from exc
        finally:
            if connection is not None:
                connection.close()

    def _in_window(
        self,
        connection: duckdb.DuckDBPyConnection,
        table: pa.Table,
        since: datetime | None,
        until: datetime | None,
    ) -> pa.Table:
        """The rows of a chunk whose cursor is in the window (or blank, or does not parse)."""
        field = self.cursor_field
        if field is None or field not in table.column_names:
            return table
        kind = timestamp_kind(table.schema.field(field).type)
        connection.register("jsonl_chunk", table)
        try:
            return arrow_result(connection, self._window_sql("jsonl_chunk", kind, since, until))
        finally:
            connection.unregister("jsonl_chunk")

    def source_reject_scopes(self) -> list[str]:
        """The files this sync read whole: their unreadable lines were all looked for again."""
        return sorted({f"{self.file_label(Path(path))}:" for path in self._read})

    def source_rejects(self) -> pa.Table | None:
        """Lines that could not be read as records, as rejects (file and line number)."""
        if not self._source_rejects:
            return None
        n = len(self._source_rejects)
        connector_id = self.config.effective_connector_id
        return pa.Table.from_arrays(
            [
                pa.array([self.config.customer_id] * n, pa.string()),
                pa.array([connector_id] * n, pa.string()),
                pa.array([self.source_system] * n, pa.string()),
                pa.array([f"{r['file']}:{r['line']}" for r in self._source_rejects], pa.string()),
                pa.nulls(n, pa.string()),
                pa.array([SOURCE_REJECT] * n, pa.string()),
                pa.nulls(n, pa.string()),
                pa.array([r["message"] for r in self._source_rejects], pa.string()),
                pa.array([json.dumps({"line": r["raw"]}) for r in self._source_rejects]),
            ],
            schema=REJECT_SCHEMA,
        )

    def get_schema(self) -> dict[str, str]:
        """The first file's columns and their types."""
        if not self.is_authenticated:
            self.authenticate()
        path = self.files()[0]
        fmt = self.file_format(path)
        if fmt == "jsonl":
            first = next(self._jsonl_batches(path, None, None, 100), None)
            if not isinstance(first, pa.Table):
                return {}
            return {f.name: str(f.type) for f in first.schema}
        if fmt == "csv":
            return dict.fromkeys(self.csv_columns(path), "VARCHAR")  # read as written
        connection = connect_quietly()
        try:
            rows = arrow_result(
                connection, f"DESCRIBE SELECT * FROM {self._relation_sql(path, fmt)}"
            ).to_pylist()
        finally:
            connection.close()
        return {row["column_name"]: row["column_type"] for row in rows}


def _physical_lines(path: Path, encoding: str, starts: list[int | None]) -> list[int | None]:
    """The line of the file (as an editor numbers it) at each byte offset, in one pass.

    DuckDB numbers records, so a quoted value spanning lines shifts its numbers; None
    where the encoding does not write a newline as one byte.
    """
    if "\n".encode(encoding) != b"\n" or not starts:
        return [None] * len(starts)
    found: dict[int, int] = {}
    wanted = sorted({s for s in starts if s is not None})
    newlines, consumed = 0, 0
    with path.open("rb") as handle:
        for offset in wanted:
            while consumed < offset:
                block = handle.read(min(1 << 20, offset - consumed))
                if not block:
                    break
                newlines += block.count(b"\n")
                consumed += len(block)
            found[offset] = newlines + 1
    return [None if s is None else found.get(s) for s in starts]


def _plain(part: str) -> bool:
    """True when a path part holds no glob pattern."""
    return not any(c in part for c in "*?[")


def _duckdb_encoding(encoding: str) -> str | None:
    """DuckDB's name for a CSV encoding it reads itself (None: copy the file to UTF-8).

    Not Latin-1: DuckDB refuses its bytes 0x80-0x9F, which Python (and the user) read.
    """
    return {"utf-8": "utf-8", "utf-16": "utf-16"}.get(codecs.lookup(encoding).name)


def _naive_utc(moment: datetime) -> str:
    """A TIMESTAMP literal of ``moment`` in UTC (naive moments are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return f"TIMESTAMP {sql_literal(moment.isoformat(sep=' '))}"


def file_fingerprint(path: Path) -> str:
    """Size, modification time and SHA-256 of a file's content: a new export reads as new."""
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{stat.st_size}:{stat.st_mtime_ns}:{digest.hexdigest()}"


get_registry().register(ConnectorType.FILE, FileConnector)
