"""Waiters' `on_status` callbacks: run on each status change, awaitables on their own tasks."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

from .._models.jobs import Job
from .watch import Watch

__all__ = ["StatusCallbacks"]

Failed = Callable[[Watch, BaseException | None], None]


class StatusCallbacks:
    """Runs `on_status` callbacks; holds the tasks of those that await until they end.

    On its own task, a callback that awaits (even another wait) never stalls the poller.
    A callback that raises is handed to `failed`, which ends its own waiter with the error.
    """

    def __init__(self, failed: Failed) -> None:
        self._failed = failed
        self._tasks: set[asyncio.Future[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[asyncio.Future[Any]]:
        return iter(list(self._tasks))

    def call(self, w: Watch, job: Job) -> None:
        """Run `w.on_status(job)`; an awaitable result runs on its own task."""
        try:
            result = w.on_status(job) if w.on_status is not None else None
        except Exception as exc:
            self._failed(w, exc)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._done, w))
            if w.callbacks is None:
                w.callbacks = []
            w.callbacks.append(task)

    def _done(self, w: Watch, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._failed(w, task.exception())
