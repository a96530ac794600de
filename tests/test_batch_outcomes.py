"""What a re-run outcome keeps of its clone: a slim record by default, the Job on request."""

from __future__ import annotations

import asyncio
import gc
import pickle
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from _faketime import FakeOps, FakeTime, policy

from ionq_async import (
    Failure,
    IonQError,
    Job,
    JobCreated,
    PollPolicy,
    RerunOptions,
    RerunOutcome,
    ResponseValidationError,
    RetryPolicy,
)
from ionq_async._batch.outcomes import OutcomeColumns
from ionq_async._batch.records import Waiting
from ionq_async._batch.run import Engines, rerun_all
from ionq_async._core.loaders import JobState
from ionq_async._core.serde import load_job
from ionq_async._engine.idempotency import TokenIndex
from ionq_async._engine.polling import Poller
from ionq_async._engine.watch import Watch
from ionq_async.testing import FakeIonQ, Fate

POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, jitter=0.1)
STEADY = PollPolicy(initial=1.0, factor=1.5, max_interval=30.0, jitter=0.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.02, 0.02, 0.05)) as server:
        yield server


async def test_an_outcome_keeps_status_failure_and_times_but_not_the_job(fake: FakeIonQ) -> None:
    good, bad = fake.add_job(), fake.add_job()
    fake.script_next_fates(["completed", Fate.failed("CompilationError")])
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([good.id, bad.id], poll=POLL, concurrency=1)
        ok, failed = report.outcomes
        for outcome in report.outcomes:
            assert outcome.job is None
            assert outcome.job_id is not None
            job = await client.jobs.get(outcome.job_id)
            assert outcome.status == str(job.status)
            assert (outcome.submitted_at, outcome.started_at, outcome.completed_at) == (
                job.submitted_at,
                job.started_at,
                job.completed_at,
            )
            assert outcome.failure == job.failure
    assert (ok.status, ok.failure) == ("completed", None)
    assert ok.submitted_at is not None
    assert failed.status == "failed"
    assert isinstance(failed.failure, Failure) and failed.failure.code == "CompilationError"


async def test_keep_jobs_keeps_each_final_job_in_report_and_stream(fake: FakeIonQ) -> None:
    sources = [fake.add_job() for _ in range(3)]
    fake.script_next_fates(["completed", Fate.failed("CompilationError"), "canceled"])
    ids = [s.id for s in sources]
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(ids, poll=POLL, concurrency=1, keep_jobs=True)
        streamed = [o async for o in client.jobs.rerun(ids, poll=POLL, keep_jobs=True)]
        slim = [o async for o in client.jobs.rerun(ids, poll=POLL)]
    assert [o.status for o in report.outcomes] == ["completed", "failed", "canceled"]
    for outcome in (*report.outcomes, *streamed):
        assert isinstance(outcome.job, Job)
        assert outcome.job.id == outcome.job_id
        assert str(outcome.job.status) == outcome.status
        assert outcome.failure == outcome.job.failure
        assert outcome.completed_at == outcome.job.completed_at
    assert report.outcomes[1].failure is not None
    assert [o.job for o in slim] == [None] * 3


async def test_an_error_outcome_has_no_job_even_when_jobs_are_kept(fake: FakeIonQ) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([missing, "not-a-uuid"], poll=POLL, keep_jobs=True)
    assert [o.status for o in report.outcomes] == ["error", "error"]
    assert all(o.job is None and o.failure is None for o in report.outcomes)
    assert all(o.submitted_at is None for o in report.outcomes)


@pytest.mark.parametrize("value", [1, 0, "yes", None])
async def test_keep_jobs_must_be_a_bool_and_is_checked_before_any_clone(
    fake: FakeIonQ, value: object
) -> None:
    source = fake.add_job()
    with pytest.raises(TypeError, match="keep_jobs must be a bool"):
        RerunOptions(keep_jobs=value)  # type: ignore[arg-type]
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(TypeError, match="keep_jobs must be a bool"):
            await client.jobs.rerun_all([source.id], keep_jobs=value)  # type: ignore[typeddict-item]
    assert fake.clones_of(source.id) == []


def _engines(t: FakeTime, ops: FakeOps) -> Engines:
    retry = policy(t)
    poller = Poller(ops, retry=retry, clock=t.clock, sleep=t.sleep)
    index = TokenIndex(ops, retry=retry, now=t.wall)
    return Engines(ops, poller, index, retry, None, clock=t.clock)


def _live_jobs() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Job)


