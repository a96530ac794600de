"""Running a batch for a caller: open its journal, drive the engine, stream or collect outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from typing import Any, Protocol

import attrs
from attrs import frozen

from .._core.retry import RetryBudget, RetryPolicy
from .._engine.idempotency import TokenIndex
from .._engine.polling import Poller
from .._models.jobs import JobCost, Money
from ..errors import BudgetExceededError, IonQError
from .engine import BatchOperations, Rerun
from .estimate import EstimateOperations, RerunEstimate, estimate_rerun
from .journal import Journal, JournalEntry
from .resume import is_id
from .spend import Campaign, SpendGuard, SpendPlan
from .types import OUTCOMES, RerunOptions, RerunOutcome, RerunReport

__all__ = ["Engines", "budget_in", "rerun", "rerun_all"]

logger = logging.getLogger("ionq_async.batch")


class RerunOperations(BatchOperations, EstimateOperations, Protocol):
    """What running a batch needs: the batch's operations and estimates."""


@frozen
class Engines:
    """What a batch is handed: operations, the shared poller and token index, retries, clock."""

    ops: RerunOperations
    poller: Poller
    index: TokenIndex
    retry: RetryPolicy
    budget: RetryBudget | None
    clock: Callable[[], float] = time.monotonic


def _unique(source_ids: Iterable[str]) -> list[str]:
    if isinstance(source_ids, str):
        raise TypeError("source_ids must be a list of job ids, not a single string")
    return list(dict.fromkeys(source_ids))


@contextlib.asynccontextmanager
async def _batch(
    engines: Engines, source_ids: Iterable[str], body: Mapping[str, Any], options: RerunOptions
) -> AsyncIterator[tuple[Rerun, list[str]]]:
    """Open the journal (and load what it knows), build the run, close the journal after."""
    ids = _unique(source_ids)
    if options.session_id is not None:
        body = {**body, "session_id": options.session_id}
    journal = options.journal
    book = journal if isinstance(journal, Journal | None) else Journal(journal)
    own_journal = book is not None and not book.is_open
    run = Rerun(
        engines.ops,
        body,
        options,
        poller=engines.poller,
        index=engines.index,
        retry=engines.retry,
        budget=engines.budget,
        journal=book,
        total=len(ids),
        clock=engines.clock,
    )
    try:
        if book is not None:
            if own_journal:
                await book.open()
            run.resume = await book.load()
        if options.max_cost is not None:
            run.guard = await _spend_guard(engines, ids, body, options, book, run.resume)
        run.progress()
        yield run, ids
    finally:
        if book is not None and own_journal:
            await book.close()


async def _spend_guard(
    engines: Engines,
    ids: list[str],
    body: Mapping[str, Any],
    options: RerunOptions,
    book: Journal | None,
    resume: Mapping[str, JournalEntry],
) -> SpendGuard:
    """Price the run against the campaign's budget; refuse before any clone if over it."""
    campaign = Campaign()
    if book is not None:
        campaign = Campaign(entries=resume, ratio=await book.cost_ratio())
        campaign = await _price_earlier(engines, book, campaign, options.concurrency)
    pending = [i for i in campaign.pending(ids) if is_id(i)]
    estimate = options.estimate
    if estimate is None:
        estimate = await estimate_rerun(engines.ops, pending, body, retry=engines.retry)
    plan = SpendPlan.of(estimate, pending, budget_in(options.max_cost, estimate), campaign)
    refused = plan.refusal(
        partial=options.over_budget == "partial",
        allow_incomplete=options.allow_incomplete_estimate,
    )
    if refused is not None:
        raise BudgetExceededError(
            _refusal_message(plan, refused), estimate=estimate, max_cost=plan.max_cost
        )
    if plan.drift > 1:
        logger.warning(
            "IonQ billed this campaign up to %.2fx its estimates: clones are priced at %.2fx",
            plan.drift,
            plan.drift,
        )
    return plan.guard()


def budget_in(max_cost: Money | float | None, estimate: RerunEstimate) -> float:
    """`max_cost` as a number in the estimate's unit."""
    if isinstance(max_cost, Money):
        if max_cost.unit.lower() != estimate.total.unit.lower() and estimate.estimates:
            raise ValueError(
                f"max_cost is in {max_cost.unit}, the estimate in {estimate.total.unit}"
            )
        return max_cost.value
    assert max_cost is not None
    return float(max_cost)


