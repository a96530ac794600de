"""A caller's aiohttp session changes nothing, and no error chain ever carries the API key."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest
from yarl import URL

from ionq_async import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    IonQError,
    NotFoundError,
    RetryPolicy,
    ServerError,
)
from ionq_async.testing import FakeIonQ, Fault

MISSING = "00000000-0000-4000-8000-000000000000"
FAULTS: dict[str, tuple[Fault | None, type[IonQError]]] = {
    "404": (None, NotFoundError),
    "401": (Fault.http(401), AuthenticationError),
    "503": (Fault.http(503), ServerError),
    "reset": (Fault.reset(), APIConnectionError),
    "timeout": (Fault.hang(), APITimeoutError),
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ() as server:
        yield server


def chain_text(error: BaseException) -> str:
    """The whole formatted chain, and the repr and attributes of every link in it."""
    parts = ["".join(traceback.format_exception(error))]
    link: BaseException | None = error
    while link is not None:
        parts += [repr(link), str(link), repr(vars(link))]
        link = link.__cause__ or link.__context__
    return "\n".join(parts)


async def failing_call(
    fake: FakeIonQ, case: str, session: aiohttp.ClientSession | None
) -> IonQError:
    fault, expected = FAULTS[case]
    job_id = MISSING if fault is None else fake.add_job(status="completed").id
    if fault is not None:
        # Twice: aiohttp itself resends a GET once on a dropped keep-alive connection of a
        # caller's session (it cannot be turned off per request); ours turns that off.
        fake.faults.add("get_job", fault, times=2)
    timeout = 0.2 if case == "timeout" else 60.0
    client = fake.client(
        rate_limit=None, retry=RetryPolicy.none(), session=session, request_timeout=timeout
    )
    async with client:
        with pytest.raises(expected) as info:
            await client.jobs.get(job_id)
    return info.value


@pytest.mark.parametrize("case", sorted(FAULTS))
@pytest.mark.parametrize("own", ["own session", "caller's raise_for_status session"])
async def test_no_error_chain_carries_the_key(
    fake: FakeIonQ, case: str, own: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with AsyncExitStack() as stack:
        session = None
        if own != "own session":
            session = await stack.enter_async_context(aiohttp.ClientSession(raise_for_status=True))
        with caplog.at_level(logging.DEBUG, "ionq_async"):
            error = await failing_call(fake, case, session)
    assert fake.api_key not in chain_text(error)
    assert fake.api_key not in caplog.text


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 500, 503])
async def test_a_raise_for_status_session_maps_statuses_exactly_as_the_client_does(
    fake: FakeIonQ, status: int
) -> None:
    job_id = fake.add_job(status="completed").id

    async def error_with(session: aiohttp.ClientSession | None) -> tuple[type[Any], int | None]:
        fake.faults.add("get_job", Fault.http(status))
        before = len(fake.requests)
        async with fake.client(rate_limit=None, retry=RetryPolicy.none(), session=session) as c:
            with pytest.raises(IonQError) as info:
                await c.jobs.get(job_id)
        assert len(fake.requests) - before == 1, "one request, no hidden retry"
        return type(info.value), getattr(info.value, "status_code", None)

    async with aiohttp.ClientSession(raise_for_status=True) as session:
        assert await error_with(session) == await error_with(None)
    assert (await error_with(None))[1] == status


async def test_a_404_through_a_raise_for_status_session_is_one_request_not_retried(
    fake: FakeIonQ,
) -> None:
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        fake.client(rate_limit=None, session=session) as client,
    ):
        with pytest.raises(NotFoundError):
            await client.jobs.get(MISSING)
        job = await client.jobs.get(fake.add_job(status="completed").id)
    assert job.status == "completed"
    assert [r.status for r in fake.requests if r.route == "get_job"] == [404, 200]


async def test_an_aiohttp_error_holding_the_request_is_never_chained(
    fake: FakeIonQ, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp's ClientResponseError carries `request_info`, whose headers hold the key."""
    seen: list[Any] = []

    async def failing(self: aiohttp.ClientSession, method: str, url: Any, **kw: Any) -> Any:
        seen.append(kw["headers"])
        info = aiohttp.RequestInfo(URL(str(url)), method, kw["headers"], URL(str(url)))
        raise aiohttp.ClientResponseError(info, (), status=500, message="odd")

    make: Callable[..., Any] = failing
    monkeypatch.setattr(aiohttp.ClientSession, "_request", make)
    async with fake.client(rate_limit=None, retry=RetryPolicy.none()) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.jobs.get(MISSING)
    assert seen and fake.api_key in str(seen[0]), "the fake did hold the key"
    error = info.value
    assert error.__cause__ is None and error.__context__ is None
    assert fake.api_key not in chain_text(error)
    assert "ClientResponseError" in str(error)
