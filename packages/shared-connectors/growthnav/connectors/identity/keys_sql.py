"""Canonical identity keys for a whole table at once (DuckDB), matching ``keys.py`` value by value.

The linker normalizes every record this way; ``keys.py`` holds the same rules for one value at
a time (look-ups), and a test checks that both read every case alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
from growthnav.connectors.identity.keys import FIELD_ALIASES, IDENTITY_FIELDS
from growthnav.conversions.duckdb_arrow import arrow_result
from growthnav.conversions.duckdb_arrow import connect as connect_quietly
from growthnav.conversions.emails import email_sql
from growthnav.conversions.parsed import sql_literal
from growthnav.conversions.phones import PhoneBatchParser, phone_fast_sql

#: Arrow schema of a normalized record table.
KEYS_SCHEMA = pa.schema(
    [("source_system", pa.string()), ("source_id", pa.string())]
    + [(name, pa.string()) for name in IDENTITY_FIELDS]
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(columns: list[str]) -> str:
    """The first non-blank of ``columns``, trimmed, as text (NULL when all are blank)."""
    parts = [f"nullif(trim(CAST({_q(c)} AS VARCHAR)), '')" for c in columns]
    if not parts:
        return "CAST(NULL AS VARCHAR)"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def fold_sql(text: str) -> str:
    """SQL for :func:`fold_name`."""
    lowered = f"lower(strip_accents(replace({text}, '-', ' ')))"
    letters = f"regexp_replace({lowered}, '[^a-z ]+', '', 'g')"
    return f"nullif(trim(regexp_replace({letters}, '\\s+', ' ', 'g')), '')"


def canonical_email_sql(text: str) -> str:
    """SQL for :func:`canonical_email` (``text`` trimmed, NULL when blank)."""
    email = email_sql(text)
    local = f"split_part(split_part({email}, '@', 1), '+', 1)"
    domain = f"split_part({email}, '@', 2)"
    gmail = f"{domain} IN ('gmail.com', 'googlemail.com')"
    canonical = (
        f"CASE WHEN {gmail} THEN replace({local}, '.', '') || '@gmail.com' "
        f"ELSE {local} || '@' || {domain} END"
    )
    return f"CASE WHEN {local} <> '' THEN {canonical} END"


def postal_sql(text: str) -> str:
    """SQL for :func:`canonical_postal_code`."""
    upper = f"upper({text})"
    return (
        f"CASE WHEN regexp_full_match({upper}, '\\d{{5}}(-?\\d{{4}})?') THEN substr({upper}, 1, 5) "
        f"ELSE nullif(regexp_replace({upper}, '[^A-Z0-9]+', '', 'g'), '') END"
    )


def identity_keys_table(
    table: pa.Table,
    source: str,
    id_column: str,
    aliases: Mapping[str, tuple[str, ...]] = FIELD_ALIASES,
    region: str = "US",
    phones: PhoneBatchParser | None = None,
) -> pa.Table:
    """``table``'s records as canonical identity keys (``KEYS_SCHEMA``)."""
    if id_column not in table.column_names:
        raise ValueError(
            f"{source} records have no {id_column!r} column: pass id_column= naming the column "
            f"that identifies a record (columns: {', '.join(table.column_names)})"
        )
    present = set(table.column_names)
    raw = {f: _text([c for c in aliases.get(f, (f,)) if c in present]) for f in IDENTITY_FIELDS}
    connection = connect_quietly()
    try:
        connection.register("incoming", table)
        blanks = arrow_result(
            connection,
            f"SELECT count(*) AS n FROM incoming WHERE {_text([id_column])} IS NULL",
        )
        if blanks.column(0)[0].as_py():
            raise ValueError(
                f"{blanks.column(0)[0].as_py()} {source} records have no {id_column!r}: every "
                "record needs its source id (pass id_column= naming the column that has one)"
            )
        fast = [f"{_text([id_column])} AS source_id"] + [
            f"{expr} AS raw_{name}" for name, expr in raw.items()
        ]
        stages = phone_fast_sql("raw_phone", region, alias="phone_fast")
        query = f"SELECT {', '.join(fast)} FROM incoming"
        for stage in stages:
            extra = ", ".join(f"{expr} AS {name}" for name, expr in stage.items())
            query = f"SELECT *, {extra} FROM ({query})"
        staged = arrow_result(connection, query)
        parser = phones or PhoneBatchParser(region)
        phone, _ = parser.complete(
            staged.column("raw_phone").combine_chunks(),
            staged.column("phone_fast").combine_chunks(),
        )
        connection.register("staged", staged.append_column("phone_e164", phone))
        return arrow_result(
            connection,
            f"SELECT {sql_literal(source)} AS source_system, source_id, "
            f"{canonical_email_sql('raw_email')} AS email, phone_e164 AS phone, "
            f"{fold_sql('raw_first_name')} AS first_name, "
            f"{fold_sql('raw_last_name')} AS last_name, "
            f"{postal_sql('raw_postal_code')} AS postal_code, "
            f"raw_date_of_birth AS date_of_birth, {fold_sql('raw_address')} AS address, "
            "raw_hashed_cc AS hashed_cc, raw_loyalty_id AS loyalty_id FROM staged",
        ).cast(KEYS_SCHEMA)
    finally:
        connection.close()
