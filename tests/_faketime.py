"""Fake time for engine tests: a clock and a sleep that jump ahead whenever everything waits."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import uuid
from collections.abc import AsyncGenerator, Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from ionq_async import Job, JobCreated, JobStatus, RetryPolicy
from ionq_async._core.loaders import JobMetadata, JobState, Polled, load_job_ends
from ionq_async._core.serde import load_job
from ionq_async.errors import SubmissionUnknownError

T = TypeVar("T")


class FakeTime:
    """`clock()` and `sleep()` on a virtual timeline; `run()` advances it when all is idle."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return datetime.fromtimestamp(1_800_000_000 + self.now, UTC)

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, delay), next(self._seq), future))
        try:
            await future
        finally:
            if not future.done():
                future.cancel()

    async def run(self, awaitable: Awaitable[T], *, horizon: float = 1e6) -> T:
        """Await `awaitable`, jumping to the next sleeper's deadline whenever nothing runs."""
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            for _ in range(30):
                await asyncio.sleep(0)
                if task.done():
                    break
            else:
                self._advance(horizon)
        return task.result()

    def _advance(self, horizon: float) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        if not self._sleepers:
            return
        when = self._sleepers[0][0]
        if when > horizon:
            raise AssertionError(f"fake time passed its horizon ({horizon} s)")
        self.now = max(self.now, when)
        while self._sleepers and self._sleepers[0][0] <= self.now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


def policy(time: FakeTime, **kw: Any) -> RetryPolicy:
    """A RetryPolicy whose waits pass in fake time."""
    return RetryPolicy(sleep=time.sleep, **kw)


class FakeOps:
    """The operations layer in memory: jobs that finish at a fake time, calls counted."""

    def __init__(self, time: FakeTime, *, run_for: float = 10.0) -> None:
        self.time = time
        self.run_for = run_for
        self.ends: dict[str, float] = {}
        self.fail: dict[str, str] = {}
        self.metadata: dict[str, dict[str, str]] = {}
        self.created: list[tuple[str, str]] = []
        self.calls: dict[str, int] = dict.fromkeys(
            ("get", "read_many", "read_states", "page", "post_clone"), 0
        )
        self.read_times: list[float] = []
        self.read_ids: list[list[str]] = []
        self.read_error: BaseException | None = None
        self.page_error: BaseException | None = None
        self.lose_answers = 0
        self.clone_delay = 0.0
        self.in_flight = self.peak = 0
        self.fail_next: list[str] = []

    def add(self, *, ends_at: float = 0.0, failure: str | None = None) -> str:
        job_id = str(uuid.uuid4())
        self.ends[job_id] = ends_at
        if failure:
            self.fail[job_id] = failure
        self.metadata[job_id] = {"origin": "test"}
        return job_id

    def raw(self, job_id: str) -> dict[str, Any]:
        ended = self.time.now >= self.ends[job_id]
        code = self.fail.get(job_id)
        status = JobStatus.STARTED
        if ended:
            status = JobStatus.FAILED if code else JobStatus.COMPLETED
        raw: dict[str, Any] = {
            "id": job_id,
            "status": str(status),
            "metadata": self.metadata.get(job_id),
            "submitted_at": self.time.wall().isoformat(),
        }
        if ended and code:
            raw["failure"] = {"code": code, "message": "x"}
        return raw

    def job(self, job_id: str) -> Job:
        return load_job(self.raw(job_id))

    async def get(self, job_id: str, *, retry: RetryPolicy | None = None) -> Job:
        self.calls["get"] += 1
        return self.job(job_id)

    async def read_many(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, Job] | None:
        self.calls["read_many"] += 1
        return {i: self.job(i) for i in ids if i in self.ends}

    async def read_states(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobState] | None:
        self.calls["read_states"] += 1
        self.read_times.append(self.time.now)
        self.read_ids.append(list(ids))
        if self.read_error is not None:
            raise self.read_error
        return {i: JobState(self.raw(i)["status"], self.raw(i)) for i in ids if i in self.ends}

    async def read_ends(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, Polled] | None:
        states = await self.read_states(ids, retry=retry)
        if states is None:
            return None
        return {s.id: s for s in load_job_ends({"jobs": [s.raw for s in states.values()]})[0]}

    async def read_metadata(
        self, ids: Sequence[str], *, retry: RetryPolicy | None = None
    ) -> dict[str, JobMetadata] | None:
        states = await self.read_states(ids, retry=retry)
        return (
            None
            if states is None
            else {i: JobMetadata(i, s.metadata(), True) for i, s in states.items()}
        )

    async def pages(
        self, params: Sequence[tuple[str, str]], *, retry: RetryPolicy | None = None
    ) -> AsyncGenerator[list[Job], None]:
        self.calls["page"] += 1
        if self.page_error is not None:
            raise self.page_error
        yield [self.job(i) for i in reversed(list(self.ends))]

    async def post_clone(
        self,
        job_id: str,
        body: Mapping[str, Any],
        *,
        retry: RetryPolicy | None = None,
        action: str = "clone",
    ) -> JobCreated:
        self.calls["post_clone"] += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.clone_delay:
                await self.time.sleep(self.clone_delay)
        finally:
            self.in_flight -= 1
        failure = self.fail_next.pop(0) if self.fail_next else None
        new = self.add(ends_at=self.time.now + self.run_for, failure=failure)
        self.metadata[new] = dict(body.get("metadata") or self.metadata[job_id])
        self.created.append((job_id, new))
        if self.lose_answers:
            self.lose_answers -= 1
            raise SubmissionUnknownError("answer lost", request=body)
        return JobCreated(id=new)

    def clones_of(self, source_id: str) -> list[str]:
        return [new for src, new in self.created if src == source_id]
