"""The batch re-run engine: clone many source jobs, await them, account for every one once.

The engine is handed its operations, the client's poller and token index, a retry policy
and budget, and a clock; it never sees the client or the `Jobs` resource.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs

from .._core import defaults as d
from .._core.loaders import JobState
from .._core.retry import RetryBudget, RetryPolicy
from .._engine.idempotency import (
    CloneOperations,
    TokenIndex,
    clone_idempotent,
    find_clone,
    new_token,
    tokened,
)
from .._engine.polling import DEFAULT_POLL, Poller
from .._models.jobs import Job, JobCost, JobStatus, check_job_id
from ..errors import IonQError, ResponseValidationError, SubmissionUnknownError
from .journal import Journal, JournalEntry
from .prefetch import Known, Sources
from .records import Again, Waiting
from .resume import (
    ambiguous,
    is_id,
    journaled_end,
    sent_at,
    session_refusal,
    skipped,
    untokened,
)
from .spend import SpendGuard
from .types import OUTCOMES, RerunOptions, RerunOutcome, RerunProgress

__all__ = ["BatchOperations", "Rerun"]

logger = logging.getLogger("ionq_async")


class BatchOperations(CloneOperations, Protocol):
    """What a batch needs from the API: clone, scan, read sources, and a clone's cost."""

    async def cost(self, job_id: str, *, retry: RetryPolicy | None = None) -> JobCost: ...

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job: ...

    async def read_states(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobState] | None: ...


class Rerun:
    """One batch: `concurrency` workers submit clones; the shared poller reports their ends.

    A source costs a task only while it is being submitted: a clone is then awaited by a
    poller watch whose callback settles the source, so 10,000 waiting jobs are 10,000
    small records, not 10,000 suspended tasks.
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
        self._on_waited = self._waited

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
        sources = Sources(iter(ids), self._read_sources if needs_source else None)
        workers = [
            loop.create_task(self._worker(sources))
            for _ in range(min(self.options.concurrency, len(ids)))
        ]
        try:
            await asyncio.wait([self._all_done, *workers], return_when=asyncio.FIRST_COMPLETED)
            for worker in workers:
                if worker.done():
                    worker.result()
        finally:
            sources.close()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._stop_waiting()

    async def _read_sources(self, chunk: list[str]) -> Mapping[str, Known]:
        """The metadata of a chunk's sources that need a clone, in one request where it can."""
        wanted = [i for i in chunk if i not in self.resume and is_id(i)]
        if not wanted:
            return {}
        try:
            found = await self.ops.read_states(wanted, retry=self.retry)
        except IonQError as exc:
            logger.info(
                "could not read %d source jobs at once (%s); reading each", len(wanted), exc
            )
            return {}
        known: dict[str, Known] = {}
        for source_id, state in (found or {}).items():
            try:
                known[source_id] = (state.metadata(),)
            except ResponseValidationError:
                continue  # read alone, where the error is the source's own
        return known

    async def _worker(self, sources: Sources) -> None:
        """Take work, re-runs and journal writes first, until every source is settled."""
        while self._left:
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
                        found = await find_clone(self.index, entry.token, sent, source_id)
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
            try:
                job_id = await self._clone(source_id, source, attempt, token, sent)
            except SubmissionUnknownError as exc:
                return ambiguous(source_id, exc, attempt)
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
        if not self.options.wait:
            return RerunOutcome(
                source_id=source_id, job_id=job_id, status="submitted", attempts=attempt
            )
        watch = self.poller.watch(job_id, self.poll, None, timeout=self.options.timeout)
        self._waiting[watch.future] = Waiting(source_id, job_id, attempt, run, watch)
        watch.future.add_done_callback(self._on_waited)
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
        job = future.result()
        code = job.failure.code if job.failure else None
        again = job.status == JobStatus.FAILED and code in d.TRANSIENT_FAILURES
        if again and w.run < self.options.retry_failed:
            logger.info("re-running %s: its clone %s failed with %s", w.source_id, w.job_id, code)
            self._later(Again(w.source_id, w.attempt, w.run + 1))
            return
        self._settle(w.ended(str(job.status), job=job))

    async def _priced(self, outcome: RerunOutcome) -> RerunOutcome:
        """The outcome with its clone's actual cost, settled in the spend guard."""
        if self.guard is None or outcome.job_id is None or not self.guard.holds(outcome.source_id):
            return outcome  # not cloned by this run: an earlier run's spend
        try:
            cost = (await self.ops.cost(outcome.job_id, retry=self.retry)).cost
        except IonQError as exc:
            logger.warning("could not read the cost of job %s: %s", outcome.job_id, exc)
            cost = None
        actual = None if cost is None else cost.value
        self.guard.settle(outcome.source_id, actual)
        return attrs.evolve(outcome, cost=actual)

    def _stop_waiting(self) -> None:
        """Forget every clone still awaited (the batch ended early)."""
        waiting, self._waiting = self._waiting, {}
        for w in waiting.values():
            self.poller.unwatch(w.watch)

    def _settle(self, outcome: RerunOutcome) -> None:
        """Emit now, or after a worker has priced or journaled it."""
        if self.journal is None and self.guard is None:
            self._emit(outcome)
        else:
            self._later(outcome)

    async def _finish(self, outcome: RerunOutcome) -> None:
        """Price the clone (if tracking spend), journal the outcome (if journaling), emit it."""
        if outcome.status in ("completed", "failed", "canceled"):
            outcome = await self._priced(outcome)
        if self.journal is not None:
            error = outcome.error
            try:
                await self.journal.finished(
                    outcome.source_id,
                    outcome.status,
                    job_id=outcome.job_id,
                    error=outcome.reason if error is None else f"{type(error).__name__}: {error}",
                )
            except sqlite3.Error:
                logger.exception("could not journal the end of %s", outcome.source_id)
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

    async def _clone(
        self,
        source_id: str,
        source: Known | None,
        attempt: int,
        token: str | None,
        sent: datetime | None,
    ) -> str:
        """Clone `source_id` (idempotently if asked), recording intent and result.

        A `token` from the journal (a complete scan found no job with it) is sent again.
        """
        journal = self.journal
        if not self.options.idempotent and token is None:
            if journal is not None:
                await journal.intent(source_id, None, attempt)
            created = await self.ops.post_clone(source_id, self.body, retry=self.retry)
        else:
            fresh = token is None
            token = token or new_token()
            body = await tokened(
                self.ops, source_id, self.body, token, known=source, retry=self.retry
            )
            if journal is not None and fresh:
                await journal.intent(source_id, token, attempt)
            created = await clone_idempotent(
                self.ops,
                source_id,
                body,
                token=token,
                index=self.index,
                retry=self.retry,
                budget=self.budget,
                since=sent or self.index.now(),
            )
        if journal is not None:
            await journal.cloned(source_id, created.id)
        return created.id
