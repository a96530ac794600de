"""A run's spend against its budget, clone by clone: prices, actual costs, drift.

Spend is actual costs where known and, for clones not billed yet, IonQ's estimate times
the drift: the largest actual/estimate ratio the campaign has seen (never below 1), so
that once IonQ bills more than it estimated, every later admission is priced at that ratio.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Protocol

import attrs

from .._core.logs import cost_drift
from .._core.retry import RetryPolicy
from .._models.jobs import JobCost
from ..errors import IonQError
from .estimate import RerunEstimate
from .journal import Journal
from .types import RerunOutcome

__all__ = ["CostOperations", "SpendGuard", "drift_of", "priced"]

logger = logging.getLogger("ionq_async.batch")

_EPSILON = 1e-9


def drift_of(ratio: float | None) -> float:
    """What an estimate is multiplied by: the largest actual/estimate ratio seen, at least 1."""
    return 1.0 if ratio is None else max(1.0, ratio)


class SpendGuard:
    """Admits a clone only if its price keeps the campaign's committed spend within `max_cost`.

    A clone is priced at its estimate times the drift; once its actual cost is known, that
    replaces the price. Clones an earlier run made and did not see billed are held too: a
    resume that awaits one reads its cost. Totals are kept as running sums: a batch asks for
    them on every progress event.
    """

    def __init__(
        self,
        prices: Mapping[str, float],
        *,
        max_cost: float | None,
        unit: str | None,
        ratio: float | None = None,
        billed: float = 0.0,
        unbilled: Mapping[str, float] | None = None,
    ) -> None:
        self.prices = dict(prices)
        self.max_cost = max_cost
        self.unit = unit
        self.estimated_total = sum(self.prices.values())
        """The estimate of every source this run may clone."""
        self.ratio = ratio
        """The largest actual/estimate ratio the campaign has seen."""
        self._held: dict[str, float] = {}
        self._held_total = 0.0
        self._earlier = dict(unbilled or {})
        """Estimates of earlier runs' clones not billed yet, by source."""
        self._earlier_total = sum(self._earlier.values())
        self.earlier_billed = billed
        self.actual: dict[str, float] = {}
        self.actual_total = 0.0
        self.estimate: RerunEstimate | None = None

    @property
    def drift(self) -> float:
        """What an estimate is multiplied by now."""
        return drift_of(self.ratio)

    @property
    def committed(self) -> float:
        """This run's spend: actual costs, and prices of its clones not billed yet."""
        return self.actual_total + max(0.0, self._held_total) * self.drift

    @property
    def campaign(self) -> float:
        """The campaign's spend: earlier runs' and this run's."""
        earlier = self.earlier_billed + max(0.0, self._earlier_total) * self.drift
        return earlier + self.committed

    def admit(self, source_id: str) -> str | None:
        """Hold the source's price and return None, or say why it does not fit."""
        earlier = self._earlier.pop(source_id, None)
        if earlier is not None:  # an earlier run's clone of it was not found: none exists
            self._earlier_total -= earlier
        estimate = self.prices.get(source_id)
        if estimate is None:
            if self.max_cost is None:
                return None
            return "no estimate for this source, so it cannot be kept within max_cost"
        price = estimate * self.drift
        committed = self.campaign
        if self.max_cost is not None and committed + price > self.max_cost + _EPSILON:
            priced = f"{price:.2f} estimated"
            if self.drift > 1:
                priced = f"{price:.2f} ({estimate:.2f} estimated x{self.drift:.2f})"
            return (
                f"over budget: {committed:.2f} committed + {priced} "
                f"> max_cost {self.max_cost:.2f} {self.unit or ''}".rstrip()
            )
        self._held[source_id] = self._held.get(source_id, 0.0) + estimate
        self._held_total += estimate
        return None

    def holds(self, source_id: str) -> bool:
        """True while a clone of the source (this run's or an earlier one's) awaits its cost."""
        return source_id in self._held or source_id in self._earlier

    def estimate_of(self, source_id: str) -> float | None:
        """IonQ's estimate of the source's clone, if it has one."""
        return self.prices.get(source_id)

    def release(self, source_id: str) -> None:
        """The held clone was not created: give its price back."""
        self._held_total -= self._held.pop(source_id, 0.0)

    def settle(self, source_id: str, actual: float | None) -> float | None:
        """The clone's actual cost is known (None: keep its price); the clone's ratio if new.

        Returns the clone's actual/estimate ratio when it is the largest the campaign has
        seen, for the caller to journal; from now on every estimate is priced at it.
        """
        held = self._held.pop(source_id, None)
        earlier = held is None
        if held is None:
            held = self._earlier.pop(source_id, None)
            if held is None:
                return None
            self._earlier_total -= held
        else:
            self._held_total -= held
        cost = actual if actual is not None else held * self.drift
        if earlier:
            self.earlier_billed += cost
        else:
            self.actual[source_id] = self.actual.get(source_id, 0.0) + cost
            self.actual_total += cost
        basis = held if earlier else self.prices.get(source_id, held)  # one clone's estimate
        if actual is None or basis <= 0:
            return None
        return self.learn(actual / basis, source_id)

    def learn(self, ratio: float, source_id: str | None = None) -> float | None:
        """Take in an actual/estimate ratio; return it if it is the largest seen, else None."""
        if self.ratio is not None and ratio <= self.ratio + _EPSILON:
            return None
        self.ratio = ratio
        if ratio > 1 + _EPSILON:
            cost_drift("a clone" if source_id is None else f"the clone of {source_id}", ratio)
        return ratio


class CostOperations(Protocol):
    """What pricing a clone needs: its cost."""

    async def cost(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobCost: ...


async def priced(
    ops: CostOperations,
    guard: SpendGuard,
    journal: Journal | None,
    outcome: RerunOutcome,
    retry: RetryPolicy,
) -> RerunOutcome:
    """The outcome with its clone's actual cost, settled in the guard (a new ratio journaled)."""
    if outcome.job_id is None or not guard.holds(outcome.source_id):
        return outcome  # no clone, or its cost is already known
    try:
        cost = (await ops.cost(outcome.job_id, retry=retry)).cost
    except IonQError as exc:
        logger.warning("could not read the cost of job %s: %s", outcome.job_id, exc)
        cost = None
    actual = None if cost is None else cost.value
    ratio = guard.settle(outcome.source_id, actual)
    if ratio is not None and journal is not None:
        try:
            await journal.learned_ratio(ratio)
        except sqlite3.Error:
            logger.warning("could not journal the cost ratio %.2f", ratio, exc_info=True)
    return attrs.evolve(outcome, cost=actual)
