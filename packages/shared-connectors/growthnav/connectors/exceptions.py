"""The connector error taxonomy.

Every error carries a message a person can act on. Messages never hold credential values:
:func:`redact` removes known secrets from any text that may reach a log or a user.
"""

from __future__ import annotations

from collections.abc import Iterable


class ConnectorError(Exception):
    """Base of every connector error."""


class ConfigurationError(ConnectorError, ValueError):
    """A connector config is missing a field or holds an invalid one.

    Raised before any network call. ``problems`` lists every problem found, each naming the
    field and the fix.
    """

    def __init__(self, connector: str, problems: Iterable[str]) -> None:
        self.connector = connector
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{connector} config is not valid:\n{lines}")


class AuthenticationError(ConnectorError):
    """The source refused the credentials. Not retried: fix the credentials."""


class TransientError(ConnectorError):
    """A failure worth retrying (timeouts, 5xx). ``retry_after`` is in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    """The source asked us to slow down (HTTP 429); retry after ``retry_after`` seconds."""


class QuotaExhaustedError(ConnectorError):
    """A daily or monthly API budget is spent; the sync stops at its last checkpoint."""


class SchemaError(ConnectorError):
    """The source's columns do not fit the connector (missing table, vanished column)."""


class FatalAPIError(ConnectorError):
    """The source answered with an error that retrying will not fix."""


REDACTED = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each secret value in ``text`` (longest first)."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
