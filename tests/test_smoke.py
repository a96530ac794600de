"""The package imports, exports its public names, and talks to a real local server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import ionq_async
from ionq_async import AsyncIonQ, JobStatus

SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"


def test_public_names_are_exported() -> None:
    for name in ionq_async.__all__:
        assert hasattr(ionq_async, name), name


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async def get_job(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "apiKey smoke-key"
        return web.json_response({"id": request.match_info["id"], "status": "completed"})

    app = web.Application()
    app.router.add_get("/v0.4/jobs/{id}", get_job)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv


async def test_get_over_real_http(server: TestServer) -> None:
    async with AsyncIonQ("smoke-key", base_url=str(server.make_url("/v0.4"))) as client:
        job = await client.jobs.get(SRC)
    assert job.id == SRC
    assert job.status is JobStatus.COMPLETED
    assert job.is_terminal