def _refusal_message(plan: SpendPlan, refused: str) -> str:
    if refused == "incomplete":
        n = len(plan.prices) + len(plan.unestimated)
        return (
            f"{len(plan.unestimated)} of {n} sources could not be estimated "
            "(allow_incomplete_estimate=True runs them anyway); no clone was sent"
        )
    unit = plan.unit
    if plan.earlier or plan.drift > 1:
        return (
            f"earlier runs on the journal spent {plan.earlier:.2f} {unit} and the rest is "
            f"estimated at {plan.cost:.2f} {unit} (IonQ's estimates x{plan.drift:.2f}), over "
            f'max_cost {plan.max_cost:.2f}; no clone was sent (over_budget="partial" runs '
            "what fits)"
        )
    return (
        f"the estimate is {plan.cost:.2f} {unit}, over max_cost {plan.max_cost:.2f}; "
        'no clone was sent (over_budget="partial" runs what fits)'
    )


async def _price_earlier(
    engines: Engines, book: Journal, campaign: Campaign, concurrency: int
) -> Campaign:
    """Read once the costs of clones a journal recorded before it recorded costs."""
    unpriced = campaign.unpriced
    if not unpriced:
        return campaign
    logger.info("reading the cost of %d clones the journal recorded without one", len(unpriced))
    gate = asyncio.Semaphore(concurrency)

    async def price(source_id: str, job_id: str) -> tuple[str, JobCost | None]:
        async with gate:
            try:
                return source_id, await engines.ops.cost(job_id, retry=engines.retry)
            except IonQError as exc:
                logger.warning("could not read the cost of job %s: %s", job_id, exc)
                return source_id, None

    entries = dict(campaign.entries)
    for source_id, cost in await asyncio.gather(*(price(s, j) for s, j in unpriced.items())):
        if cost is None:
            continue
        estimate = None if cost.estimated_cost is None else cost.estimated_cost.value
        actual = None if cost.cost is None else cost.cost.value
        if actual is None:
            entries[source_id] = attrs.evolve(entries[source_id], estimate=estimate)
            continue
        await book.priced(source_id, actual, estimate)
        entries[source_id] = attrs.evolve(entries[source_id], estimate=estimate, cost=actual)
    return Campaign(entries=entries, ratio=campaign.ratio)


async def rerun(
    engines: Engines, source_ids: Iterable[str], body: Mapping[str, Any], options: RerunOptions
) -> AsyncGenerator[RerunOutcome, None]:
    """Yield each source's outcome as it ends; an error of the batch itself is raised here."""
    async with _batch(engines, source_ids, body, options) as (run, ids):
        done: asyncio.Queue[RerunOutcome] = asyncio.Queue()
        run.emit = done.put_nowait
        driver = asyncio.ensure_future(run.drive(ids))
        try:
            for _ in ids:
                if done.empty():
                    getter = asyncio.ensure_future(done.get())
                    await asyncio.wait([getter, driver], return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        driver.result()
                        raise IonQError("the batch stopped before every source was accounted for")
                    yield getter.result()
                else:
                    yield done.get_nowait()
        finally:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)


async def rerun_all(
    engines: Engines, source_ids: Iterable[str], body: Mapping[str, Any], options: RerunOptions
) -> RerunReport:
    """Run a whole batch; return every outcome in input order."""
    started = engines.clock()
    got: dict[str, RerunOutcome] = {}

    def keep(outcome: RerunOutcome) -> None:
        got[outcome.source_id] = outcome

    async with _batch(engines, source_ids, body, options) as (run, ids):
        run.emit = keep
        await run.drive(ids)
    outcomes = tuple(got[i] for i in ids)
    counts = dict.fromkeys(OUTCOMES, 0)
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    guard = run.guard
    return RerunReport(
        outcomes=outcomes,
        counts=counts,
        duration=engines.clock() - started,
        estimated_cost=None if guard is None else guard.estimated_total,
        actual_cost=None if guard is None else guard.actual_total,
        cost_unit=None if guard is None else guard.unit,
        campaign_cost=None if guard is None else guard.campaign,
        cost_ratio=None if guard is None else guard.ratio,
        max_cost=None if guard is None else guard.max_cost,
    )
