"""A campaign's spend against its budget: earlier runs' spend, estimates, actual costs, drift.

With a journal, `max_cost` is the budget of the whole campaign: every run on that journal
spends from it. Spend is actual costs where known and, for clones not billed yet, IonQ's
estimate times the drift: the largest actual/estimate ratio the campaign has seen (never
below 1), so that once IonQ bills more than it estimated, every later admission is priced
at that ratio.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Literal

from attrs import field, frozen

from .estimate import RerunEstimate
from .journal import Journal, JournalEntry
from .resume import journaled_end

__all__ = ["Campaign", "SpendGuard", "SpendPlan", "drift_of", "may_clone"]

logger = logging.getLogger("ionq_async.batch")

_EPSILON = 1e-9


def drift_of(ratio: float | None) -> float:
    """What an estimate is multiplied by: the largest actual/estimate ratio seen, at least 1."""
    return 1.0 if ratio is None else max(1.0, ratio)


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
            self.prices, max_cost=self.max_cost, unit=self.unit, campaign=self.campaign
        )
        guard.estimate = self.estimate
        return guard


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
        campaign: Campaign | None = None,
    ) -> None:
        campaign = campaign or Campaign()
        self.prices = dict(prices)
        self.max_cost = max_cost
        self.unit = unit
        self.estimated_total = sum(self.prices.values())
        """The estimate of every source this run may clone."""
        self.ratio = campaign.ratio
        self._held: dict[str, float] = {}
        self._held_total = 0.0
        self._earlier: dict[str, float] = campaign.unbilled
        self._earlier_total = sum(self._earlier.values())
        self.earlier_billed = campaign.billed
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
            return (
                f"over budget: {committed:.2f} committed + {price:.2f} estimated "
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
            logger.warning(
                "IonQ billed %s at %.2fx its estimate: later clones are priced at %.2fx",
                "a clone" if source_id is None else f"the clone of {source_id}",
                ratio,
                ratio,
            )
        return ratio
