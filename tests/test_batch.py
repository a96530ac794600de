"""The batch re-run engine against the emulator: accounting, faults, idempotency, resume."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest
from _sweep import Schedule

from ionq_async import (
    CloneRequest,
    Journal,
    PollPolicy,
    RerunProgress,
    RetryBudget,
    RetryPolicy,
    SubmissionUnknownError,
    WaitTimeoutError,
)
from ionq_async._engine.idempotency import TOKEN_KEY
from ionq_async.testing import FakeIonQ, Fate, Fault, FaultPlan

POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, jitter=0.1)
QUICK = (0.02, 0.02, 0.05)


def _no_wait_retry(**kw: object) -> RetryPolicy:
    async def no_sleep(_: float) -> None:
        return None

    return RetryPolicy(sleep=no_sleep, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=QUICK) as server:
        yield server


async def test_2000_sources_with_failures_and_faults_are_each_accounted_once() -> None:
    faults = FaultPlan.random(
        0.2,
        kinds=[
            Fault.rate_limited("0.05"),
            Fault.http(500),
            Fault.http(502),
            Fault.http(503),
            Fault.http(504),
            Fault.http(522),
            Fault.html(502),
            Fault.truncated(),
            Fault.reset(),
            Fault.hang(1.0),
            Fault.commit_then_fail(),
            Fault.commit_then_fail(503),
        ],
        seed=7,
    )
    async with FakeIonQ(durations=QUICK, faults=faults) as fake:
        sources = [fake.add_job(name=f"src-{i}", metadata={"n": str(i)}) for i in range(2000)]
        failing = {s.id for s in sources[::10]}
        fake.fate_for = lambda job: (
            Fate.failed("CompilationError") if job.cloned_from in failing else None
        )
        client = fake.client(
            rate_limit=None,
            request_timeout=0.5,
            retry=RetryPolicy(initial_wait=0.01, max_wait=0.05, jitter=0.01, max_attempts=8),
            retry_budget=RetryBudget(capacity=1_000_000),
            listing_lag=0.2,
        )
        async with client:
            report = await client.jobs.rerun_all(
                [s.id for s in sources], CloneRequest(shots=10), poll=POLL, concurrency=64
            )
        assert [o.source_id for o in report.outcomes] == [s.id for s in sources]
        assert report.counts["failed"] == len(failing) == 200
        assert report.counts["completed"] == 1800
        assert sum(report.counts.values()) == 2000
        for outcome in report.outcomes:
            clones = fake.clones_of(outcome.source_id)
            assert len(clones) == 1, (outcome, [c.id for c in clones])
            assert clones[0].id == outcome.job_id
            assert clones[0].metadata is not None
            assert clones[0].metadata["n"] == fake.get_job(outcome.source_id).metadata["n"]
        faulted = [r for r in fake.requests if r.fault]
        assert len(faulted) > 500, "the fault plan really fired"


async def test_outcomes_stream_progress_and_bad_sources(fake: FakeIonQ) -> None:
    good = [fake.add_job() for _ in range(5)]
    missing = "00000000-0000-4000-8000-000000000000"
    ids = [good[0].id, "not-a-uuid", *(g.id for g in good), missing, good[1].id]
    progress: list[RerunProgress] = []
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(ids, poll=POLL, on_progress=progress.append)
    assert [o.source_id for o in report.outcomes] == list(dict.fromkeys(ids))
    by_id = {o.source_id: o for o in report.outcomes}
    assert by_id["not-a-uuid"].status == "error"
    assert isinstance(by_id["not-a-uuid"].error, ValueError)
    assert by_id[missing].status == "error"
    assert report.counts["completed"] == 5
    assert progress[-1].done == 7
    assert progress[-1].completed == 5 and progress[-1].errors == 2
    assert max(p.running for p in progress) >= 1


async def test_wait_false_returns_submitted(fake: FakeIonQ) -> None:
    sources = [fake.add_job() for _ in range(3)]
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([s.id for s in sources], wait=False)
    assert report.counts["submitted"] == 3
    assert all(o.job_id for o in report.outcomes)


async def test_retry_failed_reruns_transient_failures_only(fake: FakeIonQ) -> None:
    flaky, broken = fake.add_job(), fake.add_job()
    fake.script_next_fates([Fate.failed("InternalError"), Fate.failed("CompilationError")])
    progress: list[RerunProgress] = []
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(
            [flaky.id, broken.id],
            poll=POLL,
            retry_failed=2,
            concurrency=1,
            on_progress=progress.append,
            keep_jobs=True,
        )
    assert (progress[-1].cloned, progress[-1].running, progress[-1].done) == (2, 0, 2)
    first, second = report.outcomes
    assert (first.status, first.attempts) == ("completed", 2)
    assert len(fake.clones_of(flaky.id)) == 2
    assert (second.status, second.attempts) == ("failed", 1)
    assert second.job is not None and second.job.failure is not None
    assert second.job.failure.code == "CompilationError"


async def test_lost_clone_answers_are_reconciled_by_token(fake: FakeIonQ) -> None:
    sources = [fake.add_job(metadata={"team": "qa"}) for _ in range(6)]
    fake.faults.sequence(
        "clone",
        [Fault.commit_then_fail(), Fault.commit_then_fail(502), Fault.reset(), None],
    )
    async with fake.client(rate_limit=None, retry=_no_wait_retry()) as client:
        report = await client.jobs.rerun_all([s.id for s in sources], poll=POLL, concurrency=1)
    assert report.counts["completed"] == 6
    for s in sources:
        (clone,) = fake.clones_of(s.id)
        assert clone.metadata is not None
        assert clone.metadata["team"] == "qa" and TOKEN_KEY in clone.metadata


async def test_without_tokens_a_lost_answer_is_ambiguous(fake: FakeIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail())
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([src.id], idempotent=False, poll=POLL)
    (outcome,) = report.outcomes
    assert outcome.status == "ambiguous"
    assert isinstance(outcome.error, SubmissionUnknownError)
    assert len(fake.clones_of(src.id)) == 1


async def test_idempotent_clone_call(fake: FakeIonQ) -> None:
    src = fake.add_job(metadata={"owner": "lab"})
    fake.faults.add("clone", Fault.commit_then_fail())
    async with fake.client(rate_limit=None, retry=_no_wait_retry()) as client:
        created = await client.jobs.clone(src.id, shots=50, idempotent=True)
    (clone,) = fake.clones_of(src.id)
    assert created.id == clone.id
    assert clone.shots == 50
    assert clone.metadata is not None and clone.metadata["owner"] == "lab"


async def test_journal_resume_finishes_without_duplicates(fake: FakeIonQ, tmp_path: Path) -> None:
    sources = [fake.add_job(durations=(0.05, 0.05, 0.2)) for _ in range(40)]
    ids = [s.id for s in sources]
    path = tmp_path / "run.sqlite"
    fake.durations = (0.05, 0.05, 0.2)

    def slower(index: int) -> None:  # clones after the first few run long: the batch is left
        if index == 12:
            fake.durations = (0.5, 0.5, 1.0)

    fake.faults = Schedule(on_request=slower)
    async with fake.client(rate_limit=None) as client:
        seen = 0
        async with aclosing(client.jobs.rerun(ids, journal=path, poll=POLL, concurrency=8)) as it:
            async for _ in it:
                seen += 1
                if seen == 5:
                    break
    assert Journal.exists_with_entries(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finished = db.execute("SELECT count(*) FROM rerun WHERE status IS NOT NULL").fetchone()
    assert 5 <= finished[0] < 40, "outcomes are journaled as they happen, before being read"
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(ids, journal=str(path), poll=POLL)
    assert report.counts["completed"] == 40
    assert all(len(fake.clones_of(i)) == 1 for i in ids)
    async with Journal(path) as journal:
        entries = await journal.load()
    assert {e.status for e in entries.values()} == {"completed"}
    assert all(e.job_id for e in entries.values())


async def test_timeout_settles_a_source_as_error_and_stops_watching(fake: FakeIonQ) -> None:
    slow = fake.add_job(durations=(5.0, 5.0, 5.0))
    quick = fake.add_job()
    fake.durations = (5.0, 5.0, 5.0)
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([slow.id, quick.id], poll=POLL, timeout=0.3)
        assert client.jobs._poller.watched == 0
    assert report.counts["error"] == 2
    for outcome in report.outcomes:
        assert isinstance(outcome.error, WaitTimeoutError)
        assert outcome.job_id is not None and outcome.job is None
        assert outcome.error.job is not None and outcome.error.job.status == "submitted"


async def test_a_raising_progress_callback_does_not_stop_the_batch(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    sources = [fake.add_job() for _ in range(4)]
    calls = 0

    def broken(progress: RerunProgress) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("display crashed")

    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([s.id for s in sources], poll=POLL, on_progress=broken)
    assert report.counts["completed"] == 4
    assert calls > 4
    assert "on_progress raised" in caplog.text


async def test_leaving_the_stream_early_stops_every_watch_and_task(fake: FakeIonQ) -> None:
    sources = [fake.add_job() for _ in range(30)]
    fake.durations = (0.2, 0.2, 0.2)
    async with fake.client(rate_limit=None) as client:
        async with aclosing(client.jobs.rerun([s.id for s in sources], poll=POLL)) as it:
            async for _ in it:
                break
        assert client.jobs._poller.watched == 0
        coros = [t.get_coro() for t in asyncio.all_tasks()]
        assert not [c for c in coros if "_Rerun" in getattr(c, "__qualname__", "")]


async def test_retry_failed_with_a_journal_records_the_last_run(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    src = fake.add_job()
    fake.script_next_fates([Fate.failed("QuantumComputerError")])
    path = tmp_path / "j.sqlite"
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([src.id], poll=POLL, retry_failed=1, journal=path)
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.attempts) == ("completed", 2)
    first, second = fake.clones_of(src.id)
    async with Journal(path) as journal:
        entry = (await journal.load())[src.id]
    assert (entry.status, entry.job_id, entry.attempt) == ("completed", outcome.job_id, 2)
    assert outcome.job_id in (first.id, second.id)
