"""The batch re-run engine: clone many source jobs, await them, account for every one once."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attrs import define, field, frozen

from ._idempotency import clone_idempotent, new_token, with_token
from ._journal import Journal, JournalEntry
from ._models import CloneRequest, Job, JobStatus, check_job_id
from ._polling import DEFAULT_POLL, PollPolicy, _Watch
from ._serde import dump_request
from .errors import IonQError, SubmissionUnknownError, WaitTimeoutError

if TYPE_CHECKING:
    from ._jobs import Jobs

__all__ = [
    "TRANSIENT_FAILURES",
    "RerunOutcome",
    "RerunProgress",
    "RerunReport",
    "rerun",
    "rerun_all",
]

logger = logging.getLogger("ionq_async")

TRANSIENT_FAILURES = frozenset(
    {"InternalError", "QuantumComputerError", "SystemCancel", "SimulationTimeout"}
)
"""Failure codes worth re-running (`retry_failed`): the system's fault, not the circuit's."""

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


@frozen
class _Again:
    """Work for a worker: re-run a source whose clone failed for a transient reason."""

    source_id: str
    attempt: int
    run: int


@define(eq=False)
class _Waiting:
    """A clone being awaited for its source; the poller calls back, no task waits."""

    source_id: str
    job_id: str
    attempt: int
    run: int
    watch: _Watch
    timer: asyncio.TimerHandle | None = None

    def ended(
        self, status: str, *, job: Job | None = None, error: BaseException | None = None
    ) -> RerunOutcome:
        """This source's outcome."""
        return RerunOutcome(
            source_id=self.source_id,
            job_id=self.job_id,
            status=status,
            job=job,
            error=error,
            attempts=self.attempt,
        )


@define
class _Counters:
    total: int
    cloned: int = 0
    counts: dict[str, int] = field(factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def snapshot(self) -> RerunProgress:
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
        )


