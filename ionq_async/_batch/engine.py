"""The batch re-run engine: clone many source jobs, await them, account for every one once.

The engine is handed its operations, the client's poller and token index, a retry policy
and budget, and a clock; it never sees the client or the `Jobs` resource.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from .._core import defaults as d
from .._core.loaders import Ending, JobMetadata, Polled
from .._core.retry import RetryBudget, RetryPolicy
from .._engine.idempotency import (
    CloneOperations,
    TokenIndex,
    find_clone,
)
from .._engine.polling import DEFAULT_POLL, Poller, Watch
from .._models.jobs import Job, JobCost, JobStatus, check_job_id
from ..errors import (
    IonQError,
    JournalClosedError,
    ResponseValidationError,
    SubmissionUnknownError,
)
from .ahead import IntentsAhead
from .ends import JournaledEnds
from .journal import Journal, JournalEntry
from .leaving import CancelMany, Leaving, cancel_remote
from .prefetch import Known, Sources, read_known
from .records import Again, Waiting
from .resume import (
    ambiguous,
    journaled_end,
    sent_at,
    sent_by,
    session_refusal,
    skipped,
    untokened,
)
from .send import Sender
from .spend import SpendGuard, priced
from .types import OUTCOMES, RerunOptions, RerunOutcome, RerunProgress

__all__ = ["BatchOperations", "Rerun"]

logger = logging.getLogger("ionq_async")


class BatchOperations(CloneOperations, Protocol):
    """What a batch needs from the API: clone, scan, read sources, and a clone's cost."""

    async def cost(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobCost: ...

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job: ...

    async def read_metadata(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobMetadata] | None: ...


class Rerun:
    """One batch: `concurrency` workers submit clones; the shared poller reports their ends.

    A source costs a task only while it is being submitted: a clone is then awaited by a
    poller watch whose callback settles the source, so 10,000 waiting jobs are 10,000
    small records, not 10,000 suspended tasks.

    A batch left early (cancelled, or a worker failed) stops as `Leaving` says; the
    clones still awaited are forgotten (cancelled with `cancel_on_exit`).
    """

    def __init__(
        self,
        ops: BatchOperations,
        body: Mapping[str, Any],
        options: RerunOptions,
        *,
        poller: Poller,
        index: TokenIndex,
        retry: RetryPolicy,
        budget: RetryBudget | None,
        journal: Journal | None,
        total: int,
        clock: Callable[[], float] = time.monotonic,
        guard: SpendGuard | None = None,
        cancel: CancelMany | None = None,
    ) -> None:
        self.ops = ops
        self.body = body
        self.options = options
        self.poller = poller
        self.index = index
        self.retry = retry
        self.budget = budget
        self.journal = journal
        self.clock = clock
        self.guard = guard
        self.cancel = cancel
        self.session_closed: str | None = None
        self.poll = options.poll or DEFAULT_POLL
        self.cloned = 0
        self.total = total
        self.counts: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self.resume: dict[str, JournalEntry] = {}
        self.emit: Callable[[RerunOutcome], None] = lambda outcome: None
        self._left = total
        self._urgent: collections.deque[Again | RerunOutcome] = collections.deque()
        self._wake = asyncio.Event()
        self._all_done: asyncio.Future[None] | None = None
        self._waiting: dict[asyncio.Future[Job], Waiting] = {}
        # Bound once, one context: per clone they would be GC-tracked objects as old as its wait.
        self._on_waited = self._waited
        self._take_state = self._on_state
        self._context = contextvars.copy_context()
        self._leaving = Leaving()
        self._ahead: IntentsAhead | None = None
        self._sender = Sender(
            ops,
            body,
            idempotent=options.idempotent,
            index=index,
            retry=retry,
            budget=budget,
            journal=journal,
            leaving=self._leaving,
        )
        self._ends = None if journal is None else JournaledEnds(journal, self._emit, self._fail)

    def snapshot(self) -> RerunProgress:
        """The counters now."""
        c = self.counts
        return RerunProgress(
            total=self.total,
            cloned=self.cloned,
            completed=c["completed"],
            failed=c["failed"],
            canceled=c["canceled"],
            errors=c["error"],
            ambiguous=c["ambiguous"],
            submitted=c["submitted"],
            skipped=c["skipped"],
            spent=None if self.guard is None else self.guard.committed,
            max_cost=None if self.guard is None else self.guard.max_cost,
            campaign_spent=None if self.guard is None else self.guard.campaign,
            cost_ratio=None if self.guard is None else self.guard.ratio,
        )

    def progress(self) -> None:
        """Tell `on_progress` the counters; its exceptions are logged, never raised."""
        if self.options.on_progress is not None:
            try:
                self.options.on_progress(self.snapshot())
            except Exception:
                logger.exception("on_progress raised; the batch goes on")

    async def drive(self, ids: list[str]) -> None:
        """Run the batch to the end: every source's outcome emitted exactly once."""
        if not ids:
            return
        loop = asyncio.get_running_loop()
        self._all_done = loop.create_future()
        needs_source = self.options.idempotent and "metadata" not in self.body
        read = functools.partial(read_known, self.ops, self.retry, self.resume)
        if self.journal is not None and self.options.idempotent and self.guard is None:
            self._ahead = IntentsAhead(self.journal, self.resume)
        ahead = None if self._ahead is None else self._ahead.write
        sources = Sources(iter(ids), read if needs_source else None, ahead)
        workers = [
            loop.create_task(self._worker(sources))
            for _ in range(min(self.options.concurrency, len(ids)))
        ]
        try:
            await asyncio.wait([self._all_done, *workers], return_when=asyncio.FIRST_COMPLETED)
            if self._all_done.done():
                self._all_done.result()
            for worker in workers:
                if worker.done():
                    worker.result()
            if self.journal is not None and not self.journal.is_open:
                raise JournalClosedError(f"the journal is not open: {self.journal.path} was closed")
        except JournalClosedError as exc:
            raise JournalClosedError(
                f"{exc}; the batch stopped with {self._left} of "
                f"{self.total} sources not accounted for (run again with the journal to resume)"
            ) from exc
        finally:
            sources.close()
            self._wake.set()
            left = await self._leaving.leave(workers, self._stop_waiting)
            if self._ahead is not None:
                self._ahead.forget()
            if left and self.options.cancel_on_exit:
                await cancel_remote(self.cancel, left)

    async def _worker(self, sources: Sources) -> None:
        """Take work, re-runs and journal writes first, until every source is settled."""
        while self._left and not self._leaving.stopping:
            if self._urgent:
                item = self._urgent.popleft()
                if isinstance(item, Again):
                    await self._start(item.source_id, None, item.attempt, item.run)
                else:
                    await self._finish(item)
                continue
            fresh = await sources.next()
            if fresh is not None:
                await self._start(*fresh)
                continue
            self._wake.clear()
            await self._wake.wait()

    def _later(self, item: Again | RerunOutcome) -> None:
        self._urgent.append(item)
        self._wake.set()

    async def _start(
        self, source_id: str, source: Known | None, attempt: int = 0, run: int = 0
    ) -> None:
        """Submit one source's clone; settle it now, or once the poller reports its end."""
        try:
            outcome = await self._submit(source_id, source, attempt, run)
        except JournalClosedError:
            raise
        except (IonQError, ValueError, TypeError) as exc:
            outcome = RerunOutcome(source_id=source_id, status="error", error=exc)
        except Exception as exc:
            logger.exception("re-running %s failed unexpectedly", source_id)
            outcome = RerunOutcome(source_id=source_id, status="error", error=exc)
        if outcome is not None:
            await self._finish(outcome)

    async def _submit(
        self, source_id: str, source: Known | None, attempt: int, run: int
    ) -> RerunOutcome | None:
        """The outcome if known without waiting; None once the clone is being awaited."""
        job_id = token = None
        sent: datetime | None = None
        if run == 0:
            if source is None:  # a source read ahead was checked before it was read
                check_job_id(source_id, "source_id")
            entry = self.resume.get(source_id)
            if entry is not None:
                done = journaled_end(entry)
                if done is not None:
                    return done
                attempt, job_id = entry.attempt, entry.job_id
                if job_id is None and entry.token is not None and entry.status != "skipped":
                    sent = sent_at(entry)
                    try:
                        latest = sent_by(entry, self.index.now())
                        found = await find_clone(self.index, entry.token, sent, source_id, latest)
                    except SubmissionUnknownError as exc:
                        return ambiguous(source_id, exc, attempt)
                    job_id = None if found is None else found.id
                    token = entry.token if found is None else None
                elif job_id is None and entry.status in (None, "ambiguous"):
                    return ambiguous(source_id, untokened(source_id), attempt)
            if job_id is not None:
                self._count_cloned()
        if job_id is None:
            reason = self._skip_reason(source_id)
            if reason is not None:
                return skipped(source_id, reason, attempt)
            if token is None:
                attempt += 1
                if self._ahead is not None and run == 0:
                    token = self._ahead.take(source_id)
            price = None if self.guard is None else self.guard.estimate_of(source_id)
            try:
                job_id = await self._sender.clone(source_id, source, attempt, token, sent, price)
            except SubmissionUnknownError as exc:
                return ambiguous(source_id, exc, attempt)
            except JournalClosedError:
                raise
            except Exception as exc:
                if self.guard is not None:
                    self.guard.release(source_id)
                refused = session_refusal(exc)
                if refused is None:
                    raise
                self.session_closed = self.session_closed or refused
                return skipped(source_id, refused, attempt)
            if run == 0:
                self._count_cloned()
        if self._leaving.stopping:  # the batch was left while this clone was being sent
            self._leaving.unawaited.append(job_id)
            return None
        if not self.options.wait:
            return RerunOutcome(
                source_id=source_id, job_id=job_id, status="submitted", attempts=attempt
            )
        watch = self.poller.watch(
            job_id,
            self.poll,
            None,
            timeout=self.options.timeout,
            on_state=None if self.options.keep_jobs else self._take_state,
        )
        self._waiting[watch.future] = Waiting(source_id, job_id, attempt, run, watch)
        watch.future.add_done_callback(self._on_waited, context=self._context)
        return None

    def _skip_reason(self, source_id: str) -> str | None:
        """Why this source must not be cloned now (the session ended, the budget), or None."""
        if self.session_closed is not None:
            return self.session_closed
        return None if self.guard is None else self.guard.admit(source_id)

    def _waited(self, future: asyncio.Future[Job]) -> None:
        """The poller's answer for one awaited clone: settle its source, or re-run it."""
        w = self._waiting.pop(future, None)
        if w is None:
            return
        error = (
            IonQError(f"stopped waiting for job {w.job_id}")
            if future.cancelled()
            else future.exception()
        )
        if error is not None:
            self._settle(w.ended("error", error=error))
            return
        self._ended(w, future.result())

    def _on_state(self, watch: Watch, state: Polled) -> None:
        """The poller's terminal state (JobEnd or JobState) of one awaited clone: no Job needed."""
        w = self._waiting.pop(watch.future, None)
        if w is None:
            return
        try:
            ending = state.ending()  # the job checked as a whole, as building it would
        except ResponseValidationError as exc:
            self._settle(w.ended("error", error=exc))
            return
        self._ended(w, ending)

    def _ended(self, w: Waiting, job: Job | Ending) -> None:
        """Settle the source of a clone that ended, or re-run it after a transient failure."""
        code = job.failure.code if job.failure else None
        again = job.status == JobStatus.FAILED and code in d.TRANSIENT_FAILURES
        if again and w.run < self.options.retry_failed:
            logger.info("re-running %s: its clone %s failed with %s", w.source_id, w.job_id, code)
            self._later(Again(w.source_id, w.attempt, w.run + 1))
            return
        self._settle(w.ended(str(job.status), job=job, keep=self.options.keep_jobs))

    def _stop_waiting(self) -> list[str]:
        """Forget every clone still awaited (the batch ended early); their job ids."""
        waiting, self._waiting = self._waiting, {}
        for w in waiting.values():
            self.poller.unwatch(w.watch)
        return [w.job_id for w in waiting.values()]

    def _settle(self, outcome: RerunOutcome) -> None:
        """Emit now, once journaled, or after a worker has priced it."""
        if self.guard is not None:
            self._later(outcome)
        elif self._ends is not None:
            self._ends.add(outcome)
        else:
            self._emit(outcome)

    def _fail(self, error: BaseException) -> None:
        """End the batch with an error of its own (raised from `drive`)."""
        if self._all_done is not None and not self._all_done.done():
            self._all_done.set_exception(error)
            self._all_done.exception()  # seen, even when the batch is already being left

    async def _finish(self, outcome: RerunOutcome) -> None:
        """Price the clone (if tracking spend), journal the outcome (if journaling), emit it."""
        if self.guard is not None and outcome.status in ("completed", "failed", "canceled"):
            outcome = await priced(self.ops, self.guard, self.journal, outcome, self.retry)
        if self._ends is not None:
            self._ends.add(outcome)
        else:
            self._emit(outcome)

    def _emit(self, outcome: RerunOutcome) -> None:
        self.counts[outcome.status] += 1
        self.progress()
        self.emit(outcome)
        self._left -= 1
        if self._left == 0:
            self._wake.set()
            if self._all_done is not None and not self._all_done.done():
                self._all_done.set_result(None)

    def _count_cloned(self) -> None:
        """Count a source as cloned (once, however many times it is re-run)."""
        self.cloned += 1
        self.progress()
