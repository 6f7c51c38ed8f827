"""The result of parsing one value: the value, or the reason it could not be parsed."""

from __future__ import annotations

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


def is_blank(value: object) -> bool:
    """True for ``None`` and strings that hold only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


def sql_literal(text: str) -> str:
    """Quote ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """Quote ``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