class _Rerun:
    """One batch: `concurrency` workers submit clones; the shared poller reports their ends.

    A source costs a task only while it is being submitted: a clone is then awaited by a
    poller watch whose callback settles the source, so 10,000 waiting jobs are 10,000
    small records, not 10,000 suspended tasks.
    """

    def __init__(
        self,
        jobs: Jobs,
        request: CloneRequest | None,
        *,
        concurrency: int,
        wait: bool,
        poll: PollPolicy | None,
        timeout: float | None,
        journal: Journal | None,
        idempotent: bool,
        retry_failed: int,
        on_progress: Callable[[RerunProgress], Any] | None,
        total: int,
    ) -> None:
        self.jobs = jobs
        self.body = dump_request(request) if request is not None else {}
        self.concurrency = concurrency
        self.wait = wait
        self.poll = poll or DEFAULT_POLL
        self.timeout = timeout
        self.journal = journal
        self.idempotent = idempotent
        self.retry_failed = retry_failed
        self.on_progress = on_progress
        self.counters = _Counters(total)
        self.resume: dict[str, JournalEntry] = {}
        self.emit: Callable[[RerunOutcome], None] = lambda outcome: None
        self._left = total
        self._urgent: collections.deque[_Again | RerunOutcome] = collections.deque()
        self._wake = asyncio.Event()
        self._all_done: asyncio.Future[None] | None = None
        self._waiting: dict[asyncio.Future[Job], _Waiting] = {}
        self._on_waited = self._waited

    def _progress(self) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(self.counters.snapshot())
            except Exception:
                logger.exception("on_progress raised; the batch goes on")

    async def drive(self, ids: list[str]) -> None:
        """Run the batch to the end: every source's outcome emitted exactly once."""
        if not ids:
            return
        loop = asyncio.get_running_loop()
        self._all_done = loop.create_future()
        fresh = iter(ids)
        workers = [
            loop.create_task(self._worker(fresh)) for _ in range(min(self.concurrency, len(ids)))
        ]
        try:
            await asyncio.wait([self._all_done, *workers], return_when=asyncio.FIRST_COMPLETED)
            for worker in workers:
                if worker.done():
                    worker.result()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._stop_waiting()

    async def _worker(self, fresh: Iterator[str]) -> None:
        """Take work, re-runs and journal writes first, until every source is settled."""
        while self._left:
            if self._urgent:
                item = self._urgent.popleft()
                if isinstance(item, _Again):
                    await self._start(item.source_id, item.attempt, item.run)
                else:
                    await self._finish(item)
                continue
            source_id = next(fresh, None)
            if source_id is not None:
                await self._start(source_id)
                continue
            self._wake.clear()
            await self._wake.wait()

    def _later(self, item: _Again | RerunOutcome) -> None:
        self._urgent.append(item)
        self._wake.set()

    async def _start(self, source_id: str, attempt: int = 0, run: int = 0) -> None:
        """Submit one source's clone; settle it now, or once the poller reports its end."""
        try:
            outcome = await self._submit(source_id, attempt, run)
        except (IonQError, ValueError, TypeError) as exc:
            outcome = RerunOutcome(source_id=source_id, status="error", error=exc)
        except Exception as exc:
            logger.exception("re-running %s failed unexpectedly", source_id)
            outcome = RerunOutcome(source_id=source_id, status="error", error=exc)
        if outcome is not None:
            await self._finish(outcome)

    async def _submit(self, source_id: str, attempt: int, run: int) -> RerunOutcome | None:
        """The outcome if known without waiting; None once the clone is being awaited."""
        job_id = None
        if run == 0:
            check_job_id(source_id, "source_id")
            entry = self.resume.get(source_id)
            if entry is not None:
                if entry.status is not None:
                    return RerunOutcome(
                        source_id=source_id,
                        job_id=entry.job_id,
                        status=entry.status,
                        attempts=entry.attempt,
                    )
                attempt, job_id = entry.attempt, entry.job_id
                if job_id is None:
                    try:
                        job_id = await self._reconcile(entry)
                    except SubmissionUnknownError as exc:
                        return RerunOutcome(
                            source_id=source_id, status="ambiguous", error=exc, attempts=attempt
                        )
            if job_id is not None:
                self._cloned()
        if job_id is None:
            attempt += 1
            try:
                job_id = await self._clone(source_id, attempt)
            except SubmissionUnknownError as exc:
                return RerunOutcome(
                    source_id=source_id, status="ambiguous", error=exc, attempts=attempt
                )
            if run == 0:
                self._cloned()
        if not self.wait:
            return RerunOutcome(
                source_id=source_id, job_id=job_id, status="submitted", attempts=attempt
            )
        watch = self.jobs.poller.watch(job_id, self.poll, None)
        waiting = _Waiting(source_id, job_id, attempt, run, watch)
        if self.timeout is not None:
            loop = asyncio.get_running_loop()
            waiting.timer = loop.call_later(self.timeout, self._expire, waiting)
        self._waiting[watch.future] = waiting
        watch.future.add_done_callback(self._on_waited)
        return None

    def _waited(self, future: asyncio.Future[Job]) -> None:
        """The poller's answer for one awaited clone: settle its source, or re-run it."""
        w = self._waiting.pop(future, None)
        if w is None:
            return
        if w.timer is not None:
            w.timer.cancel()
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
        again = job.status == JobStatus.FAILED and code in TRANSIENT_FAILURES
        if again and w.run < self.retry_failed:
            logger.info("re-running %s: its clone %s failed with %s", w.source_id, w.job_id, code)
            self._later(_Again(w.source_id, w.attempt, w.run + 1))
            return
        self._settle(w.ended(str(job.status), job=job))

    def _expire(self, w: _Waiting) -> None:
        """`timeout` ran out for one awaited clone."""
        if self._waiting.pop(w.watch.future, None) is None:
            return
        self.jobs.poller.unwatch(w.watch)
        error = WaitTimeoutError(w.job_id, timeout=self.timeout or 0.0, job=w.watch.last)
        self._settle(w.ended("error", error=error))

    def _stop_waiting(self) -> None:
        """Forget every clone still awaited (the batch ended early)."""
        waiting, self._waiting = self._waiting, {}
        for w in waiting.values():
            if w.timer is not None:
                w.timer.cancel()
            self.jobs.poller.unwatch(w.watch)

    def _settle(self, outcome: RerunOutcome) -> None:
        """Emit now, or after a worker has journaled it."""
        if self.journal is None:
            self._emit(outcome)
        else:
            self._later(outcome)

    async def _finish(self, outcome: RerunOutcome) -> None:
        """Journal the outcome (if journaling), then emit it."""
        if self.journal is not None:
            try:
                await self.journal.finished(
                    outcome.source_id,
                    outcome.status,
                    job_id=outcome.job_id,
                    error=None
                    if outcome.error is None
                    else f"{type(outcome.error).__name__}: {outcome.error}",
                )
            except sqlite3.Error:
                logger.exception("could not journal the end of %s", outcome.source_id)
        self._emit(outcome)

    def _emit(self, outcome: RerunOutcome) -> None:
        self.counters.counts[outcome.status] += 1
        self._progress()
        self.emit(outcome)
        self._left -= 1
        if self._left == 0:
            self._wake.set()
            if self._all_done is not None and not self._all_done.done():
                self._all_done.set_result(None)

    async def _reconcile(self, entry: JournalEntry) -> str | None:
        """The clone an interrupted run may have made for `entry`, found by its token."""
        if entry.token is None:
            raise SubmissionUnknownError(
                "an earlier run stopped while cloning this source without an idempotency "
                "token; its clone may exist",
                source_id=entry.source_id,
            )
        since = datetime.fromtimestamp(entry.updated, UTC)
        return await self.jobs.token_index.find(entry.token, since=since)

    def _cloned(self) -> None:
        """Count a source as cloned (once, however many times it is re-run)."""
        self.counters.cloned += 1
        self._progress()

    async def _clone(self, source_id: str, attempt: int) -> str:
        """Clone `source_id` (idempotently if asked), recording intent and result."""
        if not self.idempotent:
            if self.journal is not None:
                await self.journal.intent(source_id, None, attempt)
            created = await self.jobs._post_clone(source_id, self.body)
        else:
            token = new_token()
            source = None if "metadata" in self.body else (await self.jobs.get(source_id)).metadata
            if self.journal is not None:
                await self.journal.intent(source_id, token, attempt)
            created = await clone_idempotent(
                self.jobs,
                source_id,
                with_token(self.body, source, token),
                token=token,
                index=self.jobs.token_index,
                since=datetime.now(UTC),
            )
        if self.journal is not None:
            await self.journal.cloned(source_id, created.id)
        return created.id


