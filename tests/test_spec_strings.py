"""Spec-valid answers our emulator never sends: free-form time strings, null metadata values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ionq_async import AsyncIonQ, ResponseValidationError, RetryPolicy
from ionq_async._core import serde
from ionq_async._models.api import Characterization

JOB = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"
KEY = "spec-strings-key-5151"

BACKENDS: list[dict[str, Any]] = [
    {"backend": "qpu.aria-1", "status": "available", "last_updated": "June 16"},
    {"backend": "qpu.forte-1", "status": "available", "last_updated": "2025-06-16T00:00:00Z"},
    {"backend": "simulator", "status": "available", "last_updated": 1750032000},
    {"backend": "qpu.x", "status": "available", "last_updated": ""},
]


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async def backends(request: web.Request) -> web.Response:
        return web.json_response(BACKENDS)

    async def backend(request: web.Request) -> web.Response:
        return web.json_response(BACKENDS[0])

    async def job(request: web.Request) -> web.Response:
        body = {
            "id": JOB,
            "status": "completed",
            "metadata": {"run": "7", "note": None, "shots": 100},
        }
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/v0.4/backends", backends)
    app.router.add_get("/v0.4/backends/{name}", backend)
    app.router.add_get("/v0.4/jobs/{id}", job)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv


def _client(server: TestServer, **kwargs: Any) -> AsyncIonQ:
    return AsyncIonQ(KEY, base_url=str(server.make_url("/v0.4")), rate_limit=None, **kwargs)


async def test_a_free_form_last_updated_does_not_break_the_listing(server: TestServer) -> None:
    async with _client(server) as client:
        listed = await client.backends.list()
        one = await client.backends.get("qpu.aria-1")
    assert [b.name for b in listed] == [b["backend"] for b in BACKENDS]
    assert [b.last_updated for b in listed] == [
        None,
        datetime(2025, 6, 16, tzinfo=UTC),
        datetime(2025, 6, 16, tzinfo=UTC),
        None,
    ]
    assert one.last_updated is None


def test_a_characterization_date_that_is_no_time_reads_as_none() -> None:
    read = serde.structure({"id": "c-1", "date": "last Tuesday"}, Characterization)
    assert read.date is None
    read = serde.structure({"id": "c-1", "date": "2025-06-16T00:00:00Z"}, Characterization)
    assert read.date == datetime(2025, 6, 16, tzinfo=UTC)


async def test_a_null_metadata_value_is_left_out_not_read_as_none(server: TestServer) -> None:
    async with _client(server) as client:
        job = await client.jobs.get(JOB)
    assert job.metadata == {"run": "7", "shots": "100"}


@pytest.mark.parametrize("body", [b"", b"null"])
async def test_an_empty_answer_says_so(body: bytes) -> None:
    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/v0.4/jobs/{id}", empty)
    app.router.add_get("/v0.4/backends", empty)
    once = RetryPolicy(max_attempts=1)  # a wrong answer to a GET is retried
    async with TestServer(app, host="127.0.0.1") as server, _client(server, retry=once) as client:
        with pytest.raises(ResponseValidationError, match="the body is empty or null, not a Job"):
            await client.jobs.get(JOB)
        with pytest.raises(ResponseValidationError, match="backend list in response: not an"):
            await client.backends.list()
