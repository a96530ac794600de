"""Spend and sessions in a batch: skipped sources, session limits, budgets (over real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ionq_async import CloneRequest, PollPolicy, RerunOptions
from ionq_async.testing import FakeIonQ

POLL = PollPolicy(initial=0.05, factor=1.5, max_interval=0.2, jitter=0.0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.02, 0.05, 0.1)) as server:
        yield server


async def test_a_session_job_limit_skips_the_rest_with_its_reason(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    session = fake.add_session("qpu.forte-1", job_count_limit=50)
    ids = [fake.add_job(backend="qpu.forte-1").id for _ in range(80)]
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(
            ids, poll=POLL, session=session.id, journal=tmp_path / "j.sqlite"
        )
    assert report.counts["completed"] == 50
    assert report.counts["skipped"] == 30
    assert report.counts["error"] == 0 and report.counts["ambiguous"] == 0
    for outcome in report.by_status("skipped"):
        assert outcome.reason and session.id in outcome.reason
        assert outcome.job_id is None
    in_session = [j for j in fake.jobs.values() if j.session_id == session.id]
    assert len(in_session) == 50
    clone_posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/clone")]
    assert len(clone_posts) <= 80, "no clone retried"
    assert all(len(fake.clones_of(i)) <= 1 for i in ids)

    other = fake.add_session("qpu.forte-1")
    async with fake.client(rate_limit=None) as client:
        again = await client.jobs.rerun_all(
            ids, poll=POLL, session=other.id, journal=tmp_path / "j.sqlite"
        )
    assert again.counts["completed"] == 80
    assert all(len(fake.clones_of(i)) == 1 for i in ids), "a resume finishes, no duplicates"


def test_rerun_options_are_validated() -> None:
    with pytest.raises(ValueError, match="over_budget"):
        RerunOptions(over_budget="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_cost"):
        RerunOptions(max_cost=-1)
    with pytest.raises(TypeError, match="session"):
        RerunOptions(session=42)
    assert RerunOptions(session="abc").session_id == "abc"
    assert CloneRequest(shots=10).shots == 10
