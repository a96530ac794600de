"""A batch's spend against its budget: estimates of submitted clones, actual costs once known."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SpendGuard"]


class SpendGuard:
    """Admits a clone only if its estimate keeps the committed spend within `max_cost`."""

    def __init__(
        self, prices: Mapping[str, float], *, max_cost: float | None, unit: str | None
    ) -> None:
        self.prices = dict(prices)
        self.max_cost = max_cost
        self.unit = unit
        self._held: dict[str, float] = {}
        self.actual: dict[str, float] = {}
        self.estimate: Any = None

    @property
    def committed(self) -> float:
        """Estimates of clones submitted and not yet priced, plus actual costs."""
        return sum(self._held.values()) + sum(self.actual.values())

    @property
    def estimated_total(self) -> float:
        """The estimate of every source."""
        return sum(self.prices.values())

    def admit(self, source_id: str) -> str | None:
        """Hold the source's estimate and return None, or say why it does not fit."""
        price = self.prices.get(source_id)
        if price is None:
            if self.max_cost is None:
                return None
            return "no estimate for this source, so it cannot be kept within max_cost"
        if self.max_cost is not None and self.committed + price > self.max_cost + 1e-9:
            return (
                f"over budget: {self.committed:.2f} committed + {price:.2f} estimated "
                f"> max_cost {self.max_cost:.2f} {self.unit or ''}".rstrip()
            )
        self._held[source_id] = self._held.get(source_id, 0.0) + price
        return None

    def holds(self, source_id: str) -> bool:
        """True while this run's clone of the source awaits its actual cost."""
        return source_id in self._held

    def release(self, source_id: str) -> None:
        """The held clone was not created: give its estimate back."""
        self._held.pop(source_id, None)

    def settle(self, source_id: str, actual: float | None) -> None:
        """The clone's actual cost is known (None: keep its estimate)."""
        held = self._held.pop(source_id, None)
        if actual is not None:
            self.actual[source_id] = self.actual.get(source_id, 0.0) + actual
        elif held is not None:
            self.actual[source_id] = self.actual.get(source_id, 0.0) + held
