"""The engine at its edges, over real HTTP: long Retry-After on polls, clone bounds, listing lag."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import pytest
from _proxy import Proxy, Rewrite
from aiohttp import web
from conftest import Clock

import ionq_async
from ionq_async import (
    IonQError,
    PollPolicy,
    RateLimitError,
    RetryPolicy,
    ServerError,
    SubmissionUnknownError,
)
from ionq_async.testing import FakeIonQ, Fault, FaultPlan

FAST = PollPolicy(initial=0.02, factor=1.5, max_interval=0.1, jitter=0.0)
QUICK = RetryPolicy(initial_wait=0.01, max_wait=0.05, jitter=0.0, max_retry_after=0.05)


def _polls(fake: FakeIonQ) -> list[Any]:
    return [r for r in fake.requests if r.route == "list_jobs"]


async def test_a_retry_after_longer_than_max_retry_after_on_a_poll_ends_no_waiter() -> None:
    """Issue 18: one 429 on a poll, Retry-After above max_retry_after, failed 25 of 30."""
    plan = FaultPlan().sequence("list_jobs", [None, Fault.rate_limited(0.4)])
    async with FakeIonQ(durations=(0.01, 0.02, 0.05), faults=plan) as fake:
        sources = [fake.add_job().id for _ in range(30)]
        async with fake.client(retry=QUICK) as client:
            report = await client.jobs.rerun_all(sources, poll=FAST, concurrency=30)
            assert client.jobs._poller.watched == 0
    assert report.counts["completed"] == 30, [o.error for o in report.outcomes if o.error]
    limited = [r for r in _polls(fake) if r.status == 429]
    assert len(limited) == 1, "the 429 was served on a poll"
    last_poll = max(r.time for r in _polls(fake))
    assert last_poll - limited[0].time >= 0.35, "its jobs were polled again after the Retry-After"
    assert all(len(fake.clones_of(s)) == 1 for s in sources)


# --- one bound per submission ----------------------------------------------------------------


def _clone_posts(fake: FakeIonQ) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/clone"))


def _visible_chain(error: BaseException | None) -> list[BaseException]:
    """The exceptions a traceback of `error` shows: causes, and contexts not suppressed."""
    chain: list[BaseException] = []
    while error is not None and error not in chain:
        chain.append(error)
        suppressed = error.__cause__ is not None or error.__suppress_context__
        error = error.__cause__ if suppressed else error.__context__
    return chain


def _assert_public(error: BaseException) -> None:
    for link in _visible_chain(error):
        cls = type(link)
        assert not cls.__name__.startswith("_"), f"private class in the chain: {cls!r}"
        if cls.__module__.startswith("ionq_async"):
            assert getattr(ionq_async, cls.__name__, None) is cls, f"not public: {cls!r}"


async def test_max_attempts_bounds_the_posts_of_an_idempotent_clone() -> None:
    """Issue 18: max_attempts=3 sent 7 POSTs (a loop in a loop) and raised `_Absent`."""
    async with FakeIonQ() as fake:
        src = fake.add_job()
        fake.faults.add("clone", Fault.http(503), times=20)
        retry = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.0)
        async with fake.client(rate_limit=None, retry=retry, listing_lag=0.05) as client:
            with pytest.raises(IonQError) as caught:
                await client.jobs.clone(src.id, idempotent=True)
    assert type(caught.value) is SubmissionUnknownError
    assert caught.value.token and caught.value.source_id == src.id
    _assert_public(caught.value)
    assert _clone_posts(fake) == 3
    assert fake.clones_of(src.id) == []
    scans = [r for r in fake.requests if r.route == "list_jobs" and ("limit", "1000") in r.query]
    assert len(scans) >= 3, "each lost answer was looked up (twice, across the listing lag)"


async def test_a_429_on_every_clone_post_is_bounded_by_max_attempts_without_lookups() -> None:
    async with FakeIonQ() as fake:
        src = fake.add_job()
        fake.faults.add("clone", Fault.rate_limited("0.01"), times=20)
        retry = RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=0.02, jitter=0.0)
        async with fake.client(rate_limit=None, retry=retry) as client:
            with pytest.raises(RateLimitError) as caught:
                await client.jobs.clone(src.id, idempotent=True)
    _assert_public(caught.value)
    assert _clone_posts(fake) == 4
    assert not [r for r in fake.requests if r.route == "list_jobs"], "a 429 created nothing"


async def test_a_failed_search_after_a_lost_answer_shows_only_public_errors() -> None:
    async with FakeIonQ() as fake:
        src = fake.add_job()
        fake.faults.add("clone", Fault.http(502)).add("list_jobs", Fault.http(500), times=50)
        retry = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.0)
        async with fake.client(rate_limit=None, retry=retry, listing_lag=0.0) as client:
            with pytest.raises(SubmissionUnknownError) as caught:
                await client.jobs.clone(src.id, idempotent=True)
    assert type(caught.value) is SubmissionUnknownError and caught.value.token
    _assert_public(caught.value)
    assert isinstance(caught.value.__cause__, ServerError)
    assert _clone_posts(fake) == 1, "an unknown outcome is never sent again"


# --- listing lag -----------------------------------------------------------------------------

LIST_LAG = 2.0


def _lagging_list(fake: FakeIonQ) -> Rewrite:
    """A job list that shows a job only LIST_LAG s (emulator clock) after it was created."""

    def rewrite(request: web.Request, status: int, body: bytes) -> tuple[int, bytes] | None:
        if request.method != "GET" or request.path != "/v0.4/jobs" or status != 200:
            return None
        data = json.loads(body)
        now = fake.now()
        data["jobs"] = [
            j
            for j in data["jobs"]
            if now - datetime.fromisoformat(j["submitted_at"]).timestamp() >= LIST_LAG
        ]
        return status, json.dumps(data).encode()

    return rewrite


def _advancing(clock: Clock) -> Any:
    """A sleep that moves the emulator's clock instead of waiting."""

    async def sleep(delay: float) -> None:
        clock.t += delay
        await asyncio.sleep(0)

    return sleep


