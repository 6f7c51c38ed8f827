"""Pytest fixtures for tests that need the sandbox (the ``growthnav_sandbox`` plugin).

Installing the package registers them.

- ``sandbox_business``: a small generated brand (500 people, seed 7), once per session.
- ``start_sandbox``: starts a :class:`Sandbox` over any subset of systems, on
  ``sandbox_business`` unless told otherwise; everything it started is stopped after the test.
- ``sandbox``: every emulator, started for the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from growthnav.sandbox.business import DemoBusiness, generate_business
from growthnav.sandbox.sandbox import SYSTEMS, Sandbox


@pytest.fixture(scope="session")
def sandbox_business() -> DemoBusiness:
    """A small generated brand shared by the session's sandboxes."""
    return generate_business(people=500, seed=7)


@pytest.fixture
def start_sandbox(sandbox_business: DemoBusiness) -> Iterator[Callable[..., Sandbox]]:
    """Start a sandbox over ``systems``; all started are stopped when the test ends."""
    started: list[Sandbox] = []

    def start(systems: Sequence[str] = SYSTEMS, **options: Any) -> Sandbox:
        options.setdefault("business", sandbox_business)
        sandbox = Sandbox(systems, **options).start()
        started.append(sandbox)
        return sandbox

    try:
        yield start
    finally:
        for sandbox in started:
            sandbox.stop()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """Every emulator of the sandbox, running for the test."""
    return start_sandbox()
