"""A batch's spend against its budget: estimates of submitted clones, actual costs once known."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.logs import cost_above_estimate

__all__ = ["SpendGuard"]


class SpendGuard:
    """Admits a clone only if its estimate keeps the committed spend within `max_cost`.

    Totals are kept as running sums: a batch asks for them on every progress event.
    """

    def __init__(
        self, prices: Mapping[str, float], *, max_cost: float | None, unit: str | None
    ) -> None:
        self.prices = dict(prices)
        self.max_cost = max_cost
        self.unit = unit
        self.estimated_total = sum(self.prices.values())
        """The estimate of every source."""
        self._held: dict[str, float] = {}
        self._held_total = 0.0
        self.actual: dict[str, float] = {}
        self.actual_total = 0.0
        self.estimate: Any = None

    @property
    def committed(self) -> float:
        """Estimates of clones submitted and not yet priced, plus actual costs."""
        return max(0.0, self._held_total) + self.actual_total

    def admit(self, source_id: str) -> str | None:
        """Hold the source's estimate and return None, or say why it does not fit."""
        price = self.prices.get(source_id)
        if price is None:
            if self.max_cost is None:
                return None
            return "no estimate for this source, so it cannot be kept within max_cost"
        committed = self.committed
        if self.max_cost is not None and committed + price > self.max_cost + 1e-9:
            return (
                f"over budget: {committed:.2f} committed + {price:.2f} estimated "
                f"> max_cost {self.max_cost:.2f} {self.unit or ''}".rstrip()
            )
        self._held[source_id] = self._held.get(source_id, 0.0) + price
        self._held_total += price
        return None

    def holds(self, source_id: str) -> bool:
        """True while this run's clone of the source awaits its actual cost."""
        return source_id in self._held

    def release(self, source_id: str) -> None:
        """The held clone was not created: give its estimate back."""
        self._held_total -= self._held.pop(source_id, 0.0)

    def settle(self, source_id: str, actual: float | None) -> None:
        """The clone's actual cost is known (None: keep its estimate)."""
        held = self._held.pop(source_id, None)
        if held is not None:
            self._held_total -= held
        if actual is not None and held is not None and actual > held + 1e-9:
            cost_above_estimate(source_id, actual, held, self.unit)
        cost = actual if actual is not None else held
        if cost is not None:
            self.actual[source_id] = self.actual.get(source_id, 0.0) + cost
            self.actual_total += cost
