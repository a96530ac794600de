"""`async with client.sessions.open(...)` ends its session on every way out; limits hold."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from ionq_async import (
    AsyncIonQ,
    BadRequestError,
    CloneRequest,
    NotFoundError,
    RetryPolicy,
    SessionStatus,
)
from ionq_async.testing import FakeIonQ, Fault

QPU = "qpu.forte-1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.01, 0.01, 0.02)) as server:
        yield server


@pytest.fixture
async def client(fake: FakeIonQ) -> AsyncIterator[AsyncIonQ]:
    async with fake.client(rate_limit=None, retry=RetryPolicy.none()) as c:
        yield c


async def status_of(client: AsyncIonQ, session_id: str) -> SessionStatus | str:
    return (await client.sessions.get(session_id)).status


async def test_ended_after_a_normal_exit(fake: FakeIonQ, client: AsyncIonQ) -> None:
    async with client.sessions.open(QPU, job_count_limit=3) as session:
        assert session.status is SessionStatus.CREATED
        assert await status_of(client, session.id) == "created"
        assert session.settings.job_count_limit == 3
    assert await status_of(client, session.id) is SessionStatus.ENDED
    assert fake.session_json(session.id)["ender_id"] is not None


async def test_ended_after_an_exception_which_propagates(client: AsyncIonQ) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with client.sessions.open(QPU) as session:
            raise RuntimeError("boom")
    assert await status_of(client, session.id) is SessionStatus.ENDED


async def test_ended_after_cancellation(fake: FakeIonQ, client: AsyncIonQ) -> None:
    opened: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def body() -> None:
        async with client.sessions.open(QPU, duration_limit_min=60) as session:
            opened.set_result(session.id)
            await asyncio.sleep(3600)

    task = asyncio.create_task(body())
    session_id = await opened
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await status_of(client, session_id) is SessionStatus.ENDED


async def test_ended_even_when_cancelled_again_while_ending(client: AsyncIonQ) -> None:
    opened: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def body() -> None:
        async with client.sessions.open(QPU) as session:
            opened.set_result(session.id)
            await asyncio.sleep(3600)

    task = asyncio.create_task(body())
    session_id = await opened
    task.cancel()
    for _ in range(100):  # until the end request is under way
        if client.sessions._ending:
            break
        await asyncio.sleep(0)
    assert client.sessions._ending
    task.cancel()  # a second cancellation does not stop it
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(5):
        await asyncio.gather(*client.sessions._ending)
    assert await status_of(client, session_id) is SessionStatus.ENDED


async def test_an_end_that_fails_after_an_exception_is_logged_not_raised(
    fake: FakeIonQ, client: AsyncIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    fake.faults.add("end_session", Fault.http(404))
    with caplog.at_level(logging.WARNING, "ionq_async"), pytest.raises(KeyError):
        async with client.sessions.open(QPU) as session:
            raise KeyError("the body's own error")
    assert await status_of(client, session.id) is SessionStatus.CREATED
    [record] = [r for r in caplog.records if "could not end session" in r.getMessage()]
    assert record.levelno == logging.WARNING and session.id in record.getMessage()
    assert fake.api_key not in caplog.text


async def test_an_end_that_fails_after_a_normal_exit_is_raised(
    fake: FakeIonQ, client: AsyncIonQ
) -> None:
    fake.faults.add("end_session", Fault.http(404))
    with pytest.raises(NotFoundError):
        async with client.sessions.open(QPU):
            pass


async def test_a_session_that_cannot_be_created_runs_no_body(client: AsyncIonQ) -> None:
    ran = False
    with pytest.raises(BadRequestError):
        async with client.sessions.open("qpu.nope"):
            ran = True
    assert not ran


async def test_the_emulator_refuses_clones_past_the_job_count_limit(
    fake: FakeIonQ, client: AsyncIonQ
) -> None:
    sources = [fake.add_job(backend=QPU, status="completed").id for _ in range(3)]
    async with client.sessions.open(QPU, job_count_limit=2) as session:
        request = CloneRequest(session_id=session.id, backend=QPU)
        first = await client.jobs.clone(sources[0], request)
        second = await client.jobs.clone(sources[1], request)
        assert {first.session_id, second.session_id} == {session.id}
        assert await status_of(client, session.id) is SessionStatus.ENDED  # the limit ended it
        with pytest.raises(BadRequestError) as info:
            await client.jobs.clone(sources[2], request)
    assert info.value.validation_keys == ("session_id",)
    assert session.id in info.value.message and "job count limit of 2" in info.value.message
    listed = [job.id async for job in client.sessions.jobs(session.id)]
    assert sorted(listed) == sorted([first.id, second.id])