async def test_a_report_of_100000_outcomes_holds_no_job() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    ids = [ops.add() for _ in range(100_000)]
    ops.fail_next = ["CompilationError"] * 10
    eng = _engines(t, ops)
    options = RerunOptions(poll=STEADY, concurrency=256, idempotent=False)
    report = await t.run(rerun_all(eng, ids, {}, options))
    await eng.poller.close()
    assert report.counts["completed"] == 99_990 and report.counts["failed"] == 10
    assert all(o.job is None for o in report.outcomes)
    assert _live_jobs() == 0, "no Job outlives the batch"
    failed = report.by_status("failed")
    assert {o.failure.code for o in failed if o.failure} == {"CompilationError"}
    sizes = {sys.getsizeof(o) for o in report.outcomes}
    assert max(sizes) < 200, "an outcome is a small slotted record"


async def test_a_report_with_keep_jobs_holds_every_job() -> None:
    """The control of the count above: kept jobs are found the same way."""
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    ids = [ops.add() for _ in range(200)]
    eng = _engines(t, ops)
    options = RerunOptions(poll=STEADY, concurrency=16, idempotent=False, keep_jobs=True)
    report = await t.run(rerun_all(eng, ids, {}, options))
    await eng.poller.close()
    assert report.counts["completed"] == 200
    assert _live_jobs() >= 200
    assert len({id(o.job) for o in report.outcomes}) == 200


def test_an_outcome_built_for_a_waiting_source_is_the_one_attrs_would_build() -> None:
    loop = asyncio.new_event_loop()
    try:
        watch = Watch("j", STEADY, loop.create_future(), None, 0.0, 1.0, 1.0)
        w = Waiting("s", "0198097d-3888-72ad-8c3c-1f1d0c9e8a77", 2, 0, watch)
        at = datetime(2026, 12, 3, tzinfo=UTC)
        job = Job(
            id=w.job_id,
            status="failed",
            failure=Failure(code="CompilationError", message="no"),
            submitted_at=at,
            started_at=at,
            completed_at=at,
        )
        error = IonQError("lost")
        for kept in (False, True):
            got = w.ended("failed", job=job, keep=kept)
            want = RerunOutcome(
                source_id="s",
                job_id=w.job_id,
                status="failed",
                job=job if kept else None,
                attempts=2,
                failure=job.failure,
                submitted_at=at,
                started_at=at,
                completed_at=at,
            )
            assert repr(got) == repr(want) and got == want
        errored = w.ended("error", error=error)
        assert errored == RerunOutcome(
            source_id="s", job_id=w.job_id, status="error", error=error, attempts=2
        )
        assert errored.error is error and errored.reason is None and errored.cost is None
    finally:
        loop.close()


_ODD_ENDS: list[dict[str, Any]] = [
    {},
    {"failure": "it broke"},
    {"failure": {"error": "legacy", "code": None}},
    {"shots": "100"},
    {"submitted_at": 0},
    {"submitted_at": "not a time"},
    {"noise": "ideal"},
    {"metadata": []},
    {"results": []},
    {"started_at": "2026-01-02T03:04:06", "completed_at": 1767323047.5},
]


class _OddOps(FakeOps):
    """FakeOps whose clones end with odd job bodies (one change of `_ODD_ENDS` each)."""

    def __init__(self, t: FakeTime) -> None:
        super().__init__(t, run_for=5.0)
        self.changes: dict[str, dict[str, Any]] = {}

    async def post_clone(self, job_id: str, body: Any, **kw: Any) -> JobCreated:
        created = await super().post_clone(job_id, body, **kw)
        self.changes[created.id] = _ODD_ENDS[len(self.changes) % len(_ODD_ENDS)]
        return created

    def raw(self, job_id: str) -> dict[str, Any]:
        raw = {**super().raw(job_id), "submitted_at": "2026-01-02T03:04:05Z"}
        return raw if raw["status"] == "started" else {**raw, **self.changes.get(job_id, {})}


async def _odd_batch(keep_jobs: bool) -> list[tuple[Any, ...]]:
    t = FakeTime()
    ops = _OddOps(t)
    ids = [ops.add() for _ in range(2 * len(_ODD_ENDS))]
    ops.fail_next = ["CompilationError"] * 3
    eng = _engines(t, ops)
    options = RerunOptions(poll=STEADY, concurrency=4, idempotent=False, keep_jobs=keep_jobs)
    report = await t.run(rerun_all(eng, ids, {}, options))
    await eng.poller.close()
    seen = []
    for o in report.outcomes:
        assert o.job_id is not None
        try:
            job = load_job(ops.raw(o.job_id))
        except ResponseValidationError as exc:
            assert (o.status, type(o.error), str(o.error)) == ("error", type(exc), str(exc))
        else:
            assert o.status == str(job.status) and o.error is None
            assert (o.failure, o.submitted_at, o.started_at, o.completed_at) == (
                job.failure,
                job.submitted_at,
                job.started_at,
                job.completed_at,
            )
            assert o.job == (job if keep_jobs else None)
        seen.append((o.status, str(o.error), o.failure, o.submitted_at, o.completed_at))
    return seen


