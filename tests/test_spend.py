"""Spend and sessions in a batch: skipped sources, session limits, budgets (over real HTTP)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ionq_async import BudgetExceededError, CloneRequest, PollPolicy, RerunOptions
from ionq_async.testing import FakeIonQ, job_cost

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
    posted = [r.path.split("/")[-2] for r in clone_posts]
    assert len(posted) == len(set(posted)) <= 80, "at most one POST per source: none retried"
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


QPU = "qpu.forte-1"
SHOTS = (100, 50_000, 100_000)


def qpu_sources(fake: FakeIonQ, n: int) -> list[str]:
    return [fake.add_job(backend=QPU, shots=SHOTS[i % 3]).id for i in range(n)]


def card_price(fake: FakeIonQ, source_id: str, shots: int | None = None) -> float:
    job = fake.jobs[source_id]
    counts = job.stats()["gate_counts"]
    return job_cost(
        job.backend,
        shots or job.shots,
        counts["1q"],
        counts["2q"],
        error_mitigation=job.error_mitigation,
    )


def server_spend(fake: FakeIonQ, ids: list[str]) -> float:
    return sum(clone.cost() for i in ids for clone in fake.clones_of(i))


async def test_estimate_rerun_reads_in_chunks_and_sums_the_rate_card(fake: FakeIonQ) -> None:
    ids = qpu_sources(fake, 1000)
    before = len(fake.requests)
    async with fake.client(rate_limit=None) as client:
        estimate = await client.jobs.estimate_rerun(ids)
    sent = len(fake.requests) - before
    assert sent <= 20, f"{sent} requests for 1,000 sources"
    assert estimate.complete
    expected = sum(card_price(fake, i) for i in ids)
    assert estimate.total.value == pytest.approx(expected)
    assert estimate.by_backend[QPU].value == pytest.approx(expected)
    assert {e.source_id for e in estimate.estimates} == set(ids)
    assert estimate.cost_of(ids[1]) == pytest.approx(card_price(fake, ids[1]))


async def test_estimate_rerun_applies_the_request_and_lists_what_it_cannot_price(
    fake: FakeIonQ,
) -> None:
    ids = qpu_sources(fake, 3)
    unknown = str(uuid.uuid4())
    async with fake.client(rate_limit=None) as client:
        estimate = await client.jobs.estimate_rerun([*ids, unknown], shots=200_000)
    assert not estimate.complete
    assert "not found" in estimate.unestimated[unknown]
    assert estimate.total.value == pytest.approx(sum(card_price(fake, i, 200_000) for i in ids))


async def test_a_source_that_is_no_job_id_is_unestimated_as_rerun_all_errs_it(
    fake: FakeIonQ,
) -> None:
    ids = qpu_sources(fake, 2)
    async with fake.client(rate_limit=None) as client:
        estimate = await client.jobs.estimate_rerun([ids[0], "", "nope", ids[1]])
        report = await client.jobs.rerun_all([ids[0], ""], poll=POLL)
        with pytest.raises(TypeError, match="not a single string"):
            await client.jobs.estimate_rerun(ids[0])
    assert set(estimate.unestimated) == {"", "nope"}
    assert estimate.unestimated[""].startswith("not a job id: ")
    assert estimate.total.value == pytest.approx(sum(card_price(fake, i) for i in ids))
    assert [o.status for o in report.outcomes] == ["completed", "error"]
    assert not [r for r in fake.requests if "nope" in r.path or r.path.endswith("/jobs/")]


async def test_a_budget_under_the_estimate_refuses_before_any_clone(fake: FakeIonQ) -> None:
    ids = qpu_sources(fake, 30)
    estimate = sum(card_price(fake, i) for i in ids)
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(BudgetExceededError) as caught:
            await client.jobs.rerun_all(ids, poll=POLL, max_cost=estimate * 0.9)
    assert caught.value.estimate.total.value == pytest.approx(estimate)
    assert all(fake.clones_of(i) == [] for i in ids)
    assert not [r for r in fake.requests if r.method == "POST"]


async def test_an_incomplete_estimate_refuses_unless_allowed(fake: FakeIonQ) -> None:
    ids = [*qpu_sources(fake, 3), str(uuid.uuid4())]
    async with fake.client(rate_limit=None) as client:
        with pytest.raises(BudgetExceededError, match="could not be estimated"):
            await client.jobs.rerun_all(ids, poll=POLL, max_cost=1e6)
        assert not [r for r in fake.requests if r.method == "POST"]
        report = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=1e6, allow_incomplete_estimate=True
        )
    assert report.counts["completed"] == 3
    assert report.counts["skipped"] == 1, "a source with no estimate is never sent under a budget"


async def test_partial_runs_what_fits_and_a_resume_with_more_budget_finishes(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = qpu_sources(fake, 30)
    estimate = sum(card_price(fake, i) for i in ids)
    limit = estimate * 0.5
    journal = tmp_path / "spend.sqlite"
    seen: list[float] = []
    async with fake.client(rate_limit=None) as client:
        first = await client.jobs.rerun_all(
            ids,
            poll=POLL,
            max_cost=limit,
            over_budget="partial",
            journal=journal,
            on_progress=lambda p: seen.append(p.spent or 0.0),
        )
    assert server_spend(fake, ids) <= limit
    assert first.counts["skipped"] > 0 and first.counts["completed"] > 0
    assert first.counts["completed"] + first.counts["skipped"] == 30
    assert all("over budget" in (o.reason or "") for o in first.by_status("skipped"))
    assert first.actual_cost == pytest.approx(server_spend(fake, ids))
    assert first.estimated_cost == pytest.approx(estimate)
    assert max(seen) <= limit + 1e-6
    async with fake.client(rate_limit=None) as client:
        second = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=estimate, over_budget="partial", journal=journal
        )
    assert second.counts["completed"] == 30
    assert all(len(fake.clones_of(i)) == 1 for i in ids)
    assert second.estimated_cost == pytest.approx(estimate - (first.actual_cost or 0))


async def test_a_resume_budgets_only_what_is_left(fake: FakeIonQ, tmp_path: Path) -> None:
    ids = qpu_sources(fake, 12)
    estimate = sum(card_price(fake, i) for i in ids)
    journal = tmp_path / "left.sqlite"
    async with fake.client(rate_limit=None) as client:
        first = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=estimate / 2, over_budget="partial", journal=journal
        )
        left = estimate - (first.actual_cost or 0.0)
        with pytest.raises(BudgetExceededError, match="earlier runs on the journal spent"):
            await client.jobs.rerun_all(ids, poll=POLL, max_cost=left, journal=journal)
        second = await client.jobs.rerun_all(ids, poll=POLL, max_cost=estimate, journal=journal)
    assert second.counts["completed"] == 12
    assert second.estimated_cost == pytest.approx(left)
    assert second.actual_cost == pytest.approx(left), "the first run's clones are not counted"
    assert second.campaign_cost == pytest.approx(estimate), "the campaign counts both runs"
    assert all(len(fake.clones_of(i)) == 1 for i in ids)
