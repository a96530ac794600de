"""Awaiting jobs through the shared poller: one job with a deadline, or many as they end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable

from .._models.jobs import Job, JobStatus
from ..errors import JobCanceledError, JobFailedError, WaitTimeoutError
from .poll_policy import DEFAULT_POLL, PollPolicy
from .polling import OnStatus, Poller

__all__ = ["outcome", "wait", "wait_many"]


async def wait(
    poller: Poller,
    job_id: str,
    cancel: Callable[[str], Awaitable[None]],
    *,
    timeout: float | None,
    poll: PollPolicy | None,
    raise_on_failure: bool,
    on_status: OnStatus | None,
    cancel_on_timeout: bool,
) -> Job:
    """`Jobs.wait` (which documents the options): one job awaited through the poller."""
    # The deadline is the poller's, on its clock: it fires on time whatever the poll interval.
    watch = poller.watch(job_id, poll or DEFAULT_POLL, on_status, timeout=timeout)
    try:
        job = await watch.future
    except WaitTimeoutError:
        if cancel_on_timeout:
            await cancel(job_id)
        raise
    except asyncio.CancelledError:
        poller.unwatch(watch)
        if cancel_on_timeout:
            poller.spawn(cancel(job_id))
        raise
    return outcome(job, raise_on_failure)


async def wait_many(
    poller: Poller,
    ids: list[str],
    *,
    timeout: float | None,
    poll: PollPolicy | None,
    raise_on_failure: bool,
    on_status: OnStatus | None,
) -> AsyncGenerator[Job, None]:
    """`Jobs.wait_many` (which documents the options): each job as it ends, through the poller."""
    policy = poll or DEFAULT_POLL
    ready: asyncio.Queue[asyncio.Future[Job]] = asyncio.Queue()
    # Every watch shares one deadline on the poller's clock; the first job still unfinished
    # (in `ids` order) is expired first, so its WaitTimeoutError is the one raised.
    watches = [poller.watch(job_id, policy, on_status, timeout=timeout) for job_id in ids]
    for w in watches:
        w.future.add_done_callback(ready.put_nowait)
    try:
        for _ in watches:
            future = await ready.get()
            yield outcome(future.result(), raise_on_failure)
    finally:
        for w in watches:
            if not w.future.done():
                poller.unwatch(w)


def outcome(job: Job, raise_on_failure: bool) -> Job:
    if raise_on_failure and job.status == JobStatus.FAILED:
        raise JobFailedError(job)
    if raise_on_failure and job.status == JobStatus.CANCELED:
        raise JobCanceledError(job)
    return job
