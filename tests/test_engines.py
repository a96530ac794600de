"""The poller and the batch engine alone, on in-memory operations and in fake time."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
import warnings
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from _faketime import FakeOps, FakeTime, policy

from ionq_async import (
    Job,
    JobCreated,
    JobStatus,
    PollPolicy,
    RateLimitError,
    RetryBudget,
    ServerError,
    SubmissionUnknownError,
    WaitTimeoutError,
)
from ionq_async._batch.run import Engines, rerun_all
from ionq_async._batch.types import RerunOptions
from ionq_async._core.ratelimit import RateLimiter
from ionq_async._engine.idempotency import TOKEN_KEY, TokenIndex, clone_idempotent, new_token
from ionq_async._engine.polling import Poller
from ionq_async._engine.token_index import MAX_SCOPES, SEEN_KEEP
from ionq_async._engine.waits import wait, wait_many
from ionq_async.errors import NotFoundError, ResponseValidationError

STEADY = PollPolicy(initial=1.0, factor=1.5, max_interval=30.0, jitter=0.0)


def make_poller(t: FakeTime, ops: FakeOps, budget: RetryBudget | None = None) -> Poller:
    return Poller(ops, retry=policy(t), budget=budget, clock=t.clock, sleep=t.sleep)


# --- the poller ---------------------------------------------------------------------------


async def test_the_poll_schedule_passes_in_fake_time() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    job_a, job_b = ops.add(ends_at=100.0), ops.add(ends_at=100.0)
    poller = make_poller(t, ops)
    started = time.monotonic()
    a, b = poller.watch(job_a, STEADY), poller.watch(job_b, STEADY)
    done = await t.run(asyncio.gather(a.future, b.future))
    await poller.close()
    assert [j.status for j in done] == [JobStatus.COMPLETED] * 2
    expected, at, step = [], 0.0, 1.0
    while at < 100.0:
        at += step
        expected.append(at)
        step = min(step * 1.5, 30.0)
    assert ops.read_times == pytest.approx(expected), "one batched read per round, on schedule"
    assert t.now == pytest.approx(expected[-1])
    assert time.monotonic() - started < 2.0, "minutes of schedule, no real waiting"


async def test_jitter_moves_each_poll_but_not_the_schedule() -> None:
    """Compounded jitter would spread a batch's rounds past the coalescing window."""
    t = FakeTime()
    ops = FakeOps(t)
    policy = PollPolicy(initial=1.0, factor=1.5, max_interval=30.0, jitter=0.1)
    poller = make_poller(t, ops)
    watches = [poller.watch(ops.add(ends_at=1e9), policy) for _ in range(200)]
    rounds: list[list[float]] = []
    real_read = ops.read_states

    async def record(ids: Any, **kw: Any) -> Any:
        rounds.append([t.now] * len(ids))
        return await real_read(ids, **kw)

    ops.read_states = record  # type: ignore[method-assign]
    await t.run(_until(t, 20.0))
    for w in watches:
        poller.unwatch(w)
    await poller.close()
    schedule = [1.0, 2.5, 4.75, 8.125, 13.1875]
    assert len(rounds) >= 2 * len(schedule), "200 jobs: two chunks per round"
    starts = sorted({round(r[0], 6) for r in rounds})
    assert len(starts) <= 2 * len(schedule), "rounds stay together: no drift"
    for nominal in schedule:
        near = [s for s in starts if abs(s - nominal) <= 0.1 * nominal + 0.25 * nominal]
        assert near, f"no round near {nominal} s: {starts}"


async def _until(t: FakeTime, when: float) -> None:
    await t.sleep(when)


async def test_a_round_reads_due_jobs_in_chunks_of_100() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    ids = [ops.add(ends_at=1.0) for _ in range(250)]
    poller = make_poller(t, ops)
    watches = [poller.watch(i, STEADY) for i in ids]
    await t.run(asyncio.gather(*(w.future for w in watches)))
    await poller.close()
    assert ops.calls["read_states"] == 3 and ops.calls["get"] == 0


