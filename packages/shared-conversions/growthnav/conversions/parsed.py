"""The result of parsing one value: the value, or the reason it could not be parsed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Parsed(Generic[T]):
    """A parsed value (``None`` when the input was blank) or an ``error`` saying why not."""

    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the input parsed (a blank input parses to ``None``)."""
        return self.error is None

    @classmethod
    def blank(cls) -> Parsed[T]:
        """The result for a missing or blank input."""
        return cls(None, None)

    @classmethod
    def of(cls, value: T) -> Parsed[T]:
        """A successful parse."""
        return cls(value, None)

    @classmethod
    def fail(cls, error: str) -> Parsed[T]:
        """A failed parse with a reason a person can act on."""
        return cls(None, error)


#: What counts as whitespace around and inside values, the same for Python, RE2 and Arrow
#: (Python's own ``str.strip()`` would also take Unicode spaces that SQL keeps).
WHITESPACE = " \t\n\r\f"
#: A regex class of WHITESPACE, for Python ``re`` and RE2 alike.
WHITESPACE_CLASS = r"[ \t\n\r\f]"


def strip(text: str) -> str:
    """``text`` without surrounding WHITESPACE."""
    return text.strip(WHITESPACE)


def is_blank(value: object) -> bool:
    """True for ``None`` and strings that hold only whitespace."""
    return value is None or (isinstance(value, str) and not strip(value))


def sql_literal(text: str) -> str:
    """Quote ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """Quote ``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def trimmed_sql(text: str) -> str:
    """SQL for ``text`` (a VARCHAR expression) without surrounding WHITESPACE, blank as NULL.

    trim() copies every value, and most values have nothing to trim: it runs only on values
    whose first byte sorts before '!' (whitespace, or blank) or whose last character is one.
    """
    ends = " OR ".join(f"ends_with({text}, chr({ord(c)}))" for c in WHITESPACE)
    return (
        f"CASE WHEN {text} < '!' OR {ends} "
        f"THEN nullif(trim({text}, {sql_literal(WHITESPACE)}), '') ELSE {text} END"
    )


def select_in_stages(sql: str, stages: Iterable[Mapping[str, str]]) -> str:
    """``sql`` with each stage's ``{alias: expression}`` columns added, one SELECT per stage.

    A stage's expressions read the columns of the stages before it; empty stages are skipped.
    """
    for stage in stages:
        if stage:
            columns = ", ".join(f"{expr} AS {alias}" for alias, expr in stage.items())
            sql = f"SELECT *, {columns} FROM ({sql})"
    return sql
