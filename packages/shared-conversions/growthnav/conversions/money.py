"""Money amounts: the one place their parsing rules live.

Accepted: ``"1234.5"``, ``"$1,234.50"``, ``"(12.00)"`` (negative), ``"-$3"``, ``"USD 12"``,
``"12.50 EUR"``, ``"€7"``, numbers, and integer cents when the field map says so. Blank is
missing, not zero. The same pattern drives the scalar parser and the SQL used by the batch
normalizer, so both read a value the same way.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from growthnav.conversions.parsed import WHITESPACE_CLASS, Parsed, sql_literal, strip

#: Amounts are stored as DECIMAL(18, 4): four decimal places, below 10^14.
AMOUNT_SCALE = 4
AMOUNT_PRECISION = 18
_QUANTUM = Decimal(1).scaleb(-AMOUNT_SCALE)
_LIMIT = Decimal(10) ** (AMOUNT_PRECISION - AMOUNT_SCALE)

#: Groups: open paren, leading code, symbol, sign, symbol after sign, number, trailing code,
#: close paren. RE2 (DuckDB) and Python ``re`` read it identically.
MONEY_PATTERN = (
    r"^_*(\()?_*([A-Za-z]{3})?_*([$€£¥])?_*(-)?_*([$€£¥])?_*"
    r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)_*([A-Za-z]{3})?_*(\))?_*$"
).replace("_", WHITESPACE_CLASS)
_MONEY_RE = re.compile(MONEY_PATTERN)
_GROUPS = ("open", "code1", "sym1", "sign", "sym2", "num", "code2", "close")

#: Symbols that name one currency. ``$`` names none: it is read as the default currency.
SYMBOL_CURRENCIES = {"€": "EUR", "£": "GBP", "¥": "JPY"}

#: ISO 4217 codes in circulation.
ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    ZWL
    """.split()  # noqa: SIM905 - a list literal would take 180 lines
)

EXAMPLES = "'$1,234.50', '(12.00)', '12.50 EUR'"
_NOT_AMOUNT = f"is not an amount; expected e.g. {EXAMPLES}"
_UNBALANCED = "has an unbalanced parenthesis"
_TWO_CODES = "names two currency codes"
_TWO_SYMBOLS = "has two currency symbols"
_CENTS_FRACTION = "is declared as integer cents but has a fraction"
_TOO_LARGE = f"is too large for an amount (limit {_LIMIT:,})"


class Money(NamedTuple):
    """An amount and the currency the text stated (``None``: use the default currency)."""

    amount: Decimal
    currency: str | None


def _not_iso(code: str) -> str:
    return f"names '{code}', which is not an ISO 4217 currency code"


def _finish(amount: Decimal, currency: str | None, *, cents: bool) -> Parsed[Money]:
    if cents:
        if amount != amount.to_integral_value():
            return Parsed.fail(_CENTS_FRACTION)
        amount = amount / 100
    if not abs(amount) < _LIMIT:
        return Parsed.fail(_TOO_LARGE)
    return Parsed.of(Money(amount.quantize(_QUANTUM, rounding=ROUND_HALF_UP), currency))


