"""One waiter's interest in one job, and how its future is resolved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from attrs import define

from .._models.jobs import Job
from .poll_policy import PollPolicy

__all__ = ["OnStatus", "Watch", "resolve", "resolve_after", "unique"]

OnStatus = Callable[[Job], Any]


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


def unique(ids: Iterable[str]) -> list[str]:
    """`ids` without repeats, in first-seen order."""
    return list(dict.fromkeys(ids))
