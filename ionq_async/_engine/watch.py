"""One waiter's interest in one job, and how its future is resolved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from attrs import define

from .._core.loaders import JobState
from .._models.jobs import Job
from .poll_policy import PollPolicy

__all__ = ["OnState", "OnStatus", "Watch", "hand_over", "resolve", "resolve_after"]

OnStatus = Callable[[Job], Any]
OnState = Callable[["Watch", JobState], None]


@define(eq=False)
class Watch:
    """One waiter's interest in one job; `future` resolves with the terminal job."""

    job_id: str
    policy: PollPolicy
    future: asyncio.Future[Job]
    on_status: OnStatus | None
    started: float
    interval: float
    due: float
    deadline: float | None = None
    timeout: float | None = None
    last: Job | None = None
    done: bool = False
    callbacks: list[asyncio.Future[Any]] | None = None
    on_state: OnState | None = None
    """Called soon (not inside the poll) with the terminal JobState read in a page, instead
    of resolving `future`, when every watch of the job has one: no Job is built for it.
    Errors, timeouts and a job read alone still resolve `future`."""


def hand_over(watches: list[Watch], state: JobState, soon: Callable[..., object]) -> bool:
    """End `watches` with their job's terminal `state` if each takes it (`on_state`, run soon)."""
    for w in watches:
        if w.on_state is None or w.on_status is not None:
            return False
    for w in watches:
        w.done = True
        if not w.future.done() and w.on_state is not None:
            soon(w.on_state, w, state)
    return True


def resolve(future: asyncio.Future[Job], job: Job | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    elif job is not None:
        future.set_result(job)


async def resolve_after(
    pending: list[asyncio.Future[Any]], future: asyncio.Future[Job], job: Job
) -> None:
    await asyncio.wait(pending)
    resolve(future, job, None)
