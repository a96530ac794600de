"""The engine at its edges, over real HTTP: long Retry-After on polls, clone bounds, listing lag."""

from __future__ import annotations

from typing import Any

from ionq_async import PollPolicy, RetryPolicy
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
            assert client.jobs.poller.watched == 0
    assert report.counts["completed"] == 30, [o.error for o in report.outcomes if o.error]
    limited = [r for r in _polls(fake) if r.status == 429]
    assert len(limited) == 1, "the 429 was served on a poll"
    after = [r for r in fake.requests if r.time > limited[0].time]
    assert after and min(r.time for r in after) - limited[0].time >= 0.35, (
        "nothing was sent before the Retry-After had passed"
    )
    assert all(len(fake.clones_of(s)) == 1 for s in sources)