async def test_watches_added_one_by_one_are_polled_in_full_rounds() -> None:
    """Every new watch wakes the poller; a wake with nothing due yet must start no round."""
    t = FakeTime()
    ops = FakeOps(t)
    poller = make_poller(t, ops)
    watches = []

    async def add_steadily() -> None:
        for _ in range(400):  # one every 2.5 ms: first polls due from 1.0 s to 2.0 s
            watches.append(poller.watch(ops.add(ends_at=1.0), STEADY))
            await t.sleep(0.0025)
        await asyncio.gather(*(w.future for w in watches))

    await t.run(add_steadily())
    await poller.close()
    # Rounds at 1.0, 1.25, 1.5 and 1.75 s, each taking the next 0.25 s of watches (~100);
    # not a round (a single GET) for each watch as it comes within 0.25 s of its poll.
    assert ops.calls["read_states"] + ops.calls["get"] <= 6


async def test_an_outage_is_polled_through_while_the_budget_pays_then_fails() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    job = ops.add(ends_at=1000.0)
    ops.read_error = ServerError("down", status_code=520)
    poller = make_poller(t, ops, budget=RetryBudget(capacity=10, retry_cost=5))
    other = ops.add(ends_at=1000.0)
    w, w2 = poller.watch(job, STEADY), poller.watch(other, STEADY)
    with pytest.raises(ServerError):
        await t.run(w.future)
    with pytest.raises(ServerError):
        await w2.future
    await poller.close()
    assert ops.calls["read_states"] == 3, "two failed rounds paid by the budget, the third ends it"


async def test_an_answer_of_the_wrong_shape_ends_the_wait() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    ops.read_error = ResponseValidationError("asked for one job, got another")
    poller = make_poller(t, ops)
    w = poller.watch(ops.add(ends_at=5.0), STEADY)
    w2 = poller.watch(ops.add(ends_at=5.0), STEADY)
    with pytest.raises(ResponseValidationError):
        await t.run(w.future)
    with pytest.raises(ResponseValidationError):
        await w2.future
    await poller.close()
    assert ops.calls["read_states"] == 1


async def test_a_watch_times_out_at_its_deadline() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    poller = make_poller(t, ops)
    w = poller.watch(ops.add(ends_at=1e5), STEADY, timeout=42.0)
    with pytest.raises(WaitTimeoutError) as caught:
        await t.run(w.future)
    await poller.close()
    assert t.now == pytest.approx(42.0)
    assert caught.value.job is not None and caught.value.job.status == JobStatus.STARTED
    assert poller.watched == 0


async def test_404_soon_after_a_clone_is_polled_again() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    job = ops.add(ends_at=3.0)
    lost = {"n": 2}
    real_get = ops.get

    async def flaky_get(job_id: str, **kw: Any) -> Any:
        if lost["n"]:
            lost["n"] -= 1
            raise NotFoundError("not listed yet", status_code=404)
        return await real_get(job_id, **kw)

    ops.get = flaky_get  # type: ignore[method-assign]
    poller = make_poller(t, ops)
    done = await t.run(poller.watch(job, STEADY).future)
    await poller.close()
    assert done.status == JobStatus.COMPLETED


async def test_an_async_callback_that_awaits_another_wait_does_not_deadlock() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    first, second = ops.add(ends_at=2.0), ops.add(ends_at=20.0)
    poller = make_poller(t, ops)
    seen: list[str] = []

    async def on_status(job: Any) -> None:
        other = await poller.watch(second, STEADY).future
        seen.append(f"{job.status}:{other.status}")

    done = await t.run(poller.watch(first, STEADY, on_status).future)
    await poller.close()
    assert done.status == JobStatus.COMPLETED
    assert seen == ["started:completed", "completed:completed"], "the waiter sees its callbacks run"


async def test_a_raising_callback_is_logged_and_ends_only_its_waiter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = FakeTime()
    ops = FakeOps(t)
    poller = make_poller(t, ops)

    def explode(job: Any) -> None:
        raise ValueError("callback bug")

    bad = poller.watch(ops.add(ends_at=3.0), STEADY, explode)
    good = poller.watch(ops.add(ends_at=3.0), STEADY)
    with pytest.raises(ValueError, match="callback bug"):
        await t.run(bad.future)
    assert (await t.run(good.future)).status == JobStatus.COMPLETED
    await poller.close()
    assert "on_status raised" in caplog.text


# --- waiting the server out, deadlines on time -----------------------------------------------


