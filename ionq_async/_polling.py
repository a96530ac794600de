"""One poller per client: awaits jobs until they finish, polling due jobs in batches.

Every `jobs.wait()` registers a watch here. A single background task polls the due watches
with `GET /jobs?ids=...` (up to `CHUNK_IDS` ids per request), so 10,000 awaited jobs cost
about 100 requests per round instead of 10,000. A server that ignores `ids` is detected
and polled one job per request instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
import logging
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from attrs import define, field, frozen

from ._models import Job, check_job_id
from ._serde import load_jobs
from .errors import (
    APIConnectionError,
    APIStatusError,
    IonQError,
    NotFoundError,
    ResponseValidationError,
)

if TYPE_CHECKING:
    from ._client import AsyncIonQ

__all__ = ["CHUNK_IDS", "DEFAULT_POLL", "PollPolicy", "Poller"]

logger = logging.getLogger("ionq_async")

CHUNK_IDS = 100
NOT_FOUND_GRACE = 10.0
MAX_POLL_FAILURES = 5
_CONCURRENT_CHUNKS = 8
_COALESCE = 0.25

OnStatus = Callable[[Job], Any]


@frozen(kw_only=True)
class PollPolicy:
    """When to poll: first after `initial` s, then each interval x `factor`, up to `max_interval`.

    `jitter` spreads each interval by up to that fraction, so that many waiters started
    together do not poll in lockstep forever.
    """

    initial: float = 1.0
    factor: float = 1.5
    max_interval: float = 30.0
    jitter: float = 0.1

    def __attrs_post_init__(self) -> None:
        if self.initial <= 0 or self.max_interval <= 0:
            raise ValueError("poll intervals must be > 0 seconds")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")

    def next_interval(self, interval: float) -> float:
        """The interval after `interval`."""
        return min(interval * self.factor, self.max_interval)

    def spread(self, interval: float) -> float:
        """`interval` with jitter applied."""
        if not self.jitter:
            return interval
        return interval * (1 + random.uniform(-self.jitter, self.jitter))


DEFAULT_POLL = PollPolicy()
"""The policy of a wait that names none."""


@define(eq=False)
class _Watch:
    """One waiter's interest in one job."""

    job_id: str
    policy: PollPolicy
    future: asyncio.Future[Job]
    on_status: OnStatus | None
    started: float
    interval: float
    due: float
    last: Job | None = None
    failures: int = 0
    done: bool = field(default=False)


