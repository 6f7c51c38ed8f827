"""Phone numbers to E.164: the one place their rules live.

The rules are those of ``phonenumbers`` (libphonenumber's metadata): a number is kept when it
is valid for its region, formatted E.164; the default region reads numbers written without a
country code. ``phonenumbers`` costs ~70 µs a value, so the batch path answers the common case
(a North American number, when the default region is in +1) in SQL, with the validity pattern
taken from the same metadata, and asks the library only for the rest, once per distinct value.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from growthnav.conversions.parsed import Parsed, sql_literal, strip
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat

#: Characters people write between digits; the SQL fast path removes them.
_SEPARATORS = (" ", "(", ")", ".", "-")
_TYPE_DESCS = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def check_region(region: str) -> str:
    """Return ``region`` upper-cased, or raise ``ValueError`` naming it when unknown."""
    code = region.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(
            f"phone region {region!r} is not a region code phonenumbers knows "
            "(use ISO 3166 alpha-2, e.g. 'US', 'GB')"
        )
    return code


def parse_phone(value: object, region: str = "US") -> Parsed[str]:
    """Parse a phone number to E.164; numbers without a country code are read in ``region``."""
    if value is None:
        return Parsed.blank()
    if isinstance(value, bool) or not isinstance(value, str | int):
        return Parsed.fail(f"is a {type(value).__name__}, not a phone number")
    text = strip(str(value))
    if not text:
        return Parsed.blank()
    try:
        number = phonenumbers.parse(text, check_region(region))
    except NumberParseException:
        return Parsed.fail("is not a phone number")
    if not phonenumbers.is_valid_number(number):
        return Parsed.fail("is not a valid phone number (wrong length or unassigned prefix)")
    return Parsed.of(phonenumbers.format_number(number, PhoneNumberFormat.E164))


@lru_cache(maxsize=1)
def nanp_valid_pattern() -> str:
    """A pattern of every valid 10-digit national number in +1, from phonenumbers' metadata."""
    patterns: list[str] = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1]:
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:  # pragma: no cover - every +1 region has metadata
            continue
        for name in _TYPE_DESCS:
            desc = getattr(metadata, name)
            if desc is not None and desc.national_number_pattern:
                patterns.append(desc.national_number_pattern)
    return "(?:" + "|".join(f"(?:{p})" for p in dict.fromkeys(patterns)) + ")"


def phone_fast_sql(text: str, region: str, *, alias: str) -> tuple[dict[str, str], ...]:
    """SQL stages giving ``{alias}`` = E.164 for the North American numbers in ``text``.

    Only for a default region in +1; elsewhere ``{alias}`` is NULL and every value goes to
    the library. Each stage is ``{column: expression}`` and reads the columns of earlier
    stages.
    """
    if phonenumbers.country_code_for_region(check_region(region)) != 1:
        return ({alias: "CAST(NULL AS VARCHAR)"},)
    key = text
    for mark in _SEPARATORS:
        key = f"replace({key}, {sql_literal(mark)}, '')"
    k = f"{alias}_key"
    national = (
        f"CASE length({k}) WHEN 10 THEN {k} "
        f"WHEN 11 THEN CASE WHEN starts_with({k}, '1') THEN substr({k}, 2) END "
        f"WHEN 12 THEN CASE WHEN starts_with({k}, '+1') THEN substr({k}, 3) END END"
    )
    n = f"{alias}_national"
    valid = f"regexp_full_match({n}, {sql_literal(nanp_valid_pattern())})"
    return ({k: key}, {n: national}, {alias: f"CASE WHEN {valid} THEN '+1' || {n} END"})


class PhoneBatchParser:
    """Parses the phones the SQL fast path left, once per distinct value, with a bounded cache."""

    def __init__(self, region: str = "US", cache_size: int = 200_000) -> None:
        self.region = check_region(region)
        self._cache: dict[str, Parsed[str]] = {}
        self._cache_size = cache_size

    def _parse(self, texts: Iterable[str]) -> list[Parsed[str]]:
        results = []
        for text in texts:
            parsed = self._cache.get(text)
            if parsed is None:
                parsed = parse_phone(text, self.region)
                if len(self._cache) >= self._cache_size:
                    self._cache.clear()
                self._cache[text] = parsed
            results.append(parsed)
        return results

    def complete(
        self, raw: pa.Array[Any], fast: pa.Array[Any]
    ) -> tuple[pa.Array[Any], pa.Array[Any]]:
        """Fill the E.164 values the fast path could not give; return (e164, error) arrays."""
        pending = pc.and_(pc.is_valid(raw), pc.is_null(fast))
        if not pc.any(pending).as_py():
            return fast, pa.nulls(len(raw), pa.string())
        residual = pc.filter(raw, pending)
        distinct = pc.unique(residual)
        parsed = self._parse(str(text) for text in distinct.to_pylist())
        where = pc.index_in(raw, value_set=distinct)
        values = pc.take(pa.array([p.value for p in parsed], pa.string()), where)
        errors = pc.take(pa.array([p.error for p in parsed], pa.string()), where)
        e164 = pc.if_else(pending, values, fast)
        return e164, pc.if_else(pending, errors, pa.nulls(len(raw), pa.string()))