async def test_a_lagging_list_and_a_lost_answer_make_no_second_clone(clock: Clock) -> None:
    """Issue 18: with a list 2 s behind its writes, a lost answer led to a second paid clone."""
    plan = FaultPlan().add("clone", Fault.commit_then_fail())
    async with FakeIonQ(faults=plan, clock=clock) as fake, Proxy(fake, _lagging_list(fake)) as px:
        src = fake.add_job()
        clock.t += 60
        retry = RetryPolicy(initial_wait=0.01, max_wait=0.02, sleep=_advancing(clock))
        async with px.client(rate_limit=None, retry=retry) as client:
            created = await client.jobs.clone(src.id, idempotent=True)
            assert client.jobs._token_index.sizes["wanted"] == 0
    clones = fake.clones_of(src.id)
    assert [c.id for c in clones] == [created.id], "found by its token once listed"
    assert _clone_posts(fake) == 1
    scans = [r for r in fake.requests if r.route == "list_jobs"]
    assert len(scans) == 2, "one scan at once, one after the listing lag"
    assert clock.t - clones[0].created >= LIST_LAG


async def test_a_batch_on_a_lagging_list_clones_each_source_once(clock: Clock) -> None:
    plan = FaultPlan().add("clone", Fault.commit_then_fail(), times=5)
    async with FakeIonQ(faults=plan, clock=clock) as fake, Proxy(fake, _lagging_list(fake)) as px:
        sources = [fake.add_job().id for _ in range(5)]
        clock.t += 60
        retry = RetryPolicy(initial_wait=0.01, max_wait=0.02, sleep=_advancing(clock))
        async with px.client(rate_limit=None, retry=retry, listing_lag=5.0) as client:
            report = await client.jobs.rerun_all(sources, wait=False, concurrency=5)
    assert report.counts["submitted"] == 5, [o.error for o in report.outcomes]
    assert all(len(fake.clones_of(s)) == 1 for s in sources)
    assert _clone_posts(fake) == 5
