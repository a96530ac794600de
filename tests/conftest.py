"""Shared fixtures; keep this small (helpers live in tests/_spec.py and the test modules)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aioresponses import aioresponses


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    """aioresponses intercepting every aiohttp request (unregistered URLs fail to connect)."""
    with aioresponses() as m:
        yield m
