"""Malformed result payloads are typed errors, whichever call reads them (over real HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from _proxy import Proxy, Rewrite
from aiohttp import web

from ionq_async import IonQError
from ionq_async.errors import ResponseValidationError
from ionq_async.testing import FakeIonQ

BAD = [{"probabilities": "x"}, {"probabilities": {"registers": "x"}}, {"0": "half"}, ["x"]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ() as server:
        yield server


def replacing(payload: object) -> Rewrite:
    def rewrite(request: web.Request, status: int, body: bytes) -> tuple[int, bytes] | None:
        is_result = "/artifacts/" in request.path or "/results/" in request.path
        return (200, json.dumps(payload).encode()) if is_result and status == 200 else None

    return rewrite


@pytest.mark.parametrize("payload", BAD, ids=[json.dumps(b) for b in BAD])
async def test_probabilities_and_results_refuse_a_malformed_payload_with_a_typed_error(
    fake: FakeIonQ, payload: object
) -> None:
    job = fake.add_job(status="completed")
    async with Proxy(fake, replacing(payload)) as proxy, proxy.client(rate_limit=None) as client:
        with pytest.raises(ResponseValidationError) as direct:
            await client.jobs.probabilities(job.id)
        with pytest.raises(ResponseValidationError) as full:
            await client.jobs.results(job.id)
    for error in (direct.value, full.value):
        assert isinstance(error, IonQError)
        assert not isinstance(error.__cause__, AttributeError)
