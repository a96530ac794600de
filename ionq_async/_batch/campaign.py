"""A campaign's budget before a run: what its journal records, and the run's plan against it.

With a journal, `max_cost` is the budget of the whole campaign: what earlier runs spent
(actual costs where known, estimates times the drift otherwise) counts against it, and a
run may clone only what is left. The plan prices the sources a run may clone and refuses
the run before any clone when it cannot be held to the budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol

import attrs
from attrs import field, frozen

from .._core.retry import RetryPolicy
from .._models.jobs import JobCost, Money
from ..errors import BudgetExceededError, IonQError
from .estimate import EstimateOperations, RerunEstimate, estimate_rerun
from .journal import Journal, JournalEntry
from .resume import is_id, journaled_end
from .spend import CostOperations, SpendGuard, drift_of
from .types import RerunOptions

__all__ = ["BudgetOperations", "Campaign", "SpendPlan", "budget_in", "may_clone", "spend_guard"]

logger = logging.getLogger("ionq_async.batch")

_EPSILON = 1e-9


class BudgetOperations(EstimateOperations, CostOperations, Protocol):
    """What planning a budget needs: estimates, and the costs of clones recorded without one."""


def may_clone(entry: JournalEntry | None) -> bool:
    """Whether a source may need a new clone in this run (not finished, no clone known)."""
    return entry is None or (journaled_end(entry) is None and entry.job_id is None)


def _unbilled(entry: JournalEntry) -> bool:
    """True if the entry's clone may exist and its actual cost is not known."""
    if entry.cost is not None or entry.estimate is None:
        return False
    return entry.job_id is not None or entry.status in (None, "ambiguous")


@frozen(kw_only=True)
class Campaign:
    """What a journal records of the runs before this one: their spend and the drift seen."""

    entries: Mapping[str, JournalEntry] = field(factory=dict)
    ratio: float | None = None
    """The largest actual/estimate ratio the campaign has seen (None: no actual cost yet)."""

    @property
    def billed(self) -> float:
        """Actual costs recorded."""
        return sum(e.cost for e in self.entries.values() if e.cost is not None)

    @property
    def unbilled(self) -> dict[str, float]:
        """Estimates of clones that may exist and were not billed yet, by source."""
        return {s: e.estimate for s, e in self.entries.items() if _unbilled(e) and e.estimate}

    @property
    def unpriced(self) -> dict[str, str]:
        """Clones an older journal recorded without any cost: job id by source."""
        return {
            s: e.job_id
            for s, e in self.entries.items()
            if e.job_id is not None and e.cost is None and e.estimate is None
        }

    @property
    def spent(self) -> float:
        """Earlier runs' spend: actual costs where known, estimates times the drift otherwise."""
        return self.billed + sum(self.unbilled.values()) * drift_of(self.ratio)

    def pending(self, source_ids: Iterable[str]) -> list[str]:
        """The sources a run may clone: those this journal has not finished or cloned."""
        return [s for s in source_ids if may_clone(self.entries.get(s))]

    @classmethod
    async def read(cls, journal: Journal) -> Campaign:
        """What an open journal records."""
        return cls(entries=await journal.load(), ratio=await journal.cost_ratio())


Refusal = Literal["incomplete", "over"]


