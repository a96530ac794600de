"""jobs.wait / jobs.wait_many against the emulator: outcomes, batching, cancellation."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ionq_async import (
    AsyncIonQ,
    JobCanceledError,
    JobFailedError,
    JobStatus,
    NotFoundError,
    PollPolicy,
    RetryPolicy,
    WaitTimeoutError,
)
from ionq_async.testing import FakeIonQ, Fault

FAST = PollPolicy(initial=0.02, factor=1.5, max_interval=0.1, jitter=0.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.01, 0.02, 0.05)) as server:
        yield server


def _polls(fake: FakeIonQ) -> list[Any]:
    return [r for r in fake.requests if r.method == "GET" and r.path.startswith("/v0.4/jobs")]


async def test_wait_returns_completed_job(fake: FakeIonQ) -> None:
    src = fake.add_job(name="bell")
    seen: list[str] = []
    async with fake.client(rate_limit=None) as client:
        job = await client.jobs.wait(src.id, poll=FAST, on_status=lambda j: seen.append(j.status))
    assert job.status is JobStatus.COMPLETED
    assert job.id == src.id
    assert seen[-1] == "completed"
    assert len(seen) == len(set(seen)), "on_status is called on changes only"


async def test_wait_raises_job_failed_with_code_and_message(fake: FakeIonQ) -> None:
    src = fake.add_job(failure_code="QuantumComputerError")
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(JobFailedError) as info:
            await client.jobs.wait(src.id, poll=FAST)
        job = await client.jobs.wait(src.id, poll=FAST, raise_on_failure=False)
    assert info.value.code == "QuantumComputerError"
    assert info.value.failure is not None and info.value.failure.message
    assert info.value.job.status is JobStatus.FAILED
    assert job.status is JobStatus.FAILED


async def test_wait_raises_job_canceled(fake: FakeIonQ) -> None:
    src = fake.add_job(durations=(5.0, 5.0, 5.0))
    async with fake.client(rate_limit=None) as client:
        waiter = asyncio.create_task(client.jobs.wait(src.id, poll=FAST))
        await asyncio.sleep(0.05)
        await client.jobs.cancel(src.id)
        with pytest.raises(JobCanceledError) as info:
            await waiter
    assert info.value.job.status is JobStatus.CANCELED


async def test_wait_timeout_carries_last_job(fake: FakeIonQ) -> None:
    src = fake.add_job(durations=(5.0, 5.0, 5.0))
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(WaitTimeoutError) as info:
            await client.jobs.wait(src.id, poll=FAST, timeout=0.6)  # a poll answered first
    assert info.value.job is not None
    assert info.value.job.id == src.id
    assert info.value.job.status is JobStatus.SUBMITTED
    assert isinstance(info.value, TimeoutError)


async def test_a_wait_shorter_than_the_first_poll_still_looks(fake: FakeIonQ) -> None:
    done = fake.add_job(status="completed")
    running = fake.add_job(durations=(5.0, 5.0, 5.0))
    slow = PollPolicy(initial=2.0, jitter=0.0)
    async with fake.client(rate_limit=None) as client:  # polled at 0.3 s, half the timeout
        job = await client.jobs.wait(done.id, poll=slow, timeout=0.6)
        with pytest.raises(WaitTimeoutError) as info:
            await client.jobs.wait(running.id, poll=slow, timeout=0.6)
    assert job.status is JobStatus.COMPLETED
    assert info.value.job is not None and info.value.job.status is JobStatus.SUBMITTED
    assert len(_polls(fake)) == 2


async def test_an_outage_is_said_once_and_its_end_too(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    src = fake.add_job(status="completed")
    fake.faults.add("get_job", Fault.http(503), times=3)
    caplog.set_level(logging.WARNING, logger="ionq_async")
    async with fake.client(rate_limit=None, retry=RetryPolicy(max_attempts=1)) as client:
        job = await client.jobs.wait(src.id, poll=FAST)
    assert job.status is JobStatus.COMPLETED
    said = [r.getMessage() for r in caplog.records if r.name == "ionq_async"]
    assert len(said) == 2, said
    assert said[0].startswith("polling failed (") and "503" in said[0]
    assert said[1] == "polling works again"
    assert [r.status for r in fake.requests] == [503, 503, 503, 200]


async def test_cancel_on_timeout_cancels_remote_job(fake: FakeIonQ) -> None:
    src = fake.add_job(durations=(5.0, 5.0, 5.0))
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(WaitTimeoutError):
            await client.jobs.wait(src.id, poll=FAST, timeout=0.1, cancel_on_timeout=True)
    assert fake.status(src.id) == "canceled"


async def test_cancelled_waiter_with_cancel_on_timeout_cancels_remote_job(fake: FakeIonQ) -> None:
    src = fake.add_job(durations=(5.0, 5.0, 5.0))
    async with fake.client(rate_limit=None) as client:
        waiter = asyncio.create_task(client.jobs.wait(src.id, poll=FAST, cancel_on_timeout=True))
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert fake.status(src.id) == "canceled"


async def test_thousand_waits_are_polled_in_batches(fake: FakeIonQ) -> None:
    jobs = [fake.add_job(durations=(0.2, 0.2, 0.4)) for _ in range(1000)]
    policy = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, jitter=0.1)
    async with fake.client(rate_limit=None) as client:
        done = await asyncio.gather(*(client.jobs.wait(j.id, poll=policy) for j in jobs))
        assert all(j.status is JobStatus.COMPLETED for j in done)
        assert [j.id for j in done] == [j.id for j in jobs]
        stats = client.jobs._poller
        polls = _polls(fake)
    assert len(polls) == stats.requests, "every poll request reached the server log"
    assert stats.job_polls >= 2 * len(jobs), "each job was polled in several rounds"
    per_job_per_round = len(polls) / stats.job_polls
    assert per_job_per_round <= 0.2, (len(polls), stats.job_polls)
    batched = [r for r in polls if r.path == "/v0.4/jobs"]
    assert len(batched) > len(polls) / 2, "most polls are GET /jobs?ids=..."


async def test_wait_many_yields_each_job_once_in_completion_order(fake: FakeIonQ) -> None:
    slow = fake.add_job(durations=(0.05, 0.05, 0.3))
    fast = fake.add_job(durations=(0.01, 0.01, 0.01))
    failed = fake.add_job(durations=(0.01, 0.01, 0.05), failure_code="SimulationError")
    async with fake.client(rate_limit=None) as client:
        ids = [slow.id, fast.id, failed.id, fast.id]
        got = [j async for j in client.jobs.wait_many(ids, poll=FAST)]
    assert [j.id for j in got] == [fast.id, failed.id, slow.id]
    assert [j.status for j in got] == ["completed", "failed", "completed"]


async def test_wait_many_timeout_and_early_exit(fake: FakeIonQ) -> None:
    quick = fake.add_job(durations=(0.01, 0.01, 0.01))
    stuck = fake.add_job(durations=(9.0, 9.0, 9.0))
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(WaitTimeoutError) as info:
            async for _ in client.jobs.wait_many([quick.id, stuck.id], poll=FAST, timeout=0.2):
                pass
        assert info.value.job_id == stuck.id
        async with aclosing(client.jobs.wait_many([stuck.id, quick.id], poll=FAST)) as jobs:
            async for job in jobs:
                assert job.id == quick.id
                break
        assert client.jobs._poller.watched == 0


async def test_cancelling_100_waiters_leaves_nothing_pending(fake: FakeIonQ) -> None:
    jobs = [fake.add_job(durations=(9.0, 9.0, 9.0)) for _ in range(100)]
    before = asyncio.all_tasks()
    client = fake.client(rate_limit=None)
    waiters = [asyncio.create_task(client.jobs.wait(j.id, poll=FAST)) for j in jobs]
    await asyncio.sleep(0.1)
    for w in waiters:
        w.cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    try:
        await asyncio.sleep(0.05)
        assert client.jobs._poller.watched == 0
        mine = [t for t in asyncio.all_tasks() - before if "ionq_async" in t.get_name()]
        assert not mine, "the poller task stops when no one waits"
    finally:
        await client.close()
    await asyncio.sleep(0.05)
    leftover = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert not leftover, leftover


async def test_close_while_waiting_fails_the_waiter(fake: FakeIonQ) -> None:
    src = fake.add_job(durations=(9.0, 9.0, 9.0))
    client = fake.client(rate_limit=None)
    waiter = asyncio.create_task(client.jobs.wait(src.id, poll=FAST))
    await asyncio.sleep(0.05)
    await client.close()
    with pytest.raises(Exception, match="closed"):
        await waiter


class _OddServer:
    """A server whose job first reports an unknown status, and which ignores `ids`."""

    def __init__(self) -> None:
        self.ids = [str(uuid.uuid4()) for _ in range(3)]
        self.reads: dict[str, int] = dict.fromkeys(self.ids, 0)
        self.list_calls = 0

    def job(self, job_id: str) -> dict[str, Any]:
        self.reads[job_id] += 1
        status = "paused" if self.reads[job_id] < 3 else "completed"
        return {"id": job_id, "status": status, "type": "ionq.circuit.v1"}

    async def get(self, request: web.Request) -> web.Response:
        return web.json_response(self.job(request.match_info["id"]))

    async def list(self, request: web.Request) -> web.Response:
        self.list_calls += 1
        other = {"id": str(uuid.uuid4()), "status": "completed"}
        return web.json_response({"jobs": [other], "next": None})


@pytest.fixture
async def odd() -> AsyncIterator[tuple[_OddServer, str]]:
    state = _OddServer()
    app = web.Application()
    app.router.add_get("/v0.4/jobs/{id}", state.get)
    app.router.add_get("/v0.4/jobs", state.list)
    async with TestServer(app, host="127.0.0.1") as srv:
        yield state, str(srv.make_url("/v0.4"))


async def test_unknown_status_keeps_polling_and_ids_fallback(
    odd: tuple[_OddServer, str],
) -> None:
    state, url = odd
    statuses: list[str] = []
    async with AsyncIonQ("k", base_url=url, rate_limit=None) as client:
        done = await asyncio.gather(
            *(
                client.jobs.wait(i, poll=FAST, on_status=lambda j: statuses.append(j.status))
                for i in state.ids
            )
        )
    assert [j.status for j in done] == ["completed"] * 3
    assert "paused" in statuses
    assert state.list_calls == 1, "a server ignoring ids is detected once"
    assert all(n >= 3 for n in state.reads.values())


async def test_not_found_after_grace_is_raised(fake: FakeIonQ) -> None:
    """The 404 grace is the client's listing_lag."""
    async with fake.client(rate_limit=None, listing_lag=0.05) as client:
        with pytest.raises(NotFoundError):
            await client.jobs.wait(str(uuid.uuid4()), poll=FAST, timeout=5)
    with pytest.raises(ValueError, match="listing_lag"):
        fake.client(listing_lag=-1.0)


async def test_failing_on_status_callback_fails_only_its_waiter(fake: FakeIonQ) -> None:
    a, b = fake.add_job(), fake.add_job()

    def explode(job: Any) -> None:
        raise ValueError("callback bug")

    async with fake.client(rate_limit=None) as client:
        bad = asyncio.create_task(client.jobs.wait(a.id, poll=FAST, on_status=explode))
        good = await client.jobs.wait(b.id, poll=FAST)
        with pytest.raises(ValueError, match="callback bug"):
            await bad
    assert good.status is JobStatus.COMPLETED


async def test_two_waiters_on_one_job_share_its_polls(fake: FakeIonQ) -> None:
    src = fake.add_job(durations=(0.05, 0.05, 0.1))
    async with fake.client(rate_limit=None) as client:
        first, second = await asyncio.gather(
            client.jobs.wait(src.id, poll=FAST), client.jobs.wait(src.id, poll=FAST)
        )
        polled = client.jobs._poller.job_polls
    assert first == second
    assert polled <= 2 * 12, "one job is polled once per round, not once per waiter"
