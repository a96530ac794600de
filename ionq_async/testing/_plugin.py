"""pytest plugin: the ``fake_ionq`` fixture (a started FakeIonQ per test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ._server import FakeIonQ

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - pytest-asyncio absent: plain fixture
    _async_fixture = pytest.fixture  # type: ignore[assignment]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_ionq`` marker (keyword arguments for FakeIonQ)."""
    config.addinivalue_line(
        "markers", "fake_ionq(**kwargs): keyword arguments for the fake_ionq fixture's FakeIonQ"
    )


@_async_fixture
async def fake_ionq(request: pytest.FixtureRequest) -> AsyncIterator[FakeIonQ]:
    """A started FakeIonQ; configure it with ``@pytest.mark.fake_ionq(rate_limit=..., ...)``."""
    marker = request.node.get_closest_marker("fake_ionq")
    kwargs: dict[str, Any] = dict(marker.kwargs) if marker else {}
    async with FakeIonQ(**kwargs) as fake:
        yield fake
