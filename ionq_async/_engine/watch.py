"""One waiter's interest in one job, and how its future is resolved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from attrs import define

from .._core.loaders import Polled
from .._models.jobs import Job
from .poll_policy import PollPolicy

__all__ = [
    "OnState",
    "OnStatus",
    "Watch",
    "all_saw",
    "by_state",
    "hand_over",
    "resolve",
    "resolve_after",
]

OnStatus = Callable[[Job], Any]
OnState = Callable[["Watch", Polled], None]


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
    """Called soon (not inside the poll) with the job's end read in a page (a JobEnd, or a
    JobState), instead of resolving `future`, when every watch of the job has one: no Job
    is built for it.
    Errors, timeouts and a job read alone still resolve `future`."""


def all_saw(watches: Iterable[Watch], status: str) -> bool:
    """True when each of `watches` last saw its job in `status` (nothing new to build)."""
    return all(w.last is not None and w.last.status == status for w in watches)


def by_state(watches: Iterable[Watch]) -> bool:
    """True when each of `watches` takes its job's end as a state (none wants the Job)."""
    return all(w.on_state is not None and w.on_status is None for w in watches)


def hand_over(watches: list[Watch], state: Polled, soon: Callable[..., object]) -> None:
    """End `watches` with their job's terminal `state`, each `on_state` run soon.

    Only for watches that all take a state (`by_state`).
    """
    for w in watches:
        w.done = True
        if not w.future.done() and w.on_state is not None:
            soon(w.on_state, w, state)


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
