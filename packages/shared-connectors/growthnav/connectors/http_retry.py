"""Retrying HTTP requests to a source: throttling, 5xx and dropped connections.

Adapters raise :class:`TransientError` (or :class:`RateLimitedError`) for answers worth
retrying; :func:`retrying` wraps a request so those are tried again, waiting what the source
asked (``Retry-After``) or backing off exponentially, and re-raised after the last attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from growthnav.connectors.exceptions import RateLimitedError, TransientError
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
#: The longest wait a source's Retry-After is allowed to impose.
MAX_RETRY_AFTER = 60.0


def retry_after(response: httpx.Response) -> float | None:
    """The response's ``Retry-After`` in seconds, when it states one as a number."""
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, TransientError) and error.retry_after is not None:
        return min(error.retry_after, MAX_RETRY_AFTER)
    return float(wait_exponential(multiplier=0.5, max=8)(state))


def retrying(attempts: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Retry a request on ``TransientError`` up to ``attempts`` tries in all."""
    return retry(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(attempts),
        wait=_wait,
        reraise=True,
    )


def raise_for_transient(response: httpx.Response, source: str) -> None:
    """Raise ``RateLimitedError`` for a 429 and ``TransientError`` for a 5xx."""
    if response.status_code == 429:
        raise RateLimitedError(
            f"{source} is throttling requests", retry_after=retry_after(response)
        )
    if response.status_code >= 500:
        raise TransientError(
            f"{source} answered {response.status_code}", retry_after=retry_after(response)
        )


def send(
    client: httpx.Client, source: str, method: str, url: str, **options: Any
) -> httpx.Response:
    """One request; a dropped or timed-out connection is a ``TransientError``."""
    import httpx

    try:
        response = client.request(method, url, **options)
    except httpx.TransportError as exc:
        raise TransientError(f"{source} request failed: {type(exc).__name__}") from None
    raise_for_transient(response, source)
    return response