class LimitedOps(FakeOps):
    """FakeOps whose next batched read answers 429 with a Retry-After."""

    def __init__(self, time: FakeTime, retry_after: float | None) -> None:
        super().__init__(time)
        self.retry_after = retry_after
        self.limited_at: list[float] = []

    async def read_states(self, ids: Any, *, retry: Any = None) -> Any:
        if not self.limited_at:
            self.limited_at.append(self.time.now)
            self.calls["read_states"] += 1
            self.read_times.append(self.time.now)
            raise RateLimitError("slow down", status_code=429, retry_after=self.retry_after)
        return await super().read_states(ids, retry=retry)


async def test_a_429_longer_than_max_retry_after_ends_no_wait_and_pauses_every_request() -> None:
    t = FakeTime()
    ops = LimitedOps(t, retry_after=300.0)
    limiter = RateLimiter("adaptive", clock=t.clock, sleep=t.sleep)
    retry = policy(t, max_retry_after=60.0)
    poller = Poller(ops, retry=retry, clock=t.clock, sleep=t.sleep, pause=limiter.pause)
    ids = [ops.add(ends_at=5.0) for _ in range(30)]
    done = await t.run(asyncio.gather(*(poller.watch(i, STEADY).future for i in ids)))
    assert [j.status for j in done] == [JobStatus.COMPLETED] * 30
    (limited,) = ops.limited_at
    after = [at for at in ops.read_times if at > limited]
    assert after and min(after) >= limited + 300.0, "no poll before the Retry-After passed"
    assert poller.watched == 0
    other = await t.run(limiter.acquire())
    assert other >= limited + 300.0, "every request waits beyond the limiter's max_pause"
    await poller.close()


async def test_a_429_without_retry_after_or_outside_retry_statuses_ends_no_wait() -> None:
    t = FakeTime()
    for retry in (policy(t), policy(t, retry_statuses={503})):
        ops = LimitedOps(t, retry_after=None)
        poller = Poller(ops, retry=retry, clock=t.clock, sleep=t.sleep)
        ids = [ops.add(ends_at=t.now + 5.0) for _ in range(2)]
        done = await t.run(asyncio.gather(*(poller.watch(i, STEADY).future for i in ids)))
        await poller.close()
        assert [j.status for j in done] == [JobStatus.COMPLETED] * 2
        assert ops.limited_at


async def test_a_5xx_with_retry_after_on_a_poll_is_polled_again_no_sooner() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    ids = [ops.add(ends_at=1.0) for _ in range(2)]
    real = ops.read_states
    calls = {"n": 0}

    async def once_unavailable(batch: Any, *, retry: Any = None) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            ops.read_times.append(t.now)
            raise ServerError("maintenance", status_code=503, retry_after=100.0)
        return await real(batch, retry=retry)

    ops.read_states = once_unavailable  # type: ignore[method-assign]
    poller = make_poller(t, ops)
    done = await t.run(asyncio.gather(*(poller.watch(i, STEADY).future for i in ids)))
    await poller.close()
    assert [j.status for j in done] == [JobStatus.COMPLETED] * 2
    assert ops.read_times == [1.0, pytest.approx(101.0)]


async def test_a_deadline_fires_on_time_whatever_the_poll_interval() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    poller = make_poller(t, ops)
    slow = PollPolicy(initial=60.0, factor=1.0, max_interval=60.0, jitter=0.0)
    cancelled: list[str] = []

    async def cancel(job_id: str) -> None:
        cancelled.append(job_id)

    job = ops.add(ends_at=1e4)
    with pytest.raises(WaitTimeoutError) as caught:
        await t.run(
            wait(
                poller,
                job,
                cancel,
                timeout=1.0,
                poll=slow,
                raise_on_failure=True,
                on_status=None,
                cancel_on_timeout=True,
            )
        )
    assert t.now == pytest.approx(1.0)
    assert caught.value.timeout == 1.0 and caught.value.job_id == job
    assert cancelled == [job]
    assert ops.calls["read_states"] == 0, "no poll was due"
    await poller.close()


