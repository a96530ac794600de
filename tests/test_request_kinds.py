"""Retry by what an operation is: idempotent POSTs are retried, sessions are always ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ionq_async import (
    AsyncIonQ,
    NotFoundError,
    RetryPolicy,
    ServerError,
    SubmissionUnknownError,
)
from ionq_async._core import defaults
from ionq_async.testing import FakeIonQ, Fault

QPU = "qpu.forte-1"


async def no_wait(_: float) -> None:
    """A retry sleep that does not wait: the retries are counted, not timed."""


def retrying(sleep: Callable[[float], Awaitable[None]] = no_wait) -> RetryPolicy:
    return RetryPolicy(max_attempts=3, sleep=sleep)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(60.0, 60.0, 60.0)) as server:
        yield server


def sent(fake: FakeIonQ, method: str, route: str) -> int:
    return sum(1 for r in fake.requests if r.method == method and r.route == route)


@pytest.mark.parametrize("fault", [Fault.http(503), Fault.http(500), Fault.reset()])
async def test_a_session_end_that_fails_once_is_retried(fake: FakeIonQ, fault: Fault) -> None:
    async with fake.client(rate_limit=None, retry=retrying()) as client:
        session = await client.sessions.create(QPU)
        fake.faults.add("end_session", fault)
        ended = await client.sessions.end(session.id)
    assert ended.is_ended and ended.id == session.id
    assert sent(fake, "POST", "end_session") == 2
    assert fake.session_json(session.id)["status"] == "ended"


async def test_a_session_end_that_keeps_failing_is_a_server_error_not_a_lost_submission(
    fake: FakeIonQ,
) -> None:
    async with fake.client(rate_limit=None, retry=retrying()) as client:
        session = await client.sessions.create(QPU)
        fake.faults.add("end_session", Fault.http(503), times=3)
        with pytest.raises(ServerError) as info:
            await client.sessions.end(session.id)
    assert not isinstance(info.value, SubmissionUnknownError)
    assert info.value.status_code == 503
    assert sent(fake, "POST", "end_session") == 3


@pytest.mark.parametrize(
    ("route", "method", "call"),
    [
        ("cancel", "PUT", lambda c, ids: c.jobs.cancel(ids[0])),
        ("cancel_many", "PUT", lambda c, ids: c.jobs.cancel_many(ids)),
        ("delete_job", "DELETE", lambda c, ids: c.jobs.delete(ids[0])),
        ("delete_jobs", "DELETE", lambda c, ids: c.jobs.delete_many(ids)),
    ],
)
async def test_idempotent_changes_are_retried_like_reads(
    fake: FakeIonQ, route: str, method: str, call: Callable[[AsyncIonQ, list[str]], Any]
) -> None:
    ids = [fake.add_job(status="submitted").id for _ in range(2)]
    fake.faults.add(route, Fault.http(503))
    async with fake.client(rate_limit=None, retry=retrying()) as client:
        await call(client, ids)
    assert sent(fake, method, route) == 2


@pytest.mark.parametrize("route", ["clone", "create_session"])
async def test_a_creating_post_is_answered_once_never_resent(fake: FakeIonQ, route: str) -> None:
    source = fake.add_job(status="completed").id
    fake.faults.add(route, Fault.http(503))
    async with fake.client(rate_limit=None, retry=retrying()) as client:
        with pytest.raises(SubmissionUnknownError):
            if route == "clone":
                await client.jobs.clone(source)
            else:
                await client.sessions.create(QPU)
    assert sent(fake, "POST", route) == 1


async def _open_and_cancel_twice(client: AsyncIonQ) -> str:
    """A `sessions.open()` block cancelled, then cancelled again while its end is under way."""
    opened: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def body() -> None:
        async with client.sessions.open(QPU) as session:
            opened.set_result(session.id)
            await asyncio.Event().wait()

    task = asyncio.create_task(body())
    session_id = await opened
    task.cancel()
    for _ in range(100):  # until the end request is under way
        if client.sessions._ending:
            break
        await asyncio.sleep(0)
    assert client.sessions._ending
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return session_id


async def test_close_awaits_an_end_left_behind_by_a_twice_cancelled_block(
    fake: FakeIonQ,
) -> None:
    gate = asyncio.Event()

    async def held(_: float) -> None:
        await gate.wait()

    fake.faults.add("end_session", Fault.http(503))  # the end waits in its retry
    client = fake.client(rate_limit=None, retry=retrying(held))
    session_id = await _open_and_cancel_twice(client)
    closing = asyncio.create_task(client.close())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not closing.done(), "close() waits for the end still under way"
    assert fake.session_json(session_id)["status"] != "ended"
    gate.set()
    await closing
    assert fake.session_json(session_id)["status"] == "ended"
    assert sent(fake, "POST", "end_session") == 2


async def test_an_end_that_fails_behind_a_cancelled_block_is_logged_with_its_session(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    gate = asyncio.Event()

    async def held(_: float) -> None:
        await gate.wait()

    fake.faults.add("end_session", Fault.http(503))
    fake.faults.add("end_session", Fault.http(404))  # then a failure that is not retried
    client = fake.client(rate_limit=None, retry=retrying(held))
    with caplog.at_level(logging.WARNING, "ionq_async"):
        session_id = await _open_and_cancel_twice(client)
        closing = asyncio.create_task(client.close())
        gate.set()
        await closing
    [record] = [r for r in caplog.records if session_id in r.getMessage()]
    assert record.levelno == logging.WARNING and "could not end session" in record.getMessage()
    assert fake.api_key not in caplog.text


async def test_close_waits_a_bounded_time_then_warns_that_the_session_may_be_open(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def forever(_: float) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(defaults, "SESSION_END_WAIT", 0.01)
    fake.faults.add("end_session", Fault.http(503))
    client = fake.client(rate_limit=None, retry=retrying(forever))
    with caplog.at_level(logging.WARNING, "ionq_async"):
        session_id = await _open_and_cancel_twice(client)
        await client.close()
    assert client.closed and not client.sessions._ending
    [record] = [r for r in caplog.records if session_id in r.getMessage()]
    assert record.levelno == logging.WARNING and "may be open" in record.getMessage()
    assert fake.session_json(session_id)["status"] != "ended"


async def test_a_normal_exit_whose_end_fails_for_good_still_raises(fake: FakeIonQ) -> None:
    fake.faults.add("end_session", Fault.http(404))
    async with fake.client(rate_limit=None, retry=retrying()) as client:
        with pytest.raises(NotFoundError):
            async with client.sessions.open(QPU):
                pass
    assert sent(fake, "POST", "end_session") == 1
