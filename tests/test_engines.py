"""The poller and the batch engine alone, on in-memory operations and in fake time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from _faketime import FakeOps, FakeTime, policy

from ionq_async import (
    JobStatus,
    PollPolicy,
    RetryBudget,
    ServerError,
    SubmissionUnknownError,
    WaitTimeoutError,
)
from ionq_async._batch.run import Engines, rerun_all
from ionq_async._batch.types import RerunOptions
from ionq_async._engine.idempotency import TokenIndex
from ionq_async._engine.polling import Poller
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
