"""Leaving a batch early: stop submitting, let POSTs in flight settle, cancel clones if asked.

Workers that are not sending a clone are cancelled at once; a worker from its intent row
until its clone's answer is queued for the journal is let finish, so no clone is made
unrecorded. A second cancellation ends those too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .._core import defaults as d
from ..errors import IonQError

__all__ = ["CancelMany", "Leaving"]

logger = logging.getLogger("ionq_async")

CancelMany = Callable[[Sequence[str]], Awaitable[object]]
"""Cancel jobs in one request (`PUT /jobs/status/cancel`)."""


class Leaving:
    """Which workers are sending a clone, and the stop of the others when a batch is left."""

    def __init__(self) -> None:
        self.stopping = False
        self.unawaited: list[str] = []
        """Clones whose POST settled after the batch was left: made, never awaited."""
        self._posting: set[asyncio.Task[Any] | None] = set()

    def posting(self) -> _Posting:
        """Around an intent, its POST and its journaled answer: not cancelled by a stop."""
        if self.stopping:
            raise asyncio.CancelledError
        return _Posting(self._posting, asyncio.current_task())

    async def leave(
        self, workers: list[asyncio.Task[None]], stop_waiting: Callable[[], list[str]]
    ) -> list[str]:
        """Stop every worker, those sending a clone once it settled; the clones left running."""
        self.stopping = True
        for worker in workers:
            if worker not in self._posting:
                worker.cancel()
        try:
            await asyncio.gather(*workers, return_exceptions=True)
        finally:  # a second cancellation ends the POSTs in flight too
            for worker in workers:
                worker.cancel()
            left = [*stop_waiting(), *self.unawaited]
        return left


async def cancel_remote(cancel: CancelMany | None, job_ids: list[str]) -> None:
    """Cancel the clones a batch stops awaiting (`cancel_on_exit`), 100 per request."""
    if cancel is None:
        logger.warning("cannot cancel %d clones: no cancel operation", len(job_ids))
        return
    for start in range(0, len(job_ids), d.CHUNK_IDS):
        chunk = job_ids[start : start + d.CHUNK_IDS]
        try:
            await cancel(chunk)
        except IonQError as exc:
            logger.warning("could not cancel %d clones left running: %s", len(chunk), exc)


class _Posting:
    """Marks a worker as sending a clone inside the block (a class: it is entered per clone)."""

    __slots__ = ("_posting", "_task")

    def __init__(self, posting: set[asyncio.Task[Any] | None], task: asyncio.Task[Any] | None):
        self._posting = posting
        self._task = task

    def __enter__(self) -> None:
        self._posting.add(self._task)

    def __exit__(self, *exc_info: object) -> None:
        self._posting.discard(self._task)
