"""One poller per client: awaits jobs until they finish, polling due jobs in batches.

Every `jobs.wait()` registers a watch here. A single background task polls the due watches
with `GET /jobs?ids=...` (up to CHUNK_IDS ids per request), so 10,000 awaited jobs cost
about 100 requests per round instead of 10,000; a server that ignores `ids` is polled one
job per request. The poller is handed its operations, retry policy and budget, clock,
sleep and `pause` (the rate limiter's); it never sees the client.

A wait ends only by its job ending, its deadline, a terminal error or cancellation. A
429's Retry-After, however long, pauses every poll and (through `pause`) every request.
Polls run on their own tasks, so a slow poll never delays a deadline.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from .._core import defaults as d
from .._core.loaders import JobEnd, JobState, Polled
from .._core.retry import Kind, RetryBudget, RetryPolicy, is_retryable
from .._models.jobs import Job, check_job_id, is_terminal
from ..errors import (
    IonQError,
    NotFoundError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
    WaitTimeoutError,
)
from .callbacks import StatusCallbacks
from .poll_policy import DEFAULT_POLL, PollPolicy
from .schedule import Schedule
from .watch import OnState, OnStatus, Watch, all_saw, by_state, hand_over, resolve, resolve_after

__all__ = ["DEFAULT_POLL", "OnStatus", "PollOperations", "PollPolicy", "Poller", "Watch"]

logger = logging.getLogger("ionq_async")

Sleep = Callable[[float], Awaitable[None]]
Pause = Callable[[float], None]


class PollOperations(Protocol):
    """What the poller needs from the API: one job, and many by id."""

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job: ...

    async def read_states(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> Mapping[str, JobState] | None: ...

    async def read_ends(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> Mapping[str, Polled] | None: ...


class Poller:
    """Polls every watched job from a single background task."""

    def __init__(
        self,
        ops: PollOperations,
        *,
        retry: RetryPolicy,
        budget: RetryBudget | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Sleep | None = None,
        pause: Pause | None = None,
        not_found_grace: float = d.NOT_FOUND_GRACE,
    ) -> None:
        self._ops = ops
        self._pause = pause
        self._grace = not_found_grace
        self._retry = retry
        self._budget = budget
        self._loop = asyncio.get_running_loop()
        self._clock = clock or self._loop.time
        self._sleep = sleep or asyncio.sleep
        self._by_job: dict[str, list[Watch]] = {}
        self._schedule = Schedule()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._idle_until = math.inf  # when the idle poller wakes by itself: earlier work wakes it
        self._gate = asyncio.Semaphore(d.CONCURRENT_CHUNKS)
        self._rounds: set[asyncio.Task[None]] = set()
        self._batched = True
        self._outage = False
        """Polls are failing (said once, as a warning, until one succeeds)."""
        self._background: set[asyncio.Task[Any]] = set()
        self._callbacks = StatusCallbacks(self._callback_failed)
        self.requests = 0
        self.job_polls = 0

    @property
    def stats(self) -> dict[str, int]:
        """Counters: HTTP poll requests sent, and job polls (one per job per round)."""
        return {"requests": self.requests, "job_polls": self.job_polls}

    @property
    def watched(self) -> int:
        """How many jobs are being watched."""
        return len(self._by_job)

    def watch(
        self,
        job_id: str,
        policy: PollPolicy,
        on_status: OnStatus | None = None,
        *,
        timeout: float | None = None,
        on_state: OnState | None = None,
    ) -> Watch:
        """Register interest in `job_id`; past `timeout` s its future raises WaitTimeoutError."""
        check_job_id(job_id)
        now = self._clock()
        # Jitter moves each poll, not the schedule: compounded, it would spread a batch's
        # rounds wider than the coalescing window and split them into extra requests.
        first = policy.spread(policy.initial)
        if timeout is not None and timeout < first:
            first = timeout / 2  # a wait shorter than the first interval still looks once
        w = Watch(
            job_id,
            policy,
            self._loop.create_future(),
            on_status,
            now,
            policy.initial,
            now + first,
        )
        w.on_state = on_state
        self._by_job.setdefault(job_id, []).append(w)
        self._schedule.push(w)
        if timeout is not None:
            w.timeout, w.deadline = timeout, now + timeout
            self._schedule.add_deadline(w)
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run(), name="ionq_async-poller")
        elif min(w.due, w.deadline or math.inf) < self._idle_until:
            self._wake.set()
        return w

    def unwatch(self, w: Watch) -> None:
        """Forget a watch (its waiter gave up or was cancelled)."""
        self._forget(w)
        if not w.future.done():
            w.future.cancel()

    def _forget(self, w: Watch) -> None:
        if w.done:
            return
        w.done = True
        watches = self._by_job.get(w.job_id)
        if watches is not None and w in watches:
            watches.remove(w)
            if not watches:
                del self._by_job[w.job_id]
        self._schedule.ended(1, live=len(self._by_job))

    def spawn(self, coro: Any) -> None:
        """Run a fire-and-forget coroutine that `close()` will still await."""
        task = self._loop.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Stop polling; pending waiters get an error, background cancels are awaited."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for task in list(self._rounds):
            task.cancel()
        await asyncio.gather(*self._rounds, return_exceptions=True)
        for callback in self._callbacks:
            callback.cancel()
        for watches in list(self._by_job.values()):
            for w in watches:
                if not w.future.done():
                    w.future.set_exception(IonQError("the client was closed while waiting"))
                    w.future.exception()
        self._by_job.clear()
        self._schedule.clear()
        if self._background or self._callbacks:
            await asyncio.gather(*self._background, *self._callbacks, return_exceptions=True)

    async def _run(self) -> None:
        while self._by_job:
            now = self._clock()
            expired, next_deadline = self._schedule.expired(now)
            for w in expired:
                late = WaitTimeoutError(w.job_id, timeout=w.timeout or 0.0, job=w.last)
                self._finish(w, error=late)
            due = self._schedule.take_due(now)
            if due:
                self._start_round(due)
            if not self._by_job:
                break
            times = [t for t in (self._schedule.next_due(), next_deadline) if t is not None]
            await self._idle(max(0.0, min(times) - now) if times else None)

    async def _idle(self, delay: float | None) -> None:
        """Sleep until `delay` has passed, an earlier watch arrives or a poll ends."""
        self._wake.clear()
        waker = self._loop.create_task(self._wake.wait())
        tasks: set[asyncio.Future[Any]] = {waker}
        if delay is not None:
            tasks.add(asyncio.ensure_future(self._sleep(delay)))
        self._idle_until = math.inf if delay is None else self._clock() + delay
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()

    def _start_round(self, job_ids: list[str]) -> None:
        """Poll `job_ids` in chunks, each on its own task (the loop keeps timing deadlines)."""
        self.job_polls += len(job_ids)
        size = d.CHUNK_IDS
        for i in range(0, len(job_ids), size):
            task = self._loop.create_task(self._one_chunk(job_ids[i : i + size]))
            self._rounds.add(task)
            task.add_done_callback(self._round_done)

    def _round_done(self, task: asyncio.Task[None]) -> None:
        self._rounds.discard(task)
        self._wake.set()

    async def _one_chunk(self, chunk: list[str]) -> None:
        async with self._gate:
            now = self._clock()
            if now < self._schedule.paused_until:
                for job_id in chunk:
                    for w in list(self._by_job.get(job_id, ())):
                        self._schedule.reschedule(w, now)
                return
            try:
                await self._poll_chunk(chunk)
            except Exception as exc:
                logger.exception("polling failed unexpectedly; failing its waiters")
                for job_id in chunk:
                    for w in list(self._by_job.get(job_id, ())):
                        self._finish(w, error=exc)

    async def _poll_chunk(self, chunk: list[str]) -> None:
        if self._batched and len(chunk) > 1:
            self.requests += 1
            light = all(by_state(self._by_job.get(i, ())) for i in chunk)
            read = self._ops.read_ends if light else self._ops.read_states
            try:
                found = await read(chunk, retry=self._retry)
            except IonQError as exc:
                self._failed(chunk, exc)
                return
            self._answered()
            if found is None:
                logger.info("the server ignores `ids` on GET /jobs; polling one job each")
                self._batched = False
            else:
                await self._observe_states(chunk, found)
                return
        jobs = await asyncio.gather(*(self._get_one(job_id) for job_id in chunk))
        for job in jobs:
            if job is not None:
                self._observe(job)

    async def _get_one(self, job_id: str) -> Job | None:
        if job_id not in self._by_job:
            return None
        self.requests += 1
        try:
            job = await self._ops.get(job_id, retry=self._retry)
        except IonQError as exc:
            self._failed([job_id], exc)
            return None
        self._answered()
        return job

    def _answered(self) -> None:
        if self._outage:
            self._outage = False
            logger.warning("polling works again")

    def _failed(self, job_ids: list[str], error: IonQError) -> None:
        """A poll failed after the retry policy: poll again later, or give the waiters the error.

        A 429 is waited out: its Retry-After, however long, pauses every poll. A 404 soon
        after a watch starts is "not listed yet". An outage (a retryable error) is polled
        through while the client's retry budget pays for it, once per chunk, no sooner
        than its Retry-After. An answer of the wrong shape, or any other error, ends the waits.
        """
        now = self._clock()
        after = error.retry_after if isinstance(error, RateLimitError | ServerError) else None
        if isinstance(error, RateLimitError):
            if after and self._schedule.pause(now + after):
                logger.warning("rate limited while polling; polls wait %.1f s as asked", after)
                if self._pause is not None:
                    self._pause(after)
            for job_id in job_ids:
                for w in list(self._by_job.get(job_id, ())):
                    self._schedule.reschedule(w, now)
            return
        outage = not isinstance(error, ResponseValidationError) and is_retryable(
            error, Kind.SAFE, self._retry
        )
        keep = outage and (self._budget is None or self._budget.try_spend(error))
        if keep and not self._outage:
            self._outage = True
            logger.warning(
                "polling failed (%s); polling on while the client's retry budget lasts", error
            )
        later = now + after if after else None
        for job_id in job_ids:
            for w in list(self._by_job.get(job_id, ())):
                grace = isinstance(error, NotFoundError) and now - w.started < self._grace
                if grace or keep:
                    logger.debug("poll of job %s failed (%s); will poll again", job_id, error)
                    self._schedule.reschedule(w, now, later)
                else:
                    self._finish(w, error=error)

    async def _observe_states(self, chunk: list[str], found: Mapping[str, Polled]) -> None:
        """Reschedule jobs whose status did not change; build a Job only for the others."""
        now = self._clock()
        for job_id in chunk:
            state = found.get(job_id)
            watches = self._by_job.get(job_id)
            if not watches:
                continue
            if state is not None and is_terminal(state.status) and by_state(watches):
                hand_over(watches, state, self._loop.call_soon)
                del self._by_job[job_id]
                self._schedule.ended(len(watches), live=len(self._by_job))
                continue
            if state is None or isinstance(state, JobEnd):
                # Not listed; or read at its end without its body, and a watch that wants
                # the Job came during the read: read alone.
                job = await self._get_one(job_id)
                if job is not None:
                    self._observe(job)
                continue
            if not is_terminal(state.status) and all_saw(watches, state.status):
                for w in watches:
                    self._schedule.reschedule(w, now)
                continue
            try:
                job = state.job()
            except ResponseValidationError as exc:
                self._failed([job_id], exc)
                continue
            self._observe(job)

    def _observe(self, job: Job) -> None:
        watches = self._by_job.get(job.id)
        if not watches:
            return
        if job.is_terminal and all(w.on_status is None for w in watches):
            del self._by_job[job.id]
            for w in watches:
                w.done = True
                w.last = job
                if not w.future.done():
                    w.future.set_result(job)
            self._schedule.ended(len(watches), live=len(self._by_job))
            return
        now = self._clock()
        for w in list(watches):
            changed = w.last is None or w.last.status != job.status
            w.last = job
            if changed and w.on_status is not None:
                self._callbacks.call(w, job)
                if w.done:
                    continue
            if job.is_terminal:
                self._finish(w, job=job)
            else:
                self._schedule.reschedule(w, now)

    def _callback_failed(self, w: Watch, error: BaseException | None) -> None:
        logger.error("on_status raised for job %s", w.job_id, exc_info=error)
        self._forget(w)
        resolve(w.future, None, error)

    def _finish(
        self, w: Watch, *, job: Job | None = None, error: BaseException | None = None
    ) -> None:
        self._forget(w)
        if w.future.done():
            return
        pending = [t for t in w.callbacks or () if not t.done()]
        if pending and job is not None:
            # The waiter sees the terminal job after its own callbacks have run.
            self.spawn(resolve_after(pending, w.future, job))
            return
        resolve(w.future, job, error)