def parse_money(value: object, *, cents: bool = False) -> Parsed[Money]:
    """Parse an amount of money.

    Args:
        value: text, int, float or Decimal.
        cents: the value is a whole number of cents (``1250`` means 12.50).
    """
    if value is None:
        return Parsed.blank()
    if isinstance(value, bool):
        return Parsed.fail("is a boolean, not an amount")
    if isinstance(value, int | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            return Parsed.fail(_NOT_AMOUNT)
        return _finish(Decimal(value), None, cents=cents)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Parsed.fail(_NOT_AMOUNT)
        return _finish(Decimal(repr(value)), None, cents=cents)
    if not isinstance(value, str):
        return Parsed.fail(f"is a {type(value).__name__}, not an amount")
    if not strip(value):
        return Parsed.blank()
    match = _MONEY_RE.match(value)
    if match is None:
        return Parsed.fail(_NOT_AMOUNT)
    g = dict(zip(_GROUPS, match.groups(default=""), strict=True))
    if bool(g["open"]) != bool(g["close"]):
        return Parsed.fail(_UNBALANCED)
    if g["code1"] and g["code2"]:
        return Parsed.fail(_TWO_CODES)
    if g["sym1"] and g["sym2"]:
        return Parsed.fail(_TWO_SYMBOLS)
    code = (g["code1"] or g["code2"]).upper()
    if code and code not in ISO_4217:
        return Parsed.fail(_not_iso(code))
    currency = code or SYMBOL_CURRENCIES.get(g["sym1"] or g["sym2"])
    try:
        amount = Decimal(g["num"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return Parsed.fail(_NOT_AMOUNT)
    if g["open"] or g["sign"]:
        amount = -amount
    return _finish(amount, currency or None, cents=cents)


#: The everyday shapes (``12.50``, ``$1,234.50``): a subset of MONEY_PATTERN that SQL reads
#: without capture groups. Everything else takes the general path.
FAST_MONEY_PATTERN = r"\$?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"
_ISO_TEXT = " " + " ".join(sorted(ISO_4217)) + " "


def iso_currency_sql(code: str) -> str:
    """SQL: true when the upper-case VARCHAR ``code`` is an ISO 4217 currency code."""
    return f"(length({code}) = 3 AND contains({sql_literal(_ISO_TEXT)}, ' ' || {code} || ' '))"


class MoneySQL(NamedTuple):
    """DuckDB columns for :func:`parse_money` over one VARCHAR column, in three stages.

    Each stage is ``{alias: expression}`` and may read the aliases of earlier stages. The
    last stage gives ``{alias}_value``, ``{alias}_currency`` (stated, or NULL) and
    ``{alias}_error`` (NULL when the value parsed). Values outside the everyday shapes take
    the general path, whose capture-group extraction is the slow part.
    """

    stages: tuple[dict[str, str], dict[str, str], dict[str, str]]


def money_sql(text: str, *, alias: str, cents: bool = False) -> MoneySQL:
    """SQL for the rules of :func:`parse_money` over ``text`` (trimmed, NULL for blanks)."""
    m = alias
    decimal = f"DECIMAL({AMOUNT_PRECISION}, {AMOUNT_SCALE})"
    names = ", ".join(sql_literal(n) for n in _GROUPS)
    fast_text = f"replace(replace({text}, '$', ''), ',', '')"
    fast_number = f"try_cast({fast_text} AS DECIMAL(38, 12))"
    fast_amount = (
        f"try_cast({fast_number} / 100 AS {decimal})"
        if cents
        else f"try_cast({fast_text} AS {decimal})"
    )
    stage1 = {f"{m}_fast": f"regexp_full_match({text}, {sql_literal(FAST_MONEY_PATTERN)})"}
    stage2 = {
        m: f"CASE WHEN NOT {m}_fast THEN "
        f"regexp_extract({text}, {sql_literal(MONEY_PATTERN)}, [{names}]) END",
        f"{m}_fast_amount": f"CASE WHEN {m}_fast THEN {fast_amount} END",
    }

    code = f"upper(coalesce(nullif({m}.code1, ''), {m}.code2))"
    symbol = f"coalesce(nullif({m}.sym1, ''), {m}.sym2)"
    symbols = " ".join(
        f"WHEN {symbol} = {sql_literal(s)} THEN {sql_literal(c)}"
        for s, c in SYMBOL_CURRENCIES.items()
    )
    number = f"try_cast(replace({m}.num, ',', '') AS DECIMAL(38, 12))"
    signed = f"(CASE WHEN {m}.open = '(' OR {m}.sign = '-' THEN -{number} ELSE {number} END)"
    general_amount = (
        f"try_cast({signed} / 100 AS {decimal})" if cents else f"try_cast({signed} AS {decimal})"
    )
    before, after = _not_iso("\0").split("\0")
    general = [
        (f"{m}.num = ''", sql_literal(_NOT_AMOUNT)),
        (f"({m}.open = '') <> ({m}.close = '')", sql_literal(_UNBALANCED)),
        (f"{m}.code1 <> '' AND {m}.code2 <> ''", sql_literal(_TWO_CODES)),
        (f"{m}.sym1 <> '' AND {m}.sym2 <> ''", sql_literal(_TWO_SYMBOLS)),
        (
            f"{code} <> '' AND NOT {iso_currency_sql(code)}",
            f"{sql_literal(before)} || {code} || {sql_literal(after)}",
        ),
    ]
    everyday = []
    if cents:
        general.append((f"{number} <> trunc({number})", sql_literal(_CENTS_FRACTION)))
        everyday.append(
            (
                f"contains({text}, '.') AND {fast_number} <> trunc({fast_number})",
                sql_literal(_CENTS_FRACTION),
            )
        )
    general.append((f"{general_amount} IS NULL", sql_literal(_TOO_LARGE)))
    everyday.append((f"{m}_fast_amount IS NULL", sql_literal(_TOO_LARGE)))

    def cases(checks: list[tuple[str, str]]) -> str:
        return "CASE " + " ".join(f"WHEN {c} THEN {message}" for c, message in checks) + " END"

    stage3 = {
        f"{m}_value": f"CASE WHEN {m}_fast THEN {m}_fast_amount ELSE {general_amount} END",
        f"{m}_currency": f"CASE WHEN {m}_fast THEN NULL WHEN {code} <> '' THEN {code} "
        f"ELSE CASE {symbols} END END",
        f"{m}_error": f"CASE WHEN {text} IS NULL THEN NULL WHEN {m}_fast THEN {cases(everyday)} "
        f"ELSE {cases(general)} END",
    }
    return MoneySQL((stage1, stage2, stage3))
