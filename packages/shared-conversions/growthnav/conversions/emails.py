"""Email addresses: the one place their rules live.

An address is trimmed and lower-cased; one that is not of the form ``local@domain.tld`` is
rejected, never guessed at. (Canonical forms for identity matching, such as gmail dots, belong
to identity resolution, not here.)
"""

from __future__ import annotations

import re

from growthnav.conversions.parsed import Parsed, sql_literal, strip

_ATOM = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: Lower-case dot-atom local part @ a domain of at least two labels, ending in letters.
EMAIL_PATTERN = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[a-z]{{2,63}}"
_EMAIL_RE = re.compile(EMAIL_PATTERN)
_NOT_EMAIL = "is not an email address (expected name@example.com)"


def parse_email(value: object) -> Parsed[str]:
    """Trim and lower-case an email address; reject one that is not an address."""
    if value is None:
        return Parsed.blank()
    if not isinstance(value, str):
        return Parsed.fail(f"is a {type(value).__name__}, not an email address")
    text = strip(value).lower()
    if not text:
        return Parsed.blank()
    if len(text) > 254 or not _EMAIL_RE.fullmatch(text):
        return Parsed.fail(_NOT_EMAIL)
    return Parsed.of(text)


def email_sql(text: str) -> str:
    """SQL for :func:`parse_email`: the address, or NULL when ``text`` is not one.

    ``text`` must already be trimmed and NULL for blanks; a failure is a non-NULL ``text``
    whose value is NULL.
    """
    lowered = f"lower({text})"
    valid = (
        f"contains({text}, '@') AND length({text}) <= 254 "
        f"AND regexp_full_match({lowered}, {sql_literal(EMAIL_PATTERN)})"
    )
    return f"CASE WHEN {valid} THEN {lowered} END"
