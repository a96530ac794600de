"""Adversarial cases over real HTTP: lost answers, deep scans, wrong answers, resumes, hangs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _proxy import Proxy
from aiohttp import web

from ionq_async import (
    JobStatus,
    Journal,
    PollPolicy,
    ResponseValidationError,
    RetryPolicy,
    SubmissionUnknownError,
)
from ionq_async.testing import FakeIonQ, Fault, FaultPlan

POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, jitter=0.0)
FAST_RETRY = RetryPolicy(initial_wait=0.01, max_wait=0.02, jitter=0.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.02, 0.05, 0.1)) as server:
        yield server


def clone_posts(fake: FakeIonQ, source_id: str) -> int:
    return sum(
        1 for r in fake.requests if r.method == "POST" and r.path.endswith(f"{source_id}/clone")
    )


def flood_before_lookup(client: Any, fake: FakeIonQ, n: int) -> None:
    """Create `n` jobs between a lost answer and its token lookup."""
    index = client.jobs._token_index
    find = index.find

    async def find_after_flood(*args: Any, **kwargs: Any) -> Any:
        for _ in range(n):
            fake.add_job()
        return await find(*args, **kwargs)

    index.find = find_after_flood


# --- Done-when 1: a deep scan, never a second clone ------------------------------------------


async def test_a_lost_clone_is_found_behind_2500_newer_jobs(fake: FakeIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail())
    async with fake.client(rate_limit=None, retry=FAST_RETRY) as client:
        flood_before_lookup(client, fake, 2500)
        created = await client.jobs.clone(src.id, idempotent=True)
    clones = fake.clones_of(src.id)
    assert [c.id for c in clones] == [created.id]
    assert clone_posts(fake, src.id) == 1


async def test_a_scan_cut_short_is_unknown_and_never_sends_again(fake: FakeIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail())
    async with fake.client(rate_limit=None, retry=FAST_RETRY) as client:
        flood_before_lookup(client, fake, 2500)
        client.jobs._token_index._scan_limit = 1000
        with pytest.raises(SubmissionUnknownError) as caught:
            await client.jobs.clone(src.id, idempotent=True)
    assert caught.value.token, "the token travels with the unknown outcome"
    assert len(fake.clones_of(src.id)) == 1
    assert clone_posts(fake, src.id) == 1


async def test_in_a_batch_the_lost_clone_is_found_deep_and_awaited(fake: FakeIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail())
    async with fake.client(rate_limit=None, retry=FAST_RETRY) as client:
        flood_before_lookup(client, fake, 2500)
        report = await client.jobs.rerun_all([src.id], poll=POLL)
    assert report.outcomes[0].status == "completed"
    assert len(fake.clones_of(src.id)) == 1


async def test_in_a_batch_a_scan_cut_short_is_ambiguous_with_its_token(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail())
    async with fake.client(rate_limit=None, retry=FAST_RETRY) as client:
        flood_before_lookup(client, fake, 2500)
        client.jobs._token_index._scan_limit = 1000
        report = await client.jobs.rerun_all([src.id], poll=POLL, journal=tmp_path / "j.sqlite")
    outcome = report.outcomes[0]
    assert outcome.status == "ambiguous"
    assert isinstance(outcome.error, SubmissionUnknownError) and outcome.error.token
    async with Journal(tmp_path / "j.sqlite") as journal:
        entry = (await journal.load())[src.id]
    assert entry.status == "ambiguous" and entry.token == outcome.error.token
    assert len(fake.clones_of(src.id)) == 1


# --- Done-when 2: RetryPolicy.none() is one submission -------------------------------------


async def test_no_retries_means_one_post_for_an_idempotent_clone(fake: FakeIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.commit_then_fail())
    fake.faults.add("list_jobs", Fault.http(503))
    async with fake.client(rate_limit=None) as client:
        created = await client.jobs.clone(src.id, idempotent=True, retry=RetryPolicy.none())
    assert clone_posts(fake, src.id) == 1
    assert [c.id for c in fake.clones_of(src.id)] == [created.id], "found by its token"


async def test_no_retries_and_no_job_found_raises_after_one_post(fake: FakeIonQ) -> None:
    src = fake.add_job()
    fake.faults.add("clone", Fault.http(502))
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(SubmissionUnknownError) as caught:
            await client.jobs.clone(src.id, idempotent=True, retry=RetryPolicy.none())
    assert caught.value.token
    assert clone_posts(fake, src.id) == 1
    assert fake.clones_of(src.id) == []


# --- Done-when 3: a 2xx of the wrong shape is a lost answer --------------------------------


def wrong_shape_once() -> Any:
    state = {"left": 1}

    def rewrite(request: web.Request, status: int, body: bytes) -> tuple[int, bytes] | None:
        if request.method == "POST" and request.path.endswith("/clone") and state["left"]:
            state["left"] -= 1
            return 201, json.dumps({"job": "created", "ids": [1, 2]}).encode()
        return None

    return rewrite


async def test_a_201_of_the_wrong_shape_is_submission_unknown(fake: FakeIonQ) -> None:
    src = fake.add_job()
    async with Proxy(fake, wrong_shape_once()) as proxy, proxy.client(rate_limit=None) as client:
        with pytest.raises(SubmissionUnknownError):
            await client.jobs.clone(src.id)
    assert len(fake.clones_of(src.id)) == 1


async def test_in_a_batch_a_201_of_the_wrong_shape_is_reconciled(fake: FakeIonQ) -> None:
    src = fake.add_job()
    async with Proxy(fake, wrong_shape_once()) as proxy, proxy.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all([src.id], poll=POLL)
    assert report.outcomes[0].status == "completed"
    assert len(fake.clones_of(src.id)) == 1


# --- Done-when 4: a resume finishes the run ------------------------------------------------


async def test_a_resume_completes_ambiguous_and_timed_out_sources(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    lost, slow = fake.add_job(), fake.add_job()
    journal = tmp_path / "run.sqlite"

    fake.faults.add("clone", Fault.commit_then_fail())
    for _ in range(40):
        fake.faults.add("list_jobs", Fault.http(503))
    fake.durations = (0.05, 0.1, 1.5)
    async with fake.client(rate_limit=None, retry=FAST_RETRY) as client:
        first = await client.jobs.rerun_all(
            [lost.id, slow.id], poll=POLL, journal=journal, timeout=0.5, concurrency=1
        )
    assert {o.source_id: o.status for o in first.outcomes} == {
        lost.id: "ambiguous",
        slow.id: "error",
    }
    assert first.outcomes[1].job_id is not None
    fake.faults = FaultPlan()
    async with fake.client(rate_limit=None, retry=FAST_RETRY) as client:
        second = await client.jobs.rerun_all([lost.id, slow.id], poll=POLL, journal=journal)
    assert [o.status for o in second.outcomes] == ["completed", "completed"]
    assert len(fake.clones_of(lost.id)) == 1
    assert len(fake.clones_of(slow.id)) == 1


# --- Done-when 6: no hangs -----------------------------------------------------------------


async def test_a_journal_failing_mid_run_is_raised_from_the_iterator(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    sources = [fake.add_job() for _ in range(6)]
    journal = Journal(tmp_path / "j.sqlite")
    await journal.open()
    async with fake.client(rate_limit=None) as client:
        stream = client.jobs.rerun(
            [s.id for s in sources], poll=POLL, journal=journal, concurrency=1
        )
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="journal is not open"):
            async for _ in stream:
                await journal.close()
        assert time.monotonic() - started < 1.0


async def test_an_async_on_status_that_awaits_another_wait_finishes(fake: FakeIonQ) -> None:
    a = fake.add_job(durations=(0.02, 0.05, 0.1))
    b = fake.add_job(durations=(0.1, 0.2, 0.4))
    seen: list[str] = []
    async with fake.client(rate_limit=None) as client:

        async def on_status(job: Any) -> None:
            other = await client.jobs.wait(b.id, poll=POLL)
            seen.append(str(other.status))

        done = await asyncio.wait_for(client.jobs.wait(a.id, poll=POLL, on_status=on_status), 10)
    assert done.status is JobStatus.COMPLETED
    assert seen and set(seen) == {"completed"}


async def test_a_server_answering_another_job_fails_the_wait_within_its_policy(
    fake: FakeIonQ,
) -> None:
    mine, other = fake.add_job(durations=(5, 5, 5)), fake.add_job()

    def swap(request: web.Request, status: int, body: bytes) -> tuple[int, bytes] | None:
        if request.method == "GET" and request.path.endswith(f"/jobs/{mine.id}"):
            return 200, json.dumps(fake.render(other)).encode()
        if request.method == "GET" and request.path.endswith("/jobs"):
            return 200, json.dumps({"jobs": [fake.render(other)]}).encode()
        return None

    policy = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.0)
    async with Proxy(fake, swap) as proxy, proxy.client(rate_limit=None, retry=policy) as client:
        with pytest.raises(ResponseValidationError, match="answered job"):
            await asyncio.wait_for(client.jobs.wait(mine.id, poll=POLL), 10)
    gets = [r for r in fake.requests if r.path.endswith(f"/jobs/{mine.id}")]
    assert len(gets) == 3, "one poll: the policy's attempts, then the waiter is told"


# --- issue 12: a poll round costs at most the policy's attempts per chunk ------------------


async def test_a_poll_round_against_520s_sends_at_most_max_attempts_per_chunk(
    fake: FakeIonQ,
) -> None:
    jobs = [fake.add_job(durations=(60, 60, 60)) for _ in range(150)]  # two chunks
    fake.faults.add("list_jobs", Fault.http(520), times=10_000)
    policy = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.0)
    slow = PollPolicy(initial=0.05, factor=200.0, max_interval=60.0, jitter=0.0)
    async with fake.client(rate_limit=None, retry=policy) as client:
        waits = [asyncio.ensure_future(client.jobs.wait(j.id, poll=slow)) for j in jobs]
        await asyncio.sleep(0.5)
        lists = [r for r in fake.requests if r.method == "GET" and r.path == "/v0.4/jobs"]
        for w in waits:
            w.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    assert lists and all(r.status == 520 for r in lists)
    assert len(lists) <= 2 * 3, "one round: two chunks, at most max_attempts requests each"
