"""What a batch re-run reports and takes: outcomes, progress, the report and the options."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from attrs import field, frozen

from . import _defaults as d
from ._journal import Journal
from ._models import Job
from ._polling import PollPolicy

__all__ = [
    "OUTCOMES",
    "RerunKwargs",
    "RerunOptions",
    "RerunOutcome",
    "RerunProgress",
    "RerunReport",
]

OUTCOMES = ("completed", "failed", "canceled", "error", "ambiguous", "submitted")


@frozen(kw_only=True)
class RerunOutcome:
    """How one source job's re-run ended.

    `status` is completed, failed or canceled (the clone's final state); error (`error`
    says why; `job_id` is set if the clone exists); ambiguous (a clone may exist, its
    answer was lost); or submitted (cloned, not awaited: `wait=False`).
    """

    source_id: str
    job_id: str | None = None
    status: str
    job: Job | None = None
    error: BaseException | None = field(default=None, eq=False)
    attempts: int = 0


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

    @property
    def done(self) -> int:
        """Sources accounted for so far."""
        return (
            self.completed + self.failed + self.canceled + self.errors + self.ambiguous
        ) + self.submitted

    @property
    def running(self) -> int:
        """Clones created and not finished yet."""
        return max(0, self.cloned - self.done)


@frozen(kw_only=True)
class RerunReport:
    """Every outcome of a batch, in input order, with counts by status and the wall time."""

    outcomes: tuple[RerunOutcome, ...]
    counts: Mapping[str, int]
    duration: float

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
    poll: PollPolicy | None
    timeout: float | None
    journal: Journal | str | os.PathLike[str] | None
    idempotent: bool
    retry_failed: int
    on_progress: Callable[[RerunProgress], Any] | None


def _positive_int(name: str, low: int) -> Callable[[Any, Any, Any], None]:
    def check(_: Any, __: Any, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")

    return check


def _timeout(_: Any, __: Any, value: Any) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {value!r}")


@frozen(kw_only=True)
class RerunOptions:
    """How a batch runs.

    At most `concurrency` clones are submitted at once; `wait` awaits each clone (else a
    source ends `submitted`); `poll` is the poll schedule; `timeout` bounds each clone's
    wait; `journal` (a Journal or a path) makes the batch resumable; `idempotent` clones
    carry a token so a lost answer never becomes a duplicate; `retry_failed=N` re-runs up
    to N times a clone that failed for a transient reason.
    """

    concurrency: int = field(default=d.BATCH_CONCURRENCY, validator=_positive_int("concurrency", 1))
    wait: bool = True
    poll: PollPolicy | None = None
    timeout: float | None = field(default=None, validator=_timeout)
    journal: Journal | str | os.PathLike[str] | None = None
    idempotent: bool = True
    retry_failed: int = field(default=0, validator=_positive_int("retry_failed", 0))
    on_progress: Callable[[RerunProgress], Any] | None = field(default=None, eq=False)
