"""Running a batch for a caller: open its journal, drive the engine, stream or collect outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from typing import Any

from attrs import frozen

from .._core.operations import JobOperations
from .._core.retry import RetryBudget, RetryPolicy
from .._engine.idempotency import TokenIndex
from .._engine.polling import Poller
from .._models.jobs import Money
from ..errors import BudgetExceededError, IonQError
from .engine import Rerun
from .estimate import estimate_rerun
from .journal import Journal, JournalEntry
from .resume import is_id, journaled_end
from .spend import SpendGuard
from .types import OUTCOMES, RerunOptions, RerunOutcome, RerunReport

__all__ = ["Engines", "rerun", "rerun_all"]


@frozen
class Engines:
    """What a batch is handed: operations, the shared poller and token index, retries, clock."""

    ops: JobOperations
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
            run.guard = await _spend_guard(engines, ids, body, options, run.resume)
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
    resume: Mapping[str, JournalEntry],
) -> SpendGuard:
    """Estimate the sources this run may clone; refuse before any clone if over budget."""
    to_clone = [i for i in ids if is_id(i) and _may_clone(resume.get(i))]
    estimate = await estimate_rerun(engines.ops, to_clone, body, retry=engines.retry)
    limit = options.max_cost
    if isinstance(limit, Money):
        if limit.unit.lower() != estimate.total.unit.lower() and estimate.estimates:
            raise ValueError(f"max_cost is in {limit.unit}, the estimate in {estimate.total.unit}")
        limit = limit.value
    assert limit is not None
    total = estimate.total
    if not estimate.complete and not options.allow_incomplete_estimate:
        raise BudgetExceededError(
            f"{len(estimate.unestimated)} of {len(to_clone)} sources could not be estimated "
            "(allow_incomplete_estimate=True runs them anyway); no clone was sent",
            estimate=estimate,
            max_cost=limit,
        )
    if total.value > limit + 1e-9 and options.over_budget == "refuse":
        raise BudgetExceededError(
            f"the estimate is {total.value:.2f} {total.unit}, over max_cost {limit:.2f}; "
            'no clone was sent (over_budget="partial" runs what fits)',
            estimate=estimate,
            max_cost=limit,
        )
    prices = {e.source_id: e.cost.value for e in estimate.estimates}
    guard = SpendGuard(prices, max_cost=limit, unit=total.unit)
    guard.estimate = estimate
    return guard


def _may_clone(entry: JournalEntry | None) -> bool:
    """Whether a source may need a new clone in this run (not finished, no clone known)."""
    return entry is None or (journaled_end(entry) is None and entry.job_id is None)


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
    )