async def test_a_deadline_fires_on_time_while_a_poll_hangs_or_the_server_pauses() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    real = ops.read_states

    async def hanging(ids: Any, *, retry: Any = None) -> Any:
        await t.sleep(500.0)
        return await real(ids, retry=retry)

    ops.read_states = hanging  # type: ignore[method-assign]
    poller = make_poller(t, ops)
    w = poller.watch(ops.add(ends_at=1e4), STEADY, timeout=10.0)
    with pytest.raises(WaitTimeoutError):
        await t.run(w.future)
    assert t.now == pytest.approx(10.0), "the poll in flight since 1 s did not delay it"
    await poller.close()

    t = FakeTime()
    limited = LimitedOps(t, retry_after=3600.0)
    poller = make_poller(t, limited)
    first = [poller.watch(limited.add(ends_at=1e4), STEADY) for _ in range(2)]
    w = poller.watch(limited.add(ends_at=1e4), STEADY, timeout=100.0)
    with pytest.raises(WaitTimeoutError):
        await t.run(w.future)
    assert t.now == pytest.approx(100.0), "a pause of an hour did not delay a 100 s deadline"
    assert limited.limited_at == [1.0]
    assert not any(f.future.done() for f in first), "the other waits go on"
    await poller.close()


async def test_wait_many_shares_one_deadline_and_names_the_first_unfinished_job() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    poller = make_poller(t, ops)
    quick, stuck, late = ops.add(ends_at=2.0), ops.add(ends_at=1e4), ops.add(ends_at=1e4)
    got: list[str] = []

    async def consume() -> None:
        many = wait_many(
            poller,
            [stuck, quick, late],
            poll=STEADY,
            timeout=30.0,
            raise_on_failure=False,
            on_status=None,
        )
        async for job in many:
            got.append(job.id)

    with pytest.raises(WaitTimeoutError) as caught:
        await t.run(consume())
    assert got == [quick]
    assert caught.value.job_id == stuck and caught.value.timeout == 30.0
    assert t.now == pytest.approx(30.0)
    assert poller.watched == 0
    await poller.close()


async def test_the_pollers_maps_keep_nothing_past_a_jobs_end() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    poller = make_poller(t, ops)
    keep = poller.watch(ops.add(ends_at=1e6), STEADY)
    for round_ in range(20):
        ids = [ops.add(ends_at=t.now + 2.0) for _ in range(100)]
        watches = [poller.watch(i, STEADY, timeout=3600.0) for i in ids]
        await t.run(asyncio.gather(*(w.future for w in watches)))
        sizes = (len(poller._schedule), len(poller._by_job))
        assert max(sizes) <= 2 * 64 + 3, f"round {round_}: {sizes}"
    assert poller.watched == 1
    poller.unwatch(keep)
    assert len(poller._schedule) == 0 and poller._by_job == {}
    await t.run(asyncio.sleep(0))
    assert not poller._rounds and not poller._callbacks and not poller._background
    await poller.close()


# --- bounded memory of the token index -------------------------------------------------------


class ManyClones:
    """post_clone and list pages in memory, for 100,000 clones; some answers lost."""

    def __init__(self, t: FakeTime, *, lose_every: int, drop_every: int) -> None:
        self.t = t
        self.lose_every, self.drop_every = lose_every, drop_every
        self.jobs: list[Job] = []
        self.posts = 0

    async def post_clone(self, job_id: str, body: Any, *, retry: Any = None) -> JobCreated:
        self.posts += 1
        self.t.now += 1.0
        if self.posts % self.drop_every == 0:
            raise SubmissionUnknownError("lost before it was created", request=body)
        job = Job(
            id=f"job-{self.posts}",
            status=JobStatus.SUBMITTED,
            metadata=dict(body["metadata"]),
            submitted_at=self.t.wall(),
        )
        self.jobs.append(job)
        if self.posts % self.lose_every == 0:
            raise SubmissionUnknownError("answer lost", request=body)
        return JobCreated(id=job.id)

    async def pages(self, params: Any, *, retry: Any = None) -> AsyncGenerator[list[Job], None]:
        limit, start = int(dict(params)["limit"]), 0
        while True:
            top = len(self.jobs) - 1 - start
            yield [self.jobs[i] for i in range(top, max(-1, top - limit), -1)]
            if top - limit < 0:
                return
            start += limit


