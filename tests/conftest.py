"""Shared fixtures; keep this small (helpers live in tests/_spec.py and the test modules)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aioresponses import aioresponses

from ionq_async.testing import FakeIonQ


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    """aioresponses intercepting every aiohttp request (unregistered URLs fail to connect)."""
    with aioresponses() as m:
        yield m


class Clock:
    """A settable wall clock for FakeIonQ(clock=...): tests move `t` instead of sleeping."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(fake: FakeIonQ) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session with the module's `fake` emulator's key (no SDK involved)."""
    async with aiohttp.ClientSession(headers={"Authorization": f"apiKey {fake.api_key}"}) as s:
        yield s
