"""The batch re-run engine: clone many source jobs, await them, account for every one once."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from attrs import define, field, frozen

from .errors import IonQError, SubmissionUnknownError
from .idempotency import clone_idempotent, new_token, with_token
from .journal import Journal, JournalEntry
from .models import CloneRequest, Job, JobStatus, check_job_id
from .polling import PollPolicy
from .serde import dump_request

if TYPE_CHECKING:
    from .jobs import Jobs

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


class _Slot:
    """One submission slot of the batch's gate, released at most once."""

    def __init__(self, gate: asyncio.Semaphore) -> None:
        self._gate = gate
        self.held = True

    def release(self) -> None:
        """Give the slot back (no-op if already given back)."""
        if self.held:
            self.held = False
            self._gate.release()


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
    """One batch: the per-source state machine, shared counters and the journal."""

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
        self.gate = asyncio.Semaphore(concurrency)
        self.wait = wait
        self.poll = poll
        self.timeout = timeout
        self.journal = journal
        self.idempotent = idempotent
        self.retry_failed = retry_failed
        self.on_progress = on_progress
        self.counters = _Counters(total)
        self.resume: dict[str, JournalEntry] = {}

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.counters.snapshot())

    async def run_one(self, source_id: str, slot: _Slot) -> RerunOutcome:
        """Re-run one source, holding `slot` until its first submission; never raises."""
        try:
            outcome = await self._one(source_id, slot)
        except IonQError as exc:
            outcome = RerunOutcome(source_id=source_id, status="error", error=exc)
        except (ValueError, TypeError) as exc:
            outcome = RerunOutcome(source_id=source_id, status="error", error=exc)
        finally:
            slot.release()
        if self.journal is not None:
            await self.journal.finished(
                source_id,
                outcome.status,
                job_id=outcome.job_id,
                error=None
                if outcome.error is None
                else f"{type(outcome.error).__name__}: {outcome.error}",
            )
        self.counters.counts[outcome.status] += 1
        self._progress()
        return outcome

    async def _one(self, source_id: str, slot: _Slot) -> RerunOutcome:
        check_job_id(source_id, "source_id")
        entry = self.resume.get(source_id)
        if entry is not None and entry.status is not None:
            return RerunOutcome(
                source_id=source_id,
                job_id=entry.job_id,
                status=entry.status,
                attempts=entry.attempt,
            )
        attempt = entry.attempt if entry is not None else 0
        job_id = entry.job_id if entry is not None else None
        if job_id is None and entry is not None:
            try:
                job_id = await self._reconcile(entry)
            except SubmissionUnknownError as exc:
                return RerunOutcome(
                    source_id=source_id, status="ambiguous", error=exc, attempts=attempt
                )
        if job_id is not None:
            self._cloned()
        for run in range(self.retry_failed + 1):
            if job_id is None:
                attempt += 1
                try:
                    job_id = await self._submit(source_id, attempt, slot)
                except SubmissionUnknownError as exc:
                    return RerunOutcome(
                        source_id=source_id, status="ambiguous", error=exc, attempts=attempt
                    )
                if run == 0:
                    self._cloned()
            slot.release()
            if not self.wait:
                return RerunOutcome(
                    source_id=source_id, job_id=job_id, status="submitted", attempts=attempt
                )
            try:
                job = await self.jobs.wait(
                    job_id, timeout=self.timeout, poll=self.poll, raise_on_failure=False
                )
            except IonQError as exc:
                return RerunOutcome(
                    source_id=source_id, job_id=job_id, status="error", error=exc, attempts=attempt
                )
            outcome = RerunOutcome(
                source_id=source_id,
                job_id=job_id,
                status=str(job.status),
                job=job,
                attempts=attempt,
            )
            code = job.failure.code if job.failure else None
            if job.status != JobStatus.FAILED or code not in TRANSIENT_FAILURES:
                return outcome
            if run < self.retry_failed:
                logger.info("re-running %s: its clone %s failed with %s", source_id, job_id, code)
                job_id = None
        return outcome

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

    async def _submit(self, source_id: str, attempt: int, slot: _Slot) -> str:
        """Clone `source_id` in a submission slot (the one held, or a new one)."""
        if slot.held:
            try:
                return await self._clone(source_id, attempt)
            finally:
                slot.release()
        async with self.gate:
            return await self._clone(source_id, attempt)

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


async def rerun(
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
) -> AsyncGenerator[RerunOutcome, None]:
    """Clone every source (at most `concurrency` submissions at once) and yield outcomes.

    Outcomes come as each source finishes; every distinct source id is accounted exactly
    once, and one bad source never stops the batch.
    """
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
    done: asyncio.Queue[RerunOutcome] = asyncio.Queue()
    running: set[asyncio.Task[Any]] = set()

    async def one(source_id: str, slot: _Slot) -> None:
        done.put_nowait(await state.run_one(source_id, slot))

    async def feed() -> None:
        # Only this task waits on the gate (Semaphore.acquire is O(waiters) on 3.11), and a
        # source's task starts only when a submission slot is free for it.
        for source_id in ids:
            await state.gate.acquire()
            task = asyncio.create_task(one(source_id, _Slot(state.gate)))
            running.add(task)
            task.add_done_callback(running.discard)

    try:
        if book is not None:
            if own_journal:
                await book.open()
            state.resume = await book.load()
        state._progress()
        feeder = asyncio.create_task(feed())
        running.add(feeder)
        feeder.add_done_callback(running.discard)
        for _ in ids:
            yield await done.get()
    finally:
        for task in list(running):
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        if book is not None and own_journal:
            await book.close()


async def rerun_all(
    jobs: Jobs, source_ids: Iterable[str], request: CloneRequest | None = None, **options: Any
) -> RerunReport:
    """Run `rerun` to the end; return every outcome in input order."""
    started = time.monotonic()
    ids = _unique(source_ids)
    got: dict[str, RerunOutcome] = {}
    async for outcome in rerun(jobs, ids, request, **options):
        got[outcome.source_id] = outcome
    outcomes = tuple(got[i] for i in ids)
    counts = dict.fromkeys(OUTCOMES, 0)
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return RerunReport(outcomes=outcomes, counts=counts, duration=time.monotonic() - started)