async def test_an_outcome_read_from_the_final_state_is_the_one_its_job_gives() -> None:
    """Without keep_jobs no Job is built; outcomes and errors stay those of the Job path."""
    light = await _odd_batch(keep_jobs=False)
    assert {s[0] for s in light} == {"completed", "failed", "error"}
    assert light == await _odd_batch(keep_jobs=True)


async def test_a_watch_taking_states_is_handed_the_state_unless_another_needs_the_job() -> None:
    t = FakeTime()
    ops = FakeOps(t, run_for=5.0)
    poller = Poller(ops, retry=policy(t), clock=t.clock, sleep=t.sleep)
    alone, shared = ops.add(ends_at=0.5), ops.add(ends_at=0.5)
    handed: list[tuple[str, str]] = []

    def on_state(w: Watch, state: JobState) -> None:
        assert not w.future.done() and w.done
        handed.append((w.job_id, state.status))

    lone = poller.watch(alone, STEADY, None, on_state=on_state)
    light = poller.watch(shared, STEADY, None, on_state=on_state)
    statuses: list[Job] = []
    waiter = poller.watch(shared, STEADY, statuses.append)
    job = await t.run(waiter.future)
    for _ in range(3):
        await asyncio.sleep(0)
    assert handed == [(alone, "completed")], "the job another waiter needs is built as a Job"
    assert light.future.result() is job and statuses == [job]
    assert not lone.future.done() and poller.watched == 0
    await poller.close()


def _outcome(i: int, **fields: Any) -> RerunOutcome:
    return RerunOutcome(source_id=f"s{i}", job_id=f"c{i}", status="completed", **fields)


def test_a_report_reads_back_every_field_in_input_order() -> None:
    when = datetime(2026, 1, 2, tzinfo=UTC)
    failure = Failure(code="E", message="m")
    given = [
        _outcome(0, attempts=1, cost=0.5, submitted_at=when, started_at=when, completed_at=when),
        RerunOutcome(source_id="s1", status="failed", failure=failure, attempts=2),
        RerunOutcome(source_id="s2", status="error", error=ValueError("x"), attempts=3),
        RerunOutcome(source_id="s3", status="skipped", reason="budget"),
    ]
    columns = OutcomeColumns()
    for o in reversed(given):
        columns.add(o)
    columns.add(_outcome(3, reason=None))  # a later outcome of s3 replaces the first
    given[3] = _outcome(3)
    outcomes = columns.in_order(["s0", "s1", "s2", "s3"])
    assert list(outcomes) == given and outcomes == tuple(given) and len(outcomes) == 4
    assert outcomes[2].error is given[2].error and outcomes[-1] == given[3]
    assert outcomes[1:3] == given[1:3]
    assert list(outcomes.statuses()) == ["completed", "failed", "error", "completed"]
    assert columns.in_order(["s1", "nope"], complete=False) == (given[1],)
    with pytest.raises(KeyError):
        columns.in_order(["nope"])


async def test_a_report_holds_columns_not_an_object_per_outcome(fake: FakeIonQ) -> None:
    sources = [fake.add_job().id for _ in range(40)]
    fake.script_next_fates(["completed"] * 39 + [Fate.failed("CompilationError")])
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(sources, poll=POLL)
    gc.collect()
    held = [o for o in gc.get_objects() if type(o) is RerunOutcome]
    assert held == [], "the report keeps no RerunOutcome objects; each is built when read"
    assert [o.source_id for o in report.outcomes] == sources
    assert report.counts["completed"] == 39 and report.counts["failed"] == 1
    assert len(report.by_status("failed")) == 1 and report.by_status("failed")[0].failure
    assert "40 outcomes" in repr(report.outcomes)
    assert pickle.loads(pickle.dumps(report)) == report


async def test_a_source_with_unreadable_metadata_is_read_alone(fake: FakeIonQ) -> None:
    good, bad = fake.add_job(metadata={"owner": "lab"}), fake.add_job()
    fake.jobs[bad.id].metadata = ["not", "a", "map"]  # type: ignore[assignment]
    async with fake.client(rate_limit=None, retry=RetryPolicy(max_attempts=1)) as client:
        report = await client.jobs.rerun_all([good.id, bad.id], poll=POLL)
    ok, refused = report.outcomes
    assert ok.status == "completed"
    assert refused.status == "error" and isinstance(refused.error, ResponseValidationError)
    assert [r.path for r in fake.requests].count(f"/v0.4/jobs/{bad.id}") == 1, "read alone"
    assert len(fake.jobs) == 3, "one clone: none of the source whose metadata is unreadable"