async def test_a_hundred_thousand_idempotent_clones_keep_the_token_index_flat() -> None:
    t = FakeTime()
    ops = ManyClones(t, lose_every=50, drop_every=997)
    retry = policy(t, initial_wait=0.1, max_wait=0.1, jitter=0.0)
    index = TokenIndex(ops, retry=retry, now=t.wall, listing_lag=10.0)
    sizes: list[dict[str, int]] = []

    async def clone_many(n: int) -> None:
        for i in range(n):
            token = new_token()
            body = {"session_id": f"s-{i % 6007}", "metadata": {TOKEN_KEY: token}}
            await clone_idempotent(ops, "src", body, token=token, index=index, retry=retry)

    for _ in range(10):
        await t.run(clone_many(10_000))
        sizes.append(index.sizes)
    assert ops.posts > 100_000 and index.scans >= 2_000
    assert len({j.metadata["ionq_async_token"] for j in ops.jobs if j.metadata}) == len(ops.jobs)
    for size in sizes:
        assert size["wanted"] == size["found"] == 0, sizes
        assert size["scopes"] <= MAX_SCOPES and size["seen"] <= MAX_SCOPES * SEEN_KEEP, sizes
    assert sizes[-1]["scopes"] == sizes[2]["scopes"] and sizes[-1]["seen"] <= sizes[2]["seen"] * 1.1


async def test_a_clone_cancelled_during_the_listing_lag_leaves_no_token_behind() -> None:
    t = FakeTime()
    ops = ManyClones(t, lose_every=10**9, drop_every=1)
    retry = policy(t)
    index = TokenIndex(ops, retry=retry, now=t.wall, listing_lag=10.0)
    body = {"metadata": {TOKEN_KEY: "tok"}}
    task = asyncio.ensure_future(
        clone_idempotent(ops, "src", body, token="tok", index=index, retry=retry)
    )
    await t.run(asyncio.sleep(0))
    assert index.sizes["wanted"] == 1 and index.scans == 1, "waiting out the listing lag"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert index.sizes["wanted"] == index.sizes["found"] == 0
    assert ops.posts == 1


async def test_a_lost_answer_is_sent_again_only_after_the_listing_lag_and_a_rescan() -> None:
    t = FakeTime()
    ops = ManyClones(t, lose_every=10**9, drop_every=2)
    retry = policy(t, initial_wait=0.5, max_wait=0.5, jitter=0.0)
    index = TokenIndex(ops, retry=retry, now=t.wall, listing_lag=10.0)
    for token in ("a", "b"):
        body = {"metadata": {TOKEN_KEY: token}}
        await t.run(clone_idempotent(ops, "src", body, token=token, index=index, retry=retry))
    assert ops.posts == 3 and len(ops.jobs) == 2, "b's first POST created nothing"
    assert index.scans == 2, "one scan at once, one after the lag"
    assert t.now == pytest.approx(2.0 + 10.0 + 0.5 + 1.0), "lost at 2 s, the lag, the backoff"


async def test_a_token_is_kept_only_while_someone_looks_for_it() -> None:
    t = FakeTime()
    ops = FakeOps(t)
    index = TokenIndex(ops, now=t.wall, retry=policy(t))
    first = ops.add()
    ops.metadata[first][TOKEN_KEY] = "mine"
    index.note("stranger", "job-x")
    assert await t.run(index.find("mine", since=t.wall())) == first
    assert await t.run(index.find("absent", since=t.wall())) is None
    assert index.sizes == {"wanted": 0, "found": 0, "scopes": 1, "seen": 1}
    with pytest.raises(ValueError, match="listing_lag"):
        TokenIndex(ops, listing_lag=-1.0)


# --- the batch engine ----------------------------------------------------------------------


def engines(t: FakeTime, ops: FakeOps, **kw: Any) -> Engines:
    retry = policy(t, **kw)
    poller = Poller(ops, retry=retry, clock=t.clock, sleep=t.sleep)
    index = TokenIndex(ops, retry=retry, now=t.wall)
    return Engines(ops, poller, index, retry, None, clock=t.clock)