def _unique(source_ids: Iterable[str]) -> list[str]:
    if isinstance(source_ids, str):
        raise TypeError("source_ids must be a list of job ids, not a single string")
    return list(dict.fromkeys(source_ids))


@contextlib.asynccontextmanager
async def _batch(
    jobs: Jobs,
    source_ids: Iterable[str],
    request: CloneRequest | None = None,
    *,
    concurrency: int = 64,
    wait: bool = True,
    poll: PollPolicy | None = None,
    timeout: float | None = None,
    journal: Journal | str | os.PathLike[str] | None = None,
    idempotent: bool = True,
    retry_failed: int = 0,
    on_progress: Callable[[RerunProgress], Any] | None = None,
) -> AsyncIterator[tuple[_Rerun, list[str]]]:
    """Validate the options, open the journal (and load what it knows), close it after."""
    if request is not None and not isinstance(request, CloneRequest):
        raise TypeError(f"request must be a CloneRequest, not {type(request).__name__}")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
    if isinstance(retry_failed, bool) or not isinstance(retry_failed, int) or retry_failed < 0:
        raise ValueError(f"retry_failed must be an int >= 0, got {retry_failed!r}")
    ids = _unique(source_ids)
    book = journal if isinstance(journal, Journal | None) else Journal(journal)
    own_journal = book is not None and not book.is_open
    state = _Rerun(
        jobs,
        request,
        concurrency=concurrency,
        wait=wait,
        poll=poll,
        timeout=timeout,
        journal=book,
        idempotent=idempotent,
        retry_failed=retry_failed,
        on_progress=on_progress,
        total=len(ids),
    )
    try:
        if book is not None:
            if own_journal:
                await book.open()
            state.resume = await book.load()
        state._progress()
        yield state, ids
    finally:
        if book is not None and own_journal:
            await book.close()


async def rerun(
    jobs: Jobs,
    source_ids: Iterable[str],
    request: CloneRequest | None = None,
    **options: Any,
) -> AsyncGenerator[RerunOutcome, None]:
    """Clone every source (at most `concurrency` submissions at once) and yield outcomes.

    Outcomes come as each source finishes; every distinct source id is accounted exactly
    once, and one bad source never stops the batch. Options: see `Jobs.rerun`.
    """
    async with _batch(jobs, source_ids, request, **options) as (state, ids):
        done: asyncio.Queue[RerunOutcome] = asyncio.Queue()
        state.emit = done.put_nowait
        driver = asyncio.create_task(state.drive(ids))
        try:
            for _ in ids:
                yield await done.get()
        finally:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)


async def rerun_all(
    jobs: Jobs, source_ids: Iterable[str], request: CloneRequest | None = None, **options: Any
) -> RerunReport:
    """Run a whole batch; return every outcome in input order."""
    started = time.monotonic()
    got: dict[str, RerunOutcome] = {}

    def keep(outcome: RerunOutcome) -> None:
        got[outcome.source_id] = outcome

    async with _batch(jobs, source_ids, request, **options) as (state, ids):
        state.emit = keep
        await state.drive(ids)
    outcomes = tuple(got[i] for i in ids)
    counts = dict.fromkeys(OUTCOMES, 0)
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return RerunReport(outcomes=outcomes, counts=counts, duration=time.monotonic() - started)
