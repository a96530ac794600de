"""A server that echoes the API key in an error answer: the key never reaches the error."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ionq_async import (
    APIStatusError,
    AsyncIonQ,
    AuthenticationError,
    IonQ,
    RetryPolicy,
    SubmissionUnknownError,
)

KEY = "sk-ECHOED-SECRET-4242"
SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"


def _echo(request: web.Request) -> str:
    """What a careless gateway says: the credential it was sent, verbatim."""
    return f"invalid key {request.headers['Authorization'].partition(' ')[2]}"


@pytest.fixture
async def echo() -> AsyncIterator[TestServer]:
    async def get_job(request: web.Request) -> web.Response:
        body = {"statusCode": 401, "error": "Unauthorized", "message": _echo(request)}
        return web.json_response(body, status=401, headers={"x-request-id": "rid-7"})

    async def clone(request: web.Request) -> web.Response:
        return web.Response(status=502, text=f"<html>{_echo(request)}</html>")

    async def whoami(request: web.Request) -> web.Response:
        payload = json.dumps({"message": _echo(request)}).encode()
        return web.Response(
            status=403,
            body=gzip.compress(payload),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    app = web.Application()
    app.router.add_get("/v0.4/jobs/{id}", get_job)
    app.router.add_post("/v0.4/jobs/{id}/clone", clone)
    app.router.add_get("/v0.4/whoami", whoami)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield srv


def _assert_no_key(exc: BaseException) -> None:
    seen = [str(exc), repr(exc), repr(vars(exc))]
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        seen += [str(cause), repr(vars(cause))]
    assert not any(KEY in text for text in seen), seen


async def test_an_echoed_key_is_masked_in_the_error(echo: TestServer) -> None:
    async with AsyncIonQ(KEY, base_url=str(echo.make_url("/v0.4"))) as client:
        with pytest.raises(AuthenticationError) as got:
            await client.jobs.get(SRC)
    error = got.value
    assert error.message == "invalid key ***" and error.request_id == "rid-7"
    assert "invalid key ***" in error.body
    _assert_no_key(error)


async def test_an_echoed_key_in_a_lost_clone_and_a_gzip_answer_is_masked(
    echo: TestServer,
) -> None:
    url = str(echo.make_url("/v0.4"))
    async with AsyncIonQ(KEY, base_url=url, retry=RetryPolicy.none()) as client:
        with pytest.raises(SubmissionUnknownError) as lost:
            await client.jobs.clone(SRC, shots=10)
        with pytest.raises(APIStatusError) as denied:
            await client.whoami()
    _assert_no_key(lost.value)
    assert denied.value.status_code == 403 and denied.value.message == "invalid key ***"
    _assert_no_key(denied.value)


async def test_the_blocking_client_masks_an_echoed_key(echo: TestServer) -> None:
    url = str(echo.make_url("/v0.4"))

    def read() -> AuthenticationError:
        with IonQ(KEY, base_url=url) as client, pytest.raises(AuthenticationError) as got:
            client.jobs.get(SRC)
        return got.value

    _assert_no_key(await asyncio.to_thread(read))
