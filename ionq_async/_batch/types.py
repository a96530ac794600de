"""What a batch re-run reports and takes: outcomes, progress, the report and the options."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, TypedDict

from attrs import Factory, field, frozen

from .._core import defaults as d
from .._engine.polling import PollPolicy
from .._models.api import Session
from .._models.jobs import Failure, Job, Money
from .estimate import RerunEstimate
from .journal import Journal

__all__ = [
    "OUTCOMES",
    "RerunKwargs",
    "RerunOptions",
    "RerunOutcome",
    "RerunProgress",
    "RerunReport",
    "count_statuses",
]

OUTCOMES = ("completed", "failed", "canceled", "error", "ambiguous", "submitted", "skipped")


@frozen(kw_only=True)
class RerunOutcome:
    """How one source job's re-run ended.

    `status` is completed, failed or canceled (the clone's final state); error (`error`
    says why; `job_id` is set if the clone exists); ambiguous (a clone may exist, its
    answer was lost); submitted (cloned, not awaited: `wait=False`); or skipped (not
    cloned: `reason` says why, e.g. the budget or the session's end; a resume runs it).
    `cost` is the clone's actual cost, when the batch tracked spend.

    A finished clone's `failure` and timestamps are kept, not the clone's `Job`: `job`
    is None unless the batch ran with `keep_jobs=True` (then it is the final `Job`), so
    a report of 100,000 outcomes stays small.
    """

    source_id: str
    job_id: str | None = None
    status: str
    job: Job | None = None
    error: BaseException | None = field(default=None, eq=False)
    attempts: int = 0
    reason: str | None = None
    cost: float | None = None
    failure: Failure | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@frozen(kw_only=True)
class RerunProgress:
    """Counters of a running batch, passed to `on_progress` after every change."""

    total: int
    cloned: int = 0
    completed: int = 0
    failed: int = 0
    canceled: int = 0
    errors: int = 0
    ambiguous: int = 0
    submitted: int = 0
    skipped: int = 0
    spent: float | None = None
    """This run's committed spend: prices of submitted clones, actual costs once known."""
    max_cost: float | None = None
    campaign_spent: float | None = None
    """The campaign's committed spend: `spent` plus what earlier runs on the journal spent
    (without a journal, equal to `spent`)."""
    cost_ratio: float | None = None
    """The largest actual/estimate cost ratio the campaign has seen (None: none billed yet)."""

    @property
    def done(self) -> int:
        """Sources accounted for so far."""
        return (self.completed + self.failed + self.canceled + self.errors + self.ambiguous) + (
            self.submitted + self.skipped
        )

    @property
    def running(self) -> int:
        """Clones created and not finished yet."""
        return max(0, self.cloned - self.done)


@frozen(kw_only=True)
class RerunReport:
    """Every outcome of a batch, in input order, with counts by status and the wall time."""

    outcomes: Sequence[RerunOutcome]
    """Every outcome, in input order (a batch's report keeps them as columns and builds each
    `RerunOutcome` when read)."""
    counts: Mapping[str, int] = field(
        default=Factory(lambda self: count_statuses(o.status for o in self.outcomes), True)
    )
    """How many outcomes ended in each status (every status of `OUTCOMES`, zeros included)."""
    duration: float
    estimated_cost: float | None = None
    """The estimate of every source this batch was to clone (when it tracked spend)."""
    actual_cost: float | None = None
    """The actual cost of the clones this batch made (when it tracked spend)."""
    cost_unit: str | None = None
    campaign_cost: float | None = None
    """The campaign's spend after this batch: this batch's and what earlier runs on its
    journal spent (actual costs where known, estimates times the drift otherwise); without
    a journal, this batch's own."""
    cost_ratio: float | None = None
    """The largest actual/estimate cost ratio the campaign has seen; above 1, IonQ billed
    more than it estimated and later clones were priced at this ratio."""
    max_cost: float | None = None
    """The budget the batch ran under, in `cost_unit`."""

    def by_status(self, status: str) -> list[RerunOutcome]:
        """The outcomes with `status`."""
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        """True when every source's clone completed."""
        return self.counts.get("completed", 0) == len(self.outcomes)


class RerunKwargs(TypedDict, total=False):
    """The keyword options of `jobs.rerun()` and `jobs.rerun_all()` (see RerunOptions)."""

    concurrency: int
    wait: bool
    keep_jobs: bool
    poll: PollPolicy | None
    timeout: float | None
    journal: Journal | str | os.PathLike[str] | None
    idempotent: bool
    retry_failed: int
    on_progress: Callable[[RerunProgress], Any] | None
    max_cost: Money | float | None
    over_budget: Literal["refuse", "partial"]
    allow_incomplete_estimate: bool
    session: Session | str | None
    estimate: RerunEstimate | None
    cancel_on_exit: bool


def _positive_int(name: str, low: int) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")

    return check


def _flag(name: str) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, got {value!r}")

    return check


def _timeout(_: Any, __: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise TypeError(f"timeout must be a number of seconds or None, got {value!r}")
    if value is not None and not value > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {value!r}")


def _max_cost(_: Any, __: Any, value: Any) -> None:
    amount = value.value if isinstance(value, Money) else value
    if value is None:
        return
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not amount >= 0:
        raise ValueError(f"max_cost must be a Money or a number >= 0, got {value!r}")


def _over_budget(_: Any, __: Any, value: Any) -> None:
    if value not in ("refuse", "partial"):
        raise ValueError(f'over_budget must be "refuse" or "partial", got {value!r}')


def _estimate(_: Any, __: Any, value: Any) -> None:
    if value is not None and not isinstance(value, RerunEstimate):
        raise TypeError(f"estimate must be a RerunEstimate from estimate_rerun, got {value!r}")


def _session(_: Any, __: Any, value: Any) -> None:
    if value is None:
        return
    sid = value if isinstance(value, str) else getattr(value, "id", None)
    if not isinstance(sid, str) or not sid:
        raise TypeError(f"session must be a Session or a session id, got {value!r}")


def _poll(_: Any, __: Any, value: Any) -> None:
    if value is not None and not isinstance(value, PollPolicy):
        raise TypeError(f"poll must be a PollPolicy or None, got {value!r}")


def _callable(name: str) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if value is not None and not callable(value):
            raise TypeError(f"{name} must be callable or None, got {value!r}")

    return check


def _bool(name: str) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")

    return check


@frozen(kw_only=True)
class RerunOptions:
    """How a batch runs.

    At most `concurrency` clones are submitted at once; `wait` awaits each clone (else a
    source ends `submitted`); `poll` is the poll schedule; `timeout` bounds each clone's
    wait; `keep_jobs` keeps each finished clone's `Job` in its outcome (else only its
    status, failure and timestamps); `journal` (a Journal or a path) makes the batch
    resumable; `idempotent` clones carry a token so a lost answer never becomes a
    duplicate; `retry_failed=N` re-runs up to N times a clone that failed for a
    transient reason.

    Spend: with `max_cost` (a Money, or a number in the estimate's unit) the batch is
    estimated first; `over_budget="refuse"` raises BudgetExceededError before any clone
    when the estimate is over it, `"partial"` runs what fits and skips the rest. Either
    way no clone is sent that would take the committed spend past `max_cost`. An
    incomplete estimate refuses too, unless `allow_incomplete_estimate`. With a `journal`,
    `max_cost` is the budget of every run on that journal (the campaign), and clones are
    priced at their estimate times the largest actual/estimate ratio billed so far.
    `estimate` (from `estimate_rerun` of the same sources and request) is used instead of
    estimating again. `session` (a Session or its id) sends every clone into that session;
    when it ends, the sources not yet cloned end `skipped`.

    Leaving a `rerun()` stream early stops the batch; the clones it made keep running
    unless `cancel_on_exit`, which cancels every clone the batch stops awaiting.
    """

    concurrency: int = field(default=d.BATCH_CONCURRENCY, validator=_positive_int("concurrency", 1))
    wait: bool = field(default=True, validator=_bool("wait"))
    keep_jobs: bool = field(default=False, validator=_flag("keep_jobs"))
    poll: PollPolicy | None = field(default=None, validator=_poll)
    timeout: float | None = field(default=None, validator=_timeout)
    journal: Journal | str | os.PathLike[str] | None = None
    idempotent: bool = field(default=True, validator=_bool("idempotent"))
    retry_failed: int = field(default=0, validator=_positive_int("retry_failed", 0))
    on_progress: Callable[[RerunProgress], Any] | None = field(
        default=None, eq=False, validator=_callable("on_progress")
    )
    max_cost: Money | float | None = field(default=None, validator=_max_cost)
    over_budget: Literal["refuse", "partial"] = field(default="refuse", validator=_over_budget)
    allow_incomplete_estimate: bool = field(
        default=False, validator=_bool("allow_incomplete_estimate")
    )
    session: Session | str | None = field(default=None, validator=_session)
    estimate: RerunEstimate | None = field(default=None, validator=_estimate, eq=False)
    cancel_on_exit: bool = field(default=False, validator=_bool("cancel_on_exit"))

    @property
    def session_id(self) -> str | None:
        """The id of the session the clones go into, if any."""
        if self.session is None:
            return None
        return self.session if isinstance(self.session, str) else str(self.session.id)


def count_statuses(statuses: Iterable[str]) -> dict[str, int]:
    """How many outcomes ended in each status, every status of `OUTCOMES` included."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts
