"""Issue 18, items 1-2: a campaign budget across runs of one journal, and cost drift.

Over real HTTP on the emulator. IonQ billing more than it estimated is played by `Billing`,
a loopback proxy that multiplies the actual `cost` in `GET /jobs/{id}/cost` answers (the
estimate stays the rate card's). Once the emulator's `FakeIonQ(cost_factor=...)` lands,
these tests can use it instead of the proxy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from _proxy import Proxy
from aiohttp import web

from ionq_async import BudgetExceededError, PollPolicy, RerunProgress, RetryPolicy
from ionq_async._batch.journal import Journal
from ionq_async._batch.spend import SpendGuard
from ionq_async.testing import FakeIonQ, Fate, job_cost

POLL = PollPolicy(initial=0.02, factor=1.5, max_interval=0.1, jitter=0.0)
QPU = "qpu.forte-1"


@pytest.fixture
async def fake() -> AsyncIterator[FakeIonQ]:
    async with FakeIonQ(durations=(0.0, 0.01, 0.02)) as server:
        yield server


class Billing(Proxy):
    """IonQ billing `factor` times its estimate: every actual cost answered is multiplied.

    `early` lists, in order, the sources whose clone POST arrived before the first bill
    was answered; `delay` holds each clone POST that long (so bills arrive mid-batch).
    """

    def __init__(self, fake: FakeIonQ, factor: float, delay: float = 0.0) -> None:
        super().__init__(fake, self._bill)
        self.factor = factor
        self.delay = delay
        self.early: list[str] = []
        self.bills = 0

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method == "POST" and request.path.endswith("/clone"):
            if not self.bills:
                self.early.append(request.path.split("/")[-2])
            await asyncio.sleep(self.delay)
        return await super()._handle(request)

    def _bill(self, request: web.Request, status: int, body: bytes) -> tuple[int, bytes] | None:
        if request.method != "GET" or not request.path.endswith("/cost") or status != 200:
            return None
        data: dict[str, Any] = json.loads(body)
        if data.get("cost") is None:
            return None
        data["cost"]["value"] = data["cost"]["value"] * self.factor
        self.bills += 1
        return status, json.dumps(data).encode()


def sources(fake: FakeIonQ, n: int, shots: int = 1000) -> list[str]:
    """`n` completed QPU jobs of one shape: every clone has the same price."""
    return [fake.add_job(backend=QPU, shots=shots, status="completed").id for _ in range(n)]


def price(fake: FakeIonQ, source_id: str) -> float:
    job = fake.jobs[source_id]
    counts = job.stats()["gate_counts"]
    return job_cost(job.backend, job.shots, counts["1q"], counts["2q"])


def clones(fake: FakeIonQ, ids: list[str]) -> list[str]:
    return [i for i in ids for _ in fake.clones_of(i)]


def billed(fake: FakeIonQ, ids: list[str], factor: float = 1.0) -> float:
    """What IonQ bills for every clone of `ids` (all of them completed)."""
    return sum(clone.cost() * factor for i in ids for clone in fake.clones_of(i))


def clone_posts(fake: FakeIonQ) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/clone"))


async def test_two_runs_on_one_journal_spend_max_cost_once(fake: FakeIonQ, tmp_path: Path) -> None:
    ids = sources(fake, 20)
    each = price(fake, ids[0])
    budget = 6.5 * each
    journal = tmp_path / "campaign.sqlite"
    async with fake.client(rate_limit=None) as client:
        first = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=budget, over_budget="partial", journal=journal
        )
        spent = billed(fake, ids)
        assert first.counts["completed"] == 6 and spent == pytest.approx(6 * each)
        assert first.campaign_cost == pytest.approx(spent) == first.actual_cost
        posts = clone_posts(fake)
        seen: list[RerunProgress] = []
        second = await client.jobs.rerun_all(
            ids,
            poll=POLL,
            max_cost=budget,
            over_budget="partial",
            journal=journal,
            on_progress=seen.append,
        )
        with pytest.raises(BudgetExceededError, match="earlier runs on the journal spent"):
            await client.jobs.rerun_all(ids, poll=POLL, max_cost=budget, journal=journal)
    assert clone_posts(fake) == posts, "a spent campaign clones nothing"
    assert billed(fake, ids) == pytest.approx(spent)
    assert spent <= budget
    assert second.counts["skipped"] == 14 and second.counts["completed"] == 6
    assert second.actual_cost == 0.0
    assert second.campaign_cost == pytest.approx(spent)
    assert second.max_cost == pytest.approx(budget)
    assert seen[0].campaign_spent == pytest.approx(spent) and seen[0].spent == 0.0
    assert all("over budget" in (o.reason or "") for o in second.by_status("skipped"))


async def test_raising_max_cost_allows_exactly_the_difference(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = [*sources(fake, 10, shots=1000), *sources(fake, 10, shots=3000)]
    prices = {i: price(fake, i) for i in ids}
    budget = sum(prices.values()) * 0.3
    journal = tmp_path / "raise.sqlite"
    async with fake.client(rate_limit=None) as client:
        await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=budget, over_budget="partial", journal=journal
        )
        before = billed(fake, ids)
        extra = sum(prices.values()) * 0.25
        second = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=budget + extra, over_budget="partial", journal=journal
        )
    after = billed(fake, ids)
    assert 0 < after - before <= extra + 1e-6, "the second run spends at most the difference"
    assert after <= budget + extra + 1e-6
    assert second.actual_cost == pytest.approx(after - before)
    assert second.campaign_cost == pytest.approx(after)
    for skipped in second.by_status("skipped"):
        # Committed spend only grows at factor 1: a source left out did not fit what was left.
        assert prices[skipped.source_id] > budget + extra - after - 1e-6
    assert all(len(fake.clones_of(i)) <= 1 for i in ids)


async def test_without_a_journal_max_cost_is_the_runs_budget(fake: FakeIonQ) -> None:
    ids = sources(fake, 6)
    each = price(fake, ids[0])
    async with fake.client(rate_limit=None) as client:
        first = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=3 * each, over_budget="partial"
        )
        second = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=3 * each, over_budget="partial"
        )
    assert first.counts["completed"] == second.counts["completed"] == 3
    assert second.campaign_cost == pytest.approx(3 * each) == second.actual_cost
    assert billed(fake, ids) == pytest.approx(6 * each)


async def test_a_2x_bill_prices_later_admissions_and_bounds_the_overshoot(
    fake: FakeIonQ, caplog: pytest.LogCaptureFixture
) -> None:
    ids = sources(fake, 60)
    each = price(fake, ids[0])
    budget = 30 * each
    # One worker both sends clones and prices finished ones, so a clone sent after the
    # first bill was answered is admitted after the batch has learnt the ratio.
    async with Billing(fake, 2.0, delay=0.02) as proxy:
        with caplog.at_level(logging.WARNING, logger="ionq_async"):
            async with proxy.client(rate_limit=None) as client:
                report = await client.jobs.rerun_all(
                    ids, poll=POLL, max_cost=budget, over_budget="partial", concurrency=1
                )
    spent = billed(fake, ids, 2.0)
    bound = sum(price(fake, s) * (2.0 - 1.0) for s in proxy.early)
    assert spent <= budget + bound + 1e-6, "the overshoot is bounded by the early clones"
    assert len(clones(fake, ids)) < 30, "later clones were priced at twice their estimate"
    assert report.cost_ratio == pytest.approx(2.0)
    assert report.actual_cost == pytest.approx(spent) == report.campaign_cost
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("2.00x" in r.getMessage() for r in warnings)
    assert all(r.name.startswith("ionq_async") for r in warnings)


async def test_overshoot_is_at_most_the_clones_admitted_before_the_first_bill(
    fake: FakeIonQ,
) -> None:
    ids = sources(fake, 20)
    each = price(fake, ids[0])
    budget = 4 * each
    async with Billing(fake, 2.0) as proxy, proxy.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=budget, over_budget="partial", concurrency=4
        )
    spent = billed(fake, ids, 2.0)
    assert report.counts["completed"] == 4, "four fit at IonQ's estimates, before any bill"
    assert spent == pytest.approx(8 * each) == pytest.approx(budget + 4 * each)
    assert report.cost_ratio == pytest.approx(2.0)


async def test_the_ratio_is_journaled_and_prices_a_resume_from_its_first_admission(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = sources(fake, 40)
    each = price(fake, ids[0])
    budget = 6 * each
    journal = tmp_path / "drift.sqlite"
    async with Billing(fake, 2.0) as proxy, proxy.client(rate_limit=None) as client:
        first = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=budget, over_budget="partial", journal=journal
        )
        async with Journal(journal) as book:
            assert await book.cost_ratio() == pytest.approx(2.0)
        spent = billed(fake, ids, 2.0)
        assert first.campaign_cost == pytest.approx(spent)
        raised = spent + 9 * each  # room for 4 clones at 2x, 9 at IonQ's estimates
        seen: list[RerunProgress] = []
        second = await client.jobs.rerun_all(
            ids,
            poll=POLL,
            max_cost=raised,
            over_budget="partial",
            journal=journal,
            concurrency=8,
            on_progress=seen.append,
        )
    assert seen[0].cost_ratio == pytest.approx(2.0), "the resume starts from the journaled ratio"
    made = second.counts["completed"] - first.counts["completed"]
    assert made == 4
    assert billed(fake, ids, 2.0) <= raised + 1e-6, "no overshoot once the ratio is known"
    assert second.campaign_cost == pytest.approx(billed(fake, ids, 2.0))
    assert second.cost_ratio == pytest.approx(2.0)
    skipped = second.by_status("skipped")
    assert skipped and all(f"({each:.2f} estimated x2.00)" in (o.reason or "") for o in skipped)


async def test_a_refused_resume_names_the_drift(fake: FakeIonQ, tmp_path: Path) -> None:
    ids = sources(fake, 10)
    each = price(fake, ids[0])
    journal = tmp_path / "refused.sqlite"
    async with Billing(fake, 3.0) as proxy, proxy.client(rate_limit=None) as client:
        await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=2 * each, over_budget="partial", journal=journal
        )
        posts = clone_posts(fake)
        with pytest.raises(BudgetExceededError, match=r"x3\.00") as caught:
            await client.jobs.rerun_all(ids, poll=POLL, max_cost=20 * each, journal=journal)
    assert caught.value.max_cost == pytest.approx(20 * each)
    assert clone_posts(fake) == posts


async def test_an_old_journal_is_migrated_and_its_clones_are_priced(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = sources(fake, 8)
    each = price(fake, ids[0])
    path = tmp_path / "old.sqlite"
    async with fake.client(rate_limit=None) as client:
        await client.jobs.rerun_all(ids[:3], poll=POLL, journal=path)  # no budget: no costs
    with sqlite3.connect(path) as db:  # rewrite it as a journal from before costs
        rows = db.execute(
            "SELECT source_id, token, job_id, status, attempt, error, updated, sent FROM rerun"
        ).fetchall()
        db.execute("DROP TABLE rerun")
        db.execute("DROP TABLE campaign")
        db.execute(
            "CREATE TABLE rerun (source_id TEXT PRIMARY KEY, token TEXT, job_id TEXT,"
            " status TEXT, attempt INTEGER NOT NULL DEFAULT 0, error TEXT,"
            " updated REAL NOT NULL, sent REAL)"
        )
        db.executemany("INSERT INTO rerun VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=5 * each, over_budget="partial", journal=path
        )
    assert report.counts["completed"] == 5, "three earlier clones count: two more fit"
    assert report.campaign_cost == pytest.approx(5 * each)
    assert billed(fake, ids) == pytest.approx(5 * each)
    async with Journal(path) as book:
        known = await book.load()
    assert all(known[i].cost == pytest.approx(each) for i in ids[:5])


async def test_a_ratio_below_one_never_prices_under_the_estimate() -> None:
    guard = SpendGuard({"a": 10.0, "b": 10.0, "c": 10.0}, max_cost=20.0, unit="usd")
    assert guard.admit("a") is None
    assert guard.settle("a", 5.0) == pytest.approx(0.5)
    assert guard.drift == 1.0 and guard.campaign == pytest.approx(5.0)
    assert guard.admit("b") is None
    assert guard.admit("c") is not None, "15 + 10 at IonQ's estimate is over 20"
    assert guard.settle("b", 30.0) == pytest.approx(3.0)
    assert guard.settle("b", 30.0) is None, "a clone is settled once"
    assert guard.campaign == pytest.approx(35.0)


async def test_a_clone_run_again_is_priced_against_one_estimate(fake: FakeIonQ) -> None:
    ids = sources(fake, 4)
    each = price(fake, ids[0])
    flaked: set[str] = set()

    def flaky_once(job: Any) -> Any:
        if job.cloned_from and job.cloned_from not in flaked:
            flaked.add(job.cloned_from)
            return Fate.failed("QuantumComputerError", "recalibrated")
        return None

    fake.fate_for = flaky_once
    async with fake.client(rate_limit=None) as client:
        report = await client.jobs.rerun_all(ids, poll=POLL, max_cost=100 * each, retry_failed=1)
    assert report.counts["completed"] == 4
    assert all(len(fake.clones_of(i)) == 2 for i in ids)
    assert report.cost_ratio == pytest.approx(1.0), "billed as estimated: no drift"
    assert report.actual_cost == pytest.approx(4 * each)


async def test_unread_costs_count_as_estimates_and_a_resume_reads_them(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = sources(fake, 6)
    each = price(fake, ids[0])
    journal = tmp_path / "unread.sqlite"

    def broken_costs(request: web.Request, status: int, body: bytes) -> tuple[int, bytes] | None:
        if request.path.endswith("/cost"):
            return 200, b'{"cost": {"value": "lots", "unit": "usd"}}'  # unreadable
        return None

    async with (
        Proxy(fake, broken_costs) as proxy,
        proxy.client(rate_limit=None, retry=RetryPolicy.none()) as client,
    ):
        first = await client.jobs.rerun_all(ids[:3], poll=POLL, max_cost=3 * each, journal=journal)
    assert first.counts["completed"] == 3
    assert first.campaign_cost == pytest.approx(3 * each), "no bill read: estimates count"
    async with Journal(journal) as book:
        assert all(e.cost is None for e in (await book.load()).values())
    cost_reads = sum(1 for r in fake.requests if r.path.endswith("/cost"))
    async with fake.client(rate_limit=None) as client:
        second = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=6 * each, journal=journal, over_budget="partial"
        )
    assert second.counts["completed"] == 6
    reads = sum(1 for r in fake.requests if r.path.endswith("/cost")) - cost_reads
    assert reads == 6, "the three earlier clones are priced by the resume, once each"
    assert second.campaign_cost == pytest.approx(6 * each)
    async with Journal(journal) as book:
        assert all(e.cost == pytest.approx(each) for e in (await book.load()).values())


async def test_a_given_estimate_is_used_and_must_cover_the_sources(fake: FakeIonQ) -> None:
    ids = sources(fake, 6)
    each = price(fake, ids[0])
    async with fake.client(rate_limit=None) as client:
        half = await client.jobs.estimate_rerun(ids[:3])
        before = len(fake.requests)
        with pytest.raises(BudgetExceededError, match="3 of 6 sources could not be estimated"):
            await client.jobs.rerun_all(ids, poll=POLL, max_cost=10 * each, estimate=half)
        assert not [r for r in fake.requests[before:] if "estimate" in r.path]
        report = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=10 * each, estimate=half, allow_incomplete_estimate=True
        )
        with pytest.raises(TypeError, match="estimate must be a RerunEstimate"):
            await client.jobs.rerun_all(ids, max_cost=1, estimate="cheap")  # type: ignore[typeddict-item]
    assert report.counts["completed"] == 3 and report.counts["skipped"] == 3
    assert report.estimated_cost == pytest.approx(3 * each)
    assert not [r for r in fake.requests[before:] if "estimate" in r.path], "never estimated"


async def test_an_unreadable_earlier_spend_refuses_unless_allowed(
    fake: FakeIonQ, tmp_path: Path
) -> None:
    ids = sources(fake, 4)
    each = price(fake, ids[0])
    path = tmp_path / "unknown.sqlite"
    async with fake.client(rate_limit=None) as client:
        await client.jobs.rerun_all(ids[:2], poll=POLL, journal=path)  # no budget: no costs

    def no_costs(request: web.Request, status: int, body: bytes) -> tuple[int, bytes] | None:
        return (503, b'{"error": "down"}') if request.path.endswith("/cost") else None

    async with (
        Proxy(fake, no_costs) as proxy,
        proxy.client(rate_limit=None, retry=RetryPolicy.none()) as client,
    ):
        posts = clone_posts(fake)
        with pytest.raises(BudgetExceededError, match="cost of 2 clones earlier runs made"):
            await client.jobs.rerun_all(ids, poll=POLL, max_cost=10 * each, journal=path)
        assert clone_posts(fake) == posts
        report = await client.jobs.rerun_all(
            ids, poll=POLL, max_cost=10 * each, journal=path, allow_incomplete_estimate=True
        )
    assert report.counts["completed"] == 4 and clone_posts(fake) == posts + 2