async def test_a_batch_reads_sources_in_chunks_and_respects_concurrency() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=30.0)
    ops.clone_delay = 0.5
    ids = [ops.add() for _ in range(300)]
    eng = engines(t, ops)
    report = await t.run(rerun_all(eng, ids, {}, RerunOptions(concurrency=10, poll=STEADY)))
    await eng.poller.close()
    assert report.counts["completed"] == 300
    assert ops.peak == 10
    assert ops.calls["post_clone"] == 300
    assert ops.calls["get"] == 0, "source metadata comes from batched reads"
    source_reads = [r for r in ops.read_ids if set(r) <= set(ids)]
    assert [len(r) for r in source_reads] == [100, 100, 100], "metadata in chunks of 100"
    assert all(len(ops.clones_of(i)) == 1 for i in ids)
    assert report.duration == pytest.approx(t.now)


async def test_a_batch_timeout_settles_a_source_as_error_in_fake_time() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=1e4)
    ids = [ops.add() for _ in range(3)]
    eng = engines(t, ops)
    options = RerunOptions(poll=STEADY, timeout=60.0, idempotent=False)
    report = await t.run(rerun_all(eng, ids, {}, options))
    await eng.poller.close()
    assert report.counts["error"] == 3
    assert all(isinstance(o.error, WaitTimeoutError) for o in report.outcomes)
    assert all(o.job_id for o in report.outcomes), "the clone id is kept for a resume"
    assert t.now == pytest.approx(60.0)


async def test_a_cancelled_batch_lets_its_posts_in_flight_settle_and_sends_no_more() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=1e4)
    ops.clone_delay = 1.0
    ids = [ops.add() for _ in range(100)]
    eng = engines(t, ops)
    options = RerunOptions(concurrency=10, poll=STEADY, idempotent=False)
    batch = asyncio.ensure_future(rerun_all(eng, ids, {}, options))

    async def leave_at(when: float) -> None:
        await t.sleep(when)
        batch.cancel()

    await t.run(asyncio.gather(leave_at(2.5), asyncio.wait([batch])))
    assert batch.cancelled()
    assert ops.in_flight == 0
    assert ops.calls["post_clone"] == len(ops.created) == 30, "the 10 POSTs in flight settled"
    await t.run(t.sleep(100.0))
    assert ops.calls["post_clone"] == 30, "no POST after the batch was left"
    assert eng.poller.watched == 0
    await eng.poller.close()


async def test_a_second_cancellation_ends_the_posts_in_flight_too() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=1e4)
    ops.clone_delay = 1.0
    ids = [ops.add() for _ in range(100)]
    eng = engines(t, ops)
    batch = asyncio.ensure_future(
        rerun_all(eng, ids, {}, RerunOptions(concurrency=10, poll=STEADY, idempotent=False))
    )

    async def leave_twice() -> None:
        await t.sleep(2.5)
        batch.cancel()
        await t.sleep(0.1)
        batch.cancel()

    await t.run(asyncio.gather(leave_twice(), asyncio.wait([batch])))
    await t.run(t.sleep(100.0))
    assert batch.cancelled()
    assert ops.calls["post_clone"] == 30 and len(ops.created) == 20, "in flight: abandoned"
    await eng.poller.close()


async def test_transient_failures_are_rerun_up_to_retry_failed() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    ops.fail_next = ["QuantumComputerError", "QuantumComputerError"]
    src = ops.add()
    eng = engines(t, ops)
    report = await t.run(
        rerun_all(eng, [src], {}, RerunOptions(poll=STEADY, retry_failed=2, concurrency=1))
    )
    await eng.poller.close()
    assert report.counts["completed"] == 1
    assert len(ops.clones_of(src)) == 3


async def test_a_lost_answer_is_found_by_its_token_and_never_cloned_twice() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    ops.lose_answers = 1
    src = ops.add()
    eng = engines(t, ops)
    report = await t.run(rerun_all(eng, [src], {}, RerunOptions(poll=STEADY)))
    await eng.poller.close()
    assert report.counts["completed"] == 1
    assert len(ops.clones_of(src)) == 1
    assert report.outcomes[0].job_id == ops.clones_of(src)[0]


async def test_a_lost_answer_whose_search_fails_is_ambiguous_with_its_token() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    ops.lose_answers = 1
    ops.page_error = ServerError("down", status_code=503)
    src = ops.add()
    eng = engines(t, ops)
    report = await t.run(rerun_all(eng, [src], {}, RerunOptions(poll=STEADY)))
    await eng.poller.close()
    outcome = report.outcomes[0]
    assert outcome.status == "ambiguous"
    assert isinstance(outcome.error, SubmissionUnknownError) and outcome.error.token
    assert len(ops.clones_of(src)) == 1


