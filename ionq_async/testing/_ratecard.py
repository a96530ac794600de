"""The emulator's stated rate card: the same numbers price estimates and completed jobs.

A job on backend ``b`` with ``shots`` shots, ``one_q`` one-qubit and ``two_q`` two-qubit gates
costs (USD, rounded to cents)::

    gates = shots * (one_q * RATES[b].cost_1q_gate + two_q * RATES[b].cost_2q_gate)
    minimum = RATES[b].error_mitigation_minimum if error_mitigation else RATES[b].job_cost_minimum
    cost = round(max(gates, minimum), 2)

The simulator is free. Its execution time is ``shots * (shot_us + one_q * gate_1q_us +
two_q * gate_2q_us)`` microseconds, rounded up to whole milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

RATE_CARD_ID = "ionq-emulator-rate-card-2026-09"
UNIT = "usd"


@dataclass(frozen=True)
class Rate:
    """Prices (USD) and timings (microseconds) of one backend."""

    cost_1q_gate: float
    cost_2q_gate: float
    job_cost_minimum: float
    error_mitigation_minimum: float
    gate_1q_us: float
    gate_2q_us: float
    shot_us: float

    @property
    def free(self) -> bool:
        """True when every job on this backend costs nothing."""
        return not (self.cost_1q_gate or self.cost_2q_gate or self.job_cost_minimum)


RATES: dict[str, Rate] = {
    "simulator": Rate(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "qpu.forte-1": Rate(0.0003, 0.0025, 97.50, 1000.00, 130.0, 970.0, 1200.0),
    "qpu.forte-enterprise-1": Rate(0.0004, 0.0030, 120.00, 1200.00, 110.0, 900.0, 1000.0),
}
"""Rate per backend name; a backend missing here cannot be estimated or billed."""


def rate_for(backend: str) -> Rate:
    """The rate of ``backend`` (KeyError when it is not on the card)."""
    return RATES[backend]


def job_cost(
    backend: str, shots: int, one_q: int, two_q: int, *, error_mitigation: bool = False
) -> float:
    """Cost in USD of one job (see the module docstring); 0.0 for an unknown backend."""
    rate = RATES.get(backend)
    if rate is None or rate.free:
        return 0.0
    gates = shots * (one_q * rate.cost_1q_gate + two_q * rate.cost_2q_gate)
    minimum = rate.error_mitigation_minimum if error_mitigation else rate.job_cost_minimum
    return round(max(gates, minimum), 2)


def execution_time_ms(backend: str, shots: int, one_q: int, two_q: int) -> int:
    """Predicted execution time in whole milliseconds (0 for an unknown backend)."""
    rate = RATES.get(backend)
    if rate is None:
        return 0
    us = shots * (rate.shot_us + one_q * rate.gate_1q_us + two_q * rate.gate_2q_us)
    return math.ceil(us / 1000)


def rate_card_entry(backend: str) -> dict[str, Any]:
    """The backend's RateCardEntry as GET /jobs/estimate shows it."""
    rate = rate_for(backend)
    return {
        "sku": f"{backend}.gates",
        "unit": "gates",
        "cost_1q_gate": rate.cost_1q_gate,
        "cost_2q_gate": rate.cost_2q_gate,
        "job_cost_minimum": rate.job_cost_minimum,
    }


__all__ = [
    "RATES",
    "RATE_CARD_ID",
    "UNIT",
    "Rate",
    "execution_time_ms",
    "job_cost",
    "rate_card_entry",
    "rate_for",
]