class Poller:
    """Polls every watched job of one client from a single background task."""

    def __init__(self, client: AsyncIonQ) -> None:
        self._client = client
        self._loop = asyncio.get_running_loop()
        self._by_job: dict[str, list[_Watch]] = {}
        self._heap: list[tuple[float, int, _Watch]] = []
        self._seq = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._batched = True
        self._background: set[asyncio.Task[Any]] = set()
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

    def watch(self, job_id: str, policy: PollPolicy, on_status: OnStatus | None) -> _Watch:
        """Register interest in `job_id`; its future resolves with the terminal job."""
        check_job_id(job_id)
        now = self._loop.time()
        first = policy.spread(policy.initial)
        # Jitter moves each poll, not the schedule: compounded, it would spread a batch's
        # rounds wider than the coalescing window and split them into extra requests.
        w = _Watch(
            job_id, policy, self._loop.create_future(), on_status, now, policy.initial, now + first
        )
        self._by_job.setdefault(job_id, []).append(w)
        self._push(w)
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run(), name="ionq_async-poller")
        else:
            self._wake.set()
        return w

    def unwatch(self, w: _Watch) -> None:
        """Forget a watch (its waiter gave up or was cancelled)."""
        self._forget(w)
        if not w.future.done():
            w.future.cancel()

    def _forget(self, w: _Watch) -> None:
        w.done = True
        watches = self._by_job.get(w.job_id)
        if watches is not None and w in watches:
            watches.remove(w)
            if not watches:
                del self._by_job[w.job_id]

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
        for watches in list(self._by_job.values()):
            for w in watches:
                if not w.future.done():
                    w.future.set_exception(IonQError("the client was closed while waiting"))
                    w.future.exception()
        self._by_job.clear()
        self._heap.clear()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _push(self, w: _Watch) -> None:
        heapq.heappush(self._heap, (w.due, next(self._seq), w))

    def _take_due(self, now: float) -> list[str]:
        """Pop the watches due now (or nearly), return their distinct job ids."""
        ids: dict[str, None] = {}
        while self._heap:
            due, _, w = self._heap[0]
            if w.done or due != w.due:
                heapq.heappop(self._heap)
                continue
            if due > now + _COALESCE * w.interval:
                break
            heapq.heappop(self._heap)
            ids[w.job_id] = None
        return list(ids)

    async def _run(self) -> None:
        while self._by_job:
            now = self._loop.time()
            due = self._take_due(now)
            if not due:
                self._wake.clear()
                delay = self._heap[0][0] - now if self._heap else None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                continue
            await self._poll(due)

    async def _poll(self, job_ids: list[str]) -> None:
        self.job_polls += len(job_ids)
        gate = asyncio.Semaphore(_CONCURRENT_CHUNKS)

        async def one_chunk(chunk: list[str]) -> None:
            async with gate:
                try:
                    await self._poll_chunk(chunk)
                except Exception as exc:
                    logger.exception("polling failed unexpectedly; failing its waiters")
                    for job_id in chunk:
                        for w in list(self._by_job.get(job_id, ())):
                            self._finish(w, error=exc)

        chunks = [job_ids[i : i + CHUNK_IDS] for i in range(0, len(job_ids), CHUNK_IDS)]
        async with asyncio.TaskGroup() as tg:
            for chunk in chunks:
                tg.create_task(one_chunk(chunk))

    async def _poll_chunk(self, chunk: list[str]) -> None:
        if self._batched and len(chunk) > 1:
            try:
                found = await self._list(chunk)
            except IonQError as exc:
                for job_id in chunk:
                    await self._failed(job_id, exc)
                return
            if found is not None:
                for job_id in chunk:
                    job = found.get(job_id)
                    if job is None:
                        job = await self._get_one(job_id)
                    if job is not None:
                        await self._observe(job)
                return
        jobs = await asyncio.gather(*(self._get_one(job_id) for job_id in chunk))
        for job in jobs:
            if job is not None:
                await self._observe(job)

    async def _list(self, chunk: list[str]) -> dict[str, Job] | None:
        """The chunk's jobs by id, or None if the server ignored `ids`."""
        wanted = set(chunk)
        found: dict[str, Job] = {}
        params = [*(("ids", i) for i in chunk), ("limit", str(len(chunk)))]
        page: list[tuple[str, str]] | None = params
        while page is not None:
            self.requests += 1
            data = await self._client._request("GET", "/jobs", params=page)
            jobs, cursor = load_jobs(data)
            for job in jobs:
                if job.id not in wanted:
                    logger.info("the server ignores `ids` on GET /jobs; polling one job each")
                    self._batched = False
                    return None
                found[job.id] = job
            page = (
                None if cursor is None or len(found) >= len(wanted) else [*params, ("next", cursor)]
            )
        return found

    async def _get_one(self, job_id: str) -> Job | None:
        if job_id not in self._by_job:
            return None
        self.requests += 1
        try:
            return await self._client.jobs.get(job_id)
        except IonQError as exc:
            await self._failed(job_id, exc)
            return None

    async def _failed(self, job_id: str, error: IonQError) -> None:
        """A poll of `job_id` failed: keep polling through transient trouble, else give up."""
        now = self._loop.time()
        for w in list(self._by_job.get(job_id, ())):
            w.failures += 1
            grace = isinstance(error, NotFoundError) and now - w.started < NOT_FOUND_GRACE
            transient = isinstance(error, APIConnectionError | ResponseValidationError) or (
                isinstance(error, APIStatusError) and error.status_code in (429, 500, 502, 503, 504)
            )
            if grace or (transient and w.failures < MAX_POLL_FAILURES):
                logger.debug("poll of job %s failed (%s); will poll again", job_id, error)
                self._reschedule(w, now)
            else:
                self._finish(w, error=error)

    async def _observe(self, job: Job) -> None:
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
            return
        now = self._loop.time()
        for w in list(watches):
            w.failures = 0
            changed = w.last is None or w.last.status != job.status
            w.last = job
            if changed and w.on_status is not None:
                try:
                    result = w.on_status(job)
                    if inspect.isawaitable(result):
                        await result
                except Exception as exc:
                    self._finish(w, error=exc)
                    continue
            if job.is_terminal:
                self._finish(w, job=job)
            else:
                self._reschedule(w, now)

    def _reschedule(self, w: _Watch, now: float) -> None:
        w.interval = w.policy.next_interval(w.interval)
        w.due = now + w.policy.spread(w.interval)
        self._push(w)

    def _finish(
        self, w: _Watch, *, job: Job | None = None, error: BaseException | None = None
    ) -> None:
        self._forget(w)
        if w.future.done():
            return
        if error is not None:
            w.future.set_exception(error)
        elif job is not None:
            w.future.set_result(job)


def unique(ids: Iterable[str]) -> list[str]:
    """`ids` without repeats, in first-seen order."""
    return list(dict.fromkeys(ids))