async def test_no_retry_policy_means_one_submission() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    ops.lose_answers = 5
    ops.page_error = ServerError("down", status_code=503)
    src = ops.add()
    eng = engines(t, ops, max_attempts=1)
    report = await t.run(rerun_all(eng, [src], {}, RerunOptions(poll=STEADY)))
    await eng.poller.close()
    assert report.outcomes[0].status == "ambiguous"
    assert ops.calls["post_clone"] == 1


async def test_a_full_job_is_built_only_when_its_status_changes(monkeypatch: Any) -> None:
    import ionq_async._core.loaders as loaders

    built: list[str] = []
    real = loaders.load_job

    def counting(raw: Any) -> Any:
        built.append(raw["status"])
        return real(raw)

    monkeypatch.setattr(loaders, "load_job", counting)
    t = FakeTime()
    ops = FakeOps(t)
    ids = [ops.add(ends_at=100.0) for _ in range(3)]
    poller = make_poller(t, ops)
    await t.run(asyncio.gather(*(poller.watch(i, STEADY).future for i in ids)))
    await poller.close()
    rounds = len(ops.read_times)
    assert rounds >= 10
    assert built == ["started"] * 3 + ["completed"] * 3, "first sight and the end, nothing between"


async def test_one_token_scan_serves_every_lost_answer_at_once() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    ops.lose_answers = 20
    ids = [ops.add() for _ in range(20)]
    eng = engines(t, ops)
    report = await t.run(rerun_all(eng, ids, {}, RerunOptions(poll=STEADY, concurrency=20)))
    await eng.poller.close()
    assert report.counts["completed"] == 20
    assert all(len(ops.clones_of(i)) == 1 for i in ids)
    assert eng.index.scans <= 2, f"{eng.index.scans} scans for 20 lost answers"
    assert ops.calls["page"] == eng.index.scans


def test_tokens_are_distinct_version_4_uuids_and_a_forked_child_draws_its_own() -> None:
    tokens = [new_token() for _ in range(1000)]  # across many refills of the pool
    assert len(set(tokens)) == 1000
    for token in tokens:
        parsed = uuid.UUID(token)
        assert parsed.hex == token and parsed.version == 4 and parsed.variant == uuid.RFC_4122
    new_token()  # the pool now holds tokens a fork would copy
    read, write = os.pipe()
    with warnings.catch_warnings():  # 3.12+ warns about fork in a process with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report its next token, and leave at once
        os.write(write, new_token().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != new_token()


async def test_a_wait_for_the_job_that_joins_during_a_light_read_gets_the_job() -> None:
    """Batch watches (states, no Job) are polled lightly; a watch that wants the Job, added
    while that read is in flight, gets it (its job read alone), and the others their ends."""
    t = FakeTime()
    ops = FakeOps(t)
    ids = [ops.add(ends_at=0.5) for _ in range(3)]
    poller = make_poller(t, ops)
    took: dict[str, Any] = {}
    batch = [
        poller.watch(i, STEADY, on_state=lambda w, state: took.update({w.job_id: state}))
        for i in ids
    ]
    joined: list[Any] = []
    light = ops.read_ends

    async def reading(chunk: Any, **kw: Any) -> Any:
        if not joined:
            joined.append(poller.watch(ids[0], STEADY))  # a plain wait: wants the Job
        return await light(chunk, **kw)

    ops.read_ends = reading  # type: ignore[method-assign]
    job = await t.run(joined_future(joined, t))
    await t.run(asyncio.sleep(0))
    await poller.close()
    assert job.id == ids[0] and job.status == "completed"
    assert ops.calls["get"] == 1, "the joined job read alone"
    assert batch[0].future.result() is job, "its batch watch ends with the same Job"
    assert sorted(took) == sorted(ids[1:]), "the others end by their states"
    assert all(took[i].ending().status == "completed" for i in ids[1:])


async def joined_future(joined: list[Any], t: FakeTime) -> Any:
    while not joined:
        await t.sleep(0.1)
    return await joined[0].future
