"""Issue 13: redirects are never followed; a 3xx is an APIStatusError with its status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ionq_async import APIStatusError, AsyncIonQ, SubmissionUnknownError
from ionq_async.errors import error_from_response

KEY = "sk-REDIRECT-SECRET-9"
SRC = "0198097d-3888-72ad-8c3c-1f1d0c9e8a77"
JOB = {"id": SRC, "status": "completed", "type": "ionq.circuit.v1"}

Call = Callable[[AsyncIonQ], Awaitable[Any]]

CALLS: dict[str, Call] = {
    "get": lambda c: c.jobs.get(SRC),
    "clone": lambda c: c.jobs.clone(SRC, shots=10),
    "clone-idempotent": lambda c: c.jobs.clone(SRC, metadata={"k": "v"}, idempotent=True),
}


async def _recording_server(
    seen: list[str], handler: Callable[[web.Request], web.StreamResponse]
) -> TestServer:
    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(f"{request.method} {request.path}")
        await request.read()
        return handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return TestServer(app, host="127.0.0.1")


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[TestServer, list[str]]]:
    """The redirect's target: it answers everything 200 and records what reached it."""
    seen: list[str] = []
    async with await _recording_server(seen, lambda _: web.json_response(JOB)) as srv:
        yield srv, seen


def _redirector(status: int, target: TestServer, seen: list[str]) -> Awaitable[TestServer]:
    def answer(request: web.Request) -> web.StreamResponse:
        location = str(target.make_url(request.path_qs).with_query(state="opaque-state"))
        return web.Response(status=status, headers={"Location": location})

    return _recording_server(seen, answer)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("call", sorted(CALLS))
async def test_a_redirect_is_not_followed_and_raises_its_status(
    elsewhere: tuple[TestServer, list[str]], status: int, call: str
) -> None:
    target, reached = elsewhere
    first: list[str] = []
    async with (
        await _redirector(status, target, first) as srv,
        AsyncIonQ(api_key=KEY, base_url=str(srv.make_url("/v0.4")), rate_limit=None) as client,
    ):
        with pytest.raises(APIStatusError) as info:
            await CALLS[call](client)
    assert reached == [], "the redirect was followed"
    assert len(first) == 1, "a 3xx is not retried"
    err = info.value
    assert type(err) is APIStatusError  # not a subclass, and never SubmissionUnknownError
    assert not isinstance(err, SubmissionUnknownError)
    assert err.status_code == status
    assert "127.0.0.1" in err.message
    assert KEY not in str(err) and "opaque-state" not in str(err)
    assert str(err).startswith(f"HTTP {status}: ")


@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("https://evil.example:8443/v0.4/jobs?x=1", "evil.example"),
        ("https://user:pw@other.example/path", "other.example"),
        ("/v0.4/jobs/elsewhere", None),
        (None, None),
    ],
)
def test_redirect_message_names_only_the_location_host(
    location: str | None, host: str | None
) -> None:
    headers = {} if location is None else {"location": location}
    err = error_from_response(308, headers, b"moved", reason="Permanent Redirect")
    assert type(err) is APIStatusError
    assert err.status_code == 308
    assert "not followed" in err.message
    if host is not None:
        assert f"to {host}" in err.message
    assert "pw" not in err.message and "x=1" not in err.message and "user" not in err.message
    assert "elsewhere" not in err.message
