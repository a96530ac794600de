"""What a batch keeps per source in flight: a clone being awaited, or a source to run again."""

from __future__ import annotations

import sys

from attrs import define, frozen

from .._core.fastpath import Ending, slot_filler
from .._engine.polling import Watch
from .._models.jobs import Job
from .types import RerunOutcome

__all__ = ["Again", "Waiting"]

# One outcome per source: built with its slots filled directly (attrs' frozen __init__
# sets each of its 12 fields through object.__setattr__).
_outcome = slot_filler(RerunOutcome)


@frozen
class Again:
    """Work for a worker: clone a source again (a transient failure, or a resume)."""

    source_id: str
    attempt: int
    run: int


@define(eq=False)
class Waiting:
    """A clone being awaited for its source; the poller calls back, no task waits."""

    source_id: str
    job_id: str
    attempt: int
    run: int
    watch: Watch

    def ended(
        self,
        status: str,
        *,
        job: Job | Ending | None = None,
        error: BaseException | None = None,
        keep: bool = False,
    ) -> RerunOutcome:
        """This source's outcome: what a report needs of `job`, the job itself if `keep`."""
        status = sys.intern(status)  # one "completed" for 100,000 outcomes, not 100,000
        outcome: RerunOutcome = _outcome(
            source_id=self.source_id,
            job_id=self.job_id,
            status=status,
            job=job if keep and isinstance(job, Job) else None,
            error=error,
            attempts=self.attempt,
            reason=None,
            cost=None,
            failure=None if job is None else job.failure,
            submitted_at=None if job is None else job.submitted_at,
            started_at=None if job is None else job.started_at,
            completed_at=None if job is None else job.completed_at,
        )
        return outcome
