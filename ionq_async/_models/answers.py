"""Typed answers of the jobs API besides jobs themselves: estimates, status changes, pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import field, frozen

from .jobs import Job, Money

__all__ = ["CostEstimate", "EstimateRate", "JobPage", "JobStatusChange", "JobsStatusChange"]


@frozen(kw_only=True)
class EstimateRate:
    """One rate an estimate was priced with (per gate, or per compute second)."""

    sku: str | None = None
    unit: str | None = None
    unit_cost: float | None = None
    cost_1q_gate: float | None = None
    cost_2q_gate: float | None = None
    job_cost_minimum: float | None = None


@frozen(kw_only=True)
class CostEstimate:
    """`GET /jobs/estimate`: a job's predicted cost and times, read from either answer shape.

    `total` is the estimated cost with its unit (a currency code such as "usd", or
    "credit"); times are in the answer's units (milliseconds, the quantum compute time in
    microseconds); `context` is the echo of the inputs the estimate was made for.
    """

    total: Money
    execution_time_ms: int | None = None
    queue_time_ms: int | None = None
    quantum_compute_time_us: int | None = None
    estimated_at: datetime | None = None
    rate_card_id: str | None = None
    rates: tuple[EstimateRate, ...] = ()
    context: dict[str, Any] = field(factory=dict)


@frozen(kw_only=True)
class JobStatusChange:
    """The answer to cancelling or deleting one job: its id and new status."""

    id: str
    status: str


@frozen(kw_only=True)
class JobsStatusChange:
    """The answer to cancelling or deleting several jobs: their ids and new status."""

    ids: tuple[str, ...]
    status: str


@frozen(kw_only=True)
class JobPage:
    """One page of `GET /jobs`: its jobs and the cursor of the next page (None on the last)."""

    jobs: tuple[Job, ...]
    next: str | None = None