@frozen(kw_only=True)
class SpendPlan:
    """A run's budget before its first clone: the prices of what it may clone, and the campaign.

    `prices` are IonQ's estimates of the sources this run may clone; `unestimated` those of
    them without one. The run's sources are priced at `cost` (the estimates times the
    drift); with what earlier runs spent, that is checked against `max_cost`.
    """

    estimate: RerunEstimate
    prices: Mapping[str, float]
    unestimated: tuple[str, ...]
    max_cost: float
    unit: str
    campaign: Campaign = field(factory=Campaign)

    @classmethod
    def of(
        cls,
        estimate: RerunEstimate,
        pending: Iterable[str],
        max_cost: float,
        campaign: Campaign | None = None,
    ) -> SpendPlan:
        """The plan of a run that may clone `pending`, priced by `estimate`."""
        priced = {e.source_id: e.cost.value for e in estimate.estimates}
        todo = list(dict.fromkeys(pending))
        return cls(
            estimate=estimate,
            prices={s: priced[s] for s in todo if s in priced},
            unestimated=tuple(s for s in todo if s not in priced),
            max_cost=max_cost,
            unit=estimate.total.unit,
            campaign=campaign or Campaign(),
        )

    @property
    def drift(self) -> float:
        return drift_of(self.campaign.ratio)

    @property
    def estimated(self) -> float:
        """IonQ's estimate of the sources this run may clone."""
        return sum(self.prices.values())

    @property
    def cost(self) -> float:
        """What this run's sources are priced at: their estimates times the drift."""
        return self.estimated * self.drift

    @property
    def earlier(self) -> float:
        """What earlier runs on the journal spent."""
        return self.campaign.spent

    @property
    def left(self) -> float:
        """The budget this run may still spend."""
        return max(0.0, self.max_cost - self.earlier)

    def refusal(self, *, partial: bool, allow_incomplete: bool) -> Refusal | None:
        """Why the run must not start ("incomplete" estimate, "over" budget), or None."""
        if self.unestimated and not allow_incomplete:
            return "incomplete"
        if not partial and self.earlier + self.cost > self.max_cost + _EPSILON:
            return "over"
        return None

    def guard(self) -> SpendGuard:
        """The guard that holds the run to this plan, clone by clone."""
        guard = SpendGuard(
            self.prices,
            max_cost=self.max_cost,
            unit=self.unit,
            ratio=self.campaign.ratio,
            billed=self.campaign.billed,
            unbilled=self.campaign.unbilled,
        )
        guard.estimate = self.estimate
        return guard


async def spend_guard(
    ops: BudgetOperations,
    retry: RetryPolicy,
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
        campaign = await _price_earlier(ops, retry, book, campaign, options)
    pending = [i for i in campaign.pending(ids) if is_id(i)]
    estimate = options.estimate
    if estimate is None:
        estimate = await estimate_rerun(ops, pending, body, retry=retry)
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


def budget_in(max_cost: Money | float | None, estimate: RerunEstimate | None) -> float:
    """`max_cost` as a number in the estimate's unit."""
    if isinstance(max_cost, Money):
        if estimate is None:
            return max_cost.value
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
    ops: BudgetOperations,
    retry: RetryPolicy,
    book: Journal,
    campaign: Campaign,
    options: RerunOptions,
) -> Campaign:
    """Read once the costs of clones a journal recorded before it recorded costs.

    A clone whose cost cannot be read leaves the campaign's spend unknown: the run is
    refused before any clone, unless `allow_incomplete_estimate`.
    """
    unpriced = campaign.unpriced
    if not unpriced:
        return campaign
    logger.info("reading the cost of %d clones the journal recorded without one", len(unpriced))
    gate = asyncio.Semaphore(options.concurrency)

    async def price(source_id: str, job_id: str) -> tuple[str, JobCost | None]:
        async with gate:
            try:
                return source_id, await ops.cost(job_id, retry=retry)
            except IonQError as exc:
                logger.warning("could not read the cost of job %s: %s", job_id, exc)
                return source_id, None

    entries = dict(campaign.entries)
    ratio = campaign.ratio
    unknown = 0
    for source_id, cost in await asyncio.gather(*(price(s, j) for s, j in unpriced.items())):
        estimate = None if cost is None or cost.estimated_cost is None else cost.estimated_cost
        actual = None if cost is None or cost.cost is None else cost.cost
        if actual is None and estimate is None:
            unknown += 1
            continue
        value = None if actual is None else actual.value
        guess = None if estimate is None else estimate.value
        await book.priced(source_id, value, guess)
        entries[source_id] = attrs.evolve(entries[source_id], estimate=guess, cost=value)
        if value is not None and guess and (ratio is None or value / guess > ratio):
            ratio = value / guess
            await book.learned_ratio(ratio)
    if unknown and not options.allow_incomplete_estimate:
        raise BudgetExceededError(
            f"the cost of {unknown} clones earlier runs made could not be read, so the "
            "campaign's spend is not known (allow_incomplete_estimate=True runs anyway); "
            "no clone was sent",
            max_cost=budget_in(options.max_cost, None),
        )
    return Campaign(entries=entries, ratio=ratio)
